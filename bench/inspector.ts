/**
 * The V8 inspector of a bench workerd (Miniflare's `inspectorPort`): a CPU profiler on one
 * worker's isolate. Needs Node's WebSocket (`node --experimental-websocket` on Node 20).
 */

export type ProfileNode = {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
export type CpuProfile = {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

/** A minimal Chrome DevTools Protocol session over the inspector's WebSocket. */
export async function devtools(url: string) {
  const socket = new WebSocket(url)
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = reject
  })
  let lastId = 0
  const pending = new Map<number, (result: unknown) => void>()
  socket.onmessage = (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  }
  return {
    send: <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve) => {
        pending.set(++lastId, resolve as (result: unknown) => void)
        socket.send(JSON.stringify({ id: lastId, method, params }))
      }),
    close: () => socket.close(),
  }
}

export type Devtools = Awaited<ReturnType<typeof devtools>>

/** A session on the isolate of the worker named `worker` (inspector target `core:user:<worker>`). */
export async function inspectWorker(inspectorPort: number, worker: string): Promise<Devtools> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    id: string
    webSocketDebuggerUrl: string
  }[]
  const target = targets.find((t) => t.id === `core:user:${worker}`)
  if (!target) throw new Error(`no isolate core:user:${worker} among ${targets.map((t) => t.id).join(', ')}`)
  return devtools(target.webSocketDebuggerUrl)
}

/**
 * CPU time of the profiled isolate (ms): its samples that are not idle, times the sampling
 * interval. V8 takes a sample only while the isolate is entered, so time the thread spends in other
 * isolates (Miniflare's D1, the Durable Object) or waiting is not counted; workerd's C++ working
 * for this isolate is, as "(program)". A sampler that falls behind on a busy machine misses
 * samples: calibrated against /proc on a worker that only burns CPU, this reads ~10 % low.
 */
export function busyMs(profile: CpuProfile, intervalMicros: number): number {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName]))
  const busy = profile.samples.filter((id) => nodes.get(id) !== '(idle)').length
  return (busy * intervalMicros) / 1000
}

/** Starts the sampler; the returned function stops it and gives the profile. */
export async function startProfiler(session: Devtools, intervalMicros: number) {
  await session.send('Profiler.enable')
  await session.send('Profiler.setSamplingInterval', { interval: intervalMicros })
  await session.send('Profiler.start')
  return async () => (await session.send<{ profile: CpuProfile }>('Profiler.stop')).profile
}
