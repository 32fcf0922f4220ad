import { and, asc, desc, eq, gte, lt, lte, sql, type SQL } from 'drizzle-orm'
import * as z from 'zod/mini'
import type { Db } from '../db/client'
import { apiKeys, usageDaily, usageEvents, type Budget, type UsageEventRow } from '../db/schema'
import { KEY_ID_MESSAGE, KEY_ID_PATTERN, ulidCeil, ulidFloor } from '../lib/ids'
import { csvCell, EXPORT_PAGE_ROWS } from './export'
import { EXPORT_FORMATS, type ExportFormat } from './filters'

const DAY_MS = 86_400_000
/** The longest range one GET /usage may total: a year and a day. */
export const MAX_USAGE_DAYS = 366
/** The most groups one answer holds (a longer list says `truncated`). */
export const MAX_USAGE_GROUPS = 10_000

export const GROUP_BY = ['key', 'endpoint', 'day'] as const
export type GroupBy = (typeof GROUP_BY)[number]

/** A UTC day, `YYYY-MM-DD`. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const Day = z
  .string()
  .check(
    z.refine(
      (value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && utcDay(Date.parse(value)) === value,
      'must be a UTC day, e.g. 2026-12-01'
    )
  )

const filterShape = {
  keyId: z.optional(z.string().check(z.regex(KEY_ID_PATTERN, KEY_ID_MESSAGE))),
  since: z.optional(Day),
  until: z.optional(Day),
}

export type UsageFilters = { keyId?: string; since: string; until: string }

type Ctx = z.core.ParsePayload<unknown>

/** The range, both ends included: until defaults to today (UTC), since to 30 days before until. */
function range(query: { keyId?: string; since?: string; until?: string }, ctx: Ctx): UsageFilters {
  const until = query.until ?? utcDay(Date.now())
  const since = query.since ?? utcDay(Date.parse(until) - 30 * DAY_MS)
  const days = (Date.parse(until) - Date.parse(since)) / DAY_MS + 1
  if (days < 1)
    ctx.issues.push({ code: 'custom', input: until, path: ['until'], message: 'until must not be before since' })
  else if (days > MAX_USAGE_DAYS)
    ctx.issues.push({
      code: 'custom',
      input: since,
      path: ['since'],
      message: `a query covers at most ${MAX_USAGE_DAYS} days; narrow since..until`,
    })
  return { ...(query.keyId ? { keyId: query.keyId } : {}), since, until }
}

const GroupByList = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    const names = value.split(',').filter(Boolean)
    const unknown = names.filter((name) => !(GROUP_BY as readonly string[]).includes(name))
    if (unknown.length || new Set(names).size !== names.length) {
      ctx.issues.push({
        code: 'custom',
        input: value,
        message: `groupBy is a list of ${GROUP_BY.join(', ')} (comma-separated, each once)`,
      })
      return z.NEVER
    }
    return names as GroupBy[]
  })
)

/** GET /usage: `groupBy` (any of key, endpoint, day), `keyId`, `since`, `until` (UTC days, inclusive). */
export const UsageQuery = z.pipe(
  z.strictObject({ ...filterShape, groupBy: z.optional(GroupByList) }),
  z.transform((query, ctx) => ({ filters: range(query, ctx), groupBy: query.groupBy ?? [] }))
)

/** GET /usage/export: the same filters, `format` ndjson (default) or csv. */
export const UsageExportQuery = z.pipe(
  z.strictObject({ ...filterShape, format: z.optional(z.enum(EXPORT_FORMATS)) }),
  z.transform((query, ctx) => ({ filters: range(query, ctx), format: query.format ?? EXPORT_FORMATS[0] }))
)

