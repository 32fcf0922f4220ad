import type { BatchItem } from 'drizzle-orm/batch'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { auditChain, auditChangedFields, auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import { changedFields, type Change } from './diff'
import { chainHash, GENESIS, rowHash, SEALED_COLUMNS } from './seal'
import { queued, type Sealer } from './seal-queue'

/**
 * Tamper evidence, written where rows settle. Each settled row gets one link in `audit_chain`
 * (seq 1, 2, 3, … with no gaps), holding the row's hash and a chain hash over the previous link,
 * in the same `db.batch` as the write that settles the row: a row is never settled without its
 * link, nor linked without being settled. Writers race optimistically: each reads the head and
 * claims `seq = head + 1`; `seq` is the primary key, so of two isolates claiming one position one
 * batch fails whole, and that writer re-reads the head and tries again. No forks, no locks.
 * Within an isolate, queued settles share one read and one batch (group commit: seal-queue.ts).
 */

type Head = { seq: number; chainHash: string }
type Link = Head & { eventId: string; rowHash: string; createdAt: number }

/** Settled fields a finalize or the reconciler writes onto a pending row. */
export type SettleFields = Partial<Omit<AuditEventRow, 'id' | 'changes'>> & { changes?: Change[] }

const MAX_ATTEMPTS = 12

const headQuery = (db: Db) =>
  db.select({ seq: auditChain.seq, chainHash: auditChain.chainHash }).from(auditChain).orderBy(desc(auditChain.seq)).limit(1)

/** The last link, or undefined for an empty chain. */
export async function readHead(db: Db): Promise<Head | undefined> {
  return (await headQuery(db))[0]
}

async function nextLink(head: Head | undefined, row: AuditEventRow, createdAt = Date.now()): Promise<Link> {
  const previous = head ?? { seq: 0, chainHash: GENESIS }
  const ofRow = await rowHash(row)
  return {
    seq: previous.seq + 1,
    eventId: row.id,
    rowHash: ofRow,
    chainHash: await chainHash(previous.chainHash, ofRow),
    createdAt,
  }
}

// INSERT … SELECT lists the table's columns in schema order: seq, event_id, row_hash, chain_hash,
// created_at; and field, event_id.
/**
 * Appends the link of a still pending event; for a settled one the subselect yields NULL into
 * the NOT NULL event_id and the whole batch fails. Failing (rather than skipping the link, which
 * is enough alone) matters in a group: the links after it chain over this one.
 */
const linkPending = (db: Db, link: Link) =>
  db.insert(auditChain).select(sql`SELECT ${link.seq},
    (SELECT id FROM audit_events WHERE id = ${link.eventId} AND outcome = 'pending'),
    ${link.rowHash}, ${link.chainHash}, ${link.createdAt}`)

const insertLink = (db: Db, link: Link) => db.insert(auditChain).values(link)

/** The `field` filter's index rows, written only if this batch's link went in. */
function changedFieldRows(db: Db, link: Link, changes: unknown) {
  const fields = Array.isArray(changes) ? changedFields(changes as Change[]) : []
  return db.insert(auditChangedFields).select(sql`SELECT value, ${link.eventId} FROM json_each(${JSON.stringify(fields)})
    WHERE EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${link.seq} AND event_id = ${link.eventId})`)
}

const backoff = (attempt: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(64, 2 ** attempt)))

/**
 * After a failed batch: if the head moved past the position we claimed, another writer won it,
 * so wait a moment and retry; anything else is a real failure and is thrown.
 */
async function retryOrThrow(db: Db, err: unknown, link: Link, attempt: number) {
  if (attempt >= MAX_ATTEMPTS) throw err
  const head = await readHead(db)
  if ((head?.seq ?? 0) < link.seq) throw err
  await backoff(attempt)
}

const definedOnly = <T extends object>(fields: T): T =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T

export type SettleResult = { settled: boolean; attempts: number }

/**
 * Settles a pending row with `fields` and seals it, in one batch (shared with the other settles
 * queued in this isolate: see seal-queue.ts). Touches nothing (and appends no link) when the row
 * is no longer pending: whoever settled it first sealed it. Self-contained (reads the row
 * itself), so it can run after the response, e.g. in `waitUntil`.
 */
