import { and, desc, eq, gte, lt, lte, sql } from 'drizzle-orm'
import * as z from 'zod/mini'
import type { Db } from '../db/client'
import { apiKeys, usageDaily, usageEvents, type Budget, type UsageEventRow } from '../db/schema'
import { KEY_ID_MESSAGE, KEY_ID_PATTERN, ulidCeil, ulidFloor } from '../lib/ids'
import { utcDay } from '../lib/time'
import { EXPORT_PAGE_ROWS, type ExportSource } from './export'
import { EXPORT_FORMATS } from './filters'

const DAY_MS = 86_400_000
/** The longest range one GET /usage may total: a year and a day. */
export const MAX_USAGE_DAYS = 366
/** The most groups one answer holds (a longer list says `truncated`). */
export const MAX_USAGE_GROUPS = 10_000

export const GROUP_BY = ['key', 'endpoint', 'day'] as const
export type GroupBy = (typeof GROUP_BY)[number]

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

/** The range, both ends included: until defaults to today (UTC), since to 30 days before until. */
function range(query: Partial<UsageFilters>, ctx: z.core.ParsePayload<unknown>): UsageFilters {
  const until = query.until ?? utcDay(Date.now())
  const since = query.since ?? utcDay(Date.parse(until) - 30 * DAY_MS)
  const days = (Date.parse(until) - Date.parse(since)) / DAY_MS + 1
  if (!(days >= 1 && days <= MAX_USAGE_DAYS))
    ctx.issues.push({
      code: 'custom',
      input: query,
      path: ['since'],
      message: `since..until is 1 to ${MAX_USAGE_DAYS} days, since first`,
    })
  return { ...(query.keyId ? { keyId: query.keyId } : {}), since, until }
}

const isGroupByList = (value: string) => {
  const names = value.split(',')
  return new Set(names).size === names.length && names.every((name) => (GROUP_BY as readonly string[]).includes(name))
}

/** GET /usage: `groupBy` (any of key, endpoint, day), `keyId`, `since`, `until` (UTC days, inclusive). */
export const UsageQuery = z.pipe(
  z.strictObject({
    ...filterShape,
    groupBy: z.optional(
      z.string().check(z.refine(isGroupByList, `groupBy is a list of ${GROUP_BY} (comma-separated, each once)`))
    ),
  }),
  z.transform((query, ctx) => ({
    filters: range(query, ctx),
    groupBy: (query.groupBy?.split(',') ?? []) as GroupBy[],
  }))
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

/** Per way of grouping: the column grouped by, and the fields it adds to each total. */
const GROUPS = {
  day: [usageDaily.day, { day: usageDaily.day }],
  // The key's name and budget are the same on every row of its group (SQLite takes them as they are).
  key: [
    usageDaily.keyId,
    { keyId: sql<string | null>`nullif(${usageDaily.keyId}, '')`, actor: apiKeys.name, budget: apiKeys.budget },
  ],
  endpoint: [usageDaily.route, { endpoint: usageDaily.route, family: usageDaily.family }],
} as const

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
  const groups = (['day', 'key', 'endpoint'] as const)
    .filter((name) => groupBy.includes(name))
    .map((name) => GROUPS[name])
  const rows = (await db
    .select({
      ...Object.assign({}, ...groups.map(([, fields]) => fields)),
      calls: sql<number>`sum(${usageDaily.calls})`,
      pricedCalls: sql<number>`sum(${usageDaily.pricedCalls})`,
      costMicros: sql<number>`sum(${usageDaily.costMicros})`,
    })
    .from(usageDaily)
    .leftJoin(apiKeys, eq(apiKeys.id, usageDaily.keyId))
    .where(
      and(
        gte(usageDaily.day, filters.since),
        lte(usageDaily.day, filters.until),
        filters.keyId !== undefined ? eq(usageDaily.keyId, filters.keyId) : undefined
      )
    )
    .groupBy(...groups.map(([column]) => column))
    .orderBy(...groups.map(([column]) => column))
    .limit(MAX_USAGE_GROUPS + 1)) as unknown as UsageTotal[]
  // Without groupBy, SQLite answers one row of nulls when nothing matched.
  const data = rows.slice(0, MAX_USAGE_GROUPS).filter((row) => row.calls !== null)
  for (const row of data) row.costUsd = row.costMicros / 1e6
  return { data, truncated: rows.length > MAX_USAGE_GROUPS }
}

/** A key's totals for the current UTC day and month (its budget periods), from its daily totals. */
export async function keyPeriodUsage(db: Db, keyId: string, now = Date.now()) {
  const today = utcDay(now)
  const month = today.slice(0, 8) + '01'
  const { data } = await usageTotals(db, { keyId, since: month, until: today }, ['day'])
  const period = (start: string) => {
    const rows = data.filter((row) => row.day! >= start)
    const costMicros = rows.reduce((sum, row) => sum + row.costMicros, 0)
    return { start, calls: rows.reduce((sum, row) => sum + row.calls, 0), costMicros, costUsd: costMicros / 1e6 }
  }
  return { day: period(today), month: period(month) }
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

/** The usage rows in the range, newest first, a page at a time below an id: an index range (the id, or key then id). */
export const usageRows = (db: Db, filters: UsageFilters): ExportSource<UsageEventRow> => ({
  page: async (beforeId) => {
    const until = ulidCeil(Date.parse(filters.until) + DAY_MS - 1)
    const rows = await db
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
    return { rows, hasMore: rows.length === EXPORT_PAGE_ROWS }
  },
  view: toUsageView,
  fields: USAGE_FIELDS,
  noun: 'usage rows',
})
