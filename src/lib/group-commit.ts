/**
 * Group commit: the concurrent calls one isolate makes to the same slow thing (a D1 write, a
 * Durable Object) share round trips. A caller that finds nothing running runs its round at once,
 * so a lone request waits for nothing extra; callers that arrive while a round is in flight queue
 * up and go together in the next one. Under load that turns fifty round trips into a few.
 *
 * No request does I/O for a round it has no part in: the caller driving the rounds runs them
 * until its own item is done, then hands the turn to the oldest waiting caller, which drives the
 * next rounds from its own request. A waiting caller looks at its item every POLL_MS on a timer
 * of its own request: resolving a promise of one request from another is refused by workerd
 * ("Cannot perform I/O on behalf of a different request"), so no caller wakes another. If a
 * driver vanishes mid-round (its request cancelled), the turn is taken over after STALE_MS; an
 * item that was in that round may run again, so rounds must be safe to repeat.
 */

export type GroupOptions<T, R> = {
  /** Runs one round; one result per item, in order. Throwing fails the round. */
  run: (items: T[]) => Promise<R[]>
  /** The most items in one round. */
  maxGroup: number
  /** Items that must run in a round of their own (queue order is kept either way). */
  alone?: (item: T) => boolean
  /**
   * Waits this long before each round so that more items join it: for work no response waits
   * on (it trades latency nobody sees for fewer round trips). 0 by default: a round runs at once.
   */
  gatherMs?: number
}

type Job<T> = {
  item: T
  done: boolean
  result?: { value: unknown } | { error: unknown }
}

const POLL_MS = 1
const STALE_MS = 5_000

const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_MS))

export class GroupCommit<T, R> {
  private queue: Job<T>[] = []
  /** Whose turn it is to drive, and when it last showed progress; undefined when no one drives. */
  private turn: { job: Job<T>; since: number } | undefined

  constructor(private readonly options: GroupOptions<T, R>) {}

  /** Queues `item`, and resolves to its result once a round (this caller's or another's) has run it. */
  async submit(item: T): Promise<R> {
    const job: Job<T> = { item, done: false }
    this.queue.push(job)
    while (!job.done) {
      const turn = this.turn
      if (!turn || turn.job === job || Date.now() - turn.since >= STALE_MS) await this.drive(job)
      else await pause()
    }
    const result = job.result!
    if ('error' in result) throw result.error
    return result.value as R
  }

  /** Runs rounds from the front of the queue until `mine` is done, then hands the turn on. */
  private async drive(mine: Job<T>) {
    const turn = { job: mine, since: Date.now() }
    this.turn = turn
    try {
      while (!mine.done && this.turn === turn) {
        if (this.options.gatherMs) await new Promise((resolve) => setTimeout(resolve, this.options.gatherMs))
        turn.since = Date.now()
        const round = this.nextRound()
        await this.runRound(round)
        this.queue = this.queue.filter((job) => !job.done)
      }
    } finally {
      if (this.turn === turn) {
        const next = this.queue.find((job) => !job.done)
        this.turn = next && { job: next, since: Date.now() }
      }
    }
  }

  /** The front item alone, or the run of groupable items it starts, up to maxGroup. */
  private nextRound(): Job<T>[] {
    const { alone, maxGroup } = this.options
    if (alone?.(this.queue[0]!.item)) return this.queue.slice(0, 1)
    const end = alone ? this.queue.findIndex((job) => alone(job.item)) : -1
    return this.queue.slice(0, Math.min(end === -1 ? this.queue.length : end, maxGroup))
  }

  /** A failed round of several is retried an item at a time, so one bad item fails only itself. */
  private async runRound(round: Job<T>[]) {
    try {
      const values = await this.options.run(round.map((job) => job.item))
      round.forEach((job, i) => finish(job, { value: values[i] }))
    } catch (error) {
      if (round.length === 1) return finish(round[0]!, { error })
      for (const job of round) await this.runRound([job])
    }
  }
}

/** The positions of `items` by `keyOf`, keys in first-seen order: a round's items split by where they go. */
export function indexesBy<T, K>(items: readonly T[], keyOf: (item: T) => K): Map<K, number[]> {
  const indexes = new Map<K, number[]>()
  items.forEach((item, i) => {
    const key = keyOf(item)
    const list = indexes.get(key)
    if (list) list.push(i)
    else indexes.set(key, [i])
  })
  return indexes
}

function finish<T>(job: Job<T>, result: NonNullable<Job<T>['result']>) {
  if (job.done) return
  job.result = result
  job.done = true
}
