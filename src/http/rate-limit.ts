import type { Context } from 'hono'
import type { AppEnv } from '../env'
import type { Principal } from '../keys/principal'
import type { RateDecision } from '../keys/rate-limiter'
import { ApiError } from './errors'

/**
 * Counts the request against its key's limit (the key's own, else the configured default) in the
 * key's RateLimiter Durable Object: one RPC. Over the limit: 429 RATE_LIMITED with `retry-after`.
 *
 * The bootstrap ADMIN_TOKEN is not limited: it is the operator's credential, not a client key.
 * If the limiter itself cannot be reached the request goes on (logged): a limiter outage should
 * not take the gateway down with it, and revocation, not the limiter, is what stops a bad key.
 */
export async function enforceRateLimit(c: Context<AppEnv>, principal: Principal): Promise<void> {
  if (principal.keyId === null) return
  const limit = principal.rateLimit ?? c.var.config.defaultRateLimit
  let decision: RateDecision
  try {
    decision = await c.env.RATE_LIMITER.getByName(principal.keyId).hit(limit)
  } catch {
    console.error(JSON.stringify({ level: 'error', requestId: c.var.requestId, msg: 'rate limiter unreachable; request let through' }))
    return
  }
  if (!decision.allowed) {
    const seconds = decision.retryAfterSeconds
    throw new ApiError(
      'RATE_LIMITED',
      `this key may make ${limit.requests} requests per ${limit.periodSeconds} s; retry in ${seconds} s`,
      { headers: { 'retry-after': String(seconds) } }
    )
  }
}
