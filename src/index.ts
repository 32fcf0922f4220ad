import { createApp } from './app'
import { reconcilePending } from './operations/reconcile'
import { createDb } from './db/client'
import { parseConfig, type Bindings } from './env'
import { purgeExpiredIdempotencyRecords } from './http/idempotency'

const app = createApp()

/** exa-js builds `baseURL + "/websets/…"`, so a base URL with a trailing slash sends `//websets/…`. */
function collapseLeadingSlashes(request: Request): Request {
  const url = new URL(request.url)
  if (!url.pathname.startsWith('//')) return request
  url.pathname = url.pathname.replace(/^\/+/, '/')
  return new Request(url, request)
}

export default {
  fetch: (request, env, ctx) => app.fetch(collapseLeadingSlashes(request), env, ctx),
  // Awaited rather than left to waitUntil: a local trigger (`npm run reconcile`, through wrangler
  // dev's /__scheduled) then answers once the run is done.
  // The run's own time decides which rows are old enough (docs/architecture.md §5).
  async scheduled(controller, env, _ctx) {
    const config = parseConfig(env)
    if (typeof config === 'string' || !config.exaApiKey) {
      console.error(JSON.stringify({ level: 'error', msg: 'reconciler skipped: configuration is incomplete' }))
      return
    }
    const db = createDb(env.DB)
    const [result] = await Promise.all([
      reconcilePending(db, config, controller.scheduledTime),
      purgeExpiredIdempotencyRecords(db),
    ])
    console.log(JSON.stringify({ level: 'info', msg: 'reconciled pending audit rows', ...result }))
  },
} satisfies ExportedHandler<Bindings>

/** Durable Object classes must be exported from the entry module (wrangler.toml binds them). */
export { RateLimiter } from './keys/rate-limiter'
