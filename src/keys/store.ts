import { and, desc, eq, gt, isNull, or } from 'drizzle-orm'
import type { Db } from '../db/client'
import { apiKeys, apiKeySecrets, type ApiKeyRow } from '../db/schema'
import { randomId } from '../ids'
import type { Scope } from './principal'
import { displayPrefix, generateKey, sha256Hex } from './tokens'

export type NewKey = {
  name: string
  scopes: Scope[]
  origins?: string[] | null
  expiresAt?: number | null
  rateLimit?: { requests: number; periodSeconds: number } | null
}

/** A key as the admin API shows it: never a secret or a hash. */
export type KeyView = {
  id: string
  name: string
  prefix: string
  scopes: string[]
  origins: string[] | null
  rateLimit: { requests: number; periodSeconds: number } | null
  expiresAt: string | null
  createdAt: string
  revokedAt: string | null
  lastUsedAt: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function toKeyView(row: ApiKeyRow): KeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    origins: row.origins ?? null,
    rateLimit:
      row.rateLimitRequests !== null && row.rateLimitPeriodSeconds !== null
        ? { requests: row.rateLimitRequests, periodSeconds: row.rateLimitPeriodSeconds }
        : null,
    expiresAt: iso(row.expiresAt),
    createdAt: iso(row.createdAt)!,
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
  }
}

/**
 * Prepares a new key and its first secret. The caller runs `statements` in one `db.batch` (with
 * its audit row); the plaintext `secret` exists only in this return value.
 */
export async function prepareKey(db: Db, input: NewKey, now = Date.now()) {
  const secret = generateKey()
  const row: ApiKeyRow = {
    id: randomId('key_'),
    name: input.name,
    prefix: displayPrefix(secret),
    scopes: input.scopes,
    origins: input.origins ?? null,
    rateLimitRequests: input.rateLimit?.requests ?? null,
    rateLimitPeriodSeconds: input.rateLimit?.periodSeconds ?? null,
    expiresAt: input.expiresAt ?? null,
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
  }
  const statements = [
    db.insert(apiKeys).values(row),
    db.insert(apiKeySecrets).values({ hash: await sha256Hex(secret), keyId: row.id, createdAt: now }),
  ] as const
  return { row, secret, statements }
}

export async function listKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt))
}

export async function findKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
}

/**
 * The key a presented secret belongs to, if that secret is still valid: one indexed lookup by
 * hash, checked against revocation and both expiries at `now`.
 */
export async function findUsableKeyBySecret(db: Db, secret: string, now = Date.now()) {
  const hash = await sha256Hex(secret)
  const result = await db
    .select({ key: apiKeys })
    .from(apiKeySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeySecrets.keyId))
    .where(
      and(
        eq(apiKeySecrets.hash, hash),
        or(isNull(apiKeySecrets.expiresAt), gt(apiKeySecrets.expiresAt, now)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))
      )
    )
    .get()
  return result?.key
}
