import type { ApiKeyRow, Budget } from '../db/schema'
import { isoOrNull } from '../lib/time'

/** A key as the admin API and the audit log show it: never a secret or a hash. */
export type KeyView = {
  id: string
  name: string
  /** The first characters of the current secret: enough to tell keys apart, useless to call with. */
  prefix: string
  status: 'active' | 'revoked' | 'expired'
  scopes: string[]
  origins: string[] | null
  rateLimit: { requests: number; periodSeconds: number } | null
  expiresAt: string | null
  createdAt: string
  revokedAt: string | null
  lastUsedAt: string | null
  budget: Budget | null
}

/** A key row's own rate limit, or null for the default one. */
export const rateLimitOf = (row: Pick<ApiKeyRow, 'rateLimitRequests' | 'rateLimitPeriodSeconds'>) =>
  row.rateLimitRequests !== null && row.rateLimitPeriodSeconds !== null
    ? { requests: row.rateLimitRequests, periodSeconds: row.rateLimitPeriodSeconds }
    : null

function status(row: ApiKeyRow, now: number): KeyView['status'] {
  if (row.revokedAt !== null) return 'revoked'
  if (row.expiresAt !== null && row.expiresAt <= now) return 'expired'
  return 'active'
}

export function toKeyView(row: ApiKeyRow, now = Date.now()): KeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    status: status(row, now),
    scopes: row.scopes,
    origins: row.origins ?? null,
    rateLimit: rateLimitOf(row),
    expiresAt: isoOrNull(row.expiresAt),
    createdAt: new Date(row.createdAt).toISOString(),
    revokedAt: isoOrNull(row.revokedAt),
    lastUsedAt: isoOrNull(row.lastUsedAt),
    budget: row.budget ?? null,
  }
}
