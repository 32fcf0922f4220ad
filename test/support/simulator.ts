import type { Fault, RecordedRequest, RecordedUpload } from '../../simulator/app'
import type { SimImport } from '../../simulator/store'
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

/** The Exa simulator's control API: seed imports, inject faults, read what it received. */
export const sim = {
  reset: () => control('/__sim/reset', 'POST'),
  seed: (fields: Partial<SimImport> = {}) => control<SimImport>('/__sim/imports', 'POST', fields),
  get: (id: string) => control<SimImport>(`/__sim/imports/${id}`),
  /** The states PATCHes left on the import, in the order the simulator applied them. */
  applied: (id: string) => control<SimImport[]>(`/__sim/imports/${id}/applied`),
  fault: (fault: Fault | Fault[]) => control('/__sim/faults', 'POST', fault),
  requests: (filter: { method?: string; pathIncludes?: string } = {}) =>
    control<RecordedRequest[]>(`/__sim/requests?${new URLSearchParams(filter)}`),
  uploads: () => control<RecordedUpload[]>('/__sim/uploads'),
}
