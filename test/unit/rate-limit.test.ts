import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { countHits, type RateDecision, type RateLimit, type State } from '../../src/keys/gcra'

const T0 = 1_780_000_000_000 // a fixed "now", in the range Date.now() returns

const allowedCount = (decisions: RateDecision[]) => decisions.filter((d) => d.allowed).length
const remainings = (decisions: RateDecision[]) => decisions.flatMap((d) => (d.allowed ? [d.remaining] : []))
const refusal = (d: RateDecision | undefined) => {
  if (!d || d.allowed) throw new Error(`expected a refusal, got ${JSON.stringify(d)}`)
  return d
}

/** What the Durable Object does: keep the returned state, or the previous one when nothing was counted. */
function run(limit: RateLimit, steps: { at: number; count: number }[], state?: State) {
  const allowedAt: number[] = []
  const calls: { at: number; decisions: RateDecision[]; stateAfter: State | undefined }[] = []
  for (const { at, count } of steps) {
    const result = countHits(state, limit, count, at)
    state = result.state ?? state
    calls.push({ at, decisions: result.decisions, stateAfter: state })
    for (const d of result.decisions) if (d.allowed) allowedAt.push(at)
  }
  return { allowedAt, calls, state }
}

/**
 * GCRA with burst `requests` (tolerance period - interval) lets n requests through over a span d
 * only if d >= n·interval - period, i.e. n·period <= requests·(d + period). So: at most `requests`
 * at one instant (d = 0) or within any interval, and fewer than 2·requests within any period. A
 * fixed window breaks it: `requests` just before a boundary and `requests` just after. Integer
 * arithmetic here (times in ms), so the check itself has no rounding.
 * Returns the first violating (i, j) of allowed request indexes, or undefined.
 */
function gcraViolation(allowedAt: number[], limit: RateLimit): [number, number] | undefined {
  const periodMs = limit.periodSeconds * 1000
  for (let i = 0; i < allowedAt.length; i++) {
    for (let j = i; j < allowedAt.length; j++) {
      const n = j - i + 1
      if (n * periodMs > limit.requests * (allowedAt[j]! - allowedAt[i]! + periodMs)) return [i, j]
    }
  }
  return undefined
}

/** The most allowed requests in any half-open window [s, s + width). */
function maxInWindow(allowedAt: number[], width: number): number {
  let best = 0
  for (let i = 0, j = 0; j < allowedAt.length; j++) {
    while (allowedAt[j]! - allowedAt[i]! >= width) i++
    best = Math.max(best, j - i + 1)
  }
  return best
}

