import { env } from 'cloudflare:workers'
import { expect } from 'vitest'
import { settlePending } from '../../src/audit/chain'
import type { AuditStart } from '../../src/audit/recorder'
import { ulid } from '../../src/lib/ids'
import { eventually } from './eventually'
import { api, jsonInit } from './gateway'

export type EventView = Record<string, any>

export async function getJson<T = any>(path: string, key: string): Promise<{ status: number; body: T; res: Response }> {
  const res = await api(path, { headers: { 'x-api-key': key } })
  return { status: res.status, body: (await res.json()) as T, res }
}

/** Waits until no audit row is pending (rows settled on timers, after a failure, or by the cron). */
export async function allSettled(timeoutMs = 5_000) {
  const pending = env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE outcome = 'pending'")
  await eventually(
    () => pending.first<{ n: number }>(),
    (row) => !row?.n,
    timeoutMs
  )
}

export async function auditEventsFor(importId: string, key: string): Promise<EventView[]> {
  const res = await api(`/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
  if (res.status !== 200) throw new Error(`audit events: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { data: EventView[] }).data
}

export const patchImport = (key: string, id: string, body: unknown) =>
  api(`/websets/v0/imports/${id}`, jsonInit('PATCH', key, body))

/** Every event matching `query`, following nextCursor page by page (as a client would). */
export async function listAll(key: string, query: Record<string, string> = {}, limit = 200): Promise<EventView[]> {
  const events: EventView[] = []
  let cursor: string | null = null
  do {
    const params: URLSearchParams = new URLSearchParams({
      ...query,
      limit: String(limit),
      ...(cursor ? { cursor } : {}),
    })
    const { status, body }: { status: number; body: any } = await getJson(`/audit/events?${params}`, key)
    expect(status, JSON.stringify(body)).toBe(200)
    events.push(...body.data)
    cursor = body.nextCursor
  } while (cursor)
  return events
}

/** Empties the audit tables (this file's own D1; test files have separate storage). */
export async function wipeAudit() {
  await env.DB.batch(
    ['audit_events', 'audit_chain', 'audit_changed_fields'].map((t) => env.DB.prepare(`DELETE FROM ${t}`))
  )
}

/** A write-ahead start as the update route would build it, for tests of the recorder itself. */
export const startFor = (importId: string, before: Record<string, unknown> | null = null): AuditStart => ({
  keyId: 'key_test',
  actor: 'tester',
  origin: null,
  ip: null,
  userAgent: 'vitest',
  requestId: `req_${ulid()}`,
  idempotencyKey: null,
  action: 'import.update',
  resourceType: 'import',
  resourceId: importId,
  requestBody: { title: 'x' },
  before: before as AuditStart['before'],
})

export type Link = { seq: number; event_id: string; row_hash: string; chain_hash: string }

export async function links(): Promise<Link[]> {
  return (await env.DB.prepare('SELECT seq, event_id, row_hash, chain_hash FROM audit_chain ORDER BY seq').all<Link>())
    .results
}

/** Whether this call settled the row (settlePending's answer, as the route's settle reads it). */
export const settles = async (...args: Parameters<typeof settlePending>) => (await settlePending(...args)).settled
