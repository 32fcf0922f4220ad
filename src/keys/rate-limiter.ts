import { DurableObject } from 'cloudflare:workers'
import { addCost, currentSpend, type Spend } from './budget'
import { countHits, type RateDecision, type RateLimit, type State } from './gcra'

const STATE_KEY = 'state'
/** The key's spend in the current UTC day and month (keys/budget.ts). */
export const SPEND_KEY = 'spend'

/**
 * The counter of one client key (one instance per key id, addressed by name), running countHits;
 * also of the failed admin credentials from one client address (`admin-failures:<address>`).
 * The limit comes with every call rather than being configured here, so a changed limit (admin
 * API) applies on the next request with no cache to invalidate.
 */
export class RateLimiter extends DurableObject {
  /**
   * Counts `count` requests against `limit`, in order: one decision each. The gateway sends the
   * requests of one key that arrive together in one call (see http/rate-limit.ts). Answers with
   * the key's spend in the current day and month too, so that the same call tells the gateway
   * whether the key's budget is exhausted (the budget itself comes from D1 with the key).
   */
  hits(limit: RateLimit, count: number): { decisions: RateDecision[]; spend: Spend } {
    // Synchronous KV of a SQLite-backed object: persisted (an evicted instance keeps its state)
    // and, behind the output gate, confirmed before the answer leaves.
    const { decisions, state } = countHits(this.ctx.storage.kv.get<State>(STATE_KEY), limit, count, Date.now())
    if (state) this.ctx.storage.kv.put(STATE_KEY, state)
    return { decisions, spend: currentSpend(this.ctx.storage.kv.get<Spend>(SPEND_KEY), Date.now()) }
  }

  /** Adds a call's cost (Exa's costDollars.total, in millionths) to the key's spend: after the response. */
  addCost(micros: number): Spend {
    const spend = addCost(this.ctx.storage.kv.get<Spend>(SPEND_KEY), micros, Date.now())
    this.ctx.storage.kv.put(SPEND_KEY, spend)
    return spend
  }

  /** Whether one more request would be allowed now, without counting it. */
  peek(limit: RateLimit): RateDecision {
    return countHits(this.ctx.storage.kv.get<State>(STATE_KEY), limit, 1, Date.now()).decisions[0]!
  }
}
