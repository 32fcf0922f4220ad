import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { ADMIN_TOKEN_ACTOR, type Principal, type Scope } from '../keys/principal'
import { findUsableKeyBySecret } from '../keys/store'
import { looksLikeKey, secretsEqual } from '../keys/tokens'
import { ApiError } from './errors'

/** The credential a client sent: `x-api-key` (what exa-js and exa-py send) or a bearer token. */
export function presentedCredential(c: Context): string | undefined {
  const apiKey = c.req.header('x-api-key')?.trim()
  if (apiKey) return apiKey
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
  return match?.[1]
}

const unauthenticated = (message: string) => new ApiError('UNAUTHENTICATED', message)

async function principalForKey(c: Context<AppEnv>, secret: string): Promise<Principal> {
  const { exaApiKey } = c.var.config
  // The upstream key must never work as a client key, even if someone registers a look-alike.
  if (exaApiKey && (await secretsEqual(secret, exaApiKey))) {
    throw unauthenticated('unknown API key: use a gateway key (egw_…), not the Exa key')
  }
  if (!looksLikeKey(secret)) throw unauthenticated('malformed API key: gateway keys look like egw_ followed by 43 characters')
  const key = await findUsableKeyBySecret(c.var.db, secret)
  if (!key) throw unauthenticated('unknown, revoked or expired API key')
  return {
    keyId: key.id,
    actor: key.name,
    scopes: key.scopes as Scope[],
    origins: key.origins ?? null,
    rateLimit:
      key.rateLimitRequests !== null && key.rateLimitPeriodSeconds !== null
        ? { requests: key.rateLimitRequests, periodSeconds: key.rateLimitPeriodSeconds }
        : null,
  }
}

/** Requires a gateway key with every one of `scopes`. Revocation and expiry apply at once. */
export const requireKey = (...scopes: Scope[]) =>
  createMiddleware<AppEnv>(async function requireKey(c, next) {
    const secret = presentedCredential(c)
    if (!secret) throw unauthenticated('missing API key: send a gateway key in x-api-key or Authorization: Bearer')
    const principal = await principalForKey(c, secret)
    assertScopes(principal, scopes)
    c.set('principal', principal)
    await next()
  })

/**
 * Admin routes take the bootstrap ADMIN_TOKEN or a key with scope `admin`. The token opens
 * `/admin/*` only: no other route accepts it.
 */
export const requireAdmin = () =>
  createMiddleware<AppEnv>(async function requireAdmin(c, next) {
    const secret = presentedCredential(c)
    const { adminToken } = c.var.config
    if (!secret) {
      throw unauthenticated(
        adminToken
          ? 'missing credentials: send Authorization: Bearer <ADMIN_TOKEN> or an admin key'
          : 'the admin API is off: set the ADMIN_TOKEN secret, or use a key with scope admin'
      )
    }
    if (adminToken && (await secretsEqual(secret, adminToken))) {
      c.set('principal', { keyId: null, actor: ADMIN_TOKEN_ACTOR, scopes: ['admin'], origins: null, rateLimit: null })
    } else {
      const principal = await principalForKey(c, secret)
      assertScopes(principal, ['admin'])
      c.set('principal', principal)
    }
    await next()
  })

function assertScopes(principal: Principal, scopes: readonly Scope[]) {
  const missing = scopes.filter((scope) => !principal.scopes.includes(scope))
  if (missing.length) {
    throw new ApiError('FORBIDDEN', `this key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  }
}
