import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { PAID_SCOPES, type Principal, type Scope } from '../keys/principal'
import { dollars, periodEnd, type Spend } from '../keys/budget'
import type { RateDecision, RateLimit } from '../keys/gcra'
import { ApiError } from '../errors'

/**
 * What the limiter said about one request, with the key's spend this day and month (for its
 * budget); `unreachable` when it could not be asked.
 */
export type LimiterAnswer = (RateDecision & { spend?: Spend }) | 'unreachable'

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
    const { decisions, spend } = await c.env.RATE_LIMITER.getByName(keyId).hits(limit, 1)
    return { ...decisions[0]!, spend }
  } catch {
    return 'unreachable'
  }
}

/**
 * A paid call (a route needing one of PAID_SCOPES, or marked `paid`: an agent run's create) of a key whose spend in its budget's period has
 * reached the budget: 402 BUDGET_EXCEEDED, before anything is forwarded. The spend comes with the
 * limiter's answer (no call of its own), the budget with the key from D1, so a changed budget
 * applies on the next request. Past the soft threshold the request goes on, flagged: the
 * response gets `x-budget-remaining-usd` (set by requireKey) and a log line is written. A limiter
 * that could not be asked cannot say: the call goes on (refuseOverLimit logs it).
 */
export function refuseOverBudget(
  c: Context<AppEnv>,
  principal: Principal,
  scopes: readonly Scope[],
  answer: LimiterAnswer
): void {
  const budget = principal.budget
  const paid = c.var.paid || scopes.some((s) => PAID_SCOPES.includes(s))
  if (!budget || answer === 'unreachable' || !answer.spend || !paid) return
  const spent = budget.period === 'day' ? answer.spend.dayMicros : answer.spend.monthMicros
  const limit = Math.round(budget.usd * 1e6)
  if (spent >= limit) {
    const resets = new Date(periodEnd(budget.period, Date.now())).toISOString()
    throw new ApiError(
      'BUDGET_EXCEEDED',
      `this key's budget is ${dollars(limit)} per UTC ${budget.period} and ${dollars(spent)} is spent (Exa's estimates); paid calls are refused until it resets at ${resets}`
    )
  }
  if (budget.soft !== undefined && spent >= Math.round(budget.soft * 1e6)) {
    c.set('budgetRemainingMicros', limit - spent)
    console.warn(
      JSON.stringify({
        level: 'warn',
        requestId: c.var.requestId,
        keyId: principal.keyId,
        msg: 'key past its soft budget',
        period: budget.period,
        spentUsd: spent / 1e6,
        softUsd: budget.soft,
        budgetUsd: budget.usd,
      })
    )
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
