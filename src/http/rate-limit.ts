import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { GroupCommit, indexesBy } from '../lib/group-commit'
import type { Principal } from '../keys/principal'
import type { RateDecision, RateLimit } from '../keys/gcra'
import type { RateLimiter } from '../keys/rate-limiter'
import { perObject } from '../lib/per-object'
import { ApiError } from '../errors'

type Hit = { keyId: string; limit: RateLimit }

/**
 * The requests an isolate counts concurrently share limiter calls: one RPC per key per round
 * (see GroupCommit) instead of one per request. A key whose limiter could not be reached gets
 * `unreachable` for each of its hits, and only those: the other keys' counts stand.
 */
const limiterRounds = perObject(
  (limiters: DurableObjectNamespace<RateLimiter>) =>
    new GroupCommit<Hit, RateDecision | 'unreachable'>({
      run: async (hits) => {
        const byLimiter = indexesBy(hits, ({ keyId, limit }) => `${keyId} ${limit.requests}/${limit.periodSeconds}`)
        const decisions: (RateDecision | 'unreachable')[] = []
        await Promise.all(
          [...byLimiter.values()].map(async (indexes) => {
            const { keyId, limit } = hits[indexes[0]!]!
            let answers: (RateDecision | 'unreachable')[]
            try {
              answers = await limiters.getByName(keyId).hits(limit, indexes.length)
            } catch {
              answers = indexes.map(() => 'unreachable')
            }
            indexes.forEach((index, j) => (decisions[index] = answers[j]!))
          })
        )
        return decisions
      },
      maxGroup: 64,
    })
)

/**
 * Counts the request against its key's limit (the key's own, else the configured default) in the
 * key's RateLimiter Durable Object. Over the limit: 429 RATE_LIMITED with `retry-after`.
 *
 * The bootstrap ADMIN_TOKEN is not limited: it is the operator's credential, not a client key
 * (failed admin credentials are, per client address: see admin-lockout.ts).
 * If the limiter itself cannot be reached the request goes on (logged): a limiter outage should
 * not take the gateway down with it, and revocation, not the limiter, is what stops a bad key.
 */
export async function enforceRateLimit(c: Context<AppEnv>, principal: Principal): Promise<void> {
  if (principal.keyId === null) return
  const limit = principal.rateLimit ?? c.var.config.defaultRateLimit
  const decision = await limiterRounds(c.env.RATE_LIMITER).submit({ keyId: principal.keyId, limit })
  if (decision === 'unreachable') {
    console.error(
      JSON.stringify({
        level: 'error',
        requestId: c.var.requestId,
        msg: 'rate limiter unreachable; request let through',
      })
    )
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
