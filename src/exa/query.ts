import * as z from 'zod/mini'
import type { UpstreamCall } from './client'

/**
 * The pieces every read's path and query string are validated with (docs/api.md, "Reads"):
 * ids from a safe alphabet before they enter a URL, Exa's list parameters with each list's
 * range, and the query string rebuilt from validated values only, arrays as repeated keys (as
 * exa-js builds them: `types=a&types=b`).
 */

/** Exa's resource ids (`import_…`, `wsearch_…`, `monitor_…`, …): no slashes, dots or encodings. */
export const RESOURCE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/

/** A schema for the id of one kind of resource, whose message names the kind and the pattern. */
export const resourceId = (kind: string, pattern = RESOURCE_ID_PATTERN) =>
  z.string().check(z.regex(pattern, `${kind} id must match ${pattern.source}`))

/** A list's `limit`, as the query string carries it: a whole number from 1 to the list's maximum. */
export const limit = (max: number) =>
  z.optional(
    z
      .string()
      .check(
        z.refine(
          (value) => /^[1-9]\d{0,5}$/.test(value) && Number(value) <= max,
          `limit must be a whole number from 1 to ${max}`
        )
      )
  )

/** Exa's opaque page cursor, passed through as sent. */
export const cursor = z.optional(
  z.string().check(z.minLength(1, 'cursor must not be empty'), z.maxLength(1024, 'cursor is at most 1024 characters'))
)

/** The two parameters every list takes. */
export const page = (max: number) => ({ cursor, limit: limit(max) })

/** A parameter sent once or repeated (`expand=items`, `types=a&types=b`), always an array once validated. */
export const repeated = <T extends z.ZodMiniType<string>>(item: T) =>
  z.optional(
    z.pipe(
      z.transform((value: unknown) => (typeof value === 'string' ? [value] : value)),
      z.array(item).check(z.maxLength(50, 'at most 50 values'))
    )
  )

/** A boolean as exa-js sends it in a query string (`String(true)`). */
export const booleanText = z.optional(z.enum(['true', 'false'], 'must be true or false'))

/** What a validated query may hold: text, or text repeated. */
export type QueryValues = Record<string, string | readonly string[] | undefined>

/** `path` with the validated query appended in its schema's order; no `?` when nothing is left. */
export function withQuery(path: string, query: QueryValues = {}): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item)
  }
  const text = search.toString()
  return text ? `${path}?${text}` : path
}

/** A path segment from a validated id (percent-encoded: an externalId may hold `:` or `@`). */
export const segment = (id: string) => encodeURIComponent(id)

/** A read's upstream call: GET `path` with the validated query and, if any, the validated headers. */
export const readCall = (path: string, query?: object, headers?: Record<string, string>): UpstreamCall => ({
  method: 'GET',
  path: withQuery(path, query as QueryValues | undefined),
  ...(headers ? { headers } : {}),
})
