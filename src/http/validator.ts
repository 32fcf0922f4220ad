import type { Context } from 'hono'
import { zValidator } from '@hono/zod-validator'
import type * as z from 'zod/mini'
import { ApiError, type Issue } from '../errors'

export function toIssues(error: z.core.$ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }))
}

function summary(issues: Issue[], what: string): string {
  const first = issues[0]
  if (!first) return `invalid ${what}`
  const where = first.path ? `${first.path}: ` : ''
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `${where}${first.message}${more}`
}

/** What a route validates: the JSON body (after `jsonBody()`), the query string, the path or a header. */
export type Target = 'json' | 'query' | 'param' | 'header'

/**
 * `@hono/zod-validator` with the hook its README calls "throw error": a failure becomes our
 * ApiError (400, the first issue as the message, every issue in `issues`), which the root error
 * handler answers in our error shape; its own default 400 body would hide the issues in a string.
 * A `json` target reads the body text `jsonBody()` left in Hono's body cache (it has already
 * refused anything that is not JSON, and made an empty body `{}`).
 */
export const zv = <T extends z.ZodMiniType, Tg extends Target>(target: Tg, schema: T) =>
  zValidator(target, schema, (result) => {
    if (result.success) return
    const issues = toIssues(result.error)
    const what = target === 'json' ? 'body' : target
    throw new ApiError(target === 'json' ? 'INVALID_REQUEST_BODY' : 'INVALID_PARAMS', summary(issues, what), { issues })
  })

/**
 * What `zv(target, …)` validates, read from the request as Hono's validator reads it (a query
 * parameter given once is a string, given more often a list): for the reads started ahead of
 * admission, which validate the request as the route will (routes/reads.ts, routes/changes.ts).
 */
export function requestValues(c: Context, target: 'query' | 'param' | 'header'): unknown {
  if (target === 'param') return c.req.param()
  if (target === 'header') return c.req.header()
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])))
}
