import { exports } from 'cloudflare:workers'
import type { Fault, RecordedRequest, RecordedUpload } from '../simulator/app'
import type { SimImport } from '../simulator/store'
import { SIMULATOR_ORIGIN, TEST_ADMIN_TOKEN } from './secrets'

export const GATEWAY = 'https://gateway.test'

/** A request to the real worker entry (request id, routing, D1, upstream through the simulator). */
export function api(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(new Request(GATEWAY + path, init))
}

export function jsonInit(method: string, key: string, body?: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  }
}

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
  fault: (fault: Fault | Fault[]) => control('/__sim/faults', 'POST', fault),
  requests: (filter: { method?: string; pathIncludes?: string } = {}) =>
    control<RecordedRequest[]>(`/__sim/requests?${new URLSearchParams(filter)}`),
  uploads: () => control<RecordedUpload[]>('/__sim/uploads'),
}

export type IssuedKey = { id: string; key: string; name: string; scopes: string[] }

/** Issues a client key through the real admin API. */
export async function issueKey(
  scopes: string[] = ['imports:read', 'imports:write', 'audit:read'],
  extra: Record<string, unknown> = {}
): Promise<IssuedKey> {
  const name = (extra.name as string | undefined) ?? `tester-${crypto.randomUUID().slice(0, 8)}`
  const res = await api('/admin/keys', {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, scopes, ...extra }),
  })
  if (res.status !== 201) throw new Error(`issueKey: ${res.status} ${await res.text()}`)
  return res.json()
}

export type EventView = Record<string, any>

export async function auditEventsFor(importId: string, key: string): Promise<EventView[]> {
  const res = await api(`/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
  if (res.status !== 200) throw new Error(`audit events: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { data: EventView[] }).data
}
