/**
 * The deployed-like topology of `npm run bench`: the gateway bundle and its floors in one workerd
 * (Miniflare API), with latency where a deployment has it: Exa's (the simulator's latency knob)
 * and a round trip before every D1 call and every Durable Object call (bench/delays.ts, around the
 * bindings; nothing in src/ knows).
 *
 * Floors, in the same workerd with the same delayed D1 (worker `floor`):
 * - GET (read and list): one upstream GET of the same path, its body relayed;
 * - PATCH (update): GET the import, one D1 insert of that snapshot, PATCH it.
 * The gateway (worker `gateway`) runs with a real key, validation, rate limit and audit.
 * Both are served on direct sockets (no Miniflare entry worker in front of either).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Miniflare } from 'miniflare'
import { startSimulatorServer } from '../simulator/server'
import { D1_WRAPPER_NAME, DO_WRAPPER_NAME, delayed, delayWorkers } from './delays'
import { applyMigrations, BENCH_EXA_KEY, COMPATIBILITY_DATE, gatewayBindings, issueBenchKey, quiet } from './workers'

export type DelayProfile = { name: string; exaMs: number; d1Ms: number; doMs: number }

/** Round trips (ms) to Exa, to D1 and to a Durable Object, from near to far. */
export const PROFILES: DelayProfile[] = [
  { name: 'near', exaMs: 20, d1Ms: 5, doMs: 2 },
  { name: 'typical', exaMs: 60, d1Ms: 25, doMs: 10 },
  { name: 'far', exaMs: 150, d1Ms: 80, doMs: 30 },
]

export const describeProfile = (p: DelayProfile) => `${p.name} (Exa ${p.exaMs} ms, D1 ${p.d1Ms}, DO ${p.doMs})`

const FLOOR_SNAPSHOTS_TABLE = `CREATE TABLE IF NOT EXISTS bench_floor_snapshots (
  id INTEGER PRIMARY KEY, import_id TEXT NOT NULL, snapshot TEXT NOT NULL)`

/** The read floor (GET) and the update floor (PATCH): what any gateway must do, nothing more. */
const FLOOR_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const upstream = env.EXA_BASE_URL + url.pathname + url.search
    const headers = { 'x-api-key': env.EXA_API_KEY, accept: 'application/json' }
    const json = { 'content-type': 'application/json' }
    if (request.method === 'GET') {
      const read = await fetch(upstream, { headers })
      return new Response(read.body, { status: read.status, headers: json })
    }
    const before = await fetch(upstream, { headers })
    const snapshot = await before.text()
    await env.DB.prepare('INSERT INTO bench_floor_snapshots (import_id, snapshot) VALUES (?, ?)')
      .bind(url.pathname, snapshot)
      .run()
    const after = await fetch(upstream, {
      method: 'PATCH',
      headers: { ...headers, ...json },
      body: await request.text(),
    })
    return new Response(after.body, { status: after.status, headers: json })
  },
}`

const D1_ID = 'bench-db'
const direct = [{ host: '127.0.0.1', port: 0 }]

export type DeployedRig = Awaited<ReturnType<typeof startDeployedRig>>

/**
 * The simulator at the profile's Exa latency, and one workerd with the gateway, the floor and the
 * delays; `inspect` opens workerd's V8 inspector (for the gateway's isolate CPU). `floorScript`
 * runs another floor in the floor's place (with the same bindings: the stream floor of
 * bench/workers.ts), `scopes` are the bench key's (issueBenchKey's by default).
 */
export async function startDeployedRig(
  scriptPath: string,
  profile: DelayProfile,
  imports: number,
  options: { inspect?: boolean; floorScript?: string; scopes?: string[] } = {}
) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-deployed-'))
  const seed = Array.from({ length: imports }, (_, i) => ({
    id: `import_bench_${i}`,
    title: `bench ${i}`,
    metadata: {},
  }))
  const sim = await startSimulatorServer({ apiKey: BENCH_EXA_KEY, latencyMs: profile.exaMs, seed })
  const mf = new Miniflare({
    ...quiet,
    inspectorPort: options.inspect ? 0 : undefined,
    host: '127.0.0.1',
    port: 0,
    d1Persist: join(dir, 'd1'),
    durableObjectsPersist: join(dir, 'do'),
    workers: [
      {
        name: 'gateway',
        modules: true,
        scriptPath,
        modulesRoot: dirname(scriptPath),
        compatibilityDate: COMPATIBILITY_DATE,
        bindings: gatewayBindings(sim.url),
        wrappedBindings: {
          DB: delayed(D1_WRAPPER_NAME, profile.d1Ms),
          RATE_LIMITER: delayed(DO_WRAPPER_NAME, profile.doMs),
        },
        unsafeDirectSockets: direct,
      },
      {
        name: 'floor',
        modules: true,
        script: options.floorScript ?? FLOOR_WORKER,
        compatibilityDate: COMPATIBILITY_DATE,
        bindings: { EXA_BASE_URL: sim.url, EXA_API_KEY: BENCH_EXA_KEY },
        wrappedBindings: { DB: delayed(D1_WRAPPER_NAME, profile.d1Ms) },
        unsafeDirectSockets: direct,
      },
      {
        // The undelayed D1, for the migrations and the floor's table only.
        name: 'setup',
        modules: true,
        script: 'export default { fetch: () => new Response(null, { status: 404 }) }',
        compatibilityDate: COMPATIBILITY_DATE,
        d1Databases: { DB: D1_ID },
      },
      ...delayWorkers({ d1Id: D1_ID, doScriptName: 'gateway', doClassName: 'RateLimiter' }),
    ],
  })
  const stop = async () => {
    await Promise.allSettled([mf.dispose(), sim.close()])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await mf.ready
    const d1 = (await mf.getD1Database('DB', 'setup')) as unknown as D1Database
    await applyMigrations(d1)
    await d1.prepare(FLOOR_SNAPSHOTS_TABLE).run()
    const url = async (worker: string) => (await mf.unsafeGetDirectURL(worker)).origin
    const gatewayUrl = await url('gateway')
    const floorUrl = await url('floor')
    const key = await issueBenchKey(gatewayUrl, options.scopes)
    const inspectorPort = options.inspect ? Number((await mf.getInspectorURL()).port) : undefined
    return { profile, mf, sim, gatewayUrl, floorUrl, key, inspectorPort, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
