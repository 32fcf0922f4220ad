import type { BatchItem } from 'drizzle-orm/batch'
import { desc, sql } from 'drizzle-orm'
import { inBackgroundRound, type BatchPart } from '../db/batch-rounds'
import type { Db } from '../db/client'
import { columnNames, decodeRow, encodeColumns, field } from '../db/json-rows'
import { auditChain, auditChangedFields, auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import { GroupCommit } from '../lib/group-commit'
import { perObject } from '../lib/per-object'
import { changedFields, type Change } from './diff'
import { chainHash, GENESIS, rowHash, SEAL_VERSION, SEALED_COLUMNS } from './seal'

/**
 * Tamper evidence, written where rows settle. Each settled row gets one link in `audit_chain`
 * (seq 1, 2, 3, … with no gaps), holding the row's hash and a chain hash over the previous link,
 * in the same `db.batch` as the write that settles the row: a row is never settled without its
 * link, nor linked without being settled. Writers race optimistically: each reads the head and
 * claims `seq = head + 1`; a settle batch writes only if the chain still ends at that head, and
 * an insert's fails whole on the `seq` primary key, so of two isolates claiming one position one
 * gets it, and the other re-reads the head and tries again. No forks, no locks.
 * Within an isolate, concurrent settles share one batch: settles of rows this isolate wrote ahead
 * build on the last link it committed, without reading, in a background D1 round (sealFromMemory);
 * the others read the rows and the head first (sealRounds).
 */

type Head = { seq: number; chainHash: string }
type Link = Head & { eventId: string; rowHash: string; createdAt: number }

/** Settled fields a finalize or the reconciler writes onto a pending row. */
export type SettleFields = Partial<Omit<AuditEventRow, 'id' | 'changes'>> & { changes?: Change[] }

const MAX_ATTEMPTS = 12

/** The last link, or undefined for an empty chain. */
async function readHead(db: Db): Promise<Head | undefined> {
  return (
    await db
      .select({ seq: auditChain.seq, chainHash: auditChain.chainHash })
      .from(auditChain)
      .orderBy(desc(auditChain.seq))
      .limit(1)
  )[0]
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
  return db.insert(auditChangedFields)
    .select(sql`SELECT value, ${link.eventId} FROM json_each(${JSON.stringify(fields)})
    WHERE EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${link.seq} AND event_id = ${link.eventId})`)
}

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(64, 2 ** attempt)))

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
export async function settlePending(
  db: Db,
  id: string,
  fields: SettleFields,
  pending?: AuditEventRow
): Promise<SettleResult> {
  const settle = { id, set: definedOnly(fields), pending }
  if (pending) {
    const fromMemory = await inBackgroundRound(db, sealFromMemory, settle)
    if (fromMemory !== 'stale') return fromMemory
  }
  return sealRounds(db).submit({ settle }) as Promise<SettleResult>
}

/** A settle; `pending` is the row as written ahead, when the caller holds it. */
type Settle = { id: string; set: SettleFields; pending?: AuditEventRow }
type Insert = { row: AuditEventRow; statements: readonly BatchItem<'sqlite'>[] }
type Seal = { settle: Settle } | { insert: Insert }

/**
 * Group commit for the seals that must read first (rows this isolate did not write ahead, or
 * whose in-memory seal lost its chain position), one queue per D1 handle: a round costs one read
 * and one batch however many rows it holds. An insert (it may carry a key change that can fail
 * on its own) runs in a round alone.
 * Queue order is chain order. Isolates still race each other for chain positions, which the
 * sealers resolve by retrying; a repeated round is safe (a settle touches only a pending row).
 */
