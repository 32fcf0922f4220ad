import { serve, type Http2Bindings, type HttpBindings } from '@hono/node-server'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { createExaSimulator, SimulatedDrop, type SimulatorOptions } from './app.ts'
import type { SimImport, StoreSnapshot } from './store.ts'
import { seedDemoAgent, type AgentState } from './agent.ts'
import { seedDemoWebsets } from './websets-seed.ts'
import type { WebsetsState } from './websets-store.ts'

/** What the state file keeps: the imports and, since the Websets reads, the Websets family and the Agent API's. */
type SimulatorState = StoreSnapshot & { websets?: WebsetsState; agent?: AgentState }

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

function readState(file: string): SimulatorState | undefined {
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as SimulatorState
}

/** Replaces the file in one step (write, then rename), so a stop mid-write never leaves half a file. */
function writeState(file: string, snapshot: SimulatorState) {
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(`${file}.tmp`, JSON.stringify(snapshot))
  renameSync(`${file}.tmp`, file)
}

/**
 * Serves the simulator over HTTP on loopback (for `npm start`, the e2e suite and benchmarks). With
 * `stateFile` its imports survive a restart: they are loaded from the file when it exists (else
 * seeded), and written back after every request that may change them, as the gateway's local D1
 * keeps the audit log (`npm start` keeps both under .wrangler/state).
 */
export async function startSimulatorServer(
  options: SimulatorOptions & {
    port?: number
    seed?: Partial<SimImport>[]
    /** Seed the demo websets, webhook and events, search monitor, agent run and agent monitor too (npm start). */
    demoWebsets?: boolean
    stateFile?: string
  }
) {
  const simulator = createExaSimulator(options)
  const saved = options.stateFile ? readState(options.stateFile) : undefined
  if (saved) simulator.store.restore(saved)
  else for (const item of options.seed ?? []) simulator.store.create(item)
  // A state file from before the Websets reads has no websets: it gets the demo ones.
  if (saved?.websets) simulator.websets.restore(saved.websets)
  else if (options.demoWebsets) seedDemoWebsets(simulator.websets)
  if (saved?.agent) simulator.agent.restore(saved.agent)
  else if (options.demoWebsets) seedDemoAgent(simulator.agent)
  const save = () =>
    options.stateFile &&
    writeState(options.stateFile, {
      ...simulator.store.snapshot(),
      websets: simulator.websets.snapshot(),
      agent: simulator.agent.snapshot(),
    })
  if (options.stateFile && !(saved?.websets && saved.agent)) save()
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
      } finally {
        if (request.method !== 'GET') save()
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
