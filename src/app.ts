import { Hono } from 'hono/tiny'
import type { AppEnv } from './env'
import { IMPORTS_PATH } from './exa/client'
import { accessLog } from './http/access-log'
import { loadContext } from './http/context'
import { cors } from './http/cors'
import { handleError, handleNotFound } from './http/errors'
import { requestId } from './http/request-id'
import { adminKeys } from './routes/admin-keys'
import { audit } from './routes/audit'
import { health } from './routes/health'
import { imports } from './routes/imports'
import { ui } from './ui/routes'

/**
 * The request's way through the worker: request id, configuration, CORS (preflights answered
 * here), then per route `requireKey`/`requireAdmin` (authenticate, check the browser origin,
 * authorize the scope, count against the key's rate limit), validate, handle. Anything not
 * routed here is 404: the gateway is not an open proxy.
 */
export function createApp() {
  const app = new Hono<AppEnv>()
  app.use(requestId())
  app.use(accessLog())
  app.route('/', health)
  app.route('/ui', ui)
  app.use(loadContext())
  app.use(cors())
  app.route(IMPORTS_PATH, imports)
  app.route('/audit', audit)
  app.route('/admin/keys', adminKeys)
  app.onError(handleError)
  app.notFound(handleNotFound)
  return app
}
