import type { Context, MiddlewareHandler } from 'hono'
import * as z from 'zod/mini'
import type { AppEnv } from '../env'
import { ApiError, type Issue } from './errors'
import { englishMessage } from './zod-messages'

// zod/mini ships without messages ("Invalid input"); English ones make them actionable.
z.config({ localeError: englishMessage })

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

/** What a route validates: the JSON body (after `jsonBody()`), the query string or the path. */
export type Target = 'json' | 'query' | 'param'

/** The shape Hono reads `c.req.valid(target)`'s type from. */
type Validated<Target extends string, T extends z.ZodMiniType> = {
  in: { [K in Target]: z.input<T> }
  out: { [K in Target]: z.output<T> }
}

/**
 * The raw value of a target, as `hono/validator` reads it: the body text that `jsonBody()` left
 * in Hono's body cache (it has already refused anything that is not JSON; an empty body is `{}`),
 * a repeated query parameter as an array, the route's path parameters.
 */
async function rawValue(c: Context<AppEnv>, target: Target): Promise<unknown> {
  if (target === 'json') return JSON.parse(await c.req.text())
  if (target === 'param') return c.req.param()
  return Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])))
}

/**
 * Validates one part of the request with a zod/mini schema and throws our error shape on failure.
 * Our own few lines instead of `@hono/zod-validator`: its default 400 body is unusable anyway, and
 * it drags in Hono's form, cookie and body parsers (about 1.5 KiB gzip of the bundle).
 */
export function zv<T extends z.ZodMiniType, Tg extends Target>(
  target: Tg,
  schema: T
): MiddlewareHandler<AppEnv, string, Validated<Tg, T>> {
  return async function validate(c, next) {
    const result = await schema.safeParseAsync(await rawValue(c, target))
    if (!result.success) {
      const issues = toIssues(result.error)
      throw new ApiError(target === 'json' ? 'INVALID_REQUEST_BODY' : 'INVALID_PARAMS', summary(issues, target === 'json' ? 'body' : target), {
        issues,
      })
    }
    c.req.addValidatedData(target, result.data as {})
    await next()
  }
}
