import type { AuditEventRow } from '../db/schema'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** An audit row as the API shows it: camelCase, JSON columns as objects, times in ISO 8601. */
export function toEventView(row: AuditEventRow) {
  return {
    id: row.id,
    action: row.action,
    importId: row.importId,
    outcome: row.outcome,
    keyId: row.keyId,
    actor: row.actor,
    subjectKeyId: row.subjectKeyId,
    revertsEventId: row.revertsEventId,
    origin: row.origin,
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    upstreamRequestId: row.upstreamRequestId,
    idempotencyKey: row.idempotencyKey,
    requestBody: row.requestBody,
    before: row.before,
    after: row.after,
    changes: row.changes ?? [],
    upstreamStatus: row.upstreamStatus,
    error: row.error,
    reconciled: row.reconciled,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  }
}

export type EventView = ReturnType<typeof toEventView>
