import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import worker from '../src/index'
import { getJson } from './support/audit'
import { api, GATEWAY, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { insertAbandonedRow, rowById, rowsFor, runCron } from './support/reconcile'
import { sim } from './support/simulator'

// docs/audit.md#outcomes: a row is settled `succeeded` only when Exa's state proves it, `failed`
// only when Exa's state proves it was not applied, and `unknown` otherwise; one cron run settles
// every row older than the reconcile window.

let alice: IssuedKey
let bob: IssuedKey

beforeEach(async () => {
  await sim.reset()
  alice = await issueKey()
  bob = await issueKey()
})
afterEach(async () => {
  await env.DB.exec('DROP TRIGGER IF EXISTS refuse_chain_insert')
})

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString()

async function expectChainVerifies() {
  const { status, body } = await getJson('/audit/verify', alice.key)
  expect(status).toBe(200)
  expect(body).toMatchObject({ ok: true })
}

describe('an unknown outcome is never settled with someone else’s change', () => {
  it('a hung PATCH, then another key’s PATCH with the same title: the first row ends unknown, without the second’s change', async () => {
    const item = await sim.seed({ title: 'old', metadata: { owner: 'al' }, updatedAt: minutesAgo(60) })
    // Hangs past the gateway's timeout, then the connection drops: never applied at Exa.
    await sim.fault({ kind: 'drop', latencyMs: 1500, method: 'PATCH', pathIncludes: item.id })
    const ctx = createExecutionContext()
    const hung = new Request(
      `${GATEWAY}/websets/v0/imports/${item.id}`,
      jsonInit('PATCH', alice.key, { title: 'same' }, { 'idempotency-key': 'k-hung' })
    ) as Parameters<typeof worker.fetch>[0]
    const res = await worker.fetch(hung, env, ctx)
    expect(res.status).toBe(504)

    const second = await api(
      `/websets/v0/imports/${item.id}`,
      jsonInit('PATCH', bob.key, { title: 'same', metadata: { owner: 'bo' } })
    )
    expect(second.status).toBe(200)
    // The background settle's looks (1, 4 and 10 s) see the title, but cannot prove it is alice's.
    await waitOnExecutionContext(ctx)
    const [first, later] = await rowsFor(item.id)
    expect(first).toMatchObject({ outcome: 'pending' })
    // The later row holds Exa's answer but waits for its turn: the hung PATCH may have come first.
    expect(later).toMatchObject({ outcome: 'pending' })
    expect(JSON.parse(later!.after!)).toMatchObject({ title: 'same' })

    await runCron(3)
    const settled = await rowById(first!.id)
    expect(settled).toMatchObject({ outcome: 'unknown', reconciled: 1, after: null })
    expect(settled!.error).toMatch(/did not answer/)
    expect(settled!.error).toMatch(/outcome unknown: Exa shows the requested change, but it cannot be proven/)
    expect(settled!.error).toContain(later!.id)
    expect(JSON.parse(settled!.changes ?? '[]')).toEqual([])
    // Once the hung one is settled, the later row is sealed in the same run, with Exa's answer.
    expect(await rowById(later!.id)).toMatchObject({ outcome: 'succeeded', reconciled: 0 })
    expect(JSON.parse((await rowById(later!.id))!.before!)).toMatchObject({ title: 'old' })

    const unknown = await getJson(`/audit/events?outcome=unknown`, alice.key)
    expect(unknown.status).toBe(200)
    expect(unknown.body.data.map((event: { id: string }) => event.id)).toEqual([first!.id])
    expect(unknown.body.data[0]).toMatchObject({ outcome: 'unknown', after: null, changes: [] })

    // A repeat is answered from the row, never forwarded; the row cannot be reverted.
    const patches = (await sim.requests({ method: 'PATCH' })).length
    const repeat = await api(
      `/websets/v0/imports/${item.id}`,
      jsonInit('PATCH', alice.key, { title: 'same' }, { 'idempotency-key': 'k-hung' })
    )
    expect(repeat.status).toBe(409)
    expect(((await repeat.json()) as { error: string }).error).toContain(
      `outcome is unknown (audit event ${first!.id})`
    )
    const revert = await api(`/audit/events/${first!.id}/revert`, jsonInit('POST', alice.key, {}))
    expect(revert.status).toBe(409)
    expect((await sim.requests({ method: 'PATCH' })).length).toBe(patches)
    await expectChainVerifies()
  }, 30_000)

  it('two unfinished changes asking for the same title: neither is proven, both end unknown', async () => {
    const item = await sim.seed({ title: 'same', updatedAt: minutesAgo(5) })
    const earlier = await insertAbandonedRow(item.id, { title: 'same' }, 12)
    const later = await insertAbandonedRow(item.id, { title: 'same' }, 10)
    await runCron(3)
    expect(await rowById(earlier)).toMatchObject({ outcome: 'unknown', error: expect.stringContaining(later) })
    expect(await rowById(later)).toMatchObject({ outcome: 'unknown', error: expect.stringContaining(earlier) })
    await expectChainVerifies()
  })
})

describe('one cron run settles every row older than the window', () => {
  it('rows whose worker died after forwarding: succeeded, failed or unknown, more than one page of them', async () => {
    const applied = await sim.seed({ title: 'applied', updatedAt: minutesAgo(5) })
    const untouched = await sim.seed({ title: 'untouched', updatedAt: minutesAgo(60) })
    const overwritten = await sim.seed({ title: 'someone else', updatedAt: minutesAgo(5) })
    const deleted = await sim.seed({ title: 'kept', updatedAt: minutesAgo(60) })
    const appliedId = await insertAbandonedRow(applied.id, { title: 'applied' }, 10)
    const untouchedId = await insertAbandonedRow(untouched.id, { title: 'never' }, 10)
    const overwrittenId = await insertAbandonedRow(overwritten.id, { title: 'mine' }, 10)
    const deleteId = await insertAbandonedRow(deleted.id, null, 10, { action: 'import.delete' })
    const createId = await insertAbandonedRow(null, { size: 1, count: 1 }, 10, { action: 'import.create' })
    const many = []
    for (let i = 0; i < 60; i++) many.push(await insertAbandonedRow('import_gone', { title: 'x' }, 10))

    await runCron(3)
    expect(await rowById(appliedId)).toMatchObject({ outcome: 'succeeded', reconciled: 1 })
    expect(await rowById(untouchedId)).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(/not changed since/),
    })
    expect(await rowById(overwrittenId)).toMatchObject({
      outcome: 'unknown',
      error: expect.stringMatching(/does not show the requested change.*someone else/),
    })
    expect(await rowById(deleteId)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/still exists/) })
    expect(await rowById(createId)).toMatchObject({
      outcome: 'unknown',
      error: expect.stringMatching(/may or may not/),
    })
    const left = await env.DB.prepare("SELECT count(*) AS n FROM audit_events WHERE outcome = 'pending'").first<{
      n: number
    }>()
    expect(left?.n).toBe(0)
    for (const id of many) expect((await rowById(id))?.outcome).toBe('failed')
    await expectChainVerifies()
  })

  it('a row Exa has not answered for since over an hour: unknown, not left pending', async () => {
    const item = await sim.seed({ title: 'x', updatedAt: minutesAgo(200) })
    const recent = await insertAbandonedRow(item.id, { title: 'y' }, 10)
    const old = await insertAbandonedRow(item.id, { title: 'z' }, 120)
    await sim.fault({ kind: 'status', status: 503, pathIncludes: item.id, times: 2 })
    await runCron(3)
    expect(await rowById(old)).toMatchObject({ outcome: 'unknown', error: expect.stringMatching(/over an hour/) })
    expect(await rowById(recent)).toMatchObject({ outcome: 'pending' })
    await runCron(3)
    expect(await rowById(recent)).toMatchObject({ outcome: 'failed' })
  })

  it('a row whose seal failed: the change was applied, the cron settles it succeeded', async () => {
    const item = await sim.seed({ title: 'old', updatedAt: minutesAgo(60) })
    await env.DB.exec(
      "CREATE TRIGGER refuse_chain_insert BEFORE INSERT ON audit_chain BEGIN SELECT RAISE(ABORT, 'd1 down'); END"
    )
    const res = await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', alice.key, { title: 'new' }))
    expect(res.status).toBe(200)
    expect((await rowsFor(item.id))[0]).toMatchObject({ outcome: 'pending' })
    await env.DB.exec('DROP TRIGGER refuse_chain_insert')

    await runCron(0)
    expect((await rowsFor(item.id))[0]).toMatchObject({ outcome: 'pending' })
    await runCron(3)
    const [row] = await rowsFor(item.id)
    // Exa's answer was kept on the row before the seal failed: the cron seals it with that answer.
    expect(row).toMatchObject({ outcome: 'succeeded', reconciled: 0, upstream_status: 200 })
    expect(JSON.parse(row!.after!)).toMatchObject({ title: 'new' })
    await expectChainVerifies()
  })
})
