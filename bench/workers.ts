/**
 * What `npm run bench` runs: the built gateway (the same bundle `wrangler deploy` would upload)
 * and a "floor" worker, each in its own workerd through the Miniflare API (no `wrangler dev`: its
 * Node proxy in front of workerd costs several times the gateway's own overhead), plus the Exa
 * simulator on loopback with a fixed latency.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { Miniflare } from 'miniflare'
import { startSimulatorServer } from '../simulator/server'

export const COMPATIBILITY_DATE = '2026-04-20'
export const BENCH_EXA_KEY = 'exa_bench_upstream_key'
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-not-a-secret-at-least-32-chars'

/** Bundles the worker exactly as a deploy would (minified unless asked not to: a profile wants names) and measures it. */
export function buildWorker(outdir: string, minify = true) {
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', ...(minify ? ['--minify'] : []), '--outdir', outdir], {
    stdio: 'pipe',
  })
  const code = readFileSync(join(outdir, 'index.js'))
  return { scriptPath: join(outdir, 'index.js'), rawBytes: code.byteLength, gzipBytes: gzipSync(code).byteLength }
}

/**
 * The least any audited update must do: read the import, then PATCH it. No auth, no validation,
 * no D1, no audit: the gateway's overhead is whatever it takes beyond this.
 */
const FLOOR_WORKER = `
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname
    const headers = { 'x-api-key': env.EXA_API_KEY, accept: 'application/json' }
    const before = await fetch(env.EXA_BASE_URL + path, { headers })
    await before.text()
    const after = await fetch(env.EXA_BASE_URL + path, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/json' },
      body: await request.text(),
    })
    return new Response(after.body, { status: after.status, headers: { 'content-type': 'application/json' } })
  },
}`

/**
 * The least a streaming pass-through must do: forward the request's method, path, body and the
 * headers that choose the answer's format (Accept, exa-beta) with the Exa key, and hand back Exa's
 * answer, its body streamed as it comes. No auth, no validation, no D1, no audit.
 */
export const STREAM_FLOOR_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    const headers = { 'x-api-key': env.EXA_API_KEY, 'content-type': 'application/json' }
    for (const name of ['accept', 'exa-beta']) {
      const value = request.headers.get(name)
      if (value) headers[name] = value
    }
    const upstream = await fetch(env.EXA_BASE_URL + url.pathname, {
      method: request.method,
      headers,
      body: await request.text(),
    })
    const type = upstream.headers.get('content-type') ?? 'application/json'
    return new Response(upstream.body, { status: upstream.status, headers: { 'content-type': type } })
  },
}`

/** Access logs (one line a request) would drown the table: stdout is dropped, stderr (errors) kept. */
export const quiet = {
  handleRuntimeStdio(stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) {
    stdout.resume()
    stderr.pipe(process.stderr)
  },
}

async function serve(mf: Miniflare) {
  const url = await mf.ready
  return { url: url.origin, mf }
}

/** A floor worker in its own workerd: by default the audited update's (GET, then PATCH). */
export async function startFloor(exaBaseUrl: string, script = FLOOR_WORKER) {
  return serve(
    new Miniflare({
      ...quiet,
      modules: true,
      script,
      compatibilityDate: COMPATIBILITY_DATE,
      host: '127.0.0.1',
      port: 0,
      bindings: { EXA_BASE_URL: exaBaseUrl, EXA_API_KEY: BENCH_EXA_KEY },
    })
  )
}

/** The gateway's vars and secrets as wrangler.toml sets them, pointed at the simulator. */
export const gatewayBindings = (exaBaseUrl: string) => ({
  EXA_API_KEY: BENCH_EXA_KEY,
  EXA_BASE_URL: exaBaseUrl,
  ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
  UPSTREAM_TIMEOUT_MS: '10000',
  ALLOWED_ORIGINS: '',
  RATE_LIMIT_REQUESTS: '600',
  RATE_LIMIT_PERIOD_SECONDS: '60',
})

/** Applies migrations/ to a D1 database, as `wrangler d1 migrations apply` would. */
export async function applyMigrations(d1: D1Database) {
  for (const file of readdirSync('migrations')
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const statements = readFileSync(join('migrations', file), 'utf8').split('--> statement-breakpoint')
    for (const statement of statements.map((s) => s.trim()).filter(Boolean)) await d1.prepare(statement).run()
  }
}

/** The gateway as configured in wrangler.toml, with its D1 and Durable Objects in a temp dir. */
export async function startGateway(scriptPath: string, exaBaseUrl: string, persistDir: string, inspectorPort?: number) {
  const mf = new Miniflare({
    ...quiet,
    inspectorPort,
    modules: true,
    scriptPath,
    // The bundle lives in a temp dir; module paths must stay under the modules root.
    modulesRoot: dirname(scriptPath),
    compatibilityDate: COMPATIBILITY_DATE,
    host: '127.0.0.1',
    port: 0,
    d1Databases: { DB: 'bench-db' },
    d1Persist: join(persistDir, 'd1'),
    durableObjects: { RATE_LIMITER: { className: 'RateLimiter', useSQLite: true } },
    durableObjectsPersist: join(persistDir, 'do'),
    bindings: gatewayBindings(exaBaseUrl),
  })
  const d1 = (await mf.getD1Database('DB')) as unknown as D1Database
  await applyMigrations(d1)
  return { ...(await serve(mf)), d1 }
}

/** The scopes of `npm run bench`'s key: the imports and the audit log. */
const BENCH_SCOPES = ['imports:read', 'imports:write', 'audit:read']

/** Issues a client key through the gateway's admin API, with a limit no bench run reaches. */
export async function issueBenchKey(gatewayUrl: string, scopes: string[] = BENCH_SCOPES): Promise<string> {
  const res = await fetch(`${gatewayUrl}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench',
      scopes,
      rateLimit: { requests: 1_000_000, periodSeconds: 60 },
    }),
  })
  if (res.status !== 201) throw new Error(`issuing the bench key: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { key: string }).key
}

export type BenchRig = Awaited<ReturnType<typeof startRig>>

/** Everything the bench talks to; `stop()` ends all of it and removes the temp dirs. */
export async function startRig(
  latencyMs: number,
  imports: number,
  options: { minify?: boolean; inspectorPort?: number } = {}
) {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'))
  const build = buildWorker(join(dir, 'dist'), options.minify ?? true)
  const seed = Array.from({ length: imports }, (_, i) => ({
    id: `import_bench_${i}`,
    title: `bench ${i}`,
    metadata: {},
  }))
  const sim = await startSimulatorServer({ apiKey: BENCH_EXA_KEY, latencyMs, seed })
  const floor = await startFloor(sim.url)
  const gateway = await startGateway(build.scriptPath, sim.url, dir, options.inspectorPort)
  const key = await issueBenchKey(gateway.url)
  const stop = async () => {
    await Promise.allSettled([floor.mf.dispose(), gateway.mf.dispose(), sim.close()])
    rmSync(dir, { recursive: true, force: true })
  }
  return { build, sim, floor, gateway, key, stop }
}
