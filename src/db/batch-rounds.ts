import { GroupCommit, indexesBy } from '../lib/group-commit'
import { perObject } from '../lib/per-object'
import type { Db } from './client'

/**
 * One D1 round trip for several pieces of work. Each kind of work is a BatchPart: the statements
 * for some items, and how to read each item's result back. `runPart` sends one part's statements
 * for its items in one `batch` at once (the request's path: nothing waits for anyone else);
 * `inBackgroundRound` gathers the parts of work no response waits on (the seals) into shared
 * rounds (see GroupCommit), each first waiting BACKGROUND_GATHER_MS so that under load it carries
 * more rows.
 *
 * Why the request's path has no shared round (docs/performance.md): deployed, a D1 call is a round
 * trip, and a request that arrives while its isolate's round is in flight waits for that round to
 * come back before its own goes out. Measured in the deployed-like bench (typical profile), sending
 * each key lookup and write-ahead insert on its own was as fast at c=1 and faster at c=10 and 50
 * (read p50 1.69 against 2.02 times the floor at c=10) than sharing rounds.
 *
 * A background batch is one transaction, so one failing statement fails the round whole (each
 * item is then retried in a round of its own): a part's statements must not fail for reasons of
 * their own making; a part that can lose a race (the seal) says so in its results instead.
 */
export type BatchPart<T, R> = (db: Db, items: T[]) => BatchPlan<R> | Promise<BatchPlan<R>>

export type BatchPlan<R> = {
  statements: D1PreparedStatement[]
  /** Each item's result, in item order, from the results of `statements` (same order). */
  read: (results: D1Result[]) => R[]
}

type Entry = { part: BatchPart<unknown, unknown>; item: unknown }

/** How long a background round waits for more items before it runs (nobody waits on them). */
const BACKGROUND_GATHER_MS = 5

function roundsOn(db: Db, gatherMs: number) {
  return new GroupCommit<Entry, unknown>({
    run: async (entries) => {
      const plans: { indexes: number[]; plan: BatchPlan<unknown> }[] = []
      for (const [part, indexes] of indexesBy(entries, (entry) => entry.part))
        plans.push({
          indexes,
          plan: await part(
            db,
            indexes.map((i) => entries[i]!.item)
          ),
        })
      const statements = plans.flatMap(({ plan }) => plan.statements)
      const results = statements.length ? await db.$client.batch(statements) : []
      const answers: unknown[] = []
      let offset = 0
      for (const { indexes, plan } of plans) {
        const values = plan.read(results.slice(offset, (offset += plan.statements.length)))
        indexes.forEach((index, j) => (answers[index] = values[j]))
      }
      return answers
    },
    // Bounds the batch's size (write-ahead rows carry whole snapshots), not its round trips.
    maxGroup: 48,
    gatherMs,
  })
}

const rounds = perObject((db: Db) => roundsOn(db, BACKGROUND_GATHER_MS))

const entry = <T, R>(part: BatchPart<T, R>, item: T): Entry => ({ part: part as Entry['part'], item })

/** Runs `part` for `items` now, in one batch of its own; resolves to each item's result. */
export async function runPart<T, R>(db: Db, part: BatchPart<T, R>, items: T[]): Promise<R[]> {
  const plan = await part(db, items)
  return plan.read(plan.statements.length ? await db.$client.batch(plan.statements) : [])
}

/** Runs `item` in the next background round on `db` (gathered: for work no response waits on). */
export function inBackgroundRound<T, R>(db: Db, part: BatchPart<T, R>, item: T): Promise<R> {
  return rounds(db).submit(entry(part, item)) as Promise<R>
}
