import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

const patch = (id: string, body: unknown = { title: 'new' }, settle = true) =>
  api(`/websets/v0/imports/${id}`, jsonInit('PATCH', key.key, body), { settle })

describe('upstream errors on the before read', () => {
  it('passes a 404 through with its body and records a failed attempt with no before', async () => {
    const res = await patch('import_missing')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ tag: 'NOT_FOUND', error: expect.stringContaining('import_missing') })
    const [event, ...rest] = await auditEventsFor('import_missing', key.key)
    expect(rest).toEqual([])
    expect(event).toMatchObject({ outcome: 'failed', before: null, after: null, upstreamStatus: 404 })
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
  })

  it('passes a 500 through (after one retry) and forwards no PATCH', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'status', status: 500, method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id)
    expect(res.status).toBe(500)
    expect(await sim.requests({ method: 'GET' })).toHaveLength(1)
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({ outcome: 'failed', upstreamStatus: 500, before: null })
  })

  it('retries the before read once on a 503, then goes on', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ kind: 'status', status: 503, method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id)
    expect(res.status).toBe(200)
    expect(await sim.requests({ method: 'GET' })).toHaveLength(2)
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({ outcome: 'succeeded', before: { title: 'old' }, after: { title: 'new' } })
  })

  it('answers 502 UPSTREAM_ERROR for garbage, without retrying it', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'malformed', method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id)
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ tag: 'UPSTREAM_ERROR' })
    expect(await sim.requests({ method: 'GET' })).toHaveLength(1)
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({ outcome: 'failed', before: null })
  })

  it('answers 504 UPSTREAM_TIMEOUT when Exa is slower than UPSTREAM_TIMEOUT_MS', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'latency', latencyMs: 1500, method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id)
    expect(res.status).toBe(504)
    expect(await res.json()).toMatchObject({ tag: 'UPSTREAM_TIMEOUT', error: expect.stringMatching(/1000 ms/) })
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
  })
})

describe('answers that are not JSON', () => {
  it('keeps the status of an error answer that is not JSON, in our error shape', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'notJson', status: 404, method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ tag: 'UPSTREAM_ERROR', error: expect.stringMatching(/not JSON/) })
  })
})

describe('upstream errors on the PATCH', () => {
  it('passes a 429 through with retry-after kept', async () => {
    const item = await sim.seed()
    await sim.fault({
      kind: 'status',
      status: 429,
      method: 'PATCH',
      headers: { 'retry-after': '7' },
      body: { error: 'slow down', tag: 'RATE_LIMITED' },
    })
    const res = await patch(item.id)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(await res.json()).toEqual({ error: 'slow down', tag: 'RATE_LIMITED' })
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({ outcome: 'failed', upstreamStatus: 429 })
  })

  it('answers 502 for a 200 whose body is not an Import, leaving the row to be settled from Exa', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'malformed', method: 'PATCH' })
    const res = await patch(item.id, undefined, false)
    expect(res.status).toBe(502)
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({ outcome: 'pending', error: expect.stringMatching(/not an Import/) })
  })

  it('passes a 400 through and settles the row as failed with the before kept', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({
      kind: 'status',
      status: 400,
      method: 'PATCH',
      body: { error: 'bad title', tag: 'INVALID_REQUEST_BODY' },
    })
    const res = await patch(item.id)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'bad title', tag: 'INVALID_REQUEST_BODY' })
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({
      outcome: 'failed',
      upstreamStatus: 400,
      before: { title: 'old' },
      after: null,
      changes: [],
    })
  })

  it('never retries the PATCH', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'status', status: 503, method: 'PATCH' })
    const res = await patch(item.id)
    expect(res.status).toBe(503)
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
  })
})

describe('write-ahead', () => {
  afterEach(async () => {
    await env.DB.exec('DROP TRIGGER IF EXISTS refuse_audit_insert')
  })

  it('answers 503 AUDIT_UNAVAILABLE and forwards nothing when the pending row cannot be written', async () => {
    const item = await sim.seed({ title: 'untouched' })
    await env.DB.exec(
      "CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    const res = await patch(item.id)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({
      tag: 'AUDIT_UNAVAILABLE',
      error: expect.stringMatching(/nothing was sent/),
    })
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
    expect((await sim.get(item.id)).title).toBe('untouched')
  })

  it('has the pending row with its before snapshot committed when the PATCH reaches Exa', async () => {
    const item = await sim.seed({ title: 'before' })
    // A slow PATCH leaves time to look at the log while Exa holds the request.
    await sim.fault({ kind: 'latency', latencyMs: 300, method: 'PATCH' })
    const pending = patch(item.id, undefined, false)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
    const row = await env.DB.prepare('SELECT outcome, before FROM audit_events WHERE import_id = ?')
      .bind(item.id)
      .first<{ outcome: string; before: string }>()
    expect(row?.outcome).toBe('pending')
    expect(JSON.parse(row!.before)).toMatchObject({ title: 'before' })
    expect((await pending).status).toBe(200)
  })
})
