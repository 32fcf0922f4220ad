import { beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

/**
 * exa-js builds `baseURL + "/websets/…"`, so a base URL given with a trailing slash sends
 * `//websets/…`. The gateway collapses leading slashes and serves the path as usual.
 */
describe('a double slash from a trailing-slash base URL', () => {
  it('serves GET, list, PATCH, DELETE and POST, forwarding the single-slash path', async () => {
    const item = await sim.seed({ title: 'before' })
    const headers = { 'x-api-key': key.key, 'content-type': 'application/json' }
    expect((await api(`//websets/v0/imports/${item.id}`, { headers })).status).toBe(200)
    expect((await api('//websets/v0/imports?limit=1', { headers })).status).toBe(200)
    const patched = await api(`//websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'after' }))
    expect(await patched.json()).toMatchObject({ title: 'after' })
    const created = await api(
      '//websets/v0/imports',
      jsonInit('POST', key.key, { size: 10, count: 1, format: 'csv', entity: { type: 'company' } })
    )
    expect(created.status).toBe(201)
    expect((await api(`///websets/v0/imports/${item.id}`, { method: 'DELETE', headers })).status).toBe(200)

    const paths = (await sim.requests()).map((r) => `${r.method} ${r.path}`)
    expect(paths.every((p) => p.includes(' /websets/v0/imports'))).toBe(true)
    expect(paths).toContain(`DELETE /websets/v0/imports/${item.id}`)
    expect((await auditEventsFor(item.id, key.key)).map((e) => e.action).sort()).toEqual([
      'import.delete',
      'import.update',
    ])
  })

  it('still refuses what it does not serve behind a double slash', async () => {
    const res = await api('//websets/v0/websets', { method: 'PUT', headers: { 'x-api-key': key.key } })
    expect(res.status).toBe(404)
    expect(await sim.requests()).toEqual([])
  })
})

describe('what exa-py sends: update(id, {}) is a PATCH with no body but content-type: application/json', () => {
  it('is forwarded as {} and audited with no changes', async () => {
    const item = await sim.seed({ title: 'same' })
    const res = await api(`/websets/v0/imports/${item.id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': key.key, 'content-type': 'application/json', 'user-agent': 'exa-py 2.16.1' },
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(JSON.stringify(await sim.get(item.id)))
    const [event] = await auditEventsFor(item.id, key.key)
    expect(event).toMatchObject({
      action: 'import.update',
      outcome: 'succeeded',
      requestBody: {},
      changes: [],
      userAgent: 'exa-py 2.16.1',
    })
  })
})

describe("upstream's answers go back unchanged", () => {
  it('keeps the key order and every key of the Import on PATCH and DELETE', async () => {
    const item = await sim.seed({ title: 'x', metadata: { b: '2', a: '1' } })
    const patched = await api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: 'y' }))
    expect(await patched.text()).toBe(JSON.stringify(await sim.get(item.id)))
    const current = await sim.get(item.id)
    const deleted = await api(`/websets/v0/imports/${item.id}`, { method: 'DELETE', headers: { 'x-api-key': key.key } })
    expect(await deleted.text()).toBe(JSON.stringify(current))
  })
})
