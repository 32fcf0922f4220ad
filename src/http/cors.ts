import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import type { Principal } from '../keys/principal'
import { someActiveKeyAllowsOrigin } from '../keys/store'
import { OriginRefused } from './auth'
import { ApiError } from '../errors'

/**
 * Exactly what the routes need: their methods, the credential and body headers, `exa-beta` (what
 * exa-js sends for `betas` on search and contents, and the agent calls forward), a webset's
 * `x-exa-websets-priority`, and `last-event-id` (an agent run's events resumed), nothing else.
 */
export const CORS_ALLOW_METHODS = 'GET, POST, PATCH, DELETE'
export const CORS_ALLOW_HEADERS =
  'x-api-key, authorization, content-type, idempotency-key, exa-beta, x-exa-websets-priority, last-event-id'
/** What a page may read of an answer besides the body: our request id, Exa's, and when to retry. */
export const CORS_EXPOSE_HEADERS = 'x-request-id, x-upstream-request-id, retry-after, x-budget-remaining-usd'
/** Browsers cache a preflight this long (Chrome caps it at 2 h). Revocation still acts at once. */
export const CORS_MAX_AGE_SECONDS = 600

/** An origin a preflight is answered for: listed in ALLOWED_ORIGINS or by some active key. */
async function isKnownOrigin(c: Context<AppEnv>, origin: string): Promise<boolean> {
  return c.var.config.allowedOrigins.includes(origin) || (await someActiveKeyAllowsOrigin(c.var.db, origin))
}

/**
 * Whether the page at `origin` may read this answer. A key that lists origins decides for itself
 * (and a refused origin never gets to read its 403); a key without origins is a server key, read
 * from a browser only under ALLOWED_ORIGINS. An answer given before any key was accepted (401,
 * 404) is readable by known origins, so a page can tell a revoked key from a network failure.
 */
async function mayRead(c: Context<AppEnv>, origin: string): Promise<boolean> {
  if (c.error instanceof OriginRefused) return false
  const principal = c.get('principal') as Principal | undefined
  if (principal?.origins) return principal.origins.includes(origin)
  if (principal) return c.var.config.allowedOrigins.includes(origin)
  return isKnownOrigin(c, origin)
}

const isPreflight = (c: Context) =>
  c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined

/**
 * CORS for browser keys: answers preflights itself (before authentication: a preflight carries
 * no key) and marks the real answers a page may read. Unknown origins get no CORS headers at all.
 */
export const cors = () =>
  createMiddleware<AppEnv>(async function cors(c, next) {
    const origin = c.req.header('origin')
    if (origin && isPreflight(c)) {
      if (!(await isKnownOrigin(c, origin))) {
        throw new ApiError(
          'FORBIDDEN',
          `origin ${origin} is not allowed: no active key lists it, nor does ALLOWED_ORIGINS`,
          {
            headers: { vary: 'Origin' },
          }
        )
      }
      return c.body(null, 204, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': CORS_ALLOW_METHODS,
        'access-control-allow-headers': CORS_ALLOW_HEADERS,
        'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
        vary: 'Origin',
      })
    }
    await next()
    if (!origin) return
    c.res.headers.append('vary', 'Origin')
    if (await mayRead(c, origin)) {
      c.res.headers.set('access-control-allow-origin', origin)
      c.res.headers.set('access-control-expose-headers', CORS_EXPOSE_HEADERS)
    }
  })
