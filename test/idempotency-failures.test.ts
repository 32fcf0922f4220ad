import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeAhead } from '../src/audit/recorder'
import { parseConfig, type Config } from '../src/env'
import { reconcilePending } from '../src/operations/reconcile'
import { allSettled, startFor } from './support/audit'
import { db } from './support/d1'
import { api, jsonInit } from './support/gateway'
import { ageClaim, allow, claimOf, deadClaim, refuse, requestHash } from './support/idempotency'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// Issue 17 §3: whatever fails between the steps of an idempotent change (claim the key, read the
// before, write-ahead row + link, forward to Exa, store the answer), one Idempotency-Key reaches
// Exa at most once, and a client whose change was applied gets Exa's answer, now or on a replay.

const ABANDONED = 61_000
const TRIGGER = 'refuse_step'
const SECOND_TRIGGER = 'refuse_other_step'
let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})
afterEach(async () => {
  await allow(TRIGGER)
  await allow(SECOND_TRIGGER)
})

const path = (id: string) => `/websets/v0/imports/${id}`
const patch = (id: string, idempotencyKey: string, options: { settle?: boolean } = {}) =>
  api(path(id), jsonInit('PATCH', key.key, { title: 'new' }, { 'idempotency-key': idempotencyKey }), options)
const patches = async () => (await sim.requests({ method: 'PATCH' })).length

async function expectInProgress(res: Response) {
  expect(res.status).toBe(409)
  expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
  expect(await res.json()).toMatchObject({ tag: 'CONFLICT', error: expect.stringMatching(/in progress/) })
}

async function expectReplayOfApplied(res: Response, title = 'new') {
  expect(res.status).toBe(200)
  expect(res.headers.get('idempotent-replayed')).toBe('true')
  expect(await res.json()).toMatchObject({ title })
}

