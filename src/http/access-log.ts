import { createMiddleware } from 'hono/factory'
import type { Context } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { AppEnv } from '../env'

/**
 * One structured JSON line per request, for Workers Logs / `wrangler tail`: who (key id, never the
 * key), which route (the pattern, not the raw path), the outcome and the time taken. No bodies,
 * no headers, no query strings: those are where secrets and personal data would be.
 */
/** The pattern of the handler that answered: the last matched route that is not a middleware. */
export function handlerRoute(c: Context<AppEnv>): string {
  const handlers = matchedRoutes(c).filter((route) => route.method !== 'ALL')
  return handlers[handlers.length - 1]?.path ?? 'unmatched'
}

export const accessLog = () =>
  createMiddleware<AppEnv>(async function accessLog(c, next) {
    const started = Date.now()
    await next()
    console.log(
      JSON.stringify({
        level: c.res.status >= 500 ? 'error' : 'info',
        msg: 'request',
        requestId: c.var.requestId,
        keyId: c.var.principal?.keyId ?? null,
        method: c.req.method,
        route: handlerRoute(c),
        status: c.res.status,
        upstreamStatus: c.var.upstreamStatus ?? null,
        durationMs: Date.now() - started,
      })
    )
  })
