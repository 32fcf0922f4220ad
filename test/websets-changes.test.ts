import { beforeEach, describe, expect, it } from 'vitest'
import { allSettled, getJson, listAll, wipeAudit } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { issueKey, type IssuedKey } from './support/keys'
import { sim } from './support/simulator'

const W = '/websets/v0/websets'
let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey(['websets:read', 'websets:write', 'audit:read'])
})

const events = (query: Record<string, string>) => listAll(key.key, query)
const verify = async () => (await getJson('/audit/verify', key.key)).body
const headers = () => ({ 'x-api-key': key.key })

describe('webset changes are served and audited', () => {
  it('update by externalId: the row names the webset by its id, with before, after and changes', async () => {
    const { webset } = await sim.seedWebset({ externalId: 'crm:9', metadata: { owner: 'ana' } })
    const res = await api(`${W}/crm%3A9`, jsonInit('POST', key.key, { metadata: { owner: 'bo' } }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: webset.id, metadata: { owner: 'bo' } })
    await allSettled()
    const [row, ...rest] = await events({ resourceType: 'webset' })
    expect(rest).toEqual([])
    expect(row).toMatchObject({
      action: 'webset.update',
      resourceType: 'webset',
      resourceId: webset.id,
      outcome: 'succeeded',
      before: { id: webset.id, metadata: { owner: 'ana' } },
      after: { id: webset.id, metadata: { owner: 'bo' } },
      requestBody: { metadata: { owner: 'bo' } },
    })
    expect(row!.changes).toEqual([{ path: 'metadata.owner', from: 'ana', to: 'bo' }])
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('revert of an update puts the metadata back (webset.revert)', async () => {
    const { webset } = await sim.seedWebset({ metadata: { owner: 'ana' } })
    await api(`${W}/${webset.id}`, jsonInit('POST', key.key, { metadata: { owner: 'cy', stage: 'x' } }))
    await allSettled()
    const [update] = await events({ action: 'webset.update' })
    const res = await api(`/audit/events/${update!.id}/revert`, { method: 'POST', headers: headers() })
    expect(res.status).toBe(200)
    expect(await (await api(`${W}/${webset.id}`, { headers: headers() })).json()).toMatchObject({
      metadata: { owner: 'ana' },
    })
    await allSettled()
    const [revert] = await events({ action: 'webset.revert' })
    expect(revert).toMatchObject({ revertsEventId: update!.id, outcome: 'succeeded', resourceId: webset.id })
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('delete: records what was destroyed as ids and counts, not the items', async () => {
    const seeded = await sim.seedWebset({ items: 3 })
    const res = await api(`${W}/${seeded.webset.id}`, { method: 'DELETE', headers: headers() })
    expect(res.status).toBe(200)
    expect((await api(`${W}/${seeded.webset.id}`, { headers: headers() })).status).toBe(404)
    await allSettled()
    const [row] = await events({ action: 'webset.delete' })
    expect(row).toMatchObject({ resourceId: seeded.webset.id, outcome: 'succeeded' })
    expect(row!.after.destroyed).toEqual({
      searches: seeded.webset.searches.map((s: { id: string }) => s.id),
      enrichments: seeded.webset.enrichments.map((e: { id: string }) => e.id),
      monitors: seeded.webset.monitors.map((m: { id: string }) => m.id),
      imports: [],
      itemsFound: 3,
    })
    expect(row!.after.searches).toBeUndefined()
    expect(JSON.stringify(row)).not.toContain(seeded.items[0]!.id)
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('cancel: a bodiless POST, the status change recorded', async () => {
    const { webset } = await sim.seedWebset()
    const res = await api(`${W}/${webset.id}/cancel`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
    })
    expect(res.status).toBe(200)
    await allSettled()
    const [row] = await events({ action: 'webset.cancel' })
    expect(row).toMatchObject({ resourceId: webset.id, outcome: 'succeeded', after: { status: 'idle' } })
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('refuses invalid input with 400 and forwards nothing; passes upstream errors with a failed row', async () => {
    const { webset } = await sim.seedWebset()
    const before = (await sim.requests({ pathIncludes: '/websets/v0/websets' })).length
    for (const body of [{ title: 'x' }, { metadata: { a: 1 } }, { metadata: 'x' }]) {
      expect((await api(`${W}/${webset.id}`, jsonInit('POST', key.key, body))).status).toBe(400)
    }
    expect((await api(`${W}/..`, { method: 'DELETE', headers: headers() })).status).toBeGreaterThanOrEqual(400)
    expect((await sim.requests({ pathIncludes: '/websets/v0/websets' })).length).toBe(before)

    await sim.fault({ kind: 'status', method: 'POST', pathIncludes: webset.id, status: 409, body: { error: 'busy' } })
    const res = await api(`${W}/${webset.id}`, jsonInit('POST', key.key, { metadata: { a: 'b' } }))
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ error: 'busy' })
    await allSettled()
    expect((await events({ outcome: 'failed' })).map((e) => [e.action, e.upstreamStatus])).toEqual([
      ['webset.update', 409],
    ])
    expect(await verify()).toMatchObject({ ok: true })
  })
})
