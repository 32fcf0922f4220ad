import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv, Config } from '../env'
import type { RateLimit } from '../keys/gcra'
import { ADMIN_TOKEN_ACTOR, allows, type Principal, type Scope } from '../keys/principal'
import { findUsableKeyByHash, lastUsedIsStale, touchLastUsed } from '../keys/store'
import { looksLikeKey } from '../keys/tokens'
import { rateLimitOf } from '../keys/view'
import { digestsEqual, secretsEqual } from '../lib/constant-time'
import { sha256Hex } from '../lib/hash'
import { perObject } from '../lib/per-object'
import { ApiError } from '../errors'
import { countFailedAdminCredential, refuseLockedOut } from './admin-lockout'
import { countRequest, limitOf, refuseOverBudget, refuseOverLimit, type LimiterAnswer } from './rate-limit'
import { forgetRefused, hasHeadroom, rememberAdmitted, warmKey } from './warm-keys'

/** The credential a client sent: `x-api-key` (what exa-js and exa-py send) or a bearer token. */
export function presentedCredential(c: Context): string | undefined {
  const apiKey = c.req.header('x-api-key')?.trim()
  if (apiKey) return apiKey
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
  return match?.[1]
}

/** A browser key used from an origin it does not list. The CORS step never allows such an answer. */
export class OriginRefused extends ApiError {
  constructor(message: string) {
    super('FORBIDDEN', message)
  }
}

const unauthenticated = (message: string) => new ApiError('UNAUTHENTICATED', message)

/** The Exa key's hash, computed once per configuration (every authentication compares against it). */
const exaKeyHash = perObject((config: Config) => (config.exaApiKey ? sha256Hex(config.exaApiKey) : undefined))

/**
 * Whether the credential is the Exa key. It never works as a client key, and it is refused exactly
 * like any other unknown credential: a distinct answer would confirm a guessed Exa key to anyone.
 * The operator learns it from the log (the key itself is never logged).
 */
async function isExaKey(c: Context<AppEnv>, hash: string): Promise<boolean> {
  const upstreamHash = await exaKeyHash(c.var.config)
  if (!upstreamHash || !digestsEqual(hash, upstreamHash)) return false
  console.warn(
    JSON.stringify({
      level: 'warn',
      requestId: c.var.requestId,
      msg: 'the Exa API key was presented as a client credential and refused as unknown; if no one of yours sent it, rotate it at Exa',
    })
  )
  return true
}

/** Authenticates a gateway key by its secret's hash: one indexed D1 query per request, no cache (revocation is instant). */
async function authenticateKey(c: Context<AppEnv>, secret: string, hash: string): Promise<Principal> {
  const exaKey = await isExaKey(c, hash)
  if (!looksLikeKey(secret))
    throw unauthenticated('malformed API key: gateway keys look like egw_ followed by 43 characters')
  const key = await findUsableKeyByHash(c.var.db, hash)
  if (!key || exaKey) throw unauthenticated('unknown, revoked or expired API key')
  if (lastUsedIsStale(key.lastUsedAt)) {
    // Off the request's path, and at most about once a minute per key (see touchLastUsed).
    c.executionCtx.waitUntil(
      touchLastUsed(c.var.db, key.id).catch(() =>
        console.error(JSON.stringify({ level: 'error', requestId: c.var.requestId, msg: 'last_used_at not updated' }))
      )
    )
  }
  return {
    keyId: key.id,
    actor: key.name,
    scopes: key.scopes as Scope[],
    origins: key.origins ?? null,
    rateLimit: rateLimitOf(key),
    budget: key.budget ?? null,
  }
}

/**
 * A browser key (one with origins) works only when the request's Origin is one of them. Outside
 * a browser the Origin header can be forged: this check keeps other web pages from using a key
 * found in a page's source, while scopes and rate limits bound what the key can do anywhere.
 */
