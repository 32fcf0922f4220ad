import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server'
import type { AddressInfo } from 'node:net'
import { createExaSimulator, SimulatedDrop, type SimulatorOptions } from './app.ts'
import type { SimImport } from './store.ts'

/** Demo imports that `npm start` seeds, with fixed ids so the README's commands work as written. */
export const DEMO_IMPORTS: Partial<SimImport>[] = [
  {
    id: 'import_demo_leads',
    title: 'Q2 leads',
    entity: { type: 'company' },
    count: 120,
    metadata: { owner: 'ana', team: 'sales' },
  },
  { id: 'import_demo_speakers', title: 'Conference speakers', entity: { type: 'person' }, count: 48, metadata: {} },
  {
    id: 'import_demo_papers',
    title: 'Retrieval papers',
    entity: { type: 'research_paper' },
    count: 300,
    metadata: { source: 'arxiv' },
  },
]

/** Serves the simulator over HTTP on loopback (for `npm start`, the e2e suite and benchmarks). */
export async function startSimulatorServer(options: SimulatorOptions & { port?: number; seed?: Partial<SimImport>[] }) {
  const simulator = createExaSimulator(options)
  for (const item of options.seed ?? []) simulator.store.create(item)
  const server = serve({
    hostname: '127.0.0.1',
    port: options.port ?? 0,
    fetch: async (request: Request, env: HttpBindings | Http2Bindings) => {
      try {
        return await simulator.fetch(request)
      } catch (err) {
        if (!(err instanceof SimulatedDrop)) throw err
        env.incoming.socket.destroy()
        return new Response(null, { status: 500 })
      }
    },
  })
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    simulator,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
