export type RateLimit = { requests: number; periodSeconds: number }

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number }

/**
 * The TAT, kept with the limit it was computed under: whole milliseconds (`tat`) plus
 * `tatFrac` n-ths of one, n being the limit's `requests`. One interval (`periodMs / requests`) is
 * rarely a whole number of milliseconds (7000 / 3), and adding it as a float drifts: at today's
 * epoch times the last request of a burst would be refused. In whole n-ths the sums are exact.
 * (A state written before `tatFrac` existed reads as its `tat` rounded up.)
 */
export type State = { tat: number; tatFrac?: number; requests: number; periodSeconds: number }

/**
 * GCRA, the generic cell rate algorithm: `requests` per `periodSeconds` means up to `requests` at
 * once, then one more every `periodSeconds / requests`. Unlike a fixed window it never lets a
 * client send twice the limit across a window boundary, and its state is a single timestamp: the
 * theoretical arrival time (TAT) of the next request. Counts `count` requests at `now` (whole
 * milliseconds), in order, one decision each; returns the state to keep (undefined when nothing
 * was counted). A state computed under another limit is dropped: the count restarts with it.
 */
export function countHits(
  state: State | undefined,
  limit: RateLimit,
  count: number,
  now: number
): { decisions: RateDecision[]; state: State | undefined } {
  const n = limit.requests
  const periodMs = limit.periodSeconds * 1000
  // One interval is q ms and r n-ths of one; a time is [ms, n-ths] with 0 <= n-ths < n.
  const q = Math.floor(periodMs / n)
  const r = periodMs % n
  const sameLimit = state?.requests === n && state.periodSeconds === limit.periodSeconds
  let ms = now
  let frac = 0
  if (sameLimit) {
    const kept = state.tatFrac === undefined ? [Math.ceil(state.tat), 0] : [state.tat, state.tatFrac]
    if (kept[0]! > now || (kept[0] === now && kept[1]! > 0)) [ms, frac] = kept as [number, number]
  }
  const decisions: RateDecision[] = []
  let counted = false
  for (let i = 0; i < count; i++) {
    // The earliest this request may go: TAT - period + one interval.
    const allowedMs = ms - periodMs + q + (frac + r >= n ? 1 : 0)
    const allowedFrac = (frac + r) % n
    if (now < allowedMs || (now === allowedMs && allowedFrac > 0)) {
      const waitNths = (allowedMs - now) * n + allowedFrac
      decisions.push({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitNths / (1000 * n))) })
      continue
    }
    ms += q + (frac + r >= n ? 1 : 0)
    frac = (frac + r) % n
    counted = true
    // How many more the same instant would let through: (period - (TAT - now)) / interval.
    decisions.push({ allowed: true, remaining: Math.floor(((periodMs - ms + now) * n - frac) / periodMs) })
  }
  return {
    decisions,
    state: counted ? { tat: ms, tatFrac: frac, requests: n, periodSeconds: limit.periodSeconds } : undefined,
  }
}
