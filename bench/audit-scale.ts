/**
 * `npm run bench:audit`: how the audit log queries behave as the log grows. Fills a local D1
 * (Miniflare, persisted to a temp dir, migrations applied) to 10k, 100k and 1M rows, and at each
 * size times every filter of GET /audit/events through the real query code (src/audit/query.ts)
 * plus a walk over consecutive pages. Prints a table with the p50s and the 1M/10k ratio per
 * filter (target ≤ 1.5: an indexed page costs the same at any size), and the query plans.
 *
 * The same for usage (issue 16): usage_events filled to the same sizes, and GET /usage's totals
 * (src/audit/usage.ts, read from the per-day totals) and the first export page timed at each size.
 *
 * Env: BENCH_SIZES (default 10000,100000,1000000), BENCH_RUNS (timed runs per query, default 25),
 * BENCH_JSON (write the results there as JSON).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Miniflare } from 'miniflare'
import { createDb, type Db } from '../src/db/client'
import type { EventQuery } from '../src/audit/filters'
import { eventSelects, queryEvents } from '../src/audit/query'
import { seedAuditStatements } from './seed-audit'
import { exportStream } from '../src/audit/export'
import { keyPeriodUsage, usageRows, usageTotals, type GroupBy, type UsageFilters } from '../src/audit/usage'
import { seedUsageStatements } from './seed-usage'

/** GET /usage's queries: one day (the same number of groups at every size), a key's month, the export's first page. */
const USAGE_SCENARIOS: { name: string; run: (db: Db) => Promise<unknown> }[] = [
  ...(
    [
      ['usage: total, one day', [], {}],
      ['usage: by key, one day', ['key'], {}],
      ['usage: by key,endpoint,day, one day', ['key', 'endpoint', 'day'], {}],
      ['usage: one key by endpoint, one day', ['endpoint'], { keyId: 'key_3' }],
    ] as [string, GroupBy[], Partial<UsageFilters>][]
  ).map(([name, groupBy, extra]) => ({
    name,
    run: (db: Db) => usageTotals(db, { since: '2026-01-01', until: '2026-01-01', ...extra }, groupBy),
  })),
  { name: "usage: a key's day and month", run: (db: Db) => keyPeriodUsage(db, 'key_3', Date.UTC(2026, 0, 1, 12)) },
  {
    name: 'usage: export, first page',
    run: async (db: Db) => {
      const rows = usageRows(db, { since: '2026-01-01', until: '2026-01-31' })
      const reader = (await exportStream(rows, { format: 'ndjson', raw: false }, 'bench')).getReader()
      await reader.read()
      await reader.cancel()
    },
  },
]

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_RUNS ?? 25)
const SEED_CHUNK = 100_000
const DAY = 86_400_000
const START_MS = Date.UTC(2026, 0, 1)
/** Rows are spread over 30 days at the largest size; smaller sizes are its oldest prefix. */
const STEP_MS = Math.max(1, Math.floor((30 * DAY) / Math.max(...SIZES)))
const iso = (ms: number) => new Date(ms).toISOString()

type Scenario = { name: string; filters: (size: number) => EventQuery['filters'] }

/** Each filter alone, then combinations; values that match at every size. */
const SCENARIOS: Scenario[] = [
  { name: '(none)', filters: () => ({}) },
  { name: 'importId', filters: () => ({ importId: 'import_7' }) },
  { name: 'keyId', filters: () => ({ keyId: 'key_3' }) },
  { name: 'actor', filters: () => ({ actor: 'actor-5' }) },
  { name: 'action', filters: () => ({ action: 'import.revert' }) },
  { name: 'action=key.*', filters: () => ({ action: 'key.*' }) },
  { name: 'outcome=failed', filters: () => ({ outcome: 'failed' }) },
  { name: 'outcome=pending', filters: () => ({ outcome: 'pending' }) },
  { name: 'field=title', filters: () => ({ field: 'title' }) },
  { name: 'field=metadata.owner', filters: () => ({ field: 'metadata.owner' }) },
  { name: 'since (last day)', filters: (size) => ({ since: iso(START_MS + (size - 1) * STEP_MS - DAY) }) },
  { name: 'until (first day)', filters: () => ({ until: iso(START_MS + DAY) }) },
  { name: 'importId+field', filters: () => ({ importId: 'import_8', field: 'title' }) },
  { name: 'actor+action', filters: () => ({ actor: 'actor-4', action: 'import.update' }) },
  { name: 'field+outcome', filters: () => ({ field: 'metadata.owner', outcome: 'succeeded' }) },
  {
    name: 'keyId+since+until',
    filters: (size) => ({ keyId: 'key_6', since: iso(START_MS), until: iso(START_MS + (size - 1) * STEP_MS) }),
  },
]
const WALK_PAGES = 20
const WALK_LIMIT = 50

const p50 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!

async function time(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 3; i++) await run() // warm-up
  const samples: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now()
    await run()
    samples.push(performance.now() - start)
  }
  return p50(samples)
}

type Measure = { ms: number; rowsRead: number }

/** Rows SQLite read for one page (D1's meta.rows_read): the size-independent cost, without noise. */
async function rowsRead(d1: D1Database, db: Db, query: EventQuery): Promise<number> {
  let total = 0
  for (const select of eventSelects(db, query, query.limit + 1)) {
    const { sql, params } = select.toSQL()
    total += Number(
      (
        await d1
          .prepare(sql)
          .bind(...params)
          .all()
      ).meta.rows_read
    )
  }
  return total
}

