import { DurableObject } from 'cloudflare:workers'

export type RateLimit = { requests: number; periodSeconds: number }

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number }

const STATE_KEY = 'state'

/** The TAT, kept with the limit it was computed under. */
export type State = { tat: number; requests: number; periodSeconds: number }

/**
 * GCRA, the generic cell rate algorithm: `requests` per `periodSeconds` means up to `requests` at
 * once, then one more every `periodSeconds / requests`. Unlike a fixed window it never lets a
 * client send twice the limit across a window boundary, and its state is a single timestamp: the
 * theoretical arrival time (TAT) of the next request. Counts `count` requests at `now`, in order,
 * one decision each; returns the state to keep (undefined when nothing was counted). A state
 * computed under another limit is dropped: the count restarts with a changed limit.
 */
export function countHits(
  state: State | undefined,
  limit: RateLimit,
  count: number,
  now: number
): { decisions: RateDecision[]; state: State | undefined } {
  const periodMs = limit.periodSeconds * 1000
  const intervalMs = periodMs / limit.requests
  const sameLimit = state?.requests === limit.requests && state.periodSeconds === limit.periodSeconds
  let tat = Math.max(sameLimit ? state.tat : now, now)
  const decisions: RateDecision[] = []
  let counted = false
  for (let i = 0; i < count; i++) {
    const allowedFrom = tat - (periodMs - intervalMs)
    if (now < allowedFrom) {
      decisions.push({ allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((allowedFrom - now) / 1000)) })
      continue
    }
    tat += intervalMs
    counted = true
    decisions.push({ allowed: true, remaining: Math.floor((periodMs - (tat - now)) / intervalMs) })
  }
  return { decisions, state: counted ? { tat, requests: limit.requests, periodSeconds: limit.periodSeconds } : undefined }
}

/**
 * The counter of one client key (one instance per key id, addressed by name), running countHits.
 * The limit comes with every call rather than being configured here, so a changed limit (admin
 * API) applies on the next request with no cache to invalidate.
 */
export class RateLimiter extends DurableObject {
  /**
   * Counts `count` requests against `limit`, in order: one decision each. The gateway sends the
   * requests of one key that arrive together in one call (see http/rate-limit.ts).
   */
  hits(limit: RateLimit, count: number): RateDecision[] {
    // Synchronous KV of a SQLite-backed object: persisted (an evicted instance keeps its state)
    // and, behind the output gate, confirmed before the answer leaves.
    const { decisions, state } = countHits(this.ctx.storage.kv.get<State>(STATE_KEY), limit, count, Date.now())
    if (state) this.ctx.storage.kv.put(STATE_KEY, state)
    return decisions
  }
}
