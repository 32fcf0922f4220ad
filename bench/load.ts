/**
 * Bounded loads with autocannon: one request shape per target (a read, a list or an update),
 * spread over the seeded imports so concurrent requests do not all queue on one import. Each
 * measured run follows a short warm-up.
 */
import { readdirSync, readFileSync } from 'node:fs'
import autocannon from 'autocannon'

/** read: GET one import; list: GET a page of 25; update: PATCH one import's title (the default). */
export type Shape = 'read' | 'list' | 'update'
export type Target = { name: string; url: string; headers: Record<string, string>; shape?: Shape }
export type LoadResult = {
  p50: number
  p99: number
  rps: number
  requests: number
  errors: number
  non2xx: number
  /** CPU time of the bench's workerd processes per request (ms); null where /proc is not available. */
  cpuMsPerRequest: number | null
  /** CPU time of one isolate per request (ms), when the run was profiled (see `probe`). */
  isolateCpuMsPerRequest?: number
}

export type LoadOptions = {
  connections: number
  seconds: number
  imports: number
  /** Started after the warm-up, stopped after the measured run: the CPU ms it saw (an isolate's profiler). */
  probe?: { start: () => Promise<void>; stop: () => Promise<number> }
}

function request(shape: Shape, i: number, imports: number, headers: Record<string, string>) {
  const path = `/websets/v0/imports/import_bench_${i % imports}`
  if (shape === 'read') return { method: 'GET', path, headers }
  if (shape === 'list') return { method: 'GET', path: '/websets/v0/imports?limit=25', headers }
  return {
    method: 'PATCH',
    path,
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ title: `bench title ${i}` }),
  }
}

function run(target: Target, connections: number, seconds: number, imports: number): Promise<autocannon.Result> {
  let n = 0
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target.url,
        connections,
        duration: seconds,
        requests: [
          { setupRequest: (base) => ({ ...base, ...request(target.shape ?? 'update', n++, imports, target.headers) }) },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result))
    )
  })
}

/**
 * CPU time used so far by the workerd processes this bench started (ms), from /proc. Only the
 * target under load is busy during a run, so the difference over a run is that target's cost:
 * unlike latency and throughput it hardly moves with what else the machine is doing (other
 * workerd processes, say a test run, are not counted).
 */
function workerdCpuMs(): number | null {
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return null
  }
  let ticks = 0
  for (const pid of pids) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // a process that ended since the listing
    }
    if (!stat.includes('(workerd)')) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[1]) !== process.pid) continue // fields[1]: the parent's pid
    ticks += Number(fields[11]) + Number(fields[12]) // utime + stime
  }
  return ticks * 10 // USER_HZ is 100 on Linux
}

/** Warms the target up, then measures p50/p99 latency (ms), requests per second and workerd CPU per request. */
export async function measureLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  await run(target, options.connections, 1, options.imports)
  await options.probe?.start()
  const cpuBefore = workerdCpuMs()
  const r = await run(target, options.connections, options.seconds, options.imports)
  const cpuAfter = workerdCpuMs()
  const probed = await options.probe?.stop()
  return {
    cpuMsPerRequest: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / r.requests.total,
    ...(probed === undefined ? {} : { isolateCpuMsPerRequest: probed / r.requests.total }),
    p50: r.latency.p50,
    p99: r.latency.p99,
    rps: r.requests.average,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  }
}
