import { inBackgroundRound, type BatchPart } from '../db/batch-rounds'
import type { Db } from '../db/client'
import { columnNames, decodeRow, encodeColumns } from '../db/json-rows'
import { auditEvents, type AuditEventRow } from '../db/schema'
import { ulidFloor } from '../lib/ids'
import { settlePending, type SettleFields } from './chain'
import { isUpdate } from './actions'
import { diffResource, EDITABLE_FIELDS, type ResourceType, type Snapshot } from './diff'

/**
 * Orders the gateway's changes of one resource (an import, a webhook, …: its `resource_type` and
 * `resource_id`) after the fact, by Exa's `updatedAt`, and seals each
 * row with the state Exa held just before its own change (docs/architecture.md §5, Order). Nothing
 * on the request path: concurrent updates are not serialized, and the settle (off the path) does
 * the ordering before the seal, so a sealed row is never corrected afterwards.
 *
 * An update's (or revert's) answered row waits, still `pending` but holding Exa's answer, until no
 * change of the import that started before that answer arrived is still unanswered: such a change
 * may have been applied before it. Then its `before` is the latest state of the import the log
 * knows with an `updatedAt` before its own after's: another change's after, or a state a before
 * read saw (which may come from outside the gateway), and its `changes` run from there.
 */

/** States of the resource read back this far before the oldest unsealed row: what was in flight when it started. */
const CONTEXT_MS = 2 * 60_000

const updatedAtOf = (state: unknown): number => {
  const at = (state as Snapshot | null)?.updatedAt
  return typeof at === 'string' ? Date.parse(at) : NaN
}

/** A row still pending that holds Exa's answer (or the reconciler's proof): waiting for its turn. */
const isAnswered = (row: AuditEventRow) => row.outcome === 'pending' && row.after !== null

/** Whether a succeeded change's row is sealed in Exa's order (an update or revert with Exa's updatedAt). */
export const isOrdered = (row: Pick<AuditEventRow, 'action' | 'resourceType' | 'resourceId'>, after: unknown) =>
  isUpdate(row.action) && row.resourceType !== null && row.resourceId !== null && Number.isFinite(updatedAtOf(after))

/** The resource a row names: what the order keys on. */
export type ResourceRef = { type: string; id: string }
export const resourceOf = (row: Pick<AuditEventRow, 'resourceType' | 'resourceId'>): ResourceRef | undefined =>
  row.resourceType !== null && row.resourceId !== null ? { type: row.resourceType, id: row.resourceId } : undefined

type Sealing = { row: AuditEventRow; fields: SettleFields }

/** A revert's note when the order shows that a change landed between its check and its PATCH. */
function overwritten(row: AuditEventRow, before: Snapshot, rows: AuditEventRow[]): string | null {
  if (!row.action.endsWith('.revert')) return null
  const paths = diffResource(row.resourceType, row.before, before).map((change) => change.path)
  if (paths.length === 0) return null
  const source = rows.find((other) => other.id !== row.id && updatedAtOf(other.after) === updatedAtOf(before))
  const what = source ? `event ${source.id}` : 'a change made outside the gateway'
  return `overwrote ${what} (${paths.join(', ')}), applied at Exa between the revert's check and its PATCH`
}

/**
 * The resource's answered rows that may be sealed now, in Exa's order, each with the fields that
 * settle it: its before and changes from the order. Pure; `rows` are the resource's rows from
 * CONTEXT_MS before its oldest unsealed one (pending and settled).
 */
export function sealableInOrder(rows: AuditEventRow[]): Sealing[] {
  const unanswered = rows.filter((row) => row.outcome === 'pending' && row.after === null)
  const states = rows
    .flatMap((row) => [row.before, row.after])
    .filter((state) => Number.isFinite(updatedAtOf(state))) as Snapshot[]
  return rows
    .filter((row) => isAnswered(row) && !unanswered.some((other) => other.startedAt <= row.finishedAt!))
    .sort((a, b) => updatedAtOf(a.after) - updatedAtOf(b.after))
    .map((row) => {
      const at = updatedAtOf(row.after)
      const before = states.reduce<Snapshot | null>(
        (latest, state) => (updatedAtOf(state) < at && !(updatedAtOf(state) <= updatedAtOf(latest)) ? state : latest),
        (row.before ?? null) as Snapshot | null
      )
      const note = before && overwritten(row, before, rows)
      const error = [row.error, note].filter(Boolean).join('; ') || null
      const changes = diffResource(row.resourceType, before, row.after)
      return { row, fields: { outcome: 'succeeded', before, changes, error } }
    })
}

