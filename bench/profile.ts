/**
 * `npm run bench:profile`: where the gateway's CPU goes under load. Runs the bench's gateway
 * (bundled unminified, so functions keep their names) with a V8 inspector, loads it with the
 * bench's audited PATCH at c=50, samples its isolate with the inspector's CPU profiler, writes
 * the profile (open it in Chrome DevTools, Performance tab) and prints the functions that take
 * the most time themselves. Only the gateway's own isolate is sampled: Miniflare's D1 and the
 * rate limiter run in isolates of their own.
 *
 * Env: BENCH_LATENCY_MS (default 20), BENCH_SECONDS (sampled run, default 6), BENCH_CONNECTIONS
 * (default 50), PROFILE_OUT (default bench/results/gateway.cpuprofile).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { devtools, type CpuProfile } from './inspector'
import { measureLoad } from './load'
import { startRig } from './workers'

const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 20)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50)
const OUT = process.env.PROFILE_OUT ?? 'bench/results/gateway.cpuprofile'
const INSPECTOR_PORT = 9339

/** Self time per function (ms), largest first; idle and the engine's own bookkeeping left out. */
function selfTimes(profile: CpuProfile) {
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const times = new Map<string, number>()
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame
    if (functionName === '(idle)' || functionName === '(program)') continue
    const name = `${functionName || '(anonymous)'}${url ? ` ${url.split('/').pop()}:${lineNumber + 1}` : ''}`
    times.set(name, (times.get(name) ?? 0) + msPerSample)
  }
  return [...times].sort((a, b) => b[1] - a[1])
}

const rig = await startRig(LATENCY_MS, 100, { minify: false, inspectorPort: INSPECTOR_PORT })
try {
  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as {
    id: string
    webSocketDebuggerUrl: string
  }[]
  const gatewayIsolate = targets.find((target) => target.id.startsWith('core:user'))
  if (!gatewayIsolate)
    throw new Error(`no gateway isolate among the inspector's targets: ${targets.map((t) => t.id).join(', ')}`)
  const session = await devtools(gatewayIsolate.webSocketDebuggerUrl)
  const load = { name: 'gateway', url: rig.gateway.url, headers: { 'x-api-key': rig.key } }
  await measureLoad(load, { connections: CONNECTIONS, seconds: 2, imports: 100 }) // warm up
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', { interval: 100 })
  await session.send('Profiler.start')
  const result = await measureLoad(load, { connections: CONNECTIONS, seconds: SECONDS, imports: 100 })
  const { profile } = await session.send<{ profile: CpuProfile }>('Profiler.stop')
  session.close()
  mkdirSync(dirname(OUT), { recursive: true })
  writeFileSync(OUT, JSON.stringify(profile))
  const times = selfTimes(profile)
  const busy = times.reduce((sum, [, ms]) => sum + ms, 0)
  console.log(
    `c=${CONNECTIONS}, ${SECONDS} s sampled: ${result.requests} requests, ${result.rps.toFixed(0)} req/s (the inspector slows it down)`
  )
  // Shares, not absolute times: while workerd runs D1 or the limiter, this isolate's sampler may
  // still count time. console.log also goes to the inspector now, which inflates the access log.
  console.log('self time in the gateway isolate, share of its sampled busy time, largest first:')
  for (const [name, ms] of times.slice(0, 25))
    console.log(`  ${((ms / busy) * 100).toFixed(1).padStart(5)} %  ${ms.toFixed(0).padStart(5)} ms  ${name}`)
  console.log(`profile: ${OUT}`)
} finally {
  await rig.stop()
}
process.exit(0)
