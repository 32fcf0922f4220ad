/**
 * `npm run bench`: what the gateway costs on top of the calls it must make. Four parts:
 *
 * 1. Deployed-like topology (bench/deployed.ts): the gateway and its floors in one workerd, with a
 *    round trip before every call to Exa, D1 and the Durable Object (a delay profile). Read, list
 *    and audited update against their floors at each concurrency, in rounds of side-by-side runs;
 *    then the gateway's isolate CPU per request (V8 profiler, runs of their own) and the load
 *    check (below) through the delays. The profile BENCH_PROFILE names gets the full table; by
 *    default that is `typical`, and the other profiles get one line each (c=10).
 * 2. `wrangler check startup` and the bundle (minified, gzip).
 * 3. Local, no delays (bench/workers.ts): the audited PATCH against the GET+PATCH floor, with the
 *    workerd CPU per request: a CPU regression guard, no target. Then the load check (200 updates,
 *    20 in flight, every row exact).
 * 4. The audit-scale table (bench/audit-scale.ts).
 * Results go to bench/results/<timestamp>.json.
 *
 * Ratios are gateway / floor per round (runs made side by side), reported as the median of the
 * rounds and their range, so that the drift of a shared machine does not decide a comparison.
 *
 * Env: BENCH_PROFILE (near | typical | far: only that profile, in full), BENCH_SECONDS (per
 * deployed-like run, default 4), BENCH_REPEATS (rounds, default 3), BENCH_CONCURRENCY (default
 * 1,10,50), BENCH_LOCAL_SECONDS (default 4), BENCH_LOCAL_REPEATS (default 1), BENCH_LATENCY_MS
 * (local upstream latency, default 20), BENCH_SKIP_LOCAL=1, BENCH_SKIP_AUDIT=1, BENCH_SIZES /
 * BENCH_RUNS (passed on to the audit-scale part).
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAbortCheck, type AbortCheck } from './aborts'
import { describeProfile, PROFILES, startDeployedRig, type DelayProfile, type DeployedRig } from './deployed'
import { busyMs, inspectWorker, startProfiler } from './inspector'
import { runLoadCheck, type LoadCheck } from './load-check'
import { measureLoad, type LoadResult, type Shape, type Target } from './load'
import { checkStartup } from './startup'
import { buildWorker, startRig } from './workers'

const env = process.env
const SECONDS = Number(env.BENCH_SECONDS ?? 4)
const REPEATS = Math.max(1, Number(env.BENCH_REPEATS ?? 3))
const CONCURRENCY = (env.BENCH_CONCURRENCY ?? '1,10,50').split(',').map(Number)
const LOCAL_SECONDS = Number(env.BENCH_LOCAL_SECONDS ?? 4)
const LOCAL_REPEATS = Math.max(1, Number(env.BENCH_LOCAL_REPEATS ?? 1))
const LOCAL_LATENCY_MS = Number(env.BENCH_LATENCY_MS ?? 20)
/** The other profiles' one line: this concurrency, these rounds, this long. */
const LINE = { connections: 10, repeats: 2, seconds: 3 }
/** The isolate-CPU runs: one per request shape and concurrency, profiled at this interval. */
const CPU_RUN_SECONDS = 3
const SAMPLING_MICROS = 1000
const IMPORTS = 100
const SHAPES: Shape[] = ['read', 'list', 'update']
/** Not a target: a guard (.ci/run fails above it). The platform allows MiBs. */
const BUNDLE_GUARD_BYTES = 80 * 1024
/** Section 2's targets (issue 14), shown for reference: gateway / floor at c=1, 10 and 50. */
const TARGET = { p50: 1.05, p99: 1.2 }

const fmt = (n: number, digits = 1) => n.toFixed(digits)

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A target's runs as one result: the median of each figure. */
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

type Ratio = { median: number; min: number; max: number }

