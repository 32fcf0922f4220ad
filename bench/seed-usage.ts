/**
 * SQL that fills `usage_events` with synthetic rows, one INSERT … SELECT over a recursive CTE per
 * batch (the trigger `usage_events_daily` keeps `usage_daily` as the gateway's own inserts do).
 * Row `i`: a ULID-shaped id (time `startMs + i * stepMs`, then `i`), one of 20 keys, one of four
 * routes (search, contents, answer priced at $0.007, $0.001, $0.005; the imports read free).
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

const ulidTime = (ms: string) =>
  Array.from({ length: 10 }, (_, k) => `substr('${CROCKFORD}', ((${ms} >> ${5 * (9 - k)}) & 31) + 1, 1)`).join(' || ')

export function seedUsageStatements(options: { from: number; to: number; startMs: number; stepMs: number }): string[] {
  const { from, to, startMs, stepMs } = options
  const t = `(${startMs} + i * ${stepMs})`
  return [
    `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to - 1})
    INSERT INTO usage_events (id, key_id, actor, family, route, status, request_id, upstream_request_id, cost_micros, duration_ms, at)
    SELECT ${ulidTime(t)} || printf('%016d', i), 'key_' || (i % 20), 'actor-' || (i % 20),
      CASE i % 4 WHEN 0 THEN 'search' WHEN 1 THEN 'contents' WHEN 2 THEN 'answer' ELSE 'imports' END,
      CASE i % 4 WHEN 0 THEN 'POST /search' WHEN 1 THEN 'POST /contents' WHEN 2 THEN 'POST /answer' ELSE 'GET /websets/v0/imports/:id' END,
      200, 'req_' || i, 'up_' || i,
      CASE i % 4 WHEN 0 THEN 7000 WHEN 1 THEN 1000 WHEN 2 THEN 5000 ELSE NULL END, 40, ${t}
    FROM n`,
  ]
}
