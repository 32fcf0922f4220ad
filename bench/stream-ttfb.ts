/**
 * `npm run bench:stream`: time to first byte of streams through the gateway, against a floor
 * worker that only forwards the stream (bench/workers.ts's STREAM_FLOOR_WORKER: no auth, no
 * validation, no D1), in three parts:
 *
 * 1. Local, no delay profile: a streamed `/answer` through the gateway, the floor (each in its own
 *    workerd on loopback) and straight from the simulator: the gateway's cost on the way to the
 *    first byte (one key lookup, the rate limit, validation), not a network's.
 * 2. Deployed-like (bench/deployed.ts, the `typical` profile unless BENCH_PROFILE names another):
 *    Exa's latency in the simulator, a round trip before every D1 and Durable Object call
 *    (bench/delays.ts), the gateway and the floor in one workerd. Two targets: a streamed
 *    `/answer`, and a streamed agent run create (`POST /agent/runs`, `Accept: text/event-stream`),
 *    which is audited: its write-ahead row is committed before Exa is called. Floor and gateway
 *    calls alternate, one of each at a time; the key is warm (admitted on its previous request,
 *    as a client's steady state is: see admitKey in src/http/auth.ts).
 * 3. The same deployed-like rig with Exa's latency alone (no D1 or Durable Object delay), which
 *    splits the difference into the profile's round trips and the gateway's own work in this rig.
 *
 * Issue 15 §5's bound: gateway ≤ floor + 5 ms in the typical profile.
 *
 * Env: BENCH_STREAMS (calls per target, default 60), BENCH_LATENCY_MS (local simulator latency,
 * default 20), BENCH_PROFILE (near | typical | far, default typical).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSimulatorServer } from '../simulator/server'
import { describeProfile, PROFILES, startDeployedRig, type DelayProfile } from './deployed'
import { BENCH_EXA_KEY, buildWorker, issueBenchKey, startFloor, startGateway, STREAM_FLOOR_WORKER } from './workers'

const CALLS = Number(process.env.BENCH_STREAMS ?? 60)
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)
const PROFILE: DelayProfile = (() => {
  const named = PROFILES.find((p) => p.name === (process.env.BENCH_PROFILE ?? 'typical'))
  if (!named) throw new Error(`BENCH_PROFILE must be one of ${PROFILES.map((p) => p.name).join(', ')}`)
  return named
})()
/** issue 15 §5: the gateway's first byte at most this much after the floor's (typical profile). */
const BOUND_MS = 5

type Stream = { name: string; path: string; body: string; headers: Record<string, string> }

const ANSWER: Stream = {
  name: 'POST /answer (stream: true)',
  path: '/answer',
  body: JSON.stringify({ query: 'how long until the first byte', stream: true }),
  headers: {},
}
const AGENT_RUN: Stream = {
  name: 'POST /agent/runs (SSE, audited)',
  path: '/agent/runs',
  body: JSON.stringify({ query: 'how long until the first byte', effort: 'minimal' }),
  headers: { accept: 'text/event-stream' },
}

/** Milliseconds from sending the request to the first chunk of its body; the rest is read too. */
async function firstByte(url: string, stream: Stream, headers: Record<string, string>): Promise<number> {
  const started = performance.now()
  const res = await fetch(url + stream.path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...stream.headers, ...headers },
    body: stream.body,
  })
  const reader = res.body!.getReader()
  const first = await reader.read()
  const elapsed = performance.now() - started
  if (res.status >= 300 || !first.value) throw new Error(`${url}${stream.path} answered ${res.status}`)
  if (!res.headers.get('content-type')?.startsWith('text/event-stream'))
    throw new Error(`${url}${stream.path} answered ${res.headers.get('content-type')}, not a stream`)
  while (!(await reader.read()).done);
  return elapsed
}

type Percentiles = { p50: number; p90: number }

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!
const percentiles = (times: number[]): Percentiles => ({ p50: percentile(times, 0.5), p90: percentile(times, 0.9) })
const ms = (n: number) => `${n.toFixed(1)} ms`

/** CALLS calls after one warm-up, one after the other. */
async function measure(url: string, stream: Stream, headers: Record<string, string> = {}) {
  await firstByte(url, stream, headers) // warm-up
  const times: number[] = []
  for (let i = 0; i < CALLS; i++) times.push(await firstByte(url, stream, headers))
  return percentiles(times)
}

/** Floor and gateway side by side: after a warm-up of each, CALLS pairs, which goes first alternating. */
async function measurePair(stream: Stream, floorUrl: string, gatewayUrl: string, key: string) {
  const sides: { url: string; headers: Record<string, string>; times: number[] }[] = [
    { url: floorUrl, headers: {}, times: [] },
    { url: gatewayUrl, headers: { 'x-api-key': key }, times: [] },
  ]
  for (const side of sides) await firstByte(side.url, stream, side.headers)
  for (let i = 0; i < CALLS; i++)
    for (const side of i % 2 ? [...sides].reverse() : sides)
      side.times.push(await firstByte(side.url, stream, side.headers))
  const [floor, gateway] = sides.map((side) => percentiles(side.times)) as [Percentiles, Percentiles]
  return { floor, gateway, over: { p50: gateway.p50 - floor.p50, p90: gateway.p90 - floor.p90 } }
}

