/**
 * `npm run bench:stream`: time to first byte of a streamed `/answer` through the gateway, against
 * a floor worker that only forwards the stream (no auth, no validation, no D1), both in workerd
 * on loopback, and against the simulator itself. Local, no delay profile: the gateway's cost on
 * the way to the first byte (one key lookup, the rate limit, validation), not a network's.
 *
 * Env: BENCH_STREAMS (calls per target, default 60), BENCH_LATENCY_MS (simulator latency, 20).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startSimulatorServer } from '../simulator/server'
import { BENCH_ADMIN_TOKEN, BENCH_EXA_KEY, buildWorker, COMPATIBILITY_DATE, quiet, startGateway } from './workers'

const CALLS = Number(process.env.BENCH_STREAMS ?? 60)
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)

/** The least a streaming pass-through must do: forward the body, hand back Exa's stream. */
const STREAM_FLOOR = `
export default {
  async fetch(request, env) {
    const upstream = await fetch(env.EXA_BASE_URL + '/answer', {
      method: 'POST',
      headers: { 'x-api-key': env.EXA_API_KEY, 'content-type': 'application/json' },
      body: await request.text(),
    })
    return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': 'text/event-stream' } })
  },
}`

const BODY = JSON.stringify({ query: 'how long until the first byte', stream: true })

/** Milliseconds from sending the request to the first chunk of its body; the rest is read too. */
async function firstByte(url: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now()
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: BODY,
  })
  const reader = res.body!.getReader()
  const first = await reader.read()
  const elapsed = performance.now() - started
  if (res.status !== 200 || !first.value) throw new Error(`${url} answered ${res.status}`)
  while (!(await reader.read()).done);
  return elapsed
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!

async function measure(url: string, headers: Record<string, string> = {}) {
  await firstByte(url, headers) // warm-up
  const times: number[] = []
  for (let i = 0; i < CALLS; i++) times.push(await firstByte(url, headers))
  return { p50: percentile(times, 0.5), p90: percentile(times, 0.9) }
}

const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-stream-'))
const sim = await startSimulatorServer({ apiKey: BENCH_EXA_KEY, latencyMs: LATENCY_MS })
await fetch(`${sim.url}/__sim/stream-interval`, { method: 'POST', body: JSON.stringify({ intervalMs: 1 }) })
const floor = new Miniflare({
  ...quiet,
  modules: true,
  script: STREAM_FLOOR,
  compatibilityDate: COMPATIBILITY_DATE,
  host: '127.0.0.1',
  port: 0,
  bindings: { EXA_BASE_URL: sim.url, EXA_API_KEY: BENCH_EXA_KEY },
})
const floorUrl = (await floor.ready).origin
const gateway = await startGateway(buildWorker(join(dir, 'dist')).scriptPath, sim.url, dir)
try {
  const issued = await fetch(`${gateway.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench-stream',
      scopes: ['answer'],
      rateLimit: { requests: 1_000_000, periodSeconds: 60 },
    }),
  })
  const { key } = (await issued.json()) as { key: string }
  const direct = await measure(`${sim.url}/answer`, { 'x-api-key': BENCH_EXA_KEY })
  const viaFloor = await measure(floorUrl)
  const viaGateway = await measure(`${gateway.url}/answer`, { 'x-api-key': key })
  const row = (name: string, r: { p50: number; p90: number }) =>
    console.log(`${name.padEnd(10)} p50 ${r.p50.toFixed(1).padStart(6)} ms   p90 ${r.p90.toFixed(1).padStart(6)} ms`)
  console.log(`time to first byte of a streamed /answer, ${CALLS} calls each, simulator latency ${LATENCY_MS} ms`)
  row('simulator', direct)
  row('floor', viaFloor)
  row('gateway', viaGateway)
  console.log(
    `gateway - floor: p50 ${(viaGateway.p50 - viaFloor.p50).toFixed(1)} ms (issue 15's bound: 5 ms, typical profile)`
  )
} finally {
  await Promise.allSettled([floor.dispose(), gateway.mf.dispose(), sim.close()])
  rmSync(dir, { recursive: true, force: true })
}