const sealRounds = perObject(
  (db: Db) =>
    new GroupCommit<Seal, SettleResult | { attempts: number }>({
      run: async (seals) =>
        'insert' in seals[0]!
          ? [await insertNow(db, seals[0].insert)]
          : settleGroup(
              db,
              seals.map((seal) => (seal as { settle: Settle }).settle)
            ),
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
 * Settles every still pending row of `settles` in one batch, linked in queue order over one read
 * of the rows and the head. A row already settled gets no link. If another writer took the chain
 * position (or settled one of the rows) between the read and the batch, the batch writes nothing
 * (see SETTLE_SQL.link) and the round reads again.
 */
async function settleGroup(db: Db, settles: Settle[]): Promise<SettleResult[]> {
  const results = settles.map(() => ({ settled: false, attempts: 0 }))
  const ids = JSON.stringify(settles.map((settle) => settle.id))
  for (let attempt = 1; ; attempt++) {
    const read = (await db.$client.prepare(PENDING_WITH_HEAD_SQL).bind(ids).all<Record<string, unknown>>()).results
    const pending = new Map(read.map((raw) => [raw.id as string, decodeRow(auditEvents, raw)]))
    const first = read[0]
    const head =
      first && first.head_seq !== null
        ? { seq: first.head_seq as number, chainHash: first.head_hash as string }
        : undefined

    for (const result of results) result.attempts = attempt
    // A row listed twice is linked once: the first take removes it.
    const linked = await linkInOrder(head, settles, ({ id }) => {
      const row = pending.get(id)
      pending.delete(id)
      return row
    })
    if (linked.length === 0) return results
    const statements = settleStatements(db, head, linked)
    if (linksWentIn(db, linked, await db.$client.batch(statements))) {
      for (const { index } of linked) results[index]!.settled = true
      return results
    }
    if (attempt >= MAX_ATTEMPTS) throw new Error(`audit chain: lost the next position ${attempt} times in a row`)
    await backoff(attempt)
  }
}

/** The last link each D1 handle committed, as far as this isolate knows. */
const knownHeads = new WeakMap<Db, Head>()

/**
 * The common seal without a read, in a background D1 round (see db/batch-rounds.ts):
 * when every row is one this isolate wrote ahead (the settle carries it) and the head is the last
 * link it committed, the links are computed from memory. If either is stale (another isolate
 * linked since, or a row was settled elsewhere) the statements write nothing, and each settle
 * answers `stale`: settlePending then takes the read path.
 */
const sealFromMemory: BatchPart<Settle, SettleResult | 'stale'> = async (db, settles) => {
  const head = knownHeads.get(db)
  const stale = () => settles.map(() => 'stale' as const)
  if (!head || new Set(settles.map((settle) => settle.id)).size < settles.length) return { statements: [], read: stale }
  const linked = await linkInOrder(head, settles, (settle) => settle.pending)
  return {
    statements: settleStatements(db, head, linked),
    read: (results) =>
      linksWentIn(db, linked, results) ? settles.map(() => ({ settled: true, attempts: 1 })) : stale(),
  }
}

type Linked = { index: number; link: Link; set: SettleFields }

/** Links the settles in queue order over `head`; a settle `rowOf` gives no row for gets no link. */
async function linkInOrder(
  head: Head | undefined,
  settles: Settle[],
  rowOf: (settle: Settle) => AuditEventRow | undefined
): Promise<Linked[]> {
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

/**
 * Whether a settle batch's links went in (all or none do: see SETTLE_SQL.link). Remembers the new
 * head if they did, and forgets the known one if not: it is stale.
 */
function linksWentIn(db: Db, linked: Linked[], [link]: D1Result[]): boolean {
  if (link!.meta.changes === linked.length) {
    knownHeads.set(db, linked[linked.length - 1]!.link)
    return true
  }
  knownHeads.delete(db)
  return false
}

/**
 * A settle round in three statements whatever its size (see db/json-rows.ts), none of which fails
 * for a lost race: losing is an expected answer (nothing is written; the settle reads and tries
 * again), so a failed batch is a real failure, and a round may carry other parts (db/batch-rounds.ts).
 * `link` appends the links (?1) only if the chain still ends where they were computed (?2: the
 * head's seq, 0 for an empty chain) and every row is still pending: all of them or none (the links
 * chain over each other, so none may be skipped). `fields` writes the `field` filter's index rows
 * and `update` settles each row with the columns its settle sets (absent keys keep their value),
 * both only for rows whose link went in.
 */
const SETTLE_SQL = {
  link: `INSERT INTO audit_chain (seq, event_id, row_hash, chain_hash, created_at)
    SELECT ${field('l', 'seq')}, ${field('l', 'eventId')}, ${field('l', 'rowHash')}, ${field('l', 'chainHash')}, ${field('l', 'createdAt')}
    FROM json_each(?1) AS l
    WHERE (SELECT coalesce(max(seq), 0) FROM audit_chain) = ?2
      AND (SELECT count(*) FROM audit_events WHERE outcome = 'pending'
        AND id IN (SELECT ${field('p', 'eventId')} FROM json_each(?1) AS p)) = json_array_length(?1)`,
  fields: `INSERT INTO audit_changed_fields (field, event_id)
    SELECT f.value, ${field('l', 'eventId')} FROM json_each(?) AS l, json_each(l.value, '$.fields') AS f
    WHERE EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${field('l', 'seq')} AND event_id = ${field('l', 'eventId')})`,
  update: `UPDATE audit_events SET ${columnNames(auditEvents)
    .filter((name) => name !== 'id')
    .map(
      (name) =>
        `"${name}" = CASE WHEN json_type(s.value, '$.set.${name}') IS NULL THEN "${name}" ELSE ${field('s', `set.${name}`)} END`
    )
    .join(', ')}
    FROM json_each(?) AS s WHERE audit_events.id = ${field('s', 'id')} AND audit_events.outcome = 'pending'
      AND EXISTS (SELECT 1 FROM audit_chain WHERE seq = ${field('s', 'seq')} AND event_id = audit_events.id)`,
}

function settleStatements(db: Db, head: Head | undefined, linked: Linked[]): D1PreparedStatement[] {
  const links = linked.map(({ link, set }) => ({
    ...link,
    fields: Array.isArray(set.changes) ? changedFields(set.changes) : [],
  }))
  const updates = linked.map(({ link, set }) => ({
    id: link.eventId,
    seq: link.seq,
    set: encodeColumns(auditEvents, set),
  }))
  return [
    db.$client.prepare(SETTLE_SQL.link).bind(JSON.stringify(links), head?.seq ?? 0),
    db.$client.prepare(SETTLE_SQL.fields).bind(JSON.stringify(links)),
    db.$client.prepare(SETTLE_SQL.update).bind(JSON.stringify(updates)),
  ]
}

/** Every sealed column present (absent ones null), so the stored row is exactly what was hashed. */
export function completeRow(event: NewAuditEvent): AuditEventRow {
  const row = Object.fromEntries(SEALED_COLUMNS.map((column) => [column, event[column] ?? null]))
  return {
    ...row,
    reconciled: event.reconciled ?? false,
    sealVersion: event.sealVersion ?? SEAL_VERSION,
  } as AuditEventRow
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
      await db.batch([
        db.insert(auditEvents).values(row),
        insertLink(db, link),
        changedFieldRows(db, link, row.changes),
        ...statements,
      ])
      knownHeads.set(db, link)
      return { attempts: attempt }
    } catch (err) {
      await retryOrThrow(db, err, link, attempt)
    }
  }
}
