import { DurableObject } from 'cloudflare:workers'

export type RateLimit = { requests: number; periodSeconds: number }

export type RateDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number }

const TAT_KEY = 'tat'

/**
 * The counter of one client key (one instance per key id, addressed by name). It runs GCRA, the
 * generic cell rate algorithm: `requests` per `periodSeconds` means up to `requests` at once, then
 * one more every `periodSeconds / requests`. Unlike a fixed window it never lets a client send
 * twice the limit across a window boundary, and its whole state is one number: the theoretical
 * arrival time (TAT) of the next request.
 *
 * The limit comes with every call rather than being stored here, so a changed limit (admin API)
 * applies on the next request with no cache to invalidate.
 */
export class RateLimiter extends DurableObject {
  /** Counts one request against `limit`, or refuses it and says when to come back. */
  hit(limit: RateLimit): RateDecision {
    const now = Date.now()
    const periodMs = limit.periodSeconds * 1000
    const intervalMs = periodMs / limit.requests
    // Synchronous KV of a SQLite-backed object: persisted (an evicted instance keeps its state)
    // and, behind the output gate, confirmed before the answer leaves.
    const storedTat = this.ctx.storage.kv.get<number>(TAT_KEY) ?? now
    const tat = Math.max(storedTat, now)
    const allowedFrom = tat - (periodMs - intervalMs)
    if (now < allowedFrom) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((allowedFrom - now) / 1000)) }
    }
    const nextTat = tat + intervalMs
    this.ctx.storage.kv.put(TAT_KEY, nextTat)
    return { allowed: true, remaining: Math.floor((periodMs - (nextTat - now)) / intervalMs) }
  }
}