function assertOrigin(c: Context<AppEnv>, principal: Principal) {
  if (!principal.origins) return
  const origin = c.req.header('origin')
  if (!origin)
    throw new OriginRefused(
      'this is a browser key: it works only from the web origins it lists, and this request has no Origin header'
    )
  // The allowed origins are not named: they would tell a key thief which Origin to forge.
  if (!principal.origins.includes(origin)) throw new OriginRefused(`this key is not allowed from origin ${origin}`)
}

function assertScopes(principal: Principal, scopes: readonly Scope[]) {
  const missing = scopes.filter((scope) => !allows(principal.scopes, scope))
  if (missing.length) {
    throw new ApiError('FORBIDDEN', `this key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  }
}

/** The longest a request that did not go early waits for its key's early limiter calls to be answered. */
const EARLY_WAIT_MS = 250

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const sameLimit = (a: RateLimit, b: RateLimit) => a.requests === b.requests && a.periodSeconds === b.periodSeconds

/**
 * Whether the request may start its route's read before it is admitted: it goes early (below),
 * its credential has the scopes and (for a browser key) the origin this request needs.
 */
function mayReadAhead(c: Context<AppEnv>, principal: Principal, scopes: readonly Scope[]): boolean {
  try {
    assertOrigin(c, principal)
    assertScopes(principal, scopes)
    return true
  } catch {
    return false
  }
}

/**
 * Authenticate, check the origin, then authorize and count against the rate limit; nothing
 * after this step (the handler) runs until all of it has passed.
 *
 * Deployed, the D1 lookup and the limiter call are round trips. A request *goes early* when its
 * credential was admitted on its last request in this isolate and the limiter's answer then left
 * room for it beside the early requests still unanswered: its limiter call goes out with the
 * lookup, with the route's free read of Exa (`readAhead`) when it may start, and it waits for the
 * slowest of the three, not their sum. That read's answer is held in the context and given to the
 * handler, so nothing of it leaves unless the request is admitted; a refused request discards it.
 * Any other request is looked up first, then counted, after its key's early calls are answered:
 * near its limit a key's requests stop going early, the limiter counts the early ones (those
 * whose reads went ahead) first, and a request over the limit reaches nothing at Exa. The early call counts with the limit known from the last request;
 * if the lookup shows a changed limit, the limiter is asked again with the new one (it restarts
 * its count on a changed limit: counted once).
 */
async function admitKey(c: Context<AppEnv>, secret: string, scopes: readonly Scope[]) {
  const hash = await sha256Hex(secret)
  const warm = warmKey(hash)
  let early: { limit: RateLimit; answer: Promise<LimiterAnswer> } | undefined
  if (warm?.principal.keyId && hasHeadroom(warm)) {
    const limit = limitOf(c, warm.principal)
    const answer = countRequest(c, warm.principal.keyId, limit)
    warm.early.add(answer)
    void answer.then(() => warm.early.delete(answer))
    early = { limit, answer }
    if (c.var.startReadAhead && mayReadAhead(c, warm.principal, scopes)) c.var.startReadAhead(c)
  }
  try {
    const principal = await authenticateKey(c, secret, hash)
    assertOrigin(c, principal)
    // Set before the scope check so that a browser page can read its own 403 (CORS uses it).
    c.set('principal', principal)
    assertScopes(principal, scopes)
    const limit = limitOf(c, principal)
    let answer: LimiterAnswer
    if (early && sameLimit(early.limit, limit)) answer = await early.answer
    else {
      // The early ones first, so that the limiter counts the requests whose reads went ahead
      // before this one (bounded: nothing waits for long on another request).
      if (warm?.early.size) await Promise.race([Promise.allSettled(warm.early), sleep(EARLY_WAIT_MS)])
      answer = await countRequest(c, principal.keyId!, limit)
    }
    refuseOverLimit(c, limit, answer)
    refuseOverBudget(c, principal, scopes, answer)
    rememberAdmitted(hash, principal, answer !== 'unreachable' && answer.allowed ? answer.remaining : 0)
  } catch (err) {
    forgetRefused(hash)
    throw err
  }
}

/**
 * Declares the free, side-effect-free read of Exa a route would make (a GET), so that a request
 * whose credential is warm may start it together with its admission (see admitKey). Goes before
 * the route's requireKey. `start` begins the read and keeps it in the context for the handler.
 */
export const readAhead = (start: (c: Context<AppEnv>) => void) =>
  createMiddleware<AppEnv>(async function readAhead(c, next) {
    c.set('startReadAhead', start)
    await next()
  })

/** What a route's guard asks of a caller: a key with these scopes, or an admin credential. */
export type Guard = { kind: 'key'; scopes: readonly Scope[] } | { kind: 'admin' }

const guards = new WeakMap<object, Guard>()

/**
 * The guard a route handler stands for, if it is one: how the route matrix test finds, from the
 * app's own route table, what every route requires (and a route that requires nothing).
 */
export const guardOf = (handler: object): Guard | undefined => guards.get(handler)

function guarded<T extends object>(middleware: T, guard: Guard): T {
  guards.set(middleware, guard)
  return middleware
}

/**
 * Requires a gateway key with every one of `scopes`. A second requireKey on the same request
 * (a sub-app's `use` plus a route's own) only checks its extra scopes: the key is looked up and
 * counted against its rate limit once.
 */
export const requireKey = (...scopes: Scope[]) =>
  guarded(
    createMiddleware<AppEnv>(async function requireKey(c, next) {
      const admitted = c.get('principal') as Principal | undefined
      if (admitted?.keyId) {
        assertScopes(admitted, scopes)
        return next()
      }
      const secret = presentedCredential(c)
      if (!secret) throw unauthenticated('missing API key: send a gateway key in x-api-key or Authorization: Bearer')
      await admitKey(c, secret, scopes)
      await next()
      const remaining = c.var.budgetRemainingMicros
      if (remaining !== undefined) c.res.headers.set('x-budget-remaining-usd', String(remaining / 1e6))
    }),
    { kind: 'key', scopes }
  )

/**
 * Admin routes take the bootstrap ADMIN_TOKEN or a key with scope `admin`. The token opens
 * `/admin/*` only: no other route accepts it. Credentials refused here as unknown are counted per
 * client address (see admin-lockout.ts): past the limit, the address gets 429 until it cools down.
 */
export const requireAdmin = () =>
  guarded(
    createMiddleware<AppEnv>(async function requireAdmin(c, next) {
      const { adminToken, adminTokenProblem } = c.var.config
      if (adminTokenProblem) {
        throw new ApiError('CONFIGURATION_ERROR', `${adminTokenProblem}; the admin API is off until it is fixed`)
      }
      const secret = presentedCredential(c)
      if (!secret) {
        throw unauthenticated(
          adminToken
            ? 'missing credentials: send Authorization: Bearer <ADMIN_TOKEN> or an admin key'
            : 'the admin API is off: set the ADMIN_TOKEN secret, or use a key with scope admin'
        )
      }
      await refuseLockedOut(c)
      if (adminToken && (await secretsEqual(secret, adminToken))) {
        c.set('principal', { keyId: null, actor: ADMIN_TOKEN_ACTOR, scopes: ['admin'], origins: null, rateLimit: null })
      } else {
        try {
          // A bearer that is not key-shaped is most often a token from an earlier configuration
          // (or `npm start` run): say so, not "malformed key".
          if (!looksLikeKey(secret)) {
            throw unauthenticated(
              adminToken
                ? "unknown admin token: this is neither the gateway's ADMIN_TOKEN nor a gateway key (egw_…) with scope admin"
                : 'unknown admin token: this gateway has no ADMIN_TOKEN set; use a gateway key (egw_…) with scope admin'
            )
          }
          await admitKey(c, secret, ['admin'])
        } catch (err) {
          if (err instanceof ApiError && err.tag === 'UNAUTHENTICATED') await countFailedAdminCredential(c)
          throw err
        }
      }
      await next()
    }),
    { kind: 'admin' }
  )
