import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { SECRET_MARKER } from '../src/operations/resources'
import { allSettled, getJson, listAll, wipeAudit } from './support/audit'
import { expectError } from './support/errors'
import { api, jsonInit } from './support/gateway'
import { issueKey, rememberSecret, type IssuedKey } from './support/keys'
import { sim } from './support/simulator'

const W = '/websets/v0/webhooks'
let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey(['webhooks:read', 'webhooks:write', 'audit:read'])
})

const events = (query: Record<string, string>) => listAll(key.key, query)
const verify = async () => (await getJson('/audit/verify', key.key)).body
const created = { url: 'https://hooks.example.com/a', events: ['webset.created'], metadata: { team: 'growth' } }

async function createWebhook() {
  const res = await api(W, jsonInit('POST', key.key, created))
  expect(res.status).toBe(200)
  const body = (await res.json()) as Record<string, any>
  await rememberSecret(body.secret)
  return { res, body }
}

describe('webhook changes are served and audited', () => {
  it('create: passes the secret to the caller once, keeps a marker in the row and the export', async () => {
    const { res, body } = await createWebhook()
    expect(body).toMatchObject({ object: 'webhook', status: 'active', url: created.url, metadata: created.metadata })
    expect(body.secret).toMatch(/^whsec_/)
    await allSettled()
    const [row, ...rest] = await events({ resourceType: 'webhook' })
    expect(rest).toEqual([])
    expect(row).toMatchObject({
      action: 'webhook.create',
      resourceType: 'webhook',
      resourceId: body.id,
      importId: null,
      outcome: 'succeeded',
      upstreamStatus: 200,
      requestId: res.headers.get('x-request-id'),
      requestBody: created,
      before: null,
      after: { id: body.id, url: created.url, secret: SECRET_MARKER },
      sealVersion: 2,
    })
    expect(row!.changes).toEqual(
      expect.arrayContaining([
        { path: 'url', from: null, to: created.url },
        { path: 'metadata.team', from: null, to: 'growth' },
      ])
    )
    const { results } = await env.DB.prepare('SELECT * FROM audit_events').all()
    const stored = JSON.stringify(results)
    expect(stored).not.toContain(body.secret)
    for (const format of ['ndjson', 'csv']) {
      const exported = await (
        await api(`/audit/export?format=${format}&resourceType=webhook`, { headers: { 'x-api-key': key.key } })
      ).text()
      expect(exported).toContain(body.id)
      expect(exported).not.toContain(body.secret)
    }
    // A read never shows the secret again.
    const read = await (await api(`${W}/${body.id}`, { headers: { 'x-api-key': key.key } })).json()
    expect(read).toMatchObject({ id: body.id, secret: null })
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('update: before from a GET, after from the answer, field changes, sealed in the chain', async () => {
    const { body: hook } = await createWebhook()
    const res = await api(
      `${W}/${hook.id}`,
      jsonInit('PATCH', key.key, { url: 'https://hooks.example.com/b', metadata: { team: 'sales' } })
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: hook.id, url: 'https://hooks.example.com/b' })
    await allSettled()
    const [row] = await events({ resourceId: hook.id, action: 'webhook.update' })
    expect(row).toMatchObject({
      action: 'webhook.update',
      resourceType: 'webhook',
      resourceId: hook.id,
      outcome: 'succeeded',
      before: { url: created.url, metadata: { team: 'growth' } },
      after: { url: 'https://hooks.example.com/b', metadata: { team: 'sales' } },
    })
    expect(row!.changes).toEqual([
      { path: 'url', from: created.url, to: 'https://hooks.example.com/b' },
      { path: 'metadata.team', from: 'growth', to: 'sales' },
    ])
    expect((await events({ field: 'url', action: 'webhook.update' })).map((e) => e.id)).toEqual([row!.id])
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('delete: the webhook reads inactive; the row shows the status change', async () => {
    const { body: hook } = await createWebhook()
    const res = await api(`${W}/${hook.id}`, { method: 'DELETE', headers: { 'x-api-key': key.key } })
    expect(res.status).toBe(200)
    await allSettled()
    const [row] = await events({ action: 'webhook.delete' })
    expect(row).toMatchObject({ resourceId: hook.id, outcome: 'succeeded', before: { status: 'active' } })
    expect(row!.changes).toEqual([{ path: 'status', from: 'active', to: 'inactive' }])
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('revert of an update: puts the webhook back, as a webhook.revert row pointing at the event', async () => {
    const { body: hook } = await createWebhook()
    await api(`${W}/${hook.id}`, jsonInit('PATCH', key.key, { events: ['webset.idle'], metadata: { team: 'x' } }))
    await allSettled()
    const [update] = await events({ action: 'webhook.update' })
    const res = await api(`/audit/events/${update!.id}/revert`, { method: 'POST', headers: { 'x-api-key': key.key } })
    expect(res.status).toBe(200)
    const read = (await (await api(`${W}/${hook.id}`, { headers: { 'x-api-key': key.key } })).json()) as any
    expect(read).toMatchObject({ events: created.events, metadata: created.metadata, url: created.url })
    await allSettled()
    const [revert] = await events({ action: 'webhook.revert' })
    expect(revert).toMatchObject({ revertsEventId: update!.id, outcome: 'succeeded', resourceId: hook.id })
    expect(revert!.changes).toEqual([
      { path: 'events', from: ['webset.idle'], to: created.events },
      { path: 'metadata.team', from: 'x', to: 'growth' },
    ])
    // A revert needs the resource's write scope.
    const reader = await issueKey(['audit:read', 'imports:write'])
    await expectError(
      await api(`/audit/events/${update!.id}/revert?force=true`, {
        method: 'POST',
        headers: { 'x-api-key': reader.key },
      }),
      403,
      'FORBIDDEN',
      /webhooks:write/
    )
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('refuses invalid input with 400 and forwards nothing', async () => {
    const { body: hook } = await createWebhook()
    const before = (await sim.requests({ pathIncludes: '/webhooks' })).length
    const bad: [string, string, unknown][] = [
      ['POST', W, { url: 'https://hooks.example.com', events: [] }],
      ['POST', W, { url: 'ftp://hooks.example.com', events: ['webset.created'] }],
      ['POST', W, { url: 'https://hooks.example.com', events: ['webset.nope'] }],
      ['POST', W, { events: ['webset.created'] }],
      ['POST', W, { url: 'https://hooks.example.com', events: ['webset.created'], secret: 'mine' }],
      ['PATCH', `${W}/${hook.id}`, { status: 'inactive' }],
      ['PATCH', `${W}/${hook.id}`, { metadata: { a: 1 } }],
      ['PATCH', `${W}/bad id!`, { url: 'https://hooks.example.com' }],
      ['DELETE', `${W}/bad id!`, undefined],
    ]
    for (const [method, path, body] of bad) {
      const res = await api(
        path,
        body === undefined ? { method, headers: { 'x-api-key': key.key } } : jsonInit(method, key.key, body)
      )
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400)
    }
    expect((await sim.requests({ pathIncludes: '/webhooks' })).length).toBe(before)
    await allSettled()
    expect((await events({ resourceType: 'webhook' })).length).toBe(1)
  })

  it("passes Exa's errors through with a failed row", async () => {
    const { body: hook } = await createWebhook()
    await sim.fault({
      kind: 'status',
      method: 'PATCH',
      pathIncludes: hook.id,
      status: 422,
      body: { error: 'no', tag: 'X' },
    })
    const res = await api(`${W}/${hook.id}`, jsonInit('PATCH', key.key, { url: 'https://hooks.example.com/c' }))
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ error: 'no', tag: 'X' })
    const missing = await api(`${W}/webhook_missing`, { method: 'DELETE', headers: { 'x-api-key': key.key } })
    expect(missing.status).toBe(404)
    await allSettled()
    const failed = await events({ outcome: 'failed' })
    expect(failed.map((e) => [e.action, e.upstreamStatus])).toEqual([
      ['webhook.delete', 404],
      ['webhook.update', 422],
    ])
    expect(await verify()).toMatchObject({ ok: true })
  })

  it('needs webhooks:write', async () => {
    const reader = await issueKey(['webhooks:read'])
    await expectError(await api(W, jsonInit('POST', reader.key, created)), 403, 'FORBIDDEN', /webhooks:write/)
  })
})

describe('filters by resource', () => {
  it('resourceType and resourceId select a resource; importId still selects an import', async () => {
    const both = await issueKey(['webhooks:write', 'imports:write', 'audit:read'])
    key = both
    const { body: hook } = await createWebhook()
    const item = await sim.seed({ title: 'a' })
    expect((await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', both.key, { title: 'b' }))).status).toBe(200)
    await allSettled()
    expect((await events({ resourceType: 'import' })).map((e) => e.importId)).toEqual([item.id])
    expect((await events({ resourceType: 'import', resourceId: item.id })).map((e) => e.action)).toEqual([
      'import.update',
    ])
    expect((await events({ importId: item.id })).map((e) => e.resourceId)).toEqual([item.id])
    expect((await events({ resourceId: hook.id })).map((e) => e.action)).toEqual(['webhook.create'])
    expect((await events({ resourceType: 'webhook', resourceId: item.id })).length).toBe(0)
    const bad = await api('/audit/events?resourceType=nope', { headers: { 'x-api-key': both.key } })
    expect(bad.status).toBe(400)
  })
})