describe('countHits: examples', () => {
  const limit = { requests: 5, periodSeconds: 10 } // one more every 2 s

  it('lets a fresh key send `requests` at once, remaining counting down, then refuses with retryAfterSeconds >= 1', () => {
    const { decisions, state } = countHits(undefined, limit, 7, T0)
    expect(decisions.slice(0, 5)).toEqual([4, 3, 2, 1, 0].map((remaining) => ({ allowed: true, remaining })))
    expect(refusal(decisions[5]).retryAfterSeconds).toBe(2)
    expect(refusal(decisions[6]).retryAfterSeconds).toBe(2)
    expect(state).toEqual({ tat: T0 + 10_000, tatFrac: 0, requests: 5, periodSeconds: 10 })
  })

  it('counts one request at a time the same as a batch', () => {
    let state: State | undefined
    const decisions: RateDecision[] = []
    for (let i = 0; i < 6; i++) {
      const result = countHits(state, limit, 1, T0)
      state = result.state ?? state
      decisions.push(...result.decisions)
    }
    expect(decisions).toEqual(countHits(undefined, limit, 6, T0).decisions)
  })

  it('allows one more after periodSeconds / requests, not before', () => {
    const { state } = countHits(undefined, limit, 5, T0)
    const early = countHits(state, limit, 1, T0 + 1999)
    expect(refusal(early.decisions[0]).retryAfterSeconds).toBe(1)
    expect(early.state).toBeUndefined()
    const onTime = countHits(state, limit, 2, T0 + 2000)
    expect(onTime.decisions[0]).toEqual({ allowed: true, remaining: 0 })
    expect(refusal(onTime.decisions[1]).retryAfterSeconds).toBe(2)
    // Two intervals later, two more.
    expect(allowedCount(countHits(onTime.state, limit, 3, T0 + 6000).decisions)).toBe(2)
  })

  it('refills the whole burst after an idle period', () => {
    const { state } = countHits(undefined, limit, 5, T0)
    const later = countHits(state, limit, 6, T0 + 10_000)
    expect(remainings(later.decisions)).toEqual([4, 3, 2, 1, 0])
    expect(later.decisions[5]?.allowed).toBe(false)
    expect(remainings(countHits(state, limit, 6, T0 + 3_600_000).decisions)).toEqual([4, 3, 2, 1, 0])
  })

  it('drops a state computed under another limit: the count restarts', () => {
    const exhausted = countHits(undefined, { requests: 2, periodSeconds: 60 }, 2, T0).state
    expect(countHits(exhausted, { requests: 2, periodSeconds: 60 }, 1, T0).decisions[0]?.allowed).toBe(false)
    expect(remainings(countHits(exhausted, { requests: 3, periodSeconds: 60 }, 4, T0).decisions)).toEqual([2, 1, 0])
    expect(remainings(countHits(exhausted, { requests: 2, periodSeconds: 30 }, 3, T0).decisions)).toEqual([1, 0])
    expect(countHits(exhausted, { requests: 3, periodSeconds: 60 }, 1, T0).state).toMatchObject({
      requests: 3,
      periodSeconds: 60,
    })
  })

  it('reads a state kept before tatFrac existed as its tat rounded up (never more lenient)', () => {
    // 3 per 7 s: the old float TAT after two requests at T0.
    const legacy = { tat: T0 + (2 * 7000) / 3, requests: 3, periodSeconds: 7 }
    const exact = countHits(undefined, { requests: 3, periodSeconds: 7 }, 2, T0).state!
    expect(exact).toEqual({ tat: T0 + 4666, tatFrac: 2, requests: 3, periodSeconds: 7 })
    // Exactly: the third of the burst goes. From the rounded-up legacy TAT it waits a moment longer.
    expect(remainings(countHits(exact, { requests: 3, periodSeconds: 7 }, 2, T0).decisions)).toEqual([0])
    expect(remainings(countHits(legacy, { requests: 3, periodSeconds: 7 }, 2, T0).decisions)).toEqual([])
    expect(remainings(countHits(legacy, { requests: 3, periodSeconds: 7 }, 1, T0 + 1).decisions)).toEqual([0])
  })

  it('returns no state when nothing was counted (count 0, or every request refused)', () => {
    expect(countHits(undefined, limit, 0, T0)).toEqual({ decisions: [], state: undefined })
    const { state } = countHits(undefined, limit, 5, T0)
    const refused = countHits(state, limit, 3, T0 + 100)
    expect(refused.decisions.every((d) => !d.allowed)).toBe(true)
    expect(refused.state).toBeUndefined()
  })

  // Limits whose interval is not a whole number of milliseconds (7000/3, 1000/6).
  it.each([
    [{ requests: 3, periodSeconds: 7 }, 0],
    [{ requests: 3, periodSeconds: 5 }, T0],
    [{ requests: 6, periodSeconds: 1 }, T0],
    [{ requests: 7, periodSeconds: 1 }, T0],
  ])('lets a fresh key send `requests` at once also for %o at %i', (limit, now) => {
    const { decisions } = countHits(undefined, limit, limit.requests + 1, now)
    expect(remainings(decisions)).toEqual([...Array(limit.requests).keys()].map((k) => limit.requests - 1 - k))
    expect(decisions[limit.requests]?.allowed).toBe(false)
  })
})

