import { DurableObject } from 'cloudflare:workers'
import { countHits, type RateDecision, type RateLimit, type State } from './gcra'

const STATE_KEY = 'state'

/**
 * The counter of one client key (one instance per key id, addressed by name), running countHits;
 * also of the failed admin credentials from one client address (`admin-failures:<address>`).
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

  /** Whether one more request would be allowed now, without counting it. */
  peek(limit: RateLimit): RateDecision {
    return countHits(this.ctx.storage.kv.get<State>(STATE_KEY), limit, 1, Date.now()).decisions[0]!
  }
}