export type UsageTotal = {
  day?: string
  keyId?: string | null
  actor?: string | null
  /** The key's budget now (grouped by key). */
  budget?: Budget | null
  endpoint?: string
  family?: string
  calls: number
  /** Calls for which Exa gave a cost (the others count in `calls`, not in the dollars). */
  pricedCalls: number
  /** Exa's `costDollars.total` summed, in millionths of a dollar (exact). */
  costMicros: number
  costUsd: number
}

const dailyFilter = (filters: UsageFilters): SQL | undefined =>
  and(
    gte(usageDaily.day, filters.since),
    lte(usageDaily.day, filters.until),
    filters.keyId !== undefined ? eq(usageDaily.keyId, filters.keyId) : undefined
  )

/**
 * The totals of calls and dollars in the range, grouped as asked. Read from `usage_daily` (one row
 * per day, key and route, kept by a trigger): the cost grows with the groups in the range, never
 * with the number of calls.
 */
export async function usageTotals(
  db: Db,
  filters: UsageFilters,
  groupBy: readonly GroupBy[]
): Promise<{ data: UsageTotal[]; truncated: boolean }> {
  const by = new Set(groupBy)
  const columns: Record<string, SQL | typeof usageDaily.day> = {}
  const groups: SQL[] = []
  if (by.has('day')) {
    columns.day = sql<string>`${usageDaily.day}`
    groups.push(sql`${usageDaily.day}`)
  }
  if (by.has('key')) {
    columns.keyId = sql<string>`nullif(${usageDaily.keyId}, '')`
    columns.actor = sql<string | null>`max(${apiKeys.name})`
    columns.budget = sql<string | null>`max(${apiKeys.budget})`
    groups.push(sql`${usageDaily.keyId}`)
  }
  if (by.has('endpoint')) {
    columns.endpoint = sql<string>`${usageDaily.route}`
    columns.family = sql<string>`max(${usageDaily.family})`
    groups.push(sql`${usageDaily.route}`)
  }
  const rows = (await db
    .select({
      ...columns,
      calls: sql<number>`sum(${usageDaily.calls})`,
      pricedCalls: sql<number>`sum(${usageDaily.pricedCalls})`,
      costMicros: sql<number>`sum(${usageDaily.costMicros})`,
    })
    .from(usageDaily)
    .leftJoin(apiKeys, eq(apiKeys.id, usageDaily.keyId))
    .where(dailyFilter(filters))
    .groupBy(...groups)
    .orderBy(...(groups.length ? groups.map((group) => asc(group)) : []))
    .limit(MAX_USAGE_GROUPS + 1)) as Omit<UsageTotal, 'costUsd'>[]
  const data = rows
    .slice(0, MAX_USAGE_GROUPS)
    .filter((row) => row.calls !== null)
    .map((row) => ({
      ...row,
      ...(by.has('key') ? { budget: row.budget ? (JSON.parse(row.budget as unknown as string) as Budget) : null } : {}),
      costMicros: row.costMicros ?? 0,
      costUsd: (row.costMicros ?? 0) / 1e6,
    }))
  if (!by.has('key')) data.forEach((row) => (delete row.actor, delete row.keyId))
  return { data, truncated: rows.length > MAX_USAGE_GROUPS }
}

export type PeriodUsage = { start: string; calls: number; costMicros: number; costUsd: number }

/** A key's totals for the current UTC day and month (its budget periods). */
export async function keyPeriodUsage(db: Db, keyId: string, now = Date.now()) {
  const today = utcDay(now)
  const month = today.slice(0, 8) + '01'
  const [row] = await db
    .select({
      dayCalls: sql<number>`coalesce(sum(CASE WHEN ${usageDaily.day} = ${today} THEN ${usageDaily.calls} END), 0)`,
      dayMicros: sql<number>`coalesce(sum(CASE WHEN ${usageDaily.day} = ${today} THEN ${usageDaily.costMicros} END), 0)`,
      monthCalls: sql<number>`coalesce(sum(${usageDaily.calls}), 0)`,
      monthMicros: sql<number>`coalesce(sum(${usageDaily.costMicros}), 0)`,
    })
    .from(usageDaily)
    .where(and(eq(usageDaily.keyId, keyId), gte(usageDaily.day, month), lte(usageDaily.day, today)))
  const period = (start: string, calls: number, costMicros: number): PeriodUsage => ({
    start,
    calls,
    costMicros,
    costUsd: costMicros / 1e6,
  })
  return {
    day: period(today, row?.dayCalls ?? 0, row?.dayMicros ?? 0),
    month: period(month, row?.monthCalls ?? 0, row?.monthMicros ?? 0),
  }
}

