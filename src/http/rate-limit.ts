import type { Context } from 'hono'
import type { AppEnv } from '../env'
import type { Principal } from '../keys/principal'
import type { RateDecision, RateLimit } from '../keys/gcra'
import { ApiError } from '../errors'

/** What the limiter said about one request; `unreachable` when it could not be asked. */
export type LimiterAnswer = RateDecision | 'unreachable'

/** The limit a key is counted against: its own, else the configured default. */
export const limitOf = (c: Context<AppEnv>, principal: Principal): RateLimit =>
  principal.rateLimit ?? c.var.config.defaultRateLimit

/**
 * Counts one request of `principal` against `limit` in the key's RateLimiter Durable Object: one
 * call, sent at once (deployed, a call is a round trip to the object's home; sharing calls
 * between an isolate's concurrent requests made each wait for calls it had no part in: see
 * docs/performance.md). Never throws: a limiter that cannot be reached answers `unreachable`.
 */
export async function countRequest(c: Context<AppEnv>, keyId: string, limit: RateLimit): Promise<LimiterAnswer> {
  try {
    const [decision] = await c.env.RATE_LIMITER.getByName(keyId).hits(limit, 1)
    return decision!
  } catch {
    return 'unreachable'
  }
}

/**
 * Over the limit: 429 RATE_LIMITED with `retry-after`. If the limiter itself could not be reached
 * the request goes on (logged): a limiter outage should not take the gateway down with it, and
 * revocation, not the limiter, is what stops a bad key.
 */
export function refuseOverLimit(c: Context<AppEnv>, limit: RateLimit, answer: LimiterAnswer): void {
  if (answer === 'unreachable') {
    console.error(
      JSON.stringify({
        level: 'error',
        requestId: c.var.requestId,
        msg: 'rate limiter unreachable; request let through',
      })
    )
    return
  }
  if (!answer.allowed) {
    const seconds = answer.retryAfterSeconds
    throw new ApiError(
      'RATE_LIMITED',
      `this key may make ${limit.requests} requests per ${limit.periodSeconds} s; retry in ${seconds} s`,
      { headers: { 'retry-after': String(seconds) } }
    )
  }
}
