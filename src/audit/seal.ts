import type { AuditEventRow } from '../db/schema'
import { sha256Hex } from '../lib/hash'

/**
 * The columns a seal covers, in a fixed order. Fixed (not read from the table) so that adding a
 * column later cannot silently change the hash of rows sealed before it: a new column must be
 * added here on purpose, with a new version tag (test/audit-chain.test.ts checks the list).
 * Version 1: rows written before migration 0004 (their `seal_version` is 1), frozen.
 */
export const SEALED_COLUMNS_V1 = [
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

/**
 * Version 2 (migration 0004, `seal_version` 2): version 1's columns and the resource the row
 * names, and the version itself. A row's `seal_version` picks the form, so a row sealed as
 * version 1 keeps its hash; changing a row's version changes the form and so breaks its hash.
 */
export const SEALED_COLUMNS = [
  ...SEALED_COLUMNS_V1,
  'resourceType',
  'resourceId',
  'parentId',
  'sealVersion',
] as const satisfies readonly (keyof AuditEventRow)[]

/** The version new rows are sealed with. */
export const SEAL_VERSION = 2

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

/**
 * SHA-256 of a settled row's canonical form: every column its seal version covers, absent ones
 * as null. Version 1 only for a row that says so; any other value (or none) is hashed as version 2.
 */
export function rowHash(row: AuditEventRow): Promise<string> {
  const [version, columns]: [string, readonly (keyof AuditEventRow)[]] =
    row.sealVersion === 1 ? ['audit-event/v1', SEALED_COLUMNS_V1] : ['audit-event/v2', SEALED_COLUMNS]
  return sha256Hex(version + '\n' + canonicalJson(columns.map((column) => row[column] ?? null)))
}

/** A link's chain hash commits to the previous link's, so no link can move or vanish unseen. */
export function chainHash(previousChainHash: string, ofRow: string): Promise<string> {
  return sha256Hex(`${previousChainHash}:${ofRow}`)
}
