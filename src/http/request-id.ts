import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { ulid } from '../lib/ids'

/**
 * Gives every request a gateway-made id (a client-sent one is not trusted: it ends up in audit
 * rows) and echoes it in `x-request-id` on every response, errors included.
 */
export const requestId = () =>
  createMiddleware<AppEnv>(async function requestId(c, next) {
    const id = `req_${ulid()}`
    c.set('requestId', id)
    await next()
    c.res.headers.set('x-request-id', id)
  })
