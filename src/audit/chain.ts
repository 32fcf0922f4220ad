import type { BatchItem } from 'drizzle-orm/batch'
import { and, desc, eq, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { auditChain, auditChangedFields, auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import { changedFields, type Change } from './diff'
import { chainHash, GENESIS, rowHash, SEALED_COLUMNS } from './seal'

/**
 * Tamper evidence, written where rows settle. Each settled row gets one link in `audit_chain`
 * (seq 1, 2, 3, … with no gaps), holding the row's hash and a chain hash over the previous link,
 * in the same `db.batch` as the write that settles the row: a row is never settled without its
 * link, nor linked without being settled. Writers race optimistically: each reads the head and
 * claims `seq = head + 1`; `seq` is the primary key, so of two isolates claiming one position one
 * batch fails whole, and that writer re-reads the head and tries again. No forks, no locks.
 */

type Head = { seq: number; chainHash: string }
type Link = Head & { eventId: string; rowHash: string; createdAt: number }

/** Settled fields a finalize or the reconciler writes onto a pending row. */
export type SettleFields = Partial<Omit<AuditEventRow, 'id' | 'changes'>> & { changes?: Change[] }

const MAX_ATTEMPTS = 12

/**
 * Seals from one isolate take turns, so the requests an isolate serves concurrently do not race
 * each other for the same chain position (under 20 in flight they did: most attempts lost and
 * some rows ran out of retries). Waiting polls a flag rather than awaiting another request's
 * promise (the runtime does not let one request's promise resume another); a turn held longer
 * than TURN_STALE_MS (its request was cancelled mid-seal) is taken over. Isolates still race
 * each other, which the optimistic seq claim below resolves.
 */
const TURN_STALE_MS = 5_000
/** Turns are per handle: an isolate has one (createDb keeps it); a separate handle races like another isolate. */
const turns = new WeakMap<Db, { since: number }>()

async function inTurn<T>(db: Db, seal: () => Promise<T>): Promise<T> {
  for (let held = turns.get(db); held && Date.now() - held.since < TURN_STALE_MS; held = turns.get(db)) {
    await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 2))
  }
  const mine = { since: Date.now() }
  turns.set(db, mine)
  try {
    return await seal()
  } finally {
    if (turns.get(db) === mine) turns.delete(db)
  }
}

const headQuery = (db: Db) =>
  db.select({ seq: auditChain.seq, chainHash: auditChain.chainHash }).from(auditChain).orderBy(desc(auditChain.seq)).limit(1)

/** The last link, or undefined for an empty chain. */
export async function readHead(db: Db): Promise<Head | undefined> {
  return (await headQuery(db))[0]
}

async function nextLink(head: Head | undefined, row: AuditEventRow): Promise<Link> {
  const previous = head ?? { seq: 0, chainHash: GENESIS }
  const ofRow = await rowHash(row)
  return {
    seq: previous.seq + 1,
    eventId: row.id,
    rowHash: ofRow,
    chainHash: await chainHash(previous.chainHash, ofRow),
    createdAt: Date.now(),
  }
}

// INSERT … SELECT lists the table's columns in schema order: seq, event_id, row_hash, chain_hash,
// created_at; and field, event_id.
const linkValues = (link: Link) =>
  sql`SELECT ${link.seq}, ${link.eventId}, ${link.rowHash}, ${link.chainHash}, ${link.createdAt}`

/** Appends the link only while its event is still pending, in the batch that settles it. */
const linkIfPending = (db: Db, link: Link) =>
  db.insert(auditChain).select(sql`${linkValues(link)}
    WHERE EXISTS (SELECT 1 FROM audit_events WHERE id = ${link.eventId} AND outcome = 'pending')`)

const insertLink = (db: Db, link: Link) => db.insert(auditChain).values(link)

/** The `field` filter's index rows, written only if this batch's link went in. */
function changedFieldRows(db: Db, link: Link, changes: unknown) {
  const fields = Array.isArray(changes) ? changedFields(changes as Change[]) : []
  return db.insert(auditChangedFields).select(sql`SELECT value, ${link.eventId} FROM json_each(${JSON.stringify(fields)})
    WHERE EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${link.seq} AND event_id = ${link.eventId})`)
}

/**
 * After a failed batch: if the head moved past the position we claimed, another writer won it,
 * so wait a moment and retry; anything else is a real failure and is thrown.
 */
async function retryOrThrow(db: Db, err: unknown, link: Link, attempt: number) {
  if (attempt >= MAX_ATTEMPTS) throw err
  const head = await readHead(db)
  if ((head?.seq ?? 0) < link.seq) throw err
  await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(64, 2 ** attempt)))
}

const definedOnly = <T extends object>(fields: T): T =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T

export type SettleResult = { settled: boolean; attempts: number }

/**
 * Settles a pending row with `fields` and seals it, in one batch. Touches nothing (and appends
 * no link) when the row is no longer pending: whoever settled it first sealed it. Self-contained
 * (reads the row itself), so it can run after the response, e.g. in `waitUntil`.
 */
export function settlePending(db: Db, id: string, fields: SettleFields): Promise<SettleResult> {
  return inTurn(db, () => settleNow(db, id, definedOnly(fields)))
}

async function settleNow(db: Db, id: string, set: SettleFields): Promise<SettleResult> {
  for (let attempt = 1; ; attempt++) {
    const [[row], [head]] = await db.batch([db.select().from(auditEvents).where(eq(auditEvents.id, id)).limit(1), headQuery(db)])
    if (!row || row.outcome !== 'pending') return { settled: false, attempts: attempt }
    const link = await nextLink(head, { ...row, ...set })
    try {
      const [, , updated] = await db.batch([
        linkIfPending(db, link),
        changedFieldRows(db, link, set.changes),
        db
          .update(auditEvents)
          .set(set)
          .where(and(eq(auditEvents.id, id), eq(auditEvents.outcome, 'pending')))
          .returning({ id: auditEvents.id }),
      ])
      if (updated.length === 1) return { settled: true, attempts: attempt }
      // Settled elsewhere between our read and our write: the next read returns.
    } catch (err) {
      await retryOrThrow(db, err, link, attempt)
    }
  }
}

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
  return inTurn(db, () => insertNow(db, completeRow(event), statements))
}

async function insertNow(db: Db, row: AuditEventRow, statements: readonly BatchItem<'sqlite'>[]) {
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
