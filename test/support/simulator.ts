import type { Fault, RecordedRequest, RecordedUpload } from '../../simulator/app'
import type { StreamRecord } from '../../simulator/core'
import type { SimImport } from '../../simulator/store'
import type { SeededWebset, WebsetSeed } from '../../simulator/websets-seed'
import type { SimWebhook } from '../../simulator/websets-store'
import { SIMULATOR_ORIGIN } from './secrets'

async function control<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const res = await fetch(SIMULATOR_ORIGIN + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`simulator control ${path}: ${res.status}`)
  return res.json() as Promise<T>
}

/** The Exa simulator's control API: seed imports and websets, inject faults, read what it received. */
export const sim = {
  reset: () => control('/__sim/reset', 'POST'),
  seed: (fields: Partial<SimImport> = {}) => control<SimImport>('/__sim/imports', 'POST', fields),
  get: (id: string) => control<SimImport>(`/__sim/imports/${id}`),
  /** A webset with its search, items, enrichment, monitor and run, as Exa leaves them once done. */
  seedWebset: (seed: WebsetSeed = {}) => control<SeededWebset>('/__sim/websets', 'POST', seed),
  /** An active webhook: seeded before a webset, it records that webset's deliveries as attempts. */
  seedWebhook: (fields: { url?: string; events?: string[] } = {}) =>
    control<SimWebhook>('/__sim/webhooks', 'POST', fields),
  /** A search monitor with a run (`monitor`, `run`), an agent run with its events, an agent monitor. */
  seedAgent: <T>() => control<T>('/__sim/agent', 'POST', {}),
  /** The states PATCHes left on the import, in the order the simulator applied them. */
  applied: (id: string) => control<SimImport[]>(`/__sim/imports/${id}/applied`),
  fault: (fault: Fault | Fault[]) => control('/__sim/faults', 'POST', fault),
  requests: (filter: { method?: string; pathIncludes?: string } = {}) =>
    control<RecordedRequest[]>(`/__sim/requests?${new URLSearchParams(filter)}`),
  uploads: () => control<RecordedUpload[]>('/__sim/uploads'),
  /** The SSE answers the paid calls served, and whether their client went away. */
  streams: () => control<StreamRecord[]>('/__sim/streams'),
  streamInterval: (intervalMs: number) => control('/__sim/stream-interval', 'POST', { intervalMs }),
}
