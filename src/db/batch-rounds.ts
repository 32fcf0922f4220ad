import { GroupCommit } from '../group-commit'
import { perObject } from '../per-object'
import type { Db } from './client'

/**
 * One D1 round trip for everything an isolate's concurrent requests need from D1 at a moment:
 * key lookups of requests just arrived, write-ahead rows of requests about to forward, seals of
 * requests just answered. Each kind is a BatchPart; a round (see GroupCommit) puts every part's
 * statements for its items in one `batch`. Per kind rounds already shared round trips; across
 * kinds they share them again (a request needs D1 three times, at three different moments).
 *
 * A batch is one transaction, so one failing statement fails the round whole (each item is then
 * retried in a round of its own): a part's statements must not fail for reasons of their own
 * making; a part that can lose a race (the seal) says so in its results instead.
 *
 * One round is in flight per isolate: a lookup that arrives while a round of other work is on
 * its way waits for it (at most one round trip). In exchange D1 sees a third of the transactions
 * under load, and locally (where every D1 call costs workerd CPU) requests/s rose ~10 %.
 */
export type BatchPart<T, R> = (db: Db, items: T[]) => BatchPlan<R> | Promise<BatchPlan<R>>

export type BatchPlan<R> = {
  statements: D1PreparedStatement[]
  /** Each item's result, in item order, from the results of `statements` (same order). */
  read: (results: D1Result[]) => R[]
}

type Entry = { part: BatchPart<unknown, unknown>; item: unknown }

const rounds = perObject(
  (db: Db) =>
    new GroupCommit<Entry, unknown>({
      run: async (entries) => {
        const byPart = new Map<Entry['part'], number[]>()
        entries.forEach(({ part }, i) => {
          const indexes = byPart.get(part)
          if (indexes) indexes.push(i)
          else byPart.set(part, [i])
        })
        const plans: { indexes: number[]; plan: BatchPlan<unknown> }[] = []
        for (const [part, indexes] of byPart) plans.push({ indexes, plan: await part(db, indexes.map((i) => entries[i]!.item)) })
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
    })
)

/** Runs `item` as part of the next shared round on `db`; resolves to its result. */
export function inRound<T, R>(db: Db, part: BatchPart<T, R>, item: T): Promise<R> {
  return rounds(db).submit({ part: part as Entry['part'], item }) as Promise<R>
}