/** 1. Local: the gateway and the floor in their own workerd each, no delays; `/answer` only. */
async function local(scriptPath: string, dir: string) {
  const sim = await startSimulatorServer({ apiKey: BENCH_EXA_KEY, latencyMs: LATENCY_MS })
  await fetch(`${sim.url}/__sim/stream-interval`, { method: 'POST', body: JSON.stringify({ intervalMs: 1 }) })
  const floor = await startFloor(sim.url, STREAM_FLOOR_WORKER)
  const gateway = await startGateway(scriptPath, sim.url, dir)
  try {
    const key = await issueBenchKey(gateway.url, ['answer'])
    const direct = await measure(sim.url, ANSWER, { 'x-api-key': BENCH_EXA_KEY })
    const viaFloor = await measure(floor.url, ANSWER)
    const viaGateway = await measure(gateway.url, ANSWER, { 'x-api-key': key })
    const row = (name: string, r: Percentiles) =>
      console.log(`${name.padEnd(10)} p50 ${ms(r.p50).padStart(9)}   p90 ${ms(r.p90).padStart(9)}`)
    console.log(
      `\nLocal, no delays: time to first byte of a streamed /answer, ${CALLS} calls each, simulator latency ${LATENCY_MS} ms`
    )
    row('simulator', direct)
    row('floor', viaFloor)
    row('gateway', viaGateway)
    console.log(`gateway - floor: p50 ${ms(viaGateway.p50 - viaFloor.p50)}, p90 ${ms(viaGateway.p90 - viaFloor.p90)}`)
  } finally {
    await Promise.allSettled([floor.mf.dispose(), gateway.mf.dispose(), sim.close()])
  }
}

type Pair = Awaited<ReturnType<typeof measurePair>> & { stream: Stream }

/** 2. Deployed-like: the profile's delays, `/answer` and the audited agent run create. */
async function deployedLike(scriptPath: string, profile: DelayProfile): Promise<Pair[]> {
  console.log(`\nDeployed-like, ${describeProfile(profile)}…`)
  const rig = await startDeployedRig(scriptPath, profile, 0, {
    floorScript: STREAM_FLOOR_WORKER,
    scopes: ['answer', 'agent:write'],
  })
  try {
    await fetch(`${rig.sim.url}/__sim/stream-interval`, { method: 'POST', body: JSON.stringify({ intervalMs: 1 }) })
    const results: Pair[] = []
    for (const stream of [ANSWER, AGENT_RUN]) {
      results.push({ stream, ...(await measurePair(stream, rig.floorUrl, rig.gatewayUrl, rig.key)) })
      rig.sim.simulator.requests.length = 0 // the simulator records every request; keep memory flat
    }
    return results
  } finally {
    await rig.stop()
  }
}

function table(profile: DelayProfile, results: Pair[]) {
  console.log(
    `\nDeployed-like, ${describeProfile(profile)}: time to first byte, ${CALLS} calls per target, floor and gateway alternating, warm key`
  )
  console.log('| target | floor p50 / p90 | gateway p50 / p90 | gateway − floor p50 / p90 |')
  console.log('|---|---:|---:|---:|')
  for (const { stream, floor, gateway, over } of results)
    console.log(
      `| ${stream.name} | ${ms(floor.p50)} / ${ms(floor.p90)} | ${ms(gateway.p50)} / ${ms(gateway.p90)} | ${ms(over.p50)} / ${ms(over.p90)} |`
    )
}

/**
 * The same rig with Exa's latency only (no D1 or Durable Object delay): what is left of the
 * difference there is the gateway's work in this rig (its CPU, the emulated D1 and Durable
 * Object on the same thread), the rest of the profile's difference being its round trips.
 */
const exaOnly = (profile: DelayProfile): DelayProfile => ({ name: 'Exa only', exaMs: profile.exaMs, d1Ms: 0, doMs: 0 })

const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-stream-'))
try {
  const { scriptPath } = buildWorker(join(dir, 'dist'))
  await local(scriptPath, dir)
  const results = await deployedLike(scriptPath, PROFILE)
  const baseline = await deployedLike(scriptPath, exaOnly(PROFILE))
  table(PROFILE, results)
  table(exaOnly(PROFILE), baseline)
  console.log('')
  for (const [i, { stream, over }] of results.entries()) {
    const delays = over.p50 - baseline[i]!.over.p50
    console.log(
      `${stream.name}: gateway − floor at p50 ${ms(over.p50)} (${ms(delays)} of it the profile's D1 and Durable Object round trips): issue 15's bound (≤ floor + ${BOUND_MS} ms, typical) ${over.p50 <= BOUND_MS ? 'met' : 'NOT met'}${PROFILE.name === 'typical' ? '' : ' (this is not the typical profile)'}`
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
