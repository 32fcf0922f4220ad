import { GroupCommit, indexesBy } from '../lib/group-commit'
import { perObject } from '../lib/per-object'
import type { Db } from './client'

/**
 * One D1 round trip for what an isolate's concurrent requests need from D1 at a moment. Each kind
 * of work is a BatchPart; a round (see GroupCommit) puts every part's statements for its items in
 * one `batch`. There are two rounds per isolate, each with one batch in flight at a time:
 * - `inRound`, the request's path: key lookups of requests just arrived and write-ahead rows of
 *   requests about to forward share round trips;
 * - `inBackgroundRound`, work no response waits on (the seals): a round first waits
 *   BACKGROUND_GATHER_MS so that under load it carries more rows.
 * Kept apart because a lookup arriving while a batch is in flight waits for it: behind seals it
 * waited for work nobody was waiting on (measured at c=10: p50 1.05–1.07 × the floor apart,
 * 1.09–1.17 × in one round), and gathered seals cost fewer round trips than seals riding along.
 *
 * A batch is one transaction, so one failing statement fails the round whole (each item is then
 * retried in a round of its own): a part's statements must not fail for reasons of their own
 * making; a part that can lose a race (the seal) says so in its results instead.
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

const rounds = perObject((db: Db) => ({ request: roundsOn(db, 0), background: roundsOn(db, BACKGROUND_GATHER_MS) }))

const entry = <T, R>(part: BatchPart<T, R>, item: T): Entry => ({ part: part as Entry['part'], item })

/** Runs `item` in the next request-path round on `db`; resolves to its result. */
export function inRound<T, R>(db: Db, part: BatchPart<T, R>, item: T): Promise<R> {
  return rounds(db).request.submit(entry(part, item)) as Promise<R>
}

/** Runs `item` in the next background round on `db` (gathered: for work no response waits on). */
export function inBackgroundRound<T, R>(db: Db, part: BatchPart<T, R>, item: T): Promise<R> {
  return rounds(db).background.submit(entry(part, item)) as Promise<R>
}
