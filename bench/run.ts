/**
 * `npm run bench`: what the gateway costs on top of the upstream calls it must make.
 * Side by side, at each concurrency: (a) one PATCH straight to the simulator, (b) the floor
 * worker (GET then PATCH, nothing else), (c) the gateway's audited PATCH (real key, validation,
 * D1 rows). Prints p50/p99/rps and the ratios c/b against the targets, the bundle's gzip size,
 * the load check (200 updates, 20 in flight, every row exact) and the audit-scale table
 * (bench/audit-scale.ts). Results go to bench/results/<timestamp>.json.
 *
 * Every measurement is repeated (BENCH_REPEATS rounds of a, b, c at each concurrency): the table
 * shows medians, and each ratio is the median of the ratios of runs made side by side (one round),
 * with their range, so that the drift of a shared machine does not decide a target.
 *
 * Env: BENCH_LATENCY_MS (simulator latency, default 20), BENCH_SECONDS (per measured run,
 * default 8), BENCH_CONCURRENCY (default 1,10,50), BENCH_REPEATS (default 3), BENCH_SKIP_AUDIT=1
 * (skip the scale part), BENCH_SIZES / BENCH_RUNS (passed on to the scale part).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runLoadCheck } from './load-check'
import { measureLoad, type LoadResult, type Target } from './load'
import { startRig } from './workers'

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number)
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3))
const IMPORTS = 100
const BUNDLE_TARGET_BYTES = 48 * 1024
const P50_TARGET = { connections: 10, ratio: 1.1 }
const RPS_TARGET = { connections: 50, ratio: 0.8 }

const fmt = (n: number, digits = 1) => n.toFixed(digits)

type Runs = Record<string, Record<number, LoadResult[]>>

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A target's runs at one concurrency as one result: the median of each figure. */
function medianResult(runs: LoadResult[]): LoadResult {
  const of = (pick: (r: LoadResult) => number) => median(runs.map(pick))
  const cpu = runs.map((r) => r.cpuMsPerRequest)
  return {
    p50: of((r) => r.p50),
    p99: of((r) => r.p99),
    rps: of((r) => r.rps),
    requests: of((r) => r.requests),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    cpuMsPerRequest: cpu.includes(null) ? null : median(cpu as number[]),
  }
}

/** gateway / floor of one figure, per round (runs made side by side), as median and range. */
function pairedRatio(runs: Runs, c: number, pick: (r: LoadResult) => number) {
  const ratios = runs.gateway![c]!.map((g, i) => pick(g) / pick(runs.floor![c]![i]!))
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

const ratioCell = (r: { median: number; min: number; max: number }) =>
  REPEATS > 1 ? `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})` : fmt(r.median, 2)

function loadTable(runs: Runs) {
  console.log(
    `\nAudited PATCH at ${LATENCY_MS} ms upstream latency, ${SECONDS} s per run, median of ${REPEATS} (ms, requests/s)`
  )
  console.log(
    '| c | (a) simulator p50 / p99 / rps | (b) floor p50 / p99 / rps | (c) gateway p50 / p99 / rps | c/b p50 | c/b rps | workerd CPU ms/req b / c |'
  )
  console.log('|---:|---:|---:|---:|---:|---:|---:|')
  for (const c of CONCURRENCY) {
    const [a, b, g] = (['simulator', 'floor', 'gateway'] as const).map((name) => medianResult(runs[name]![c]!)) as [
      LoadResult,
      LoadResult,
      LoadResult,
    ]
    const cell = (r: LoadResult) =>
      `${r.p50} / ${r.p99} / ${fmt(r.rps, 0)}${r.errors + r.non2xx ? ` (${r.errors + r.non2xx} failed)` : ''}`
    const cpu =
      b.cpuMsPerRequest === null || g.cpuMsPerRequest === null
        ? 'n/a'
        : `${fmt(b.cpuMsPerRequest, 2)} / ${fmt(g.cpuMsPerRequest, 2)}`
    const p50 = ratioCell(pairedRatio(runs, c, (r) => r.p50))
    const rps = ratioCell(pairedRatio(runs, c, (r) => r.rps))
    console.log(`| ${c} | ${cell(a)} | ${cell(b)} | ${cell(g)} | ${p50} | ${rps} | ${cpu} |`)
  }
}

function targets(runs: Runs, gzipBytes: number) {
  const checks: { name: string; value: number; range?: [number, number]; target: string; met: boolean }[] = []
  if (runs.gateway![P50_TARGET.connections]) {
    const ratio = pairedRatio(runs, P50_TARGET.connections, (r) => r.p50)
    checks.push({
      name: `gateway p50 / floor p50 at c=${P50_TARGET.connections}`,
      value: ratio.median,
      range: [ratio.min, ratio.max],
      target: `≤ ${P50_TARGET.ratio}`,
      met: ratio.median <= P50_TARGET.ratio,
    })
  }
  if (runs.gateway![RPS_TARGET.connections]) {
    const ratio = pairedRatio(runs, RPS_TARGET.connections, (r) => r.rps)
    checks.push({
      name: `gateway rps / floor rps at c=${RPS_TARGET.connections}`,
      value: ratio.median,
      range: [ratio.min, ratio.max],
      target: `≥ ${RPS_TARGET.ratio}`,
      met: ratio.median >= RPS_TARGET.ratio,
    })
  }
  checks.push({
    name: 'bundle gzip KiB',
    value: gzipBytes / 1024,
    target: '≤ 48',
    met: gzipBytes <= BUNDLE_TARGET_BYTES,
  })
  console.log('\nTargets')
  for (const check of checks) {
    const range = check.range && REPEATS > 1 ? `, runs ${fmt(check.range[0], 2)}–${fmt(check.range[1], 2)}` : ''
    console.log(
      `  ${check.met ? 'met    ' : 'MISSED '} ${check.name}: ${fmt(check.value, 2)} (target ${check.target}${range})`
    )
  }
  return checks
}

/** The audit-scale bench as its own process (it prints its own table), results read back as JSON. */
function auditScale(): unknown {
  if (process.env.BENCH_SKIP_AUDIT === '1') return null
  const json = join(tmpdir(), `audit-scale-${process.pid}.json`)
  console.log('\nAudit queries at scale (bench/audit-scale.ts)…')
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/audit-scale.ts'], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_JSON: json },
  })
  if (run.status !== 0) return { error: `audit-scale exited with ${run.status}` }
  const table = JSON.parse(readFileSync(json, 'utf8')) as unknown
  rmSync(json, { force: true })
  return table
}

