import { createMiddleware } from 'hono/factory'
import { routePath } from 'hono/route'
import type { AppEnv } from '../env'

/**
 * One structured JSON line per request, for Workers Logs / `wrangler tail`: who (key id, never the
 * key), which route (the pattern, not the raw path), the outcome and the time taken. No bodies,
 * no headers, no query strings: those are where secrets and personal data would be.
 */
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
        route: c.res.status === 404 && !c.var.principal ? 'unmatched' : routePath(c, -1),
        status: c.res.status,
        upstreamStatus: c.var.upstreamStatus ?? null,
        durationMs: Date.now() - started,
      })
    )
  })
