import type { BatchItem } from 'drizzle-orm/batch'
import { desc, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { columnNames, decodeRow, encodeColumns, field } from '../db/json-rows'
import { auditChain, auditChangedFields, auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import { GroupCommit } from '../group-commit'
import { perObject } from '../per-object'
import { changedFields, type Change } from './diff'
import { chainHash, GENESIS, rowHash, SEALED_COLUMNS } from './seal'

/**
 * Tamper evidence, written where rows settle. Each settled row gets one link in `audit_chain`
 * (seq 1, 2, 3, … with no gaps), holding the row's hash and a chain hash over the previous link,
 * in the same `db.batch` as the write that settles the row: a row is never settled without its
 * link, nor linked without being settled. Writers race optimistically: each reads the head and
 * claims `seq = head + 1`; `seq` is the primary key, so of two isolates claiming one position one
 * batch fails whole, and that writer re-reads the head and tries again. No forks, no locks.
 * Within an isolate, concurrent settles share one batch (group commit: sealRounds), and a round
 * of rows this isolate wrote ahead builds on the last link it committed without reading.
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
 * queued in this isolate: see sealRounds). Touches nothing (and appends no link) when the row
 * is no longer pending: whoever settled it first sealed it. Self-contained (reads the row
 * itself unless given it as `pending`), so it can run after the response, e.g. in `waitUntil`.
 */
export function settlePending(db: Db, id: string, fields: SettleFields, pending?: AuditEventRow): Promise<SettleResult> {
  return sealRounds(db).submit({ settle: { id, set: definedOnly(fields), pending } }) as Promise<SettleResult>
}

/** A settle; `pending` is the row as written ahead, when the caller holds it. */
type Settle = { id: string; set: SettleFields; pending?: AuditEventRow }
type Insert = { row: AuditEventRow; statements: readonly BatchItem<'sqlite'>[] }
type Seal = { settle: Settle } | { insert: Insert }

/**
 * Group commit for seals, one queue per D1 handle (an isolate has one). A round of settles costs
 * one batch however many rows it holds (plus one read when settleFromMemory cannot be used):
 * under load, one seal at a time queued up and held the single D1 the next requests' lookups and
 * write-ahead inserts need. An insert (it may carry a key change that can fail on its own) runs in a round alone.
 * Queue order is chain order. Isolates still race each other for chain positions, which the
 * sealers resolve by retrying; a repeated round is safe (a settle touches only a pending row).
 */
const sealRounds = perObject(
  (db: Db) =>
    new GroupCommit<Seal, SettleResult | { attempts: number }>({
      run: async (seals) =>
        'insert' in seals[0]! ? [await insertNow(db, seals[0].insert)] : settleGroup(db, seals.map((seal) => (seal as { settle: Settle }).settle)),
      alone: (seal) => 'insert' in seal,
      // Larger rounds only lengthen the batch: the gain is in sharing its round trips.
      maxGroup: 32,
    })
)

/** The round's rows that are still pending, each with the chain head, in one read (?: JSON array of ids). */
const PENDING_WITH_HEAD_SQL = `SELECT audit_events.*,
    (SELECT seq FROM audit_chain ORDER BY seq DESC LIMIT 1) AS head_seq,
    (SELECT chain_hash FROM audit_chain ORDER BY seq DESC LIMIT 1) AS head_hash
  FROM audit_events WHERE id IN (SELECT value FROM json_each(?)) AND outcome = 'pending'`

/**
 * Settles every still pending row of `settles` in one batch: from memory when it can, else links
 * in queue order over one read of the rows and the head. A row already settled gets no link. If the batch
 * fails, the next read tells a lost race (the head moved, or one of our rows was settled
 * elsewhere, which fails the batch: see SETTLE_SQL.link) from a real failure, which is thrown.
 */
async function settleGroup(db: Db, settles: Settle[]): Promise<SettleResult[]> {
  const fromMemory = await settleFromMemory(db, settles)
  if (fromMemory) return fromMemory
  const results = settles.map(() => ({ settled: false, attempts: 0 }))
  const ids = JSON.stringify(settles.map((settle) => settle.id))
  let lost: { err: unknown; seq: number; ids: string[] } | undefined
  for (let attempt = 1; ; attempt++) {
    const read = (await db.$client.prepare(PENDING_WITH_HEAD_SQL).bind(ids).all<Record<string, unknown>>()).results
    const pending = new Map(read.map((raw) => [raw.id as string, decodeRow(auditEvents, raw)]))
    const first = read[0]
    const head = first && first.head_seq !== null ? { seq: first.head_seq as number, chainHash: first.head_hash as string } : undefined
    if (lost && (head?.seq ?? 0) < lost.seq && lost.ids.every((id) => pending.has(id))) throw lost.err

    for (const result of results) result.attempts = attempt
    // A row listed twice is linked once: the first take removes it.
    const linked = await linkInOrder(head, settles, ({ id }) => {
      const row = pending.get(id)
      pending.delete(id)
      return row
    })
    if (linked.length === 0) return results
    try {
      await commitLinks(db, linked)
      for (const { index } of linked) results[index]!.settled = true
      return results
    } catch (err) {
      if (attempt >= MAX_ATTEMPTS) throw err
      lost = { err, seq: linked[0]!.link.seq, ids: linked.map(({ link }) => link.eventId) }
      await backoff(attempt)
    }
  }
}

/** The last link each D1 handle committed, as far as this isolate knows. */
const knownHeads = new WeakMap<Db, Head>()

/**
 * The common round in one round trip instead of two: when every row is one this isolate wrote
 * ahead and the head is the last link it committed, the links are computed without a read. If
 * either is stale (another isolate linked since: seq is the primary key; a row was settled
 * elsewhere: its link gets no event id), the batch fails whole and the round reads instead.
 */
async function settleFromMemory(db: Db, settles: Settle[]): Promise<SettleResult[] | undefined> {
  const head = knownHeads.get(db)
  if (!head || settles.some((settle) => !settle.pending) || new Set(settles.map((settle) => settle.id)).size < settles.length) return undefined
  try {
    await commitLinks(db, await linkInOrder(head, settles, (settle) => settle.pending))
  } catch {
    knownHeads.delete(db)
    return undefined
  }
  return settles.map(() => ({ settled: true, attempts: 1 }))
}

type Linked = { index: number; link: Link; set: SettleFields }

/** Links the settles in queue order over `head`; a settle `rowOf` gives no row for gets no link. */
async function linkInOrder(head: Head | undefined, settles: Settle[], rowOf: (settle: Settle) => AuditEventRow | undefined): Promise<Linked[]> {
  const createdAt = Date.now()
  const linked: Linked[] = []
  let previous = head
  for (const [index, settle] of settles.entries()) {
    const row = rowOf(settle)
    if (!row) continue
    const link = await nextLink(previous, { ...row, ...settle.set } as AuditEventRow, createdAt)
    linked.push({ index, link, set: settle.set })
    previous = link
  }
  return linked
}

/** Writes a round's links, field rows and updates in one batch, and remembers the new head. */
async function commitLinks(db: Db, linked: Linked[]) {
  await db.$client.batch(settleStatements(db, linked))
  knownHeads.set(db, linked[linked.length - 1]!.link)
}

/**
 * A settle round in three statements whatever its size (see db/json-rows.ts). `link` appends
 * the links; for a row no longer pending its subselect yields NULL into the NOT NULL event_id
 * and the whole batch fails (failing, rather than skipping that link, matters: the links after
 * it chain over it). `fields` writes the `field` filter's index rows of the linked rows.
 * `update` settles each row with the columns its settle sets (absent keys keep their value).
 */
const SETTLE_SQL = {
  link: `INSERT INTO audit_chain (seq, event_id, row_hash, chain_hash, created_at)
    SELECT ${field('l', 'seq')},
      (SELECT id FROM audit_events WHERE id = ${field('l', 'eventId')} AND outcome = 'pending'),
      ${field('l', 'rowHash')}, ${field('l', 'chainHash')}, ${field('l', 'createdAt')}
    FROM json_each(?) AS l`,
  fields: `INSERT INTO audit_changed_fields (field, event_id)
    SELECT f.value, ${field('l', 'eventId')} FROM json_each(?) AS l, json_each(l.value, '$.fields') AS f
    WHERE EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${field('l', 'seq')} AND event_id = ${field('l', 'eventId')})`,
  update: `UPDATE audit_events SET ${columnNames(auditEvents)
    .filter((name) => name !== 'id')
    .map((name) => `"${name}" = CASE WHEN json_type(s.value, '$.set.${name}') IS NULL THEN "${name}" ELSE ${field('s', `set.${name}`)} END`)
    .join(', ')}
    FROM json_each(?) AS s WHERE audit_events.id = ${field('s', 'id')} AND audit_events.outcome = 'pending'`,
}

function settleStatements(db: Db, linked: Linked[]): D1PreparedStatement[] {
  const links = linked.map(({ link, set }) => ({ ...link, fields: Array.isArray(set.changes) ? changedFields(set.changes) : [] }))
  const updates = linked.map(({ link, set }) => ({ id: link.eventId, set: encodeColumns(auditEvents, set) }))
  return [
    db.$client.prepare(SETTLE_SQL.link).bind(JSON.stringify(links)),
    db.$client.prepare(SETTLE_SQL.fields).bind(JSON.stringify(links)),
    db.$client.prepare(SETTLE_SQL.update).bind(JSON.stringify(updates)),
  ]
}

/** Every sealed column present (absent ones null), so the stored row is exactly what was hashed. */
export function completeRow(event: NewAuditEvent): AuditEventRow {
  const row = Object.fromEntries(SEALED_COLUMNS.map((column) => [column, event[column] ?? null]))
  return { ...row, reconciled: event.reconciled ?? false } as AuditEventRow
}

/**
 * Inserts an already settled row (a failed attempt, a key change) sealed, in one batch with
 * `statements` (the change it records), so none of them exists without the others.
 */
export function insertSealed(db: Db, event: NewAuditEvent, statements: readonly BatchItem<'sqlite'>[] = []) {
  return sealRounds(db).submit({ insert: { row: completeRow(event), statements } }) as Promise<{ attempts: number }>
}

async function insertNow(db: Db, { row, statements }: Insert) {
  for (let attempt = 1; ; attempt++) {
    const link = await nextLink(await readHead(db), row)
    try {
      await db.batch([db.insert(auditEvents).values(row), insertLink(db, link), changedFieldRows(db, link, row.changes), ...statements])
      knownHeads.set(db, link)
      return { attempts: attempt }
    } catch (err) {
      await retryOrThrow(db, err, link, attempt)
    }
  }
}