/** gateway / floor of one figure, per round (runs made side by side), as median and range. */
function pairedRatio(gateway: LoadResult[], floor: LoadResult[], pick: (r: LoadResult) => number): Ratio {
  const ratios = gateway.map((g, i) => pick(g) / pick(floor[i]!))
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

const ratioCell = (r: Ratio) =>
  r.min === r.max ? fmt(r.median, 2) : `${fmt(r.median, 2)} (${fmt(r.min, 2)}–${fmt(r.max, 2)})`
const failed = (r: LoadResult) => (r.errors + r.non2xx ? ` (${r.errors + r.non2xx} failed)` : '')
const cpuCell = (r: LoadResult) => (r.cpuMsPerRequest === null ? 'n/a' : fmt(r.cpuMsPerRequest, 2))

/** Runs of one profile: runs[shape][c] = { floor: [...], gateway: [...] }, one entry per round. */
type PairRuns = Record<string, Record<number, { floor: LoadResult[]; gateway: LoadResult[] }>>

function targetsOf(rig: DeployedRig, shape: Shape): { floor: Target; gateway: Target } {
  return {
    floor: { name: `${shape} floor`, url: rig.floorUrl, headers: {}, shape },
    gateway: { name: `${shape} gateway`, url: rig.gatewayUrl, headers: { 'x-api-key': rig.key }, shape },
  }
}

/** Rounds of side-by-side runs: in each round, at each concurrency, each shape's floor then its gateway. */
async function pairedRounds(rig: DeployedRig, concurrency: number[], repeats: number, seconds: number) {
  const runs: PairRuns = {}
  for (let round = 1; round <= repeats; round++)
    for (const c of concurrency)
      for (const shape of SHAPES) {
        const targets = targetsOf(rig, shape)
        const pair = ((runs[shape] ??= {})[c] ??= { floor: [], gateway: [] })
        for (const side of ['floor', 'gateway'] as const) {
          const result = await measureLoad(targets[side], { connections: c, seconds, imports: IMPORTS })
          pair[side].push(result)
          rig.sim.simulator.requests.length = 0 // the simulator records every request; keep memory flat
          console.log(
            `  ${rig.profile.name} ${round}/${repeats} ${targets[side].name.padEnd(14)} c=${String(c).padEnd(3)} p50 ${result.p50} ms  p99 ${result.p99} ms  ${fmt(result.rps, 0)} req/s${failed(result)}`
          )
        }
      }
  return runs
}

/** The gateway's isolate CPU per request, per shape and concurrency: profiled runs of their own. */
async function isolateCpu(rig: DeployedRig, concurrency: number[]) {
  const session = await inspectWorker(rig.inspectorPort!, 'gateway')
  const cpu: Record<string, Record<number, number>> = {}
  try {
    for (const c of concurrency)
      for (const shape of SHAPES) {
        let stop: (() => Promise<Parameters<typeof busyMs>[0]>) | undefined
        const result = await measureLoad(targetsOf(rig, shape).gateway, {
          connections: c,
          seconds: CPU_RUN_SECONDS,
          imports: IMPORTS,
          probe: {
            start: async () => void (stop = await startProfiler(session, SAMPLING_MICROS)),
            stop: async () => busyMs(await stop!(), SAMPLING_MICROS),
          },
        })
        rig.sim.simulator.requests.length = 0
        ;(cpu[shape] ??= {})[c] = result.isolateCpuMsPerRequest!
        console.log(
          `  ${rig.profile.name} gateway isolate CPU ${shape.padEnd(6)} c=${String(c).padEnd(3)} ${fmt(result.isolateCpuMsPerRequest!, 2)} ms/req`
        )
      }
  } finally {
    session.close()
  }
  return cpu
}

function profileTable(profile: DelayProfile, runs: PairRuns, cpu: Record<string, Record<number, number>>) {
  console.log(
    `\nDeployed-like, ${describeProfile(profile)}: ${SECONDS} s per run, median of ${REPEATS} rounds (ms, requests/s; CPU ms per request)`
  )
  console.log(
    '| request | c | floor p50 / p99 / rps | gateway p50 / p99 / rps | p50 ratio | p99 ratio | workerd CPU floor / gateway | gateway isolate CPU |'
  )
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  const summary: Record<string, Record<number, unknown>> = {}
  let met = 0
  let cells = 0
  for (const shape of SHAPES)
    for (const c of CONCURRENCY) {
      const { floor, gateway } = runs[shape]![c]!
      const [f, g] = [medianResult(floor), medianResult(gateway)]
      const p50 = pairedRatio(gateway, floor, (r) => r.p50)
      const p99 = pairedRatio(gateway, floor, (r) => r.p99)
      const isolate = cpu[shape]?.[c]
      met += (p50.median <= TARGET.p50 ? 1 : 0) + (p99.median <= TARGET.p99 ? 1 : 0)
      cells += 2
      const cell = (r: LoadResult) => `${r.p50} / ${r.p99} / ${fmt(r.rps, 0)}${failed(r)}`
      console.log(
        `| ${shape} | ${c} | ${cell(f)} | ${cell(g)} | ${ratioCell(p50)} | ${ratioCell(p99)} | ${cpuCell(f)} / ${cpuCell(g)} | ${isolate === undefined ? 'n/a' : fmt(isolate, 2)} |`
      )
      ;(summary[shape] ??= {})[c] = {
        floor: f,
        gateway: g,
        p50Ratio: p50,
        p99Ratio: p99,
        isolateCpuMsPerRequest: isolate,
      }
    }
  console.log(
    `Section 2's targets (p50 ratio ≤ ${TARGET.p50}, p99 ratio ≤ ${TARGET.p99} at every c): ${met} of ${cells} met.`
  )
  return summary
}

/** One line for a profile that is not the one in full: every shape at c=LINE.connections. */
function profileLine(profile: DelayProfile, runs: PairRuns) {
  const parts = SHAPES.map((shape) => {
    const { floor, gateway } = runs[shape]![LINE.connections]!
    const p50 = pairedRatio(gateway, floor, (r) => r.p50)
    const p99 = pairedRatio(gateway, floor, (r) => r.p99)
    const g = medianResult(gateway)
    return {
      shape,
      text: `${shape} ${fmt(p50.median, 2)} / ${fmt(p99.median, 2)} (gateway ${g.p50} / ${g.p99} ms${failed(g)})`,
      p50,
      p99,
    }
  })
  console.log(
    `${describeProfile(profile)}, c=${LINE.connections}, median of ${LINE.repeats}: p50 / p99 ratio: ${parts.map((p) => p.text).join(' · ')}`
  )
  return Object.fromEntries(parts.map(({ shape, p50, p99 }) => [shape, { p50Ratio: p50, p99Ratio: p99 }]))
}

async function deployedLike(scriptPath: string) {
  const chosen = env.BENCH_PROFILE
  const full = PROFILES.find((p) => p.name === (chosen ?? 'typical'))
  if (!full) throw new Error(`BENCH_PROFILE must be one of ${PROFILES.map((p) => p.name).join(', ')}`)
  const results: Record<string, unknown> = {}
  console.log(`\nDeployed-like topology: ${describeProfile(full)} in full…`)
  let rig = await startDeployedRig(scriptPath, full, IMPORTS, { inspect: true })
  let table: string[]
  try {
    const runs = await pairedRounds(rig, CONCURRENCY, REPEATS, SECONDS)
    const cpu = await isolateCpu(rig, CONCURRENCY)
    console.log(`  ${full.name} load check: 200 audited updates, 20 in flight…`)
    const check = await runLoadCheck({ gateway: { url: rig.gatewayUrl }, key: rig.key, sim: rig.sim })
    console.log(`  ${full.name} clients that disconnect: updates at c=10, every fifth abandoned after 30 ms…`)
    const aborts = await runAbortCheck(rig, SECONDS, Math.min(REPEATS, 2), IMPORTS)
    table = captureConsole(() => {
      results[full.name] = profileTable(full, runs, cpu)
      console.log(loadCheckLine(check))
      console.log(abortCheckLine(aborts))
    })
    results[`${full.name}Runs`] = runs
    results[`${full.name}LoadCheck`] = check
    results[`${full.name}Aborts`] = aborts
  } finally {
    await rig.stop()
  }
  const lines: string[] = []
  if (chosen === undefined)
    for (const profile of PROFILES.filter((p) => p !== full)) {
      console.log(`\nDeployed-like topology: ${describeProfile(profile)}, one line…`)
      rig = await startDeployedRig(scriptPath, profile, IMPORTS)
      try {
        const runs = await pairedRounds(rig, [LINE.connections], LINE.repeats, LINE.seconds)
        lines.push(...captureConsole(() => (results[profile.name] = profileLine(profile, runs))))
      } finally {
        await rig.stop()
      }
    }
  const ok = (results[`${full.name}LoadCheck`] as LoadCheck).ok && (results[`${full.name}Aborts`] as AbortCheck).ok
  return { results, table, lines, ok }
}

/** Runs `print`, echoing and keeping what it logs (the tables are printed again at the end). */
function captureConsole(print: () => unknown): string[] {
  const lines: string[] = []
  const log = console.log
  console.log = (...args: unknown[]) => {
    lines.push(args.join(' '))
    log(...args)
  }
  try {
    print()
  } finally {
    console.log = log
  }
  return lines
}

/** The local run: no delays, the audited PATCH against the GET+PATCH floor, workerd CPU per request. */
async function local() {
  const rig = await startRig(LOCAL_LATENCY_MS, IMPORTS)
  try {
    const targets: Target[] = [
      { name: 'floor', url: rig.floor.url, headers: {} },
      { name: 'gateway', url: rig.gateway.url, headers: { 'x-api-key': rig.key } },
    ]
    const runs: Record<string, Record<number, LoadResult[]>> = {}
    console.log(`\nLocal, no delays (upstream ${LOCAL_LATENCY_MS} ms): the CPU guard…`)
    for (let round = 1; round <= LOCAL_REPEATS; round++)
      for (const c of CONCURRENCY)
        for (const target of targets) {
          const result = await measureLoad(target, { connections: c, seconds: LOCAL_SECONDS, imports: IMPORTS })
          ;((runs[target.name] ??= {})[c] ??= []).push(result)
          rig.sim.simulator.requests.length = 0
          console.log(
            `  local ${round}/${LOCAL_REPEATS} ${target.name.padEnd(8)} c=${String(c).padEnd(3)} p50 ${result.p50} ms  p99 ${result.p99} ms  ${fmt(result.rps, 0)} req/s  workerd CPU ${cpuCell(result)} ms/req`
          )
        }
    const table = captureConsole(() => {
      console.log(
        `\nLocal, no delays: audited PATCH at ${LOCAL_LATENCY_MS} ms upstream, ${LOCAL_SECONDS} s per run, median of ${LOCAL_REPEATS} (CPU guard, no target)`
      )
      console.log(
        '| c | floor p50 / p99 / rps | gateway p50 / p99 / rps | p50 ratio | rps ratio | workerd CPU ms/req floor / gateway |'
      )
      console.log('|---:|---:|---:|---:|---:|---:|')
      for (const c of CONCURRENCY) {
        const [f, g] = [medianResult(runs.floor![c]!), medianResult(runs.gateway![c]!)]
        const p50 = pairedRatio(runs.gateway![c]!, runs.floor![c]!, (r) => r.p50)
        const rps = pairedRatio(runs.gateway![c]!, runs.floor![c]!, (r) => r.rps)
        const cell = (r: LoadResult) => `${r.p50} / ${r.p99} / ${fmt(r.rps, 0)}${failed(r)}`
        console.log(
          `| ${c} | ${cell(f)} | ${cell(g)} | ${ratioCell(p50)} | ${ratioCell(rps)} | ${cpuCell(f)} / ${cpuCell(g)} |`
        )
      }
    })
    console.log('\nLoad check: 200 audited updates, 20 in flight…')
    const loadCheck = await runLoadCheck(rig)
    const checkLine = loadCheckLine(loadCheck)
    console.log(`  ${checkLine}`)
    return { runs, table: [...table, '', checkLine], loadCheck }
  } finally {
    await rig.stop()
  }
}

function abortCheckLine(check: AbortCheck) {
  const rounds = check.rounds
    .map(
      (r) =>
        `p50 ${fmt(r.without.p50, 0)} → ${fmt(r.with.p50, 0)} ms, p99 ${fmt(r.without.p99, 0)} → ${fmt(r.with.p99, 0)} ms`
    )
    .join('; ')
  return (
    `Clients that disconnect (c=10, every fifth update abandoned after 30 ms; the others without → with aborts): ${rounds}; ` +
    `p99 ratio ${fmt(check.p99Ratio, 2)} (target ≤ 1.2). Abandoned ${check.abandoned}: ${check.settled} rows settled, ` +
    `${check.correct} as Exa did, ${check.pending} pending, ${check.not200} answers not 200: ${check.ok ? 'passed' : 'FAILED ' + check.problems.join('; ')}`
  )
}

function loadCheckLine(check: LoadCheck) {
  const problems = check.problems.map((problem) => `\n    ${problem}`).join('')
  return `Load check ${check.ok ? 'passed' : 'FAILED'}: ${check.answered200} answered 200, ${check.rows} rows, ${check.succeeded} succeeded, ${check.pending} pending, ${check.consistent} consistent, ${check.upstreamPatches} PATCHes at Exa, chain ${check.chainVerified ? 'verified' : 'BROKEN'} (settled ${check.settleMs} ms after the last answer)${problems}`
}

/** The audit-scale bench as its own process (it prints its own table), results read back as JSON. */
function auditScale(): unknown {
  if (env.BENCH_SKIP_AUDIT === '1') return null
  const json = join(tmpdir(), `audit-scale-${process.pid}.json`)
  console.log('\nAudit queries at scale (bench/audit-scale.ts)…')
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/audit-scale.ts'], {
    stdio: 'inherit',
    env: { ...env, BENCH_JSON: json },
  })
  if (run.status !== 0) return { error: `audit-scale exited with ${run.status}` }
  const table = JSON.parse(readFileSync(json, 'utf8')) as unknown
  rmSync(json, { force: true })
  return table
}

