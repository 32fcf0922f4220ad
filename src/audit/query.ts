import { and, desc, eq, gte, lt, lte, type SQL } from 'drizzle-orm'
import * as z from 'zod/mini'
import type { Db } from '../db/client'
import { auditEvents, type AuditEventRow } from '../db/schema'
import { ULID_PATTERN, ulidCeil, ulidFloor } from '../ids'

export const AUDIT_ACTIONS = [
  'import.update',
  'import.create',
  'import.delete',
  'import.revert',
  'key.create',
  'key.update',
  'key.revoke',
  'key.rotate',
] as const

const isoDate = z.string().check(
  z.refine((value) => /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time, e.g. 2026-11-29T12:00:00Z')
)

/** Opaque cursor: base64url of the last row's id. Anything that doesn't decode to a ULID is refused. */
export function encodeCursor(id: string): string {
  return btoa(JSON.stringify({ before: id })).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function decodeCursor(cursor: string): string | undefined {
  try {
    const json = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')))
    return typeof json?.before === 'string' && ULID_PATTERN.test(json.before) ? json.before : undefined
  } catch {
    return undefined
  }
}

export const AuditQuery = z.strictObject({
  importId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  keyId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  actor: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  action: z.optional(z.enum(AUDIT_ACTIONS)),
  outcome: z.optional(z.enum(['pending', 'succeeded', 'failed'])),
  since: z.optional(isoDate),
  until: z.optional(isoDate),
  limit: z.optional(
    z.pipe(
      z.string().check(z.regex(/^\d+$/, 'limit must be a whole number from 1 to 200')),
      z.pipe(z.transform(Number), z.number().check(z.minimum(1, 'limit must be at least 1'), z.maximum(200, 'limit must be at most 200')))
    )
  ),
  cursor: z.optional(
    z.pipe(
      z.string(),
      z.transform((value, ctx) => {
        const id = decodeCursor(value)
        if (id) return id
        ctx.issues.push({ code: 'custom', input: value, message: 'cursor is not one this API issued; use nextCursor from the last page' })
        return z.NEVER
      })
    )
  ),
})
export type AuditFilters = z.infer<typeof AuditQuery>

/**
 * The WHERE clause of a filtered query. Time bounds become id bounds (ids are ULIDs), so every
 * filter is answered by an `(column, id)` index and no query scans the table.
 */
export function whereClause(filters: AuditFilters): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    filters.importId !== undefined ? eq(auditEvents.importId, filters.importId) : undefined,
    filters.keyId !== undefined ? eq(auditEvents.keyId, filters.keyId) : undefined,
    filters.actor !== undefined ? eq(auditEvents.actor, filters.actor) : undefined,
    filters.action !== undefined ? eq(auditEvents.action, filters.action) : undefined,
    filters.outcome !== undefined ? eq(auditEvents.outcome, filters.outcome) : undefined,
    filters.since !== undefined ? gte(auditEvents.id, ulidFloor(Date.parse(filters.since))) : undefined,
    filters.until !== undefined ? lte(auditEvents.id, ulidCeil(Date.parse(filters.until))) : undefined,
    filters.cursor !== undefined ? lt(auditEvents.id, filters.cursor) : undefined,
  ]
  return and(...conditions.filter((c): c is SQL => c !== undefined))
}

export type AuditPage = { rows: AuditEventRow[]; hasMore: boolean; nextCursor: string | null }

/** One page, newest first. Rows that arrive meanwhile sort before the cursor: no skips, no repeats. */
export async function queryEvents(db: Db, filters: AuditFilters, limit = filters.limit ?? 25): Promise<AuditPage> {
  const rows = await db.select().from(auditEvents).where(whereClause(filters)).orderBy(desc(auditEvents.id)).limit(limit + 1)
  const hasMore = rows.length > limit
  const page = hasMore ? rows.slice(0, limit) : rows
  return { rows: page, hasMore, nextCursor: hasMore ? encodeCursor(page[page.length - 1]!.id) : null }
}
