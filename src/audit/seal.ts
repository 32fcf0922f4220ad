import type { AuditEventRow } from '../db/schema'
import { sha256Hex } from '../lib/hash'

/**
 * The columns a seal covers, in a fixed order. Fixed (not read from the table) so that adding a
 * column later cannot silently change the hash of rows sealed before it: a new column must be
 * added here on purpose, with a new version tag (test/audit-chain.test.ts checks the list).
 */
export const SEALED_COLUMNS = [
  'id',
  'action',
  'importId',
  'outcome',
  'keyId',
  'actor',
  'subjectKeyId',
  'revertsEventId',
  'origin',
  'ip',
  'userAgent',
  'requestId',
  'upstreamRequestId',
  'idempotencyKey',
  'requestBody',
  'before',
  'after',
  'changes',
  'upstreamStatus',
  'error',
  'reconciled',
  'startedAt',
  'finishedAt',
] as const satisfies readonly (keyof AuditEventRow)[]

const VERSION = 'audit-event/v1'

/** The chain hash before the first link. */
export const GENESIS = '0'.repeat(64)

/** JSON with object keys sorted at every depth, so equal values always serialize alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )
}

/** SHA-256 of a settled row's canonical form: every sealed column, absent ones as null. */
export function rowHash(row: AuditEventRow): Promise<string> {
  return sha256Hex(VERSION + '\n' + canonicalJson(SEALED_COLUMNS.map((column) => row[column] ?? null)))
}

/** A link's chain hash commits to the previous link's, so no link can move or vanish unseen. */
export function chainHash(previousChainHash: string, ofRow: string): Promise<string> {
  return sha256Hex(`${previousChainHash}:${ofRow}`)
}