async function main() {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-build-'))
  const stopped = () => {
    rmSync(dir, { recursive: true, force: true })
    process.exit(1)
  }
  process.once('SIGINT', stopped).once('SIGTERM', stopped)
  const build = buildWorker(join(dir, 'dist'))
  const bundleLine = `Bundle: ${fmt(build.gzipBytes / 1024, 2)} KiB gzip (${fmt(build.rawBytes / 1024, 0)} KiB minified; guard ≤ 80 KiB: ${build.gzipBytes <= BUNDLE_GUARD_BYTES ? 'within' : 'OVER'})`
  console.log(bundleLine)
  const startup = checkStartup()
  const startupLine = startup.ok
    ? `wrangler check startup: ${fmt(startup.cpuMs, 0)} ms CPU in the startup profile (span ${fmt(startup.spanMs, 0)} ms; limit 1 s on Cloudflare); most: ${startup.top.map((t) => `${t.name} ${fmt(t.ms, 0)} ms`).join(', ')}`
    : 'wrangler check startup: FAILED (run `npx wrangler check startup` to see why)'
  console.log(startupLine)

  const seconds: Record<string, number> = { 'build and startup check': (Date.now() - started) / 1000 }
  const timed = async <T>(part: string, run: () => T | Promise<T>): Promise<T> => {
    const from = Date.now()
    const result = await run()
    seconds[part] = (Date.now() - from) / 1000
    return result
  }
  const deployed = await timed('deployed', () => deployedLike(build.scriptPath))
  const localRun = env.BENCH_SKIP_LOCAL === '1' ? null : await timed('local', local)
  rmSync(dir, { recursive: true, force: true })
  const audit = await timed('auditScale', auditScale)

  const totalSeconds = (Date.now() - started) / 1000
  console.log('\n==== Summary ====\n')
  for (const line of [...deployed.table, '', ...deployed.lines, '', bundleLine, startupLine]) console.log(line)
  if (localRun) for (const line of localRun.table) console.log(line)
  mkdirSync('bench/results', { recursive: true })
  const file = `bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`
  writeFileSync(
    file,
    JSON.stringify(
      {
        commit: gitCommit(),
        totalSeconds,
        seconds,
        settings: { SECONDS, REPEATS, CONCURRENCY, LOCAL_SECONDS, LOCAL_REPEATS, LOCAL_LATENCY_MS, LINE },
        bundle: build,
        startup,
        deployed: deployed.results,
        local: localRun && { runs: localRun.runs, loadCheck: localRun.loadCheck },
        auditScale: audit,
      },
      null,
      2
    )
  )
  const parts = Object.entries(seconds).map(([part, s]) => `${part} ${fmt(s, 0)} s`)
  console.log(`\nResults: ${file} (${fmt(totalSeconds, 0)} s in all: ${parts.join(', ')})`)
  process.exit(deployed.ok && (!localRun || localRun.loadCheck.ok) ? 0 : 1)
}

function gitCommit(): string | null {
  const run = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' })
  return run.status === 0 ? run.stdout.trim() : null
}

await main()
