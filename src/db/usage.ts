import type { BatchPart } from './batch-rounds'
import type { UsageEventRow } from './schema'

const COLUMNS = [
  'id',
  'key_id',
  'actor',
  'family',
  'route',
  'status',
  'request_id',
  'upstream_request_id',
  'cost_micros',
  'duration_ms',
  'at',
] as const

const INSERT = `INSERT INTO usage_events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`

const values = (row: UsageEventRow) => [
  row.id,
  row.keyId,
  row.actor,
  row.family,
  row.route,
  row.status,
  row.requestId,
  row.upstreamRequestId,
  row.costMicros,
  row.durationMs,
  row.at,
]

/**
 * Usage rows, for a background round (db/batch-rounds.ts): one INSERT each. A row already written
 * is left as it is (ON CONFLICT DO NOTHING), and the trigger that keeps `usage_daily` fires only for
 * rows inserted, so a write retried after an answer that was lost counts each call once.
 */
export const usagePart: BatchPart<UsageEventRow[], void> = (db, items) => {
  const statement = db.$client.prepare(INSERT)
  return {
    statements: items.flat().map((row) => statement.bind(...values(row))),
    read: () => items.map(() => undefined),
  }
}