/** p50 of one page through queryEvents, and of each page of a walk following the cursor. */
async function measure(d1: D1Database, db: Db, size: number): Promise<Record<string, Measure>> {
  const results: Record<string, Measure> = {}
  results['(round trip: SELECT 1)'] = { ms: await time(() => d1.prepare('SELECT 1').all()), rowsRead: 0 }
  for (const scenario of SCENARIOS) {
    const query: EventQuery = { filters: scenario.filters(size), limit: 25 }
    results[scenario.name] = { ms: await time(() => queryEvents(db, query)), rowsRead: await rowsRead(d1, db, query) }
  }
  for (const filters of [{}, { actor: 'actor-5' }] as EventQuery['filters'][]) {
    const perPage: number[] = []
    let read = 0
    for (let round = 0; round < Math.max(3, Math.floor(RUNS / 5)); round++) {
      let beforeId: string | undefined
      for (let page = 0; page < WALK_PAGES; page++) {
        const query = { filters, limit: WALK_LIMIT, beforeId }
        const start = performance.now()
        const { rows } = await queryEvents(db, query)
        perPage.push(performance.now() - start)
        if (round === 0) read = Math.max(read, await rowsRead(d1, db, query))
        beforeId = rows[rows.length - 1]?.id
      }
    }
    results[`page walk ${JSON.stringify(filters)}`] = { ms: p50(perPage), rowsRead: read }
  }
  for (const scenario of USAGE_SCENARIOS)
    results[scenario.name] = { ms: await time(() => scenario.run(db)), rowsRead: -1 }
  return results
}

async function plans(d1: D1Database, db: Db, size: number) {
  const lines: string[] = []
  for (const scenario of SCENARIOS) {
    for (const select of eventSelects(db, { filters: scenario.filters(size), limit: 25 })) {
      const { sql, params } = select.toSQL()
      const { results } = await d1
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .bind(...params)
        .all<{ detail: string }>()
      lines.push(`${scenario.name.padEnd(22)} ${results.map((r) => r.detail).join(' | ')}`)
    }
  }
  return lines
}

async function applyMigrations(d1: D1Database) {
  for (const file of readdirSync('migrations')
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const statements = readFileSync(join('migrations', file), 'utf8').split('--> statement-breakpoint')
    for (const statement of statements.map((s) => s.trim()).filter(Boolean)) await d1.prepare(statement).run()
  }
}

let stopping = false

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'audit-bench-'))
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch: () => new Response("bench") }',
    compatibilityDate: '2026-04-20',
    host: '127.0.0.1',
    port: 0,
    d1Databases: { DB: 'audit-bench' },
    d1Persist: dir,
  })
  // Interrupted (Ctrl-C, a closed pipe): still stop workerd and remove the temp database.
  const stop = () => {
    stopping = true
    void mf.dispose().finally(() => {
      rmSync(dir, { recursive: true, force: true })
      process.exit(1)
    })
  }
  process.once('SIGINT', stop).once('SIGTERM', stop)
  process.stdout.once('error', stop)
  try {
    const d1 = (await mf.getD1Database('DB')) as unknown as D1Database
    const db = createDb(d1)
    await applyMigrations(d1)
    await measure(d1, db, 1) // warms Node's JIT and the proxy, so the first size is not penalized
    const table: Record<number, Record<string, Measure>> = {}
    let seeded = 0
    for (const size of SIZES.sort((a, b) => a - b)) {
      const seedStart = performance.now()
      for (let from = seeded; from < size; from += SEED_CHUNK) {
        const to = Math.min(size, from + SEED_CHUNK)
        for (const statement of [
          ...seedAuditStatements({ from, to, startMs: START_MS, stepMs: STEP_MS }),
          ...seedUsageStatements({ from, to, startMs: START_MS, stepMs: STEP_MS }),
        ])
          await d1.prepare(statement).run()
      }
      seeded = size
      console.log(
        `seeded ${size.toLocaleString('en')} rows in ${((performance.now() - seedStart) / 1000).toFixed(1)} s; timing…`
      )
      table[size] = await measure(d1, db, size)
    }
    report(table)
    console.log(`\nQuery plans at ${Math.max(...SIZES).toLocaleString('en')} rows:`)
    for (const line of await plans(d1, db, Math.max(...SIZES))) console.log('  ' + line)
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ runs: RUNS, table }, null, 2))
  } finally {
    await mf.dispose()
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(table: Record<number, Record<string, Measure>>) {
  const sizes = Object.keys(table).map(Number)
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)]
  const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`)
  const ratio = `${label(large)}/${label(small)}`
  console.log(
    `\np50 ms per page (limit 25; walks: ${WALK_LIMIT} rows a page), ${RUNS} runs, Node -> Miniflare D1 round trip included;`
  )
  console.log('rows = rows SQLite read for that page (D1 meta.rows_read), the part that would grow with a scan')
  console.log(
    `| filter | ${sizes.map((s) => label(s) + ' p50 ms').join(' | ')} | ${ratio} | ${sizes.map((s) => label(s) + ' rows').join(' | ')} |`
  )
  console.log(`|---|${sizes.map(() => '---:').join('|')}|---:|${sizes.map(() => '---:').join('|')}|`)
  for (const name of Object.keys(table[small]!)) {
    const r = table[large]![name]!.ms / table[small]![name]!.ms
    const ms = sizes.map((s) => table[s]![name]!.ms.toFixed(2)).join(' | ')
    const rows = sizes.map((s) => (table[s]![name]!.rowsRead < 0 ? '–' : table[s]![name]!.rowsRead)).join(' | ')
    console.log(`| ${name} | ${ms} | ${r.toFixed(2)}${r > 1.5 ? ' ⚠' : ''} | ${rows} |`)
  }
}

await main().catch((err) => {
  if (!stopping) throw err // after an interruption, the failing in-flight query is expected
})
