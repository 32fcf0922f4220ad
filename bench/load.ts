/**
 * Bounded loads with autocannon: one PATCH shape per target, spread over the seeded imports so
 * concurrent requests do not all queue on one import. Each measured run follows a short warm-up.
 */
import autocannon from 'autocannon'

export type Target = { name: string; url: string; headers: Record<string, string> }
export type LoadResult = { p50: number; p99: number; rps: number; requests: number; errors: number; non2xx: number }

export type LoadOptions = { connections: number; seconds: number; imports: number }

function run(target: Target, connections: number, seconds: number, imports: number): Promise<autocannon.Result> {
  let n = 0
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target.url,
        connections,
        duration: seconds,
        requests: [
          {
            method: 'PATCH',
            setupRequest: (request) => {
              const i = n++
              return {
                ...request,
                path: `/websets/v0/imports/import_bench_${i % imports}`,
                headers: { ...target.headers, 'content-type': 'application/json' },
                body: JSON.stringify({ title: `bench title ${i}` }),
              }
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(result))
    )
  })
}

/** Warms the target up, then measures p50/p99 latency (ms) and requests per second. */
export async function measureLoad(target: Target, options: LoadOptions): Promise<LoadResult> {
  await run(target, options.connections, 1, options.imports)
  const r = await run(target, options.connections, options.seconds, options.imports)
  return {
    p50: r.latency.p50,
    p99: r.latency.p99,
    rps: r.requests.average,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  }
}