/** The fields of an exported usage row, in CSV column order. */
export const USAGE_FIELDS = [
  'id',
  'at',
  'keyId',
  'actor',
  'family',
  'endpoint',
  'status',
  'costUsd',
  'durationMs',
  'requestId',
  'upstreamRequestId',
] as const

type UsageView = Record<(typeof USAGE_FIELDS)[number], string | number | null>

const toUsageView = (row: UsageEventRow): UsageView => ({
  id: row.id,
  at: new Date(row.at).toISOString(),
  keyId: row.keyId,
  actor: row.actor,
  family: row.family,
  endpoint: row.route,
  status: row.status,
  costUsd: row.costMicros === null ? null : row.costMicros / 1e6,
  durationMs: row.durationMs,
  requestId: row.requestId,
  upstreamRequestId: row.upstreamRequestId,
})

/** One page of usage rows, newest first, below `beforeId`: an index range (the id, or key then id). */
function usagePage(db: Db, filters: UsageFilters, beforeId: string | undefined) {
  const until = ulidCeil(Date.parse(filters.until) + DAY_MS - 1)
  return db
    .select()
    .from(usageEvents)
    .where(
      and(
        filters.keyId !== undefined ? eq(usageEvents.keyId, filters.keyId) : undefined,
        beforeId !== undefined && beforeId <= until ? lt(usageEvents.id, beforeId) : lte(usageEvents.id, until),
        gte(usageEvents.id, ulidFloor(Date.parse(filters.since)))
      )
    )
    .orderBy(desc(usageEvents.id))
    .limit(EXPORT_PAGE_ROWS)
}

const csvLine = (cells: unknown[]) => cells.map((cell) => csvCell(cell)).join(',') + '\r\n'

/**
 * The usage rows in the range, newest first, as a stream that reads one page per pull (as the audit
 * export does: memory stays flat, the first page read up front so that a D1 failure is an error
 * response). A later page that fails ends the file with a last line saying so, then errors.
 */
export async function usageExportStream(
  db: Db,
  filters: UsageFilters,
  format: ExportFormat
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder()
  let page = await usagePage(db, filters, undefined)
  let first = true
  let failed = false
  const render = (rows: UsageEventRow[]) =>
    rows
      .map(toUsageView)
      .map((view) => (format === 'ndjson' ? JSON.stringify(view) + '\n' : csvLine(USAGE_FIELDS.map((f) => view[f]))))
      .join('')
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (failed) return controller.error(new Error('usage export failed part-way'))
        if (!first) {
          try {
            page = await usagePage(db, filters, page[page.length - 1]!.id)
          } catch {
            failed = true
            const note = 'the export stopped part-way (storage unavailable); this file is incomplete, export again'
            return controller.enqueue(
              encoder.encode(
                format === 'ndjson'
                  ? JSON.stringify({ error: note, tag: 'STORAGE_UNAVAILABLE' }) + '\n'
                  : csvLine([`# ${note}`])
              )
            )
          }
        }
        const header = first && format === 'csv' ? csvLine([...USAGE_FIELDS]) : ''
        first = false
        const text = header + render(page)
        if (text) controller.enqueue(encoder.encode(text))
        if (page.length < EXPORT_PAGE_ROWS) controller.close()
      },
    },
    { highWaterMark: 0 }
  )
}
