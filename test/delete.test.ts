import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor } from './support/audit'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

// exa-js sends content-type: application/json on a DELETE without a body; so do these.
const del = (id: string, k = key.key) =>
  api(`/websets/v0/imports/${id}`, {
    method: 'DELETE',
    headers: { 'x-api-key': k, 'content-type': 'application/json' },
  })

describe('DELETE /websets/v0/imports/:id', () => {
  it("answers Exa's 200 with the deleted Import unchanged, and the import is gone", async () => {
    const item = await sim.seed({ title: 'Old list', metadata: { owner: 'ana' } })
    const res = await del(item.id)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(item)
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    expect((await sim.requests({ method: 'DELETE' })).map((r) => r.path)).toEqual([`/websets/v0/imports/${item.id}`])
    expect((await api(`/websets/v0/imports/${item.id}`, { headers: { 'x-api-key': key.key } })).status).toBe(404)
  })

  it('audits import.delete with the before snapshot, after null and changes to nothing', async () => {
    const item = await sim.seed({ title: 'Old list', metadata: { owner: 'ana' } })
    const res = await del(item.id)
    const [event, ...rest] = await auditEventsFor(item.id, key.key)
    expect(rest).toEqual([])
    expect(event).toMatchObject({
      action: 'import.delete',
      importId: item.id,
      outcome: 'succeeded',
      actor: key.name,
      before: item,
      after: null,
      requestBody: null,
      upstreamStatus: 200,
      requestId: res.headers.get('x-request-id'),
      upstreamRequestId: res.headers.get('x-upstream-request-id'),
    })
    expect(event!.changes).toEqual([
      { path: 'title', from: 'Old list', to: null },
      { path: 'metadata.owner', from: 'ana', to: null },
    ])
  })
})

describe('DELETE validation and auth: refused before anything goes upstream', () => {
  it('refuses a bad id with 400 INVALID_PARAMS', async () => {
    const res = await del('a.b')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ tag: 'INVALID_PARAMS', issues: [expect.objectContaining({ path: 'id' })] })
    expect(await sim.requests()).toEqual([])
  })

  it('refuses a missing key with 401 and a read-only key with 403', async () => {
    const item = await sim.seed()
    const anonymous = await api(`/websets/v0/imports/${item.id}`, { method: 'DELETE' })
    expect(anonymous.status).toBe(401)
    const reader = await issueKey(['imports:read'])
    const forbidden = await del(item.id, reader.key)
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toMatchObject({ tag: 'FORBIDDEN', error: expect.stringContaining('imports:write') })
    expect(await sim.requests()).toEqual([])
    expect(await sim.get(item.id)).toEqual(item)
    expect(await auditEventsFor(item.id, key.key)).toEqual([])
  })
})

describe('DELETE upstream errors', () => {
  afterEach(async () => {
    await env.DB.exec('DROP TRIGGER IF EXISTS refuse_audit_insert')
  })

  it("passes Exa's 404 for an unknown import through and records a failed attempt, sending no DELETE", async () => {
    const res = await del('import_missing')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ tag: 'NOT_FOUND', error: expect.stringContaining('import_missing') })
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    expect(await sim.requests({ method: 'DELETE' })).toEqual([])
    const [event] = await auditEventsFor('import_missing', key.key)
    expect(event).toMatchObject({ action: 'import.delete', outcome: 'failed', upstreamStatus: 404, before: null })
  })

  it('passes a 500 on the DELETE through, never retried, and keeps the before on the failed row', async () => {
    const item = await sim.seed({ title: 'keep me' })
    await sim.fault({ kind: 'status', status: 503, method: 'DELETE' })
    const res = await del(item.id)
    expect(res.status).toBe(503)
    expect(await sim.requests({ method: 'DELETE' })).toHaveLength(1)
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({
      outcome: 'failed',
      upstreamStatus: 503,
      before: { title: 'keep me' },
      after: null,
      changes: [],
    })
    expect((await sim.get(item.id)).title).toBe('keep me')
  })

  it('answers 503 AUDIT_UNAVAILABLE and deletes nothing when the pending row cannot be written', async () => {
    const item = await sim.seed()
    await env.DB.exec(
      "CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    const res = await del(item.id)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ tag: 'AUDIT_UNAVAILABLE' })
    expect(await sim.requests({ method: 'DELETE' })).toEqual([])
    expect(await sim.get(item.id)).toEqual(item)
  })

  it('has the pending row with its before committed when the DELETE reaches Exa', async () => {
    const item = await sim.seed({ title: 'before' })
    await sim.fault({ kind: 'latency', latencyMs: 300, method: 'DELETE' })
    const pending = del(item.id)
    // Poll until Exa holds the DELETE, then look at the log.
    while ((await sim.requests({ method: 'DELETE' })).length === 0) await new Promise((r) => setTimeout(r, 20))
    const row = await env.DB.prepare('SELECT outcome, before FROM audit_events WHERE import_id = ?')
      .bind(item.id)
      .first<{ outcome: string; before: string }>()
    expect(row?.outcome).toBe('pending')
    expect(JSON.parse(row!.before)).toEqual(item)
    expect((await pending).status).toBe(200)
  })
})
