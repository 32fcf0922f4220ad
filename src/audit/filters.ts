import * as z from 'zod/mini'
import { AUDIT_OUTCOMES } from '../db/schema'
import { fromBase64url, toBase64url } from '../lib/base64url'
import { KEY_ID_MESSAGE, KEY_ID_PATTERN, ULID_PATTERN } from '../lib/ids'
import { ACTION_FILTERS } from './actions'
import { DIFFED_FIELDS, RESOURCE_TYPES } from './diff'
import { canonicalJson } from './seal'

const isoDate = z
  .string()
  .check(
    z.refine(
      (value) => /^\d{4}-\d{2}-\d{2}/.test(value) && Date.parse(value) >= 0,
      'must be an ISO 8601 date-time, e.g. 2026-11-29T12:00:00Z'
    )
  )
const name = (max: number) => z.string().check(z.minLength(1), z.maxLength(max))

/** The filters shared by the event list and the export: the one list of them. */
const filterShape = {
  /** An import's rows (the same as resourceType=import&resourceId=…). */
  importId: z.optional(name(128)),
  /** `import`, `webhook`, `webset`, `key`: one resource type's rows. */
  resourceType: z.optional(z.enum(RESOURCE_TYPES)),
  /** One resource's rows (an import's, a webhook's, a key's: its id). */
  resourceId: z.optional(name(300)),
  keyId: z.optional(z.string().check(z.regex(KEY_ID_PATTERN, KEY_ID_MESSAGE))),
  actor: z.optional(name(200)),
  /** One action, or `key.*` for every key action. */
  action: z.optional(z.enum(ACTION_FILTERS)),
  outcome: z.optional(z.enum(AUDIT_OUTCOMES)),
  /** A changed field: one a resource diffs (`title`, `url`, `metadata`, …) or one metadata key as `metadata.<key>`. */
  field: z.optional(
    z
      .string()
      .check(
        z.regex(
          new RegExp(`^(${DIFFED_FIELDS.join('|')}|metadata\\..{1,256})$`, 's'),
          `field must be one of ${DIFFED_FIELDS.join(', ')}, or metadata.<key>`
        )
      )
  ),
  since: z.optional(isoDate),
  until: z.optional(isoDate),
}

export type EventFilters = z.infer<z.ZodMiniObject<typeof filterShape>>

/** A validated list query: filters, page size and (from a cursor) the id to continue below. */
export type EventQuery = { filters: EventFilters; limit: number; beforeId?: string }

type Ctx = z.core.ParsePayload<unknown>

function checkRange(filters: EventFilters, ctx: Ctx) {
  if (filters.since && filters.until && Date.parse(filters.since) > Date.parse(filters.until)) {
    ctx.issues.push({
      code: 'custom',
      input: filters.until,
      path: ['until'],
      message: 'until must not be before since',
    })
  }
}

/** A short, stable fingerprint of a filter set (FNV-1a), so a cursor only continues its own query. */
function fingerprint(filters: EventFilters): string {
  let hash = 0x811c9dc5
  for (const ch of canonicalJson(filters)) hash = Math.imul(hash ^ ch.charCodeAt(0), 0x01000193) >>> 0
  return hash.toString(36)
}

/** Opaque cursor: the last row's id and the fingerprint of the filters it was issued for. */
export function encodeCursor(lastId: string, filters: EventFilters): string {
  return toBase64url(new TextEncoder().encode(JSON.stringify({ v: 1, before: lastId, q: fingerprint(filters) })))
}

function decodeCursor(cursor: string, filters: EventFilters): string | 'other-query' | undefined {
  try {
    const json = JSON.parse(new TextDecoder().decode(fromBase64url(cursor)))
    if (json?.v !== 1 || typeof json.before !== 'string' || !ULID_PATTERN.test(json.before)) return undefined
    return json.q === fingerprint(filters) ? json.before : 'other-query'
  } catch {
    return undefined
  }
}

const limit = z.pipe(
  z.string().check(z.regex(/^\d+$/, 'limit must be a whole number from 1 to 200')),
  z.pipe(
    z.transform(Number),
    z.number().check(z.minimum(1, 'limit must be at least 1'), z.maximum(200, 'limit must be at most 200'))
  )
)

const FILTER_NAMES = Object.keys(filterShape) as (keyof EventFilters)[]

/** The filters of a parsed query, without the ones left out (so that equal queries fingerprint alike). */
const pickFilters = (query: EventFilters): EventFilters =>
  Object.fromEntries(FILTER_NAMES.filter((name) => query[name] !== undefined).map((name) => [name, query[name]]))

/** GET /audit/events: filters, `limit` 1..200 (default 25), `cursor` from the previous page. */
export const EventListQuery = z.pipe(
  z.strictObject({ ...filterShape, limit: z.optional(limit), cursor: z.optional(z.string().check(z.maxLength(512))) }),
  z.transform((query, ctx): EventQuery => {
    const filters = pickFilters(query)
    checkRange(filters, ctx)
    let beforeId: string | undefined
    if (query.cursor !== undefined) {
      const decoded = decodeCursor(query.cursor, filters)
      if (decoded === undefined || decoded === 'other-query') {
        const message =
          decoded === undefined
            ? 'cursor is not one this API issued; use nextCursor from the last page'
            : 'cursor belongs to a query with other filters; repeat the same filters to continue'
        ctx.issues.push({ code: 'custom', input: query.cursor, path: ['cursor'], message })
      } else beforeId = decoded
    }
    return { filters, limit: query.limit ?? 25, beforeId }
  })
)

/** The formats of GET /audit/export; the first is the default. */
export const EXPORT_FORMATS = ['ndjson', 'csv'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/**
 * GET /audit/export: the same filters, a `format`, and for CSV `raw=true` to write text cells as
 * they are (by default a cell that starts like a formula is neutralised).
 */
export const ExportQuery = z.pipe(
  z.strictObject({
    ...filterShape,
    format: z.optional(z.enum(EXPORT_FORMATS)),
    raw: z.optional(z.enum(['true', 'false'], 'raw must be true or false')),
  }),
  z.transform((query, ctx) => {
    const filters = pickFilters(query)
    checkRange(filters, ctx)
    const format = query.format ?? EXPORT_FORMATS[0]
    if (query.raw !== undefined && format !== 'csv') {
      ctx.issues.push({
        code: 'custom',
        input: query.raw,
        path: ['raw'],
        message: 'raw applies to format=csv only (NDJSON cells are JSON)',
      })
    }
    return { filters, format, raw: query.raw === 'true' }
  })
)
