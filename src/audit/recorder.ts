import type { BatchItem } from 'drizzle-orm/batch'
import { inRound, type BatchPart } from '../db/batch-rounds'
import type { Db } from '../db/client'
import { columnNames, encodeColumns, field } from '../db/json-rows'
import { auditEvents, type AuditEventRow, type NewAuditEvent } from '../db/schema'
import type { Import } from '../exa/schemas'
import { ApiError } from '../errors'
import { ulid } from '../lib/ids'
import type { AuditAction } from './actions'
import { completeRow, insertSealed } from './chain'
import { diffImports } from './diff'

/** Who made the call and from where: the part of a row that comes from the request. */
export type AuditOrigin = Pick<
  NewAuditEvent,
  'keyId' | 'actor' | 'origin' | 'ip' | 'userAgent' | 'requestId' | 'idempotencyKey'
>

export type AuditStart = AuditOrigin & {
  action: AuditAction
  importId?: string | null
  subjectKeyId?: string | null
  revertsEventId?: string | null
  requestBody?: unknown
  before?: Import | null
}

export type UpstreamOutcome = {
  status: number
  upstreamRequestId: string | null
  after: Import | null
  error?: string | null
}

function startRow(start: AuditStart, now: number): NewAuditEvent {
  return {
    id: ulid(now),
    ...start,
    before: start.before ?? null,
    requestBody: start.requestBody ?? null,
    outcome: 'pending',
    startedAt: now,
  }
}

const AUDIT_COLUMNS = columnNames(auditEvents)

/** A round's write-ahead rows in one statement (see db/json-rows.ts). A repeated round (see GroupCommit) inserts nothing twice. */
const INSERT_PENDING_SQL = `INSERT INTO audit_events (${AUDIT_COLUMNS.map((name) => `"${name}"`).join(', ')})
  SELECT ${AUDIT_COLUMNS.map((name) => field('r', name)).join(', ')} FROM json_each(?) AS r WHERE true ON CONFLICT DO NOTHING`

/**
 * Write-ahead rows of concurrent requests go to D1 together, one statement in a shared round (see
 * db/batch-rounds.ts) instead of an insert each. Each row is still committed before its own
 * request forwards anything.
 */
const writeAheadPart: BatchPart<AuditEventRow, void> = (db, rows) => ({
  statements: [
    db.$client.prepare(INSERT_PENDING_SQL).bind(JSON.stringify(rows.map((row) => encodeColumns(auditEvents, row)))),
  ],
  read: () => rows.map(() => undefined),
})

/**
 * Commits the write-ahead row (`pending`, with the before snapshot) and returns it as stored.
 * Throws 503 AUDIT_UNAVAILABLE when D1 refuses: the caller must then forward nothing.
 */
export async function writeAhead(db: Db, start: AuditStart): Promise<AuditEventRow> {
  const row = completeRow(startRow(start, Date.now()))
  try {
    await inRound(db, writeAheadPart, row)
  } catch {
    throw new ApiError('AUDIT_UNAVAILABLE', 'the audit log could not be written, so nothing was sent to Exa; try again')
  }
  return row
}

/** The settled fields for an upstream answer: 2xx succeeded, anything else failed. */
export function settledFields(before: Import | null, outcome: UpstreamOutcome, now = Date.now()) {
  const succeeded = outcome.status >= 200 && outcome.status < 300
  return {
    outcome: succeeded ? ('succeeded' as const) : ('failed' as const),
    after: outcome.after,
    changes: succeeded ? diffImports(before, outcome.after) : [],
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
      { ...origin, action: event.action, subjectKeyId: event.subjectKeyId, requestBody: event.requestBody },
      now
    ),
    before: event.before ?? null,
    after: event.after ?? null,
    outcome: 'succeeded',
    finishedAt: now,
  }
  await insertSealed(db, row, statements)
}
