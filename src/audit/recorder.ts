import type { BatchItem } from 'drizzle-orm/batch'
import { runPart, type BatchPart } from '../db/batch-rounds'
import type { Db } from '../db/client'
import { columnNames, encodeColumns, field } from '../db/json-rows'
import { auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import type { IdempotencyClaim } from '../env'
import { ApiError } from '../errors'
import { ulid } from '../lib/ids'
import type { AuditAction } from './actions'
import { completeRow, insertSealed } from './chain'
import { diffResource, type Snapshot } from './diff'

/** Who made the call and from where: the part of a row that comes from the request. */
export type AuditOrigin = Pick<
  NewAuditEvent,
  'keyId' | 'actor' | 'origin' | 'ip' | 'userAgent' | 'requestId' | 'idempotencyKey'
>

export type AuditStart = AuditOrigin & {
  action: AuditAction
  /** The resource the row names (`import`, `webhook`, …; audit/diff.ts RESOURCE_TYPES). */
  resourceType: string
  /** Null for a create until Exa names the resource in its answer. */
  resourceId: string | null
  parentId?: string | null
  subjectKeyId?: string | null
  revertsEventId?: string | null
  requestBody?: unknown
  before?: Snapshot | null
}

export type UpstreamOutcome = {
  status: number
  upstreamRequestId: string | null
  after: Snapshot | null
  error?: string | null
}

function startRow(start: AuditStart, now: number): NewAuditEvent {
  return {
    id: ulid(now),
    ...start,
    // An import's id stays in its own column too: the `importId` filter and older readers use it.
    importId: start.resourceType === 'import' ? start.resourceId : null,
    before: start.before ?? null,
    requestBody: start.requestBody ?? null,
    outcome: 'pending',
    startedAt: now,
  }
}

const AUDIT_COLUMNS = columnNames(auditEvents)

/** The claim a row's JSON names: its holder is the row's request id (see db/schema.ts idempotencyRecords). */
const claimHeld = (r: string, i: string) =>
  `${i}.key_id = ${field(r, 'claim_key_id')} AND ${i}.idempotency_key = ${field(r, 'idempotency_key')}
    AND ${i}.request_id = ${field(r, 'request_id')}`

/**
 * A revert row goes in only if no other revert of its event is pending, succeeded or unknown (one
 * that failed changed nothing), nor ahead of it in the same statement: of concurrent reverts of one
 * event one runs, whichever isolate they come from (D1 runs one statement at a time).
 */
const ONE_REVERT_PER_EVENT = `NOT EXISTS (SELECT 1 FROM audit_events AS a
      WHERE a.reverts_event_id = ${field('r', 'reverts_event_id')} AND a.outcome <> 'failed')
    AND NOT EXISTS (SELECT 1 FROM json_each(?1) AS o
      WHERE ${field('o', 'reverts_event_id')} = ${field('r', 'reverts_event_id')} AND o.key < r.key)`

/**
 * The write-ahead rows, inserted from their JSON (see db/json-rows.ts: one statement for any
 * number of rows; the request path sends one). A row whose request holds an Idempotency-Key goes
 * in only while the claim is still its own and in progress (a request that stalled may have lost
 * it to a retry).
 */
const INSERT_PENDING_SQL = `INSERT INTO audit_events (${AUDIT_COLUMNS.map((name) => `"${name}"`).join(', ')})
  SELECT ${AUDIT_COLUMNS.map((name) => field('r', name)).join(', ')} FROM json_each(?1) AS r
  WHERE (${field('r', 'claim_key_id')} IS NULL
    OR EXISTS (SELECT 1 FROM idempotency_records AS i WHERE ${claimHeld('r', 'i')} AND i.state = 'in_progress'))
    AND (${field('r', 'reverts_event_id')} IS NULL OR (${ONE_REVERT_PER_EVENT}))
  ON CONFLICT DO NOTHING`

/** The round's revert rows that went in. */
const INSERTED_SQL = `SELECT a.id FROM json_each(?) AS r JOIN audit_events AS a ON a.id = ${field('r', 'id')}`

/** Links each claim to its committed row, in the same batch: from then on the claim is never taken over. */
const LINK_CLAIMS_SQL = `UPDATE idempotency_records AS i SET event_id = ${field('r', 'id')} FROM json_each(?) AS r
  WHERE ${claimHeld('r', 'i')} AND EXISTS (SELECT 1 FROM audit_events AS a WHERE a.id = ${field('r', 'id')})`

/** The rows whose claims are linked (those that will be forwarded). */
const LINKED_SQL = `SELECT i.event_id AS id FROM json_each(?) AS r JOIN idempotency_records AS i
  ON ${claimHeld('r', 'i')} AND i.event_id = ${field('r', 'id')}`

type PendingRow = { row: AuditEventRow; claim: IdempotencyClaim | undefined }
/** Whether a write-ahead row may be forwarded, or why not. */
type WriteAheadResult = 'forward' | 'claim-lost' | 'revert-taken'

/**
 * The write-ahead insert as one batch (one round trip, sent at once: see db/batch-rounds.ts). A
 * row of an Idempotency-Key holder links its claim in the same batch (two statements more); each
 * item learns whether it may forward.
 */
const writeAheadPart: BatchPart<PendingRow, WriteAheadResult> = (db, items) => {
  const rows = items.map(({ row, claim }) => ({
    ...encodeColumns(auditEvents, row),
    claim_key_id: claim?.keyId ?? null,
  }))
  const statements = [db.$client.prepare(INSERT_PENDING_SQL).bind(JSON.stringify(rows))]
  // Only rounds with such rows pay for their checks (statements of the same batch: no round trip).
  const reverts = JSON.stringify(rows.filter((_, i) => items[i]!.row.revertsEventId))
  const revertsAt = statements.length
  if (reverts !== '[]') statements.push(db.$client.prepare(INSERTED_SQL).bind(reverts))
  const claimed = JSON.stringify(rows.filter((row) => row.claim_key_id !== null))
  const linkedAt = statements.length + 1
  if (claimed !== '[]')
    statements.push(db.$client.prepare(LINK_CLAIMS_SQL).bind(claimed), db.$client.prepare(LINKED_SQL).bind(claimed))
  const ids = (result: D1Result | undefined) =>
    new Set(((result?.results ?? []) as { id: string }[]).map(({ id }) => id))
  return {
    statements,
    read: (results) => {
      const inserted = ids(results[revertsAt])
      const linked = ids(results[linkedAt])
      return items.map(({ row, claim }) => {
        if (row.revertsEventId && !inserted.has(row.id)) return 'revert-taken'
        return claim && !linked.has(row.id) ? 'claim-lost' : 'forward'
      })
    },
  }
}

/**
 * Commits the write-ahead row (`pending`, with the before snapshot) and returns it as stored.
 * Throws 503 AUDIT_UNAVAILABLE when D1 refuses: the caller must then forward nothing. With an
 * Idempotency-Key `claim`, the row is linked to it in the same batch; if another request took
 * the claim over meanwhile, the attempt is recorded as failed and this throws 409 CONFLICT: forward nothing.
 */
export async function writeAhead(db: Db, start: AuditStart, claim?: IdempotencyClaim): Promise<AuditEventRow> {
  const row = completeRow(startRow(start, Date.now()))
  let result: WriteAheadResult
  try {
    ;[result] = (await runPart(db, writeAheadPart, [{ row, claim }])) as [typeof result]
  } catch {
    throw new ApiError('AUDIT_UNAVAILABLE', 'the audit log could not be written, so nothing was sent to Exa; try again')
  }
  if (result === 'revert-taken') {
    const error = `event ${row.revertsEventId} is already reverted, or being reverted, by another request; nothing was sent to Exa`
    await recordFailedAttempt(db, start, { status: null, error }).catch(() => undefined)
    const revert = `${start.resourceType}.revert`
    throw new ApiError('CONFLICT', `${error}: see its ${revert} event (revertsEventId=${row.revertsEventId})`)
  }
  if (result === 'claim-lost') {
    // Still one row per attempt (§5): this one failed before forwarding anything.
    await recordFailedAttempt(db, start, {
      status: null,
      error: 'Idempotency-Key taken over by a retry; nothing was sent to Exa',
    }).catch(() => undefined)
    throw new ApiError(
      'CONFLICT',
      'another request with this Idempotency-Key took it over, so nothing was sent to Exa; retry to get its answer',
      { headers: { 'retry-after': '1' } }
    )
  }
  return row
}

/** The settled fields for an upstream answer: 2xx succeeded, anything else failed. */
export function settledFields(
  resourceType: string,
  before: Snapshot | null,
  outcome: UpstreamOutcome,
  now = Date.now()
) {
  const succeeded = outcome.status >= 200 && outcome.status < 300
  return {
    outcome: succeeded ? ('succeeded' as const) : ('failed' as const),
    after: outcome.after,
    changes: succeeded ? diffResource(resourceType, before, outcome.after) : [],
    upstreamStatus: outcome.status,
    upstreamRequestId: outcome.upstreamRequestId,
    error: outcome.error ?? null,
    finishedAt: now,
  }
}

/** Records an attempt that never reached the write-ahead stage (e.g. the before read failed). */
export async function recordFailedAttempt(
  db: Db,
  start: AuditStart,
  failure: { status: number | null; upstreamRequestId?: string | null; error: string }
) {
  const now = Date.now()
  await insertSealed(db, {
    ...startRow(start, now),
    outcome: 'failed',
    upstreamStatus: failure.status,
    upstreamRequestId: failure.upstreamRequestId ?? null,
    error: failure.error,
    finishedAt: now,
  })
}

/**
 * Applies an admin change to keys and records its sealed audit row in one `db.batch`, so neither
 * can exist without the other. `statements` are the change itself (drizzle queries, not yet run);
 * they may run more than once if another writer takes the chain position first (the batch is
 * rolled back whole each time), so they must not depend on having run before.
 */
export async function recordKeyEvent(
  db: Db,
  origin: AuditOrigin,
  event: { action: AuditAction; subjectKeyId: string; before: unknown; after: unknown; requestBody?: unknown },
  statements: readonly BatchItem<'sqlite'>[]
) {
  const now = Date.now()
  const row: NewAuditEvent = {
    ...startRow(
      {
        ...origin,
        action: event.action,
        resourceType: 'key',
        resourceId: event.subjectKeyId,
        subjectKeyId: event.subjectKeyId,
        requestBody: event.requestBody,
      },
      now
    ),
    before: event.before ?? null,
    after: event.after ?? null,
    outcome: 'succeeded',
    finishedAt: now,
  }
  await insertSealed(db, row, statements)
}
