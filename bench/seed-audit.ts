/**
 * SQL that fills `audit_events` (and `audit_changed_fields`) with synthetic but realistic rows,
 * fast: one INSERT … SELECT over a recursive CTE per batch, no round trip per row. Used by the
 * scale benchmark (bench/audit-scale.ts) and by tests that need more rows than a page.
 *
 * Row `i` gets a ULID-shaped id (time `startMs + i * stepMs`, then `i` as the random part, so ids
 * are unique and sorted by i), and filter values spread as a busy gateway's would be:
 * - import_id: `<prefix><i % imports>`; key_id/actor: one of 20 keys;
 * - action: import.update, every 100th an import.revert, every 500th a key.update (no import);
 * - outcome: every 50th failed (no changes), every 1000th pending; the rest succeeded;
 * - changes: title on even i, metadata.owner on multiples of 3 (so some rows change both).
 * The rows are not sealed (no audit_chain links): /audit/verify would report them as inserted.
 */
export type SeedOptions = {
  from: number
  /** Exclusive. */
  to: number
  startMs: number
  stepMs: number
  imports?: number
  importPrefix?: string
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/** The 10-character ULID time part of the integer SQL expression `ms`. */
const ulidTime = (ms: string) =>
  Array.from({ length: 10 }, (_, k) => `substr('${CROCKFORD}', ((${ms} >> ${5 * (9 - k)}) & 31) + 1, 1)`).join(' || ')

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`

/** The events of rows `from`..`to` (exclusive), then their changed-field index rows. */
export function seedAuditStatements(options: SeedOptions): string[] {
  const { from, to, startMs, stepMs, imports = 1000, importPrefix = 'import_' } = options
  const t = `(${startMs} + i * ${stepMs})`
  const snapshot = (title: string, owner: string) =>
    `json_object('id', ${literal(importPrefix)} || (i % ${imports}), 'object', 'import', 'status', 'completed', 'format', 'csv',
      'entity', json_object('type', 'company'), 'title', ${title}, 'count', 100 + i % 7, 'metadata', json_object('owner', ${owner}),
      'failedReason', NULL, 'failedAt', NULL, 'failedMessage', NULL, 'createdAt', '2026-01-01T00:00:00.000Z', 'updatedAt', '2026-01-02T00:00:00.000Z')`
  const settledUpdate = `CASE WHEN i % 500 = 0 OR i % 1000 = 3 OR i % 50 = 7 THEN NULL ELSE 1 END`
  const changes = `CASE WHEN ${settledUpdate} IS NULL THEN json_array() ELSE (SELECT json_group_array(json(c)) FROM (
      SELECT json_object('path', 'title', 'from', 'old ' || i, 'to', 'new ' || i) AS c WHERE i % 2 = 0
      UNION ALL SELECT json_object('path', 'metadata.owner', 'from', 'ana', 'to', 'bo') WHERE i % 3 = 0)) END`
  const events = `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to - 1})
    INSERT INTO audit_events (id, action, import_id, outcome, key_id, actor, request_id, request_body, before, after, changes,
      upstream_status, reconciled, started_at, finished_at)
    SELECT ${ulidTime(t)} || printf('%016d', i),
      CASE WHEN i % 500 = 0 THEN 'key.update' WHEN i % 100 = 0 THEN 'import.revert' ELSE 'import.update' END,
      CASE WHEN i % 500 = 0 THEN NULL ELSE ${literal(importPrefix)} || (i % ${imports}) END,
      CASE WHEN i % 1000 = 3 THEN 'pending' WHEN i % 50 = 7 THEN 'failed' ELSE 'succeeded' END,
      'key_' || (i % 20), 'actor-' || (i % 20), 'req_' || i,
      json_object('title', 'new ' || i),
      ${snapshot("'old ' || i", "'ana'")},
      CASE WHEN i % 1000 = 3 THEN NULL ELSE ${snapshot("'new ' || i", "'bo'")} END,
      ${changes},
      CASE WHEN i % 1000 = 3 THEN NULL WHEN i % 50 = 7 THEN 400 ELSE 200 END,
      0, ${t}, CASE WHEN i % 1000 = 3 THEN NULL ELSE ${t} + 40 END
    FROM n`
  const idOf = (i: number) => `(${ulidTime(`(${startMs} + ${i} * ${stepMs})`)} || printf('%016d', ${i}))`
  const range = `e.id >= ${idOf(from)} AND e.id <= ${idOf(to - 1)}`
  const fields = `INSERT OR IGNORE INTO audit_changed_fields (field, event_id)
    SELECT json_extract(c.value, '$.path'), e.id FROM audit_events e, json_each(e.changes) c WHERE ${range}
    UNION ALL SELECT 'metadata', e.id FROM audit_events e, json_each(e.changes) c
      WHERE ${range} AND json_extract(c.value, '$.path') LIKE 'metadata.%'`
  return [events, fields]
}