describe('the GCRA bound checker', () => {
  it('rejects what a fixed-window limiter allows (requests before a boundary, requests after it)', () => {
    const limit = { requests: 5, periodSeconds: 10 }
    const fixedWindow = [...Array(5).fill(T0 + 9_999), ...Array(5).fill(T0 + 10_000)] as number[]
    expect(gcraViolation(fixedWindow, limit)).toBeDefined()
    expect(maxInWindow(fixedWindow, 10_000)).toBe(10)
    // ...and accepts the densest GCRA schedule: a burst, then one per interval.
    const gcra = [...Array(5).fill(T0), T0 + 2000, T0 + 4000, T0 + 6000, T0 + 8000, T0 + 10_000]
    expect(gcraViolation(gcra, limit)).toBeUndefined()
  })
})

const limitArb = fc.record({
  requests: fc.integer({ min: 1, max: 12 }),
  periodSeconds: fc.integer({ min: 1, max: 20 }),
})
const startArb = fc.oneof(fc.constant(0), fc.constant(T0), fc.integer({ min: 0, max: 2 ** 42 }))
const stepsArb = fc.array(
  fc.record({
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 40_000 })),
    count: fc.integer({ min: 0, max: 5 }),
  }),
  { maxLength: 60 }
)
const schedule = (start: number, steps: { dt: number; count: number }[]) => {
  let at = start
  return steps.map(({ dt, count }) => ({ at: (at += dt), count }))
}

describe('countHits: properties', () => {
  it('never allows more than GCRA does: n requests over a span d only if n·period <= requests·(d + period)', () => {
    fc.assert(
      fc.property(limitArb, startArb, stepsArb, (limit, start, steps) => {
        const { allowedAt } = run(limit, schedule(start, steps))
        expect(gcraViolation(allowedAt, limit)).toBeUndefined()
        // The two corollaries, stated directly.
        const periodMs = limit.periodSeconds * 1000
        expect(maxInWindow(allowedAt, periodMs)).toBeLessThan(2 * limit.requests)
        expect(maxInWindow(allowedAt, Math.floor(periodMs / limit.requests))).toBeLessThanOrEqual(limit.requests)
      })
    )
  })

  it('retryAfterSeconds is a whole number of seconds, at least 1 and at most one interval; waiting that long gets the next hit through', () => {
    fc.assert(
      fc.property(limitArb, startArb, stepsArb, (limit, start, steps) => {
        const { calls } = run(limit, schedule(start, steps))
        const intervalMs = (limit.periodSeconds * 1000) / limit.requests
        for (const { at, decisions, stateAfter } of calls) {
          for (const d of decisions) {
            if (d.allowed) continue
            expect(Number.isInteger(d.retryAfterSeconds)).toBe(true)
            expect(d.retryAfterSeconds).toBeGreaterThanOrEqual(1)
            expect(d.retryAfterSeconds).toBeLessThanOrEqual(Math.max(1, Math.ceil(intervalMs / 1000)))
            expect(countHits(stateAfter, limit, 1, at + d.retryAfterSeconds * 1000).decisions[0]?.allowed).toBe(true)
          }
        }
      })
    )
  })

  it('a fresh key gets exactly `requests` at once, remaining counting down from requests - 1 to 0', () => {
    fc.assert(
      fc.property(limitArb, startArb, (limit, now) => {
        const { decisions } = countHits(undefined, limit, limit.requests + 1, now)
        expect(remainings(decisions)).toEqual([...Array(limit.requests).keys()].map((k) => limit.requests - 1 - k))
        expect(decisions[limit.requests]?.allowed).toBe(false)
      })
    )
  })

  it('remaining is how many more requests the same instant would let through', () => {
    fc.assert(
      fc.property(limitArb, startArb, stepsArb, fc.integer({ min: 0, max: 40_000 }), (limit, start, steps, dt) => {
        const history = schedule(start, steps)
        const { state } = run(limit, history)
        const now = (history.at(-1)?.at ?? start) + dt
        const { decisions } = countHits(state, limit, limit.requests + 1, now)
        decisions.forEach((d, i) => {
          if (d.allowed) expect(d.remaining).toBe(allowedCount(decisions.slice(i + 1)))
        })
      })
    )
  })
})
