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

/** `$12.345678` from millionths (an integer over 1e6 prints as its exact decimal). */
export const dollars = (micros: number) => `$${micros / 1e6}`