async function main() {
  const started = Date.now()
  const rig = await startRig(LATENCY_MS, IMPORTS)
  const stop = () => void rig.stop().finally(() => process.exit(1))
  process.once('SIGINT', stop).once('SIGTERM', stop)
  let summary: Record<string, unknown>
  try {
    console.log(
      `bundle: ${fmt(rig.build.gzipBytes / 1024, 1)} KiB gzip (${fmt(rig.build.rawBytes / 1024, 0)} KiB minified)`
    )
    const targetsToLoad: Target[] = [
      { name: 'simulator', url: rig.sim.url, headers: { 'x-api-key': 'exa_bench_upstream_key' } },
      { name: 'floor', url: rig.floor.url, headers: {} },
      { name: 'gateway', url: rig.gateway.url, headers: { 'x-api-key': rig.key } },
    ]
    const runs: Runs = {}
    for (let round = 1; round <= REPEATS; round++) {
      for (const c of CONCURRENCY) {
        for (const target of targetsToLoad) {
          const result = await measureLoad(target, { connections: c, seconds: SECONDS, imports: IMPORTS })
          ;((runs[target.name] ??= {})[c] ??= []).push(result)
          rig.sim.simulator.requests.length = 0 // the simulator records every request; keep memory flat
          const cpu = result.cpuMsPerRequest === null ? '' : `  workerd CPU ${fmt(result.cpuMsPerRequest, 2)} ms/req`
          console.log(
            `  ${round}/${REPEATS} ${target.name.padEnd(9)} c=${String(c).padEnd(3)} p50 ${result.p50} ms  p99 ${result.p99} ms  ${fmt(result.rps, 0)} req/s${cpu}`
          )
        }
      }
    }
    loadTable(runs)
    const checks = targets(runs, rig.build.gzipBytes)
    console.log('\nLoad check: 200 audited updates, 20 in flight…')
    const loadCheck = await runLoadCheck(rig)
    console.log(
      `  ${loadCheck.ok ? 'passed' : 'FAILED'}: ${loadCheck.answered200} answered 200, ${loadCheck.rows} rows, ${loadCheck.succeeded} succeeded, ${loadCheck.pending} pending, ${loadCheck.consistent} consistent, ${loadCheck.upstreamPatches} PATCHes at Exa, chain ${loadCheck.chainVerified ? 'verified' : 'BROKEN'} (settled ${loadCheck.settleMs} ms after the last answer)`
    )
    for (const problem of loadCheck.problems) console.log(`    ${problem}`)
    const results = Object.fromEntries(
      Object.entries(runs).map(([name, byC]) => [
        name,
        Object.fromEntries(Object.entries(byC).map(([c, list]) => [c, medianResult(list)])),
      ])
    )
    summary = {
      latencyMs: LATENCY_MS,
      seconds: SECONDS,
      repeats: REPEATS,
      bundle: rig.build,
      results,
      runs,
      checks,
      loadCheck,
    }
  } finally {
    await rig.stop()
  }
  summary.auditScale = auditScale()
  mkdirSync('bench/results', { recursive: true })
  const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`
  writeFileSync(
    file,
    JSON.stringify({ ...summary, commit: gitCommit(), totalSeconds: (Date.now() - started) / 1000 }, null, 2)
  )
  console.log(`\nResults: ${file} (${fmt((Date.now() - started) / 1000, 0)} s in all)`)
}

function gitCommit(): string | null {
  const run = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  return run.status === 0 ? run.stdout.trim() : null
}

await main()
