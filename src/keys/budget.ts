import type { Budget } from '../db/schema'
import { utcDay } from '../lib/time'

/**
 * What a key spent in the current UTC day and month, in millionths of a dollar (Exa's
 * costDollars.total of its calls), as its RateLimiter Durable Object keeps it. A period that has
 * ended reads as 0 in the new one.
 */
export type Spend = { day: string; dayMicros: number; month: string; monthMicros: number }

/** The spend as of `now`: a past day's or month's figure is dropped. */
export function currentSpend(kept: Spend | undefined, now: number): Spend {
  const day = utcDay(now)
  const month = day.slice(0, 7)
  return {
    day,
    dayMicros: kept?.day === day ? kept.dayMicros : 0,
    month,
    monthMicros: kept?.month === month ? kept.monthMicros : 0,
  }
}

/** The spend after a call that cost `micros` (counted in the period it is added in). */
export function addCost(kept: Spend | undefined, micros: number, now: number): Spend {
  const spend = currentSpend(kept, now)
  return { ...spend, dayMicros: spend.dayMicros + micros, monthMicros: spend.monthMicros + micros }
}

/** When the current period ends: the next UTC midnight, or the first of next month. */
export function periodEnd(period: Budget['period'], now: number): number {
  const d = new Date(now)
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
}

export type BudgetStatus = {
  spentMicros: number
  limitMicros: number
  softMicros: number | null
  exhausted: boolean
  /** The soft threshold is reached (the hard one may not be). */
  flagged: boolean
  resetsAt: number
}

const micros = (usd: number) => Math.round(usd * 1e6)

/** Where a key stands against its budget, from the spend its limiter reported. */
export function budgetStatus(budget: Budget, spend: Spend, now: number): BudgetStatus {
  const spentMicros = budget.period === 'day' ? spend.dayMicros : spend.monthMicros
  const limitMicros = micros(budget.usd)
  const softMicros = budget.soft === undefined ? null : micros(budget.soft)
  return {
    spentMicros,
    limitMicros,
    softMicros,
    exhausted: spentMicros >= limitMicros,
    flagged: softMicros !== null && spentMicros >= softMicros,
    resetsAt: periodEnd(budget.period, now),
  }
}

/** `$12.345678` from millionths: every digit Exa's totals can carry, trailing zeros cut. */
export const dollars = (micros: number) => `$${(micros / 1e6).toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}`
