import type { BatchItem } from 'drizzle-orm/batch'
import { and, desc, eq, exists, getTableColumns, gte, lt, lte, sql, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import type { Db } from '../db/client'
import { auditChangedFields, auditEvents, type AuditEventRow } from '../db/schema'
import { ulidCeil, ulidFloor } from '../lib/ids'
import { KEY_ACTIONS } from './actions'
import { encodeCursor, type EventFilters, type EventQuery } from './filters'

/** The largest possible ULID: the upper id bound of a query without `until`. */
const MAX_ULID = '7' + 'Z'.repeat(25)

/**
 * The id range of a query, on `column` (the events' id, or the changed-field table's event id).
 * There is always an upper bound, so even an unfiltered query is an index range (SEARCH), and
 * time bounds become id bounds because ids are ULIDs. Exactly one upper bound: given both
 * `id <= until` and `id < cursor`, SQLite starts the range at one and filters by the other, so
 * a deep page would read every row above it.
 */
function idRange(column: SQLiteColumn, filters: EventFilters, beforeId?: string): SQL[] {
  const until = filters.until !== undefined ? ulidCeil(Date.parse(filters.until)) : MAX_ULID
  const range = [beforeId !== undefined && beforeId <= until ? lt(column, beforeId) : lte(column, until)]
  if (filters.since !== undefined) range.push(gte(column, ulidFloor(Date.parse(filters.since))))
  return range
}

/** Column filters from most to least selective in a typical log; the first one present drives. */
const RANKED = [
  ['importId', auditEvents.importId],
  ['resourceId', auditEvents.resourceId],
  ['keyId', auditEvents.keyId],
  ['actor', auditEvents.actor],
  ['action', auditEvents.action],
  ['resourceType', auditEvents.resourceType],
  ['outcome', auditEvents.outcome],
] as const

/**
 * Equality conditions for the column filters. Only the driving one may use its index; the others
 * are written `+column = ?` (SQLite's way to rule an index out), so that without table statistics
 * the planner cannot pick a common value's index (say, action) over a rare one's (say, actor) and
 * read many rows per page. With `field` driving, no column filter uses an index.
 */
function columnConditions(filters: OneAction, fieldDrives: boolean): SQL[] {
  const present = RANKED.filter(([name]) => filters[name] !== undefined)
  return present.map(([name, column], i) =>
    i === 0 && !fieldDrives ? eq(column, filters[name]!) : sql`+${column} = ${filters[name]!}`
  )
}

/** A page's SELECT: awaitable, batchable, and inspectable (`toSQL`) for EXPLAIN QUERY PLAN. */
export type EventsSelect = BatchItem<'sqlite'> &
  PromiseLike<AuditEventRow[]> & { toSQL(): { sql: string; params: unknown[] } }

type OneAction = Omit<EventFilters, 'action'> & { action?: Exclude<EventFilters['action'], 'key.*'> }

/**
 * The SELECT for one page (newest first, `limit` rows). Every filter is answered by an index:
 * `(column, id)` indexes on the events, and `audit_changed_fields (field, event_id)` for `field`.
 * With `field` alone (or with action/outcome) the changed-field index drives, in id order;
 * next to a selective filter (importId, keyId, actor) that filter's index drives and the field
 * is one primary-key probe per row. `CROSS JOIN` pins the join order in SQLite. The cost of a
 * page then depends on how many rows the driving index holds per match, never on the log's size.
 */
function eventsSelect(db: Db, filters: OneAction, beforeId: string | undefined, limit: number): EventsSelect {
  // The selective filters: importId, resourceId, keyId, actor.
  const selective = RANKED.slice(0, 4).some(([name]) => filters[name] !== undefined)
  if (filters.field !== undefined && !selective) {
    return db
      .select(getTableColumns(auditEvents))
      .from(auditChangedFields)
      .crossJoin(auditEvents)
      .where(
        and(
          eq(auditChangedFields.field, filters.field),
          ...idRange(auditChangedFields.eventId, filters, beforeId),
          eq(auditEvents.id, auditChangedFields.eventId),
          ...columnConditions(filters, true)
        )
      )
      .orderBy(desc(auditChangedFields.eventId))
      .limit(limit)
  }
  const fieldProbe =
    filters.field !== undefined
      ? exists(
          db
            .select({ one: sql`1` })
            .from(auditChangedFields)
            .where(and(eq(auditChangedFields.field, filters.field), eq(auditChangedFields.eventId, auditEvents.id)))
        )
      : undefined
  return db
    .select()
    .from(auditEvents)
    .where(and(...columnConditions(filters, false), ...idRange(auditEvents.id, filters, beforeId), fieldProbe))
    .orderBy(desc(auditEvents.id))
    .limit(limit)
}

/**
 * The SELECTs answering a query: one, or for `action=key.*` one per key action, each an ordered
 * index range with its own LIMIT, merged by id. (`action IN (…)` would have to sort every key
 * event of the range before applying the LIMIT, growing with the log.)
 */
export function eventSelects(db: Db, query: EventQuery, limit = query.limit): EventsSelect[] {
  const { filters, beforeId } = query
  if (filters.action !== 'key.*') return [eventsSelect(db, filters as OneAction, beforeId, limit)]
  return KEY_ACTIONS.map((action) => eventsSelect(db, { ...filters, action }, beforeId, limit))
}

async function newestRows(db: Db, query: EventQuery, limit: number): Promise<AuditEventRow[]> {
  const [first, ...rest] = eventSelects(db, query, limit)
  if (rest.length === 0) return first!
  const pages = (await db.batch([first!, ...rest])) as AuditEventRow[][]
  return pages
    .flat()
    .sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, limit)
}

export type AuditPage = { rows: AuditEventRow[]; hasMore: boolean; nextCursor: string | null }

/**
 * One page, newest first. The cursor is the last row's id, so rows that arrive meanwhile (newer
 * ids) never shift a later page: no row is skipped or repeated.
 */
export async function queryEvents(db: Db, query: EventQuery): Promise<AuditPage> {
  const rows = await newestRows(db, query, query.limit + 1)
  const hasMore = rows.length > query.limit
  const page = hasMore ? rows.slice(0, query.limit) : rows
  return { rows: page, hasMore, nextCursor: hasMore ? encodeCursor(page[page.length - 1]!.id, query.filters) : null }
}
