import { Hono } from 'hono/tiny'
import { en } from 'zod/locales'
import * as z from 'zod/mini'
import { storageUnavailable } from './db/failures'
import type { AppEnv } from './env'
import { handleError, handleNotFound } from './errors'
import { accessLog } from './http/access-log'
import { loadContext } from './http/context'
import { cors } from './http/cors'
import { requestId } from './http/request-id'
import { usageMeter } from './http/usage-meter'
import { adminKeys } from './routes/admin-keys'
import { audit } from './routes/audit'
import { changes } from './routes/changes'
import { core } from './routes/core'
import { health } from './routes/health'
import { research, RESEARCH_PATH } from './routes/research'
import { reads } from './routes/reads'
import { ui } from './routes/ui'
import { usage } from './routes/usage'

/**
 * The routes that need configuration and D1, behind one context and one CORS step. The viewer's
 * session check comes before CORS on purpose: only the page's own origin reads it.
 */
const api = new Hono<AppEnv>()
  .use(loadContext())
  .route('/ui', ui)
  .use(cors())
  .use(usageMeter())
  .route('/', core)
  .route(RESEARCH_PATH, research)
  .route('/', reads)
  .route('/', changes)
  .route('/audit', audit)
  .route('/usage', usage)
  .route('/admin/keys', adminKeys)

/**
 * The request's way through the worker: request id, access log; /healthz (which reports a bad
 * configuration instead of failing on it); then configuration and D1, CORS (preflights answered
 * there), and per route `requireKey`/`requireAdmin` (authenticate, check the browser origin,
 * authorize the scope, count against the key's rate limit), validate, handle. Anything not
 * routed here is 404: the gateway is not an open proxy. D1 failing on the way is a 503 a client
 * may retry (STORAGE_UNAVAILABLE), not an internal error.
 */
export function createApp() {
  // zod/mini speaks only "Invalid input" until a locale is loaded: zod's own English messages.
  // (Imported by name: `z.locales.en` would bring every locale into the bundle.)
  z.config(en())
  return new Hono<AppEnv>()
    .use(requestId())
    .use(accessLog())
    .route('/', health)
    .route('/', api)
    .onError((err, c) => handleError(storageUnavailable(err, c.get('requestId')) ?? err, c))
    .notFound(handleNotFound)
}