describe('a failure between the steps of an idempotent PATCH never sends it twice', () => {
  it('claim refused by D1: 503, nothing sent; a retry runs once', async () => {
    const item = await sim.seed({ title: 'old' })
    await refuse(TRIGGER, 'INSERT ON idempotency_records')
    const res = await patch(item.id, 'k-claim')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ tag: 'STORAGE_UNAVAILABLE' })
    expect(await patches()).toBe(0)
    await allow(TRIGGER)
    expect((await patch(item.id, 'k-claim')).status).toBe(200)
    expect(await patches()).toBe(1)
  })

  it('worker died after the claim, before the write-ahead row: 409 for a minute, then taken over and sent once', async () => {
    const item = await sim.seed({ title: 'old' })
    const hash = await requestHash('PATCH', path(item.id), JSON.stringify({ title: 'new' }))
    await deadClaim(key.id, 'k-dead-early', hash, 'req_dead', 1_000)
    await expectInProgress(await patch(item.id, 'k-dead-early'))
    expect(await patches()).toBe(0)
    await ageClaim('k-dead-early', ABANDONED)
    const res = await patch(item.id, 'k-dead-early')
    expect(res.status).toBe(200)
    expect(res.headers.get('idempotent-replayed')).toBeNull()
    expect(await patches()).toBe(1)
  })

  it('before read fails (Exa 503, also on its one retry): 503, nothing sent, claim dropped; a retry runs once', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ kind: 'status', status: 503, method: 'GET', times: 2 })
    expect((await patch(item.id, 'k-before')).status).toBe(503)
    expect(await claimOf('k-before')).toBeNull()
    expect((await patch(item.id, 'k-before')).status).toBe(200)
    expect(await patches()).toBe(1)
  })

  it.each([
    ['the write-ahead row', 'INSERT ON audit_events'],
    ["the claim's link to it (same batch)", 'UPDATE OF event_id ON idempotency_records'],
  ])('%s refused by D1: 503 AUDIT_UNAVAILABLE, nothing sent; a retry runs once', async (_, event) => {
    const item = await sim.seed({ title: 'old' })
    await refuse(TRIGGER, event)
    const res = await patch(item.id, 'k-write-ahead')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ tag: 'AUDIT_UNAVAILABLE' })
    expect(await patches()).toBe(0)
    await allow(TRIGGER)
    expect((await patch(item.id, 'k-write-ahead')).status).toBe(200)
    expect(await patches()).toBe(1)
  })

  it('worker died after the write-ahead row, before or while forwarding: never taken over', async () => {
    const item = await sim.seed({ title: 'old' })
    const hash = await requestHash('PATCH', path(item.id), JSON.stringify({ title: 'new' }))
    await deadClaim(key.id, 'k-dead-late', hash, 'req_dead', 0)
    const start = { ...startFor(item.id), keyId: key.id, requestId: 'req_dead', idempotencyKey: 'k-dead-late' }
    const row = await writeAhead(db(), start, { keyId: key.id, idempotencyKey: 'k-dead-late' })
    expect(await claimOf('k-dead-late')).toMatchObject({ request_id: 'req_dead', event_id: row.id })
    await ageClaim('k-dead-late', ABANDONED)
    await expectInProgress(await patch(item.id, 'k-dead-late'))
    expect(await claimOf('k-dead-late')).toMatchObject({ request_id: 'req_dead', event_id: row.id })
    expect(await patches()).toBe(0)
  })

  it.each([
    // In workerd the simulator's dropped connection reaches the worker as a 500 (e2e: a real reset).
    ['a dropped connection', { kind: 'drop' as const }, 500],
    ['an answer that is not an Import', { kind: 'malformed' as const }, 502],
    ["Exa's 503", { kind: 'status' as const, status: 503 }, 503],
  ])('forward fails with %s: the retry, even past a minute, is answered and never sent', async (_, fault, status) => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ ...fault, method: 'PATCH' })
    expect((await patch(item.id, 'k-forward', { settle: false })).status).toBe(status)
    const retry = await patch(item.id, 'k-forward', { settle: false })
    expect(retry.status).toBe(409)
    await ageClaim('k-forward', ABANDONED)
    expect((await patch(item.id, 'k-forward', { settle: false })).status).toBe(409)
    expect(await patches()).toBe(1)
  })

  it('forward times out and Exa applies it late: 409 while settling (also 61 s on), then Exa’s answer replayed', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ kind: 'latency', latencyMs: 1_500, method: 'PATCH' })
    expect((await patch(item.id, 'k-timeout', { settle: false })).status).toBe(504)
    await expectInProgress(await patch(item.id, 'k-timeout', { settle: false }))
    await ageClaim('k-timeout', ABANDONED)
    await expectInProgress(await patch(item.id, 'k-timeout', { settle: false }))
    // The background settle looks at Exa 1, 4 and 10 s after the timeout (docs/architecture.md §5).
    await allSettled(20_000)
    await expectReplayOfApplied(await patch(item.id, 'k-timeout'))
    expect(await patches()).toBe(1)
  }, 30_000)

  it("storing the answer refused by D1: the client gets Exa's answer, a retry (also 61 s on) its replay", async () => {
    const item = await sim.seed({ title: 'old' })
    await refuse(TRIGGER, 'UPDATE OF state ON idempotency_records')
    const res = await patch(item.id, 'k-store')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ title: 'new' })
    await expectReplayOfApplied(await patch(item.id, 'k-store'))
    await ageClaim('k-store', ABANDONED)
    await expectReplayOfApplied(await patch(item.id, 'k-store'))
    expect(await patches()).toBe(1)
  })

  it("storing the answer and settling the row both refused: 409 until the reconciler settles it, then Exa's answer", async () => {
    const item = await sim.seed({ title: 'old' })
    await refuse(TRIGGER, 'UPDATE OF state ON idempotency_records')
    await refuse(SECOND_TRIGGER, 'UPDATE ON audit_events')
    expect((await patch(item.id, 'k-unsettled')).status).toBe(200)
    await ageClaim('k-unsettled', ABANDONED)
    await expectInProgress(await patch(item.id, 'k-unsettled'))
    await allow(SECOND_TRIGGER)
    await reconcilePending(db(), parseConfig(env) as Config, Date.now() + 3 * 60_000)
    await expectReplayOfApplied(await patch(item.id, 'k-unsettled'))
    expect(await patches()).toBe(1)
  })

  it("storing the answer and sealing the row both refused: the row keeps Exa's answer, so a retry gets its replay", async () => {
    const item = await sim.seed({ title: 'old' })
    await refuse(TRIGGER, 'UPDATE OF state ON idempotency_records')
    await refuse(SECOND_TRIGGER, 'INSERT ON audit_chain')
    expect((await patch(item.id, 'k-unsealed')).status).toBe(200)
    await ageClaim('k-unsealed', ABANDONED)
    await expectReplayOfApplied(await patch(item.id, 'k-unsealed'))
    await allow(SECOND_TRIGGER)
    await reconcilePending(db(), parseConfig(env) as Config, Date.now() + 3 * 60_000)
    await expectReplayOfApplied(await patch(item.id, 'k-unsealed'))
    expect(await patches()).toBe(1)
  })

  it('a request that stalled past a minute before its write-ahead lost its claim: it sends nothing', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ kind: 'latency', latencyMs: 400, method: 'GET' })
    const stalled = patch(item.id, 'k-stalled')
    await new Promise((resolve) => setTimeout(resolve, 100))
    await ageClaim('k-stalled', ABANDONED)
    const retry = await patch(item.id, 'k-stalled')
    expect(retry.status).toBe(200)
    const late = await stalled
    expect(late.status).toBe(409)
    expect(await late.json()).toMatchObject({ tag: 'CONFLICT', error: expect.stringMatching(/took it over/) })
    expect(await patches()).toBe(1)
    const rows = await env.DB.prepare('SELECT outcome, error FROM audit_events WHERE request_id = ?')
      .bind(late.headers.get('x-request-id'))
      .all()
    expect(rows.results).toEqual([{ outcome: 'failed', error: expect.stringMatching(/taken over/) }])
  })
})