export function settlePending(db: Db, id: string, fields: SettleFields): Promise<SettleResult> {
  return queued(db, { settle: { id, set: definedOnly(fields) } }, sealer) as Promise<SettleResult>
}

type Settle = { id: string; set: SettleFields }
type Insert = { row: AuditEventRow; statements: readonly BatchItem<'sqlite'>[] }
type Seal = { settle: Settle } | { insert: Insert }

/** Queued settles share a round; an insert (it may carry a key change that can fail on its own) runs alone. */
const sealer: Sealer<Seal, SettleResult | { attempts: number }> = {
  groupable: (seal) => 'settle' in seal,
  run: async (db, seals) =>
    'insert' in seals[0]! ? [await insertNow(db, seals[0].insert)] : settleGroup(db, seals.map((seal) => (seal as { settle: Settle }).settle)),
}

/**
 * Settles every still pending row of `settles` in one batch, links in queue order over one read
 * of the rows and the head. A row already settled (or listed twice) gets no link. If the batch
 * fails, the next read tells a lost race (the head moved, or one of our rows was settled
 * elsewhere, which fails the batch: see linkPending) from a real failure, which is thrown.
 */
async function settleGroup(db: Db, settles: Settle[]): Promise<SettleResult[]> {
  const results = settles.map(() => ({ settled: false, attempts: 0 }))
  const ids = settles.map((settle) => settle.id)
  let lost: { err: unknown; seq: number; ids: string[] } | undefined
  for (let attempt = 1; ; attempt++) {
    const [rows, [head]] = await db.batch([db.select().from(auditEvents).where(inArray(auditEvents.id, ids)), headQuery(db)])
    const pending = new Map(rows.filter((row) => row.outcome === 'pending').map((row) => [row.id, row]))
    if (lost && (head?.seq ?? 0) < lost.seq && lost.ids.every((id) => pending.has(id))) throw lost.err

    const createdAt = Date.now()
    const linked: { index: number; link: Link; set: SettleFields }[] = []
    let previous = head
    for (const [index, { id, set }] of settles.entries()) {
      results[index]!.attempts = attempt
      const row = pending.get(id)
      if (!row) continue
      pending.delete(id)
      const link = await nextLink(previous, { ...row, ...set }, createdAt)
      linked.push({ index, link, set })
      previous = link
    }
    if (linked.length === 0) return results
    try {
      await db.batch(linked.flatMap(({ link, set }) => settleStatements(db, link, set)) as BatchStatements)
      for (const { index } of linked) results[index]!.settled = true
      return results
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS) throw err
      lost = { err, seq: linked[0]!.link.seq, ids: linked.map(({ link }) => link.eventId) }
      await backoff(attempt)
    }
  }
}

type BatchStatements = [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]

const settleStatements = (db: Db, link: Link, set: SettleFields): BatchItem<'sqlite'>[] => [
  linkPending(db, link),
  changedFieldRows(db, link, set.changes),
  db
    .update(auditEvents)
    .set(set)
    .where(and(eq(auditEvents.id, link.eventId), eq(auditEvents.outcome, 'pending'))),
]

/** Every sealed column present (absent ones null), so the stored row is exactly what was hashed. */
function completeRow(event: NewAuditEvent): AuditEventRow {
  const row = Object.fromEntries(SEALED_COLUMNS.map((column) => [column, event[column] ?? null]))
  return { ...row, reconciled: event.reconciled ?? false } as AuditEventRow
}

/**
 * Inserts an already settled row (a failed attempt, a key change) sealed, in one batch with
 * `statements` (the change it records), so none of them exists without the others.
 */
export function insertSealed(db: Db, event: NewAuditEvent, statements: readonly BatchItem<'sqlite'>[] = []) {
  return queued(db, { insert: { row: completeRow(event), statements } }, sealer) as Promise<{ attempts: number }>
}

async function insertNow(db: Db, { row, statements }: Insert) {
  for (let attempt = 1; ; attempt++) {
    const link = await nextLink(await readHead(db), row)
    try {
      await db.batch([db.insert(auditEvents).values(row), insertLink(db, link), changedFieldRows(db, link, row.changes), ...statements])
      return { attempts: attempt }
    } catch (err) {
      await retryOrThrow(db, err, link, attempt)
    }
  }
}
