import type { Db } from '../db/client'

/**
 * Group commit for seals. The seals one isolate makes concurrently queue up; whoever holds the
 * turn drains the queue a round at a time, and a round of groupable seals (settles) costs one
 * read and one batch however many rows it holds. Under load that is what keeps the single D1
 * free for the auth lookups and write-ahead inserts of the next requests: one seal at a time
 * (two round trips each) queued up and held it.
 *
 * Waiting polls a flag rather than awaiting another request's promise (the runtime does not let
 * one request's promise resume another). A turn not renewed for TURN_STALE_MS (its request was
 * cancelled mid-seal) is taken over; the jobs it was running are still queued, so they run again
 * (safe: a settle touches only a pending row). Isolates still race each other for chain
 * positions, which the sealer resolves by retrying.
 */

/** Seals a round: one result per seal, in order; throws if the round failed whole. */
export type Sealer<S, R> = {
  groupable: (seal: S) => boolean
  run: (db: Db, seals: S[]) => Promise<R[]>
}

type Job<S, R> = { seal: S; done: boolean; value?: R; error?: unknown; failed?: boolean }
type Queue<S, R> = { jobs: Job<S, R>[]; turn?: { since: number } }

const TURN_STALE_MS = 5_000
/** Larger rounds only lengthen the batch: the gain is in sharing its two round trips. */
const MAX_GROUP = 32
/** Queues are per handle: an isolate has one (createDb keeps it); a separate handle races like another isolate. */
const queues = new WeakMap<Db, Queue<any, any>>()

const pause = () => new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 2))

/** Queues `seal` and resolves to its result once a round (possibly another request's) has run it. */
export async function queued<S, R>(db: Db, seal: S, sealer: Sealer<S, R>): Promise<R> {
  let queue: Queue<S, R> | undefined = queues.get(db)
  if (!queue) queues.set(db, (queue = { jobs: [] }))
  const job: Job<S, R> = { seal, done: false }
  queue.jobs.push(job)
  while (!job.done) {
    const turn = queue.turn
    if (!turn || Date.now() - turn.since >= TURN_STALE_MS) await drain(db, queue, job, sealer)
    else await pause()
  }
  if (job.failed) throw job.error
  return job.value as R
}

/** Takes the turn and runs rounds from the front of the queue until `mine` is done. */
async function drain<S, R>(db: Db, queue: Queue<S, R>, mine: Job<S, R>, sealer: Sealer<S, R>) {
  const turn = { since: Date.now() }
  queue.turn = turn
  try {
    while (!mine.done && queue.turn === turn) {
      turn.since = Date.now()
      await runRound(db, nextRound(queue.jobs, sealer), sealer)
      queue.jobs = queue.jobs.filter((job) => !job.done)
    }
  } finally {
    if (queue.turn === turn) queue.turn = undefined
  }
}

/** The front job alone, or the run of groupable jobs it starts (queue order is chain order). */
function nextRound<S, R>(jobs: Job<S, R>[], sealer: Sealer<S, R>): Job<S, R>[] {
  const waiting = jobs.filter((job) => !job.done)
  if (!sealer.groupable(waiting[0]!.seal)) return waiting.slice(0, 1)
  const end = waiting.findIndex((job) => !sealer.groupable(job.seal))
  return waiting.slice(0, Math.min(end === -1 ? waiting.length : end, MAX_GROUP))
}

/** A failed group is retried a job at a time, so one row's failure fails only that row's seal. */
async function runRound<S, R>(db: Db, round: Job<S, R>[], sealer: Sealer<S, R>) {
  try {
    const values = await sealer.run(db, round.map((job) => job.seal))
    round.forEach((job, i) => finish(job, { value: values[i] }))
  } catch (error) {
    if (round.length === 1) return finish(round[0]!, { error, failed: true })
    for (const job of round) await runRound(db, [job], sealer)
  }
}

function finish<S, R>(job: Job<S, R>, outcome: Pick<Job<S, R>, 'value' | 'error' | 'failed'>) {
  if (!job.done) Object.assign(job, outcome, { done: true })
}