/** The resource's unsealed rows (by the outcome index: they are few). */
const PENDING_SQL = `SELECT * FROM audit_events WHERE outcome = 'pending' AND +resource_id = ?2 AND +resource_type = ?1`
/** The resource's rows since a time (ULID floor), sealed or not (by the resource id index). */
const SINCE_SQL = `SELECT * FROM audit_events WHERE resource_id = ?2 AND id >= ?3 AND +resource_type = ?1`
/** Keeps Exa's answer on a row that is still pending. */
const ANSWER_SQL = `UPDATE audit_events SET ${columnNames(auditEvents)
  .filter((name) => name !== 'id')
  .map(
    (name) =>
      `"${name}" = CASE WHEN json_type(?1, '$.${name}') IS NULL THEN "${name}" ELSE json_extract(?1, '$.${name}') END`
  )
  .join(', ')} WHERE id = ?2 AND outcome = 'pending'`

const decoded = (result: D1Result | undefined) =>
  ((result?.results ?? []) as Record<string, unknown>[]).map((raw) => decodeRow(auditEvents, raw))

/** What the order reads of one resource: its unsealed rows, and its rows since `since` (ms). */
type ResourceRead = { pending: AuditEventRow[]; rows: AuditEventRow[]; since: number }

const readSince = async (db: Db, resource: ResourceRef, since: number) =>
  decoded(await db.$client.prepare(SINCE_SQL).bind(resource.type, resource.id, ulidFloor(since)).all())

/**
 * Seals every row of the resource that its order allows now; returns their ids. Safe to run
 * anywhere and twice: a row already sealed by another settle is left alone. `read` saves the
 * reads when they were made already (and reach back far enough).
 */
export async function sealResource(db: Db, resource: ResourceRef, read?: ResourceRead): Promise<string[]> {
  const pending = read?.pending ?? decoded(await db.$client.prepare(PENDING_SQL).bind(resource.type, resource.id).all())
  if (!pending.some(isAnswered)) return []
  const since = Math.min(...pending.map((row) => row.startedAt)) - CONTEXT_MS
  const rows = read && read.since <= since ? read.rows : await readSince(db, resource, since)
  const sealing = sealableInOrder(rows)
  const results = await Promise.all(sealing.map(({ row, fields }) => settlePending(db, row.id, fields, row)))
  return sealing.filter((_, i) => results[i]!.settled).map(({ row }) => row.id)
}

type Answer = { row: AuditEventRow; kept: SettleFields }

/** One resource as a map key. */
const keyOf = (row: AuditEventRow) => JSON.stringify([row.resourceType, row.resourceId])

/**
 * Answers kept and their resources read, for the settles of one background round (db/batch-rounds.ts):
 * concurrent settles of an isolate share one D1 round trip. The reads reach back CONTEXT_MS before
 * the oldest answered row of each resource, and follow every answer of the round.
 */
const answerPart: BatchPart<Answer, ResourceRead> = (db, answers) => {
  const since = new Map<string, { resource: ResourceRef; from: number }>()
  for (const { row } of answers) {
    const from = Math.min(since.get(keyOf(row))?.from ?? Infinity, row.startedAt - CONTEXT_MS)
    since.set(keyOf(row), { resource: resourceOf(row)!, from })
  }
  const resources = [...since.entries()]
  return {
    statements: [
      ...answers.map(({ row, kept }) =>
        db.$client.prepare(ANSWER_SQL).bind(JSON.stringify(encodeColumns(auditEvents, kept)), row.id)
      ),
      ...resources.flatMap(([, { resource, from }]) => [
        db.$client.prepare(PENDING_SQL).bind(resource.type, resource.id),
        db.$client.prepare(SINCE_SQL).bind(resource.type, resource.id, ulidFloor(from)),
      ]),
    ],
    read: (results) => {
      const reads = new Map(
        resources.map(([key, { from }], i) => {
          const at = answers.length + 2 * i
          return [key, { pending: decoded(results[at]), rows: decoded(results[at + 1]), since: from }]
        })
      )
      return answers.map(({ row }) => reads.get(keyOf(row))!)
    },
  }
}

/**
 * After Exa answered an ordered change (isOrdered): keeps the answer on the pending row and reads
 * the resource's rows in one background round, then seals what the order allows (this row, once no
 * earlier change is unanswered; the others it was waiting on). Off the request path.
 */
export async function settleInOrder(db: Db, row: AuditEventRow, answer: SettleFields): Promise<string[]> {
  const { outcome: _outcome, changes: _changes, ...kept } = answer
  return sealResource(db, resourceOf(row)!, await inBackgroundRound(db, answerPart, { row, kept }))
}

/** The fields an update of the resource type may change (for the reconciler and revert). */
export const editableFields = (type: string): readonly string[] =>
  (EDITABLE_FIELDS as Record<string, readonly string[]>)[type as ResourceType] ?? []