describe('a create and a delete with an Idempotency-Key', () => {
  const body = { size: 10, count: 1, format: 'csv', entity: { type: 'company' }, title: 'once' }
  const create = (idempotencyKey: string, options: { settle?: boolean } = {}) =>
    api('/websets/v0/imports', jsonInit('POST', key.key, body, { 'idempotency-key': idempotencyKey }), options)
  const remove = (id: string, idempotencyKey: string, options: { settle?: boolean } = {}) =>
    api(path(id), jsonInit('DELETE', key.key, undefined, { 'idempotency-key': idempotencyKey }), options)
  const count = async (method: string) => (await sim.requests({ method })).length

  it("create, answer not stored: a retry (also 61 s on) gets Exa's import replayed, one POST", async () => {
    await refuse(TRIGGER, 'UPDATE OF state ON idempotency_records')
    const first = await create('k-create-store')
    expect(first.status).toBe(201)
    const { id } = (await first.json()) as { id: string }
    await ageClaim('k-create-store', ABANDONED)
    const again = await create('k-create-store')
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toMatchObject({ id, title: 'once' })
    expect(await count('POST')).toBe(1)
  })

  it('create, dropped connection: a retry, even past a minute, is never sent', async () => {
    await sim.fault({ kind: 'drop', method: 'POST' })
    expect((await create('k-create-drop', { settle: false })).status).toBeGreaterThanOrEqual(500)
    await ageClaim('k-create-drop', ABANDONED)
    expect((await create('k-create-drop', { settle: false })).status).toBe(409)
    expect(await count('POST')).toBe(1)
  })

  it("delete, answer not stored: a retry (also 61 s on) gets Exa's answer replayed, one DELETE", async () => {
    const item = await sim.seed({ title: 'doomed' })
    await refuse(TRIGGER, 'UPDATE OF state ON idempotency_records')
    expect((await remove(item.id, 'k-delete-store')).status).toBe(200)
    await ageClaim('k-delete-store', ABANDONED)
    await expectReplayOfApplied(await remove(item.id, 'k-delete-store'), 'doomed')
    expect(await count('DELETE')).toBe(1)
  })

  it('delete, dropped connection: a retry, even past a minute, is never sent', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'drop', method: 'DELETE' })
    expect((await remove(item.id, 'k-delete-drop', { settle: false })).status).toBeGreaterThanOrEqual(500)
    await ageClaim('k-delete-drop', ABANDONED)
    expect((await remove(item.id, 'k-delete-drop', { settle: false })).status).toBe(409)
    expect(await count('DELETE')).toBe(1)
  })
})

describe('the claim record', () => {
  it('names its holder and links the write-ahead row', async () => {
    const item = await sim.seed()
    const res = await patch(item.id, 'k-link')
    const claim = await claimOf('k-link')
    expect(claim).toMatchObject({ state: 'done', request_id: res.headers.get('x-request-id') })
    const row = await env.DB.prepare('SELECT request_id FROM audit_events WHERE id = ?').bind(claim!.event_id).first()
    expect(row).toEqual({ request_id: res.headers.get('x-request-id') })
  })
})
