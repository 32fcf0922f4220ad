import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { reconcilePending } from '../src/operations/reconcile'
import { createDb } from '../src/db/client'
import { parseConfig, type Config } from '../src/env'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'
import { eventually } from './support/eventually'
import { ulid } from '../src/lib/ids'
import { insertAbandonedRow, rowById, rowsFor, runCron } from './support/reconcile'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})
afterEach(async () => {
  await env.DB.exec('DROP TRIGGER IF EXISTS refuse_audit_update')
})

describe('the scheduled reconciler', () => {
  it("settles an old pending row as succeeded when Exa's state shows the change, and never deletes it", async () => {
    const item = await sim.seed({ title: 'applied', metadata: { owner: 'bo' } })
    const id = await insertAbandonedRow(item.id, { title: 'applied', metadata: { owner: 'bo' } }, 10, {
      before: { ...item, title: 'old' },
    })
    await runCron()
    const [row] = await rowsFor(item.id)
    expect(row).toMatchObject({ id, outcome: 'succeeded', reconciled: 1 })
    expect(JSON.parse(row!.after!)).toMatchObject({ title: 'applied' })
  })

  it("settles as failed, with an explanation, when Exa's state does not show the change or the import is gone", async () => {
    // Exa's updatedAt before the row started proves the change was not applied (docs/audit.md#outcomes).
    const item = await sim.seed({ title: 'unchanged', updatedAt: new Date(Date.now() - 3_600_000).toISOString() })
    await insertAbandonedRow(item.id, { title: 'never applied' }, 10)
    await insertAbandonedRow('import_gone', { title: 'x' }, 10)
    await runCron()
    const [row] = await rowsFor(item.id)
    expect(row).toMatchObject({
      outcome: 'failed',
      reconciled: 1,
      error: expect.stringMatching(/has not changed since before the call/),
    })
    const [gone] = await rowsFor('import_gone')
    expect(gone).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/no longer exists/) })
  })

  it("a search monitor's trigger left pending is unknown, not failed: a trigger does not change the monitor", async () => {
    const { monitor } = await sim.seedAgent<{ monitor: { id: string; updatedAt: string } }>()
    // Started after the monitor last changed, as a trigger whose worker died would be.
    const startedAt = Date.parse(monitor.updatedAt) + 5_000
    const id = ulid(startedAt)
    await env.DB.prepare(
      `INSERT INTO audit_events (id, action, resource_type, resource_id, outcome, actor, request_id, started_at)
       VALUES (?, 'search_monitor.trigger', 'search_monitor', ?, 'pending', 'ghost', ?, ?)`
    )
      .bind(id, monitor.id, `req_${id}`, startedAt)
      .run()
    await runCron(5)
    const row = await rowById(id)
    expect(row).toMatchObject({ outcome: 'unknown', reconciled: 1 })
    expect(row!.error).toMatch(/cannot be proven/)
  })

  it('leaves recent pending rows alone (a request may still be in flight)', async () => {
    const item = await sim.seed({ title: 'x' })
    await insertAbandonedRow(item.id, { title: 'x' }, 0)
    await runCron()
    expect((await rowsFor(item.id))[0]?.outcome).toBe('pending')
  })

  it('leaves a row pending while Exa cannot answer, and settles it on a later run', async () => {
    const item = await sim.seed({ title: 'later' })
    await insertAbandonedRow(item.id, { title: 'later' }, 10)
    await sim.fault({ kind: 'status', status: 503, pathIncludes: item.id })
    await runCron()
    expect((await rowsFor(item.id))[0]?.outcome).toBe('pending')
    await runCron()
    expect((await rowsFor(item.id))[0]?.outcome).toBe('succeeded')
  })
})

describe('finalize failures', () => {
  const refuseUpdates = () =>
    env.DB.exec(
      "CREATE TRIGGER refuse_audit_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'd1 down'); END"
    )

  it("still gives the client Exa's answer, and retries the finalize off the request path", async () => {
    const item = await sim.seed({ title: 'old' })
    await refuseUpdates()
    const res = await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'new' }), {
      settle: false,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ title: 'new' })
    expect((await rowsFor(item.id))[0]?.outcome).toBe('pending')
    await env.DB.exec('DROP TRIGGER refuse_audit_update')
    const [row] = await eventually(
      () => rowsFor(item.id),
      (rows) => rows[0]?.outcome === 'succeeded',
      8_000
    )
    expect(row).toMatchObject({ outcome: 'succeeded', reconciled: 0 })
    expect(JSON.parse(row!.after!)).toMatchObject({ title: 'new' })
  })

  it('leaves the row pending for the reconciler when every retry fails', async () => {
    const item = await sim.seed({ title: 'old' })
    await refuseUpdates()
    expect(
      (await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'new' }), { settle: false }))
        .status
    ).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 4500))
    expect((await rowsFor(item.id))[0]?.outcome).toBe('pending')
    await env.DB.exec('DROP TRIGGER refuse_audit_update')
    const config = parseConfig(env) as Config
    await reconcilePending(createDb(env.DB), config, Date.now() + 3 * 60_000)
    expect((await rowsFor(item.id))[0]).toMatchObject({ outcome: 'succeeded', reconciled: 1 })
  })
})

describe('unknown outcomes of the PATCH', () => {
  it('a PATCH that timed out but was applied is settled as succeeded in the background', async () => {
    const item = await sim.seed({ title: 'old' })
    await sim.fault({ kind: 'latency', latencyMs: 1500, method: 'PATCH' })
    const res = await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'slow but applied' }), {
      settle: false,
    })
    expect(res.status).toBe(504)
    const [row] = await eventually(
      () => rowsFor(item.id),
      (rows) => rows[0]?.outcome !== 'pending',
      8_000
    )
    expect(row).toMatchObject({ outcome: 'succeeded', reconciled: 1, error: expect.stringMatching(/did not answer/) })
  })

  it('a PATCH answered with garbage and never applied stays pending, then the reconciler settles it as failed', async () => {
    const item = await sim.seed({ title: 'old', updatedAt: new Date(Date.now() - 3_600_000).toISOString() })
    await sim.fault({ kind: 'malformed', method: 'PATCH' })
    const res = await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'lost' }), {
      settle: false,
    })
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ tag: 'UPSTREAM_ERROR' })
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect((await rowsFor(item.id))[0]?.outcome).toBe('pending')
    await reconcilePending(createDb(env.DB), parseConfig(env) as Config, Date.now() + 3 * 60_000)
    expect((await rowsFor(item.id))[0]).toMatchObject({ outcome: 'failed', reconciled: 1 })
  })
})
