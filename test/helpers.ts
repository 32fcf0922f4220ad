import { createExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import worker from '../src/index'
import type { Fault, RecordedRequest, RecordedUpload } from '../simulator/app'
import type { SimImport } from '../simulator/store'
import { OBSERVER_ORIGIN, SIMULATOR_ORIGIN, TEST_ADMIN_TOKEN } from './secrets'

export const GATEWAY = 'https://gateway.test'

/**
 * A request to the real worker entry (request id, routing, D1, upstream through the simulator).
 * An audited call's row is finalized after the response (waitUntil), so by default this also
 * waits until the row of this request (by `x-request-id`) has settled, as a client reading the
 * log a moment later would see it. `{ settle: false }` returns at once, for tests about the
 * `pending` state itself.
 */
export async function api(path: string, init: RequestInit = {}, options: { settle?: boolean } = {}): Promise<Response> {
  const res = await exports.default.fetch(new Request(GATEWAY + path, init))
  if (options.settle !== false && init.method && init.method !== 'GET') await rowSettled(res.headers.get('x-request-id'))
  return res
}

/** Waits (at most 3 s) until no audit row of this request is still pending. */
export async function rowSettled(requestId: string | null, timeoutMs = 3000) {
  if (!requestId) return
  const deadline = Date.now() + timeoutMs
  const pending = env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE request_id = ? AND outcome = 'pending'").bind(requestId)
  while ((await pending.first<{ n: number }>())?.n && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * The same request, handed to the worker's default export in this isolate. For loops of
 * thousands of requests (property tests): in vitest-pool-workers 0.15.1 each
 * `exports.default.fetch` gets slower the more were made before (measured: 5 ms a request for
 * the first 200, 60 ms after 1,000), while this stays under 1 ms. Background work (waitUntil)
 * goes on after the response, as in production.
 */
export function apiDirect(path: string, init: RequestInit = {}): Promise<Response> {
  const request = new Request(GATEWAY + path, init) as Parameters<typeof worker.fetch>[0]
  return Promise.resolve(worker.fetch(request, env, createExecutionContext()))
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

/** Tells the log observer about a secret, so the final log-leak check looks for it too. */
export async function rememberSecret(secret: string) {
  await fetch(`${OBSERVER_ORIGIN}/secrets`, { method: 'POST', body: secret })
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
  const issued = (await res.json()) as IssuedKey
  await rememberSecret(issued.key)
  return issued
}

export type EventView = Record<string, any>

export async function auditEventsFor(importId: string, key: string): Promise<EventView[]> {
  const res = await api(`/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
  if (res.status !== 200) throw new Error(`audit events: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { data: EventView[] }).data
}
