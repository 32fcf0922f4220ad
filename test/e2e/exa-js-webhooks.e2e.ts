import { readFileSync } from 'node:fs'
import Exa, { EventType } from 'exa-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedWebset } from '../../simulator/websets-seed.ts'
import { exaError, settledRows, startGateway, type Gateway } from './harness.ts'

/**
 * exa-js 2.23.0's webhook changes, unchanged, against a real `wrangler dev` gateway whose upstream
 * is the Exa simulator: each one answered as Exa answers it, and audited, the secret Exa returns
 * once reaching the caller and nowhere else.
 */
let gateway: Gateway
let exa: Exa
let key: string

beforeAll(async () => {
  gateway = await startGateway()
  key = (await gateway.issueKey(['webhooks:read', 'webhooks:write', 'websets:read', 'websets:write', 'audit:read'])).key
  exa = new Exa(key, gateway.url)
})
afterAll(async () => {
  await gateway?.stop()
})

const rowsOf = (id: string, type = 'webhook') => settledRows(gateway, key, type, id)

describe('exa-js webhooks changes through the gateway', () => {
  it('create, update, delete: answered as Exa answers, each audited; the secret only in the answer', async () => {
    const hook = await exa.websets.webhooks.create({
      url: 'https://hooks.example.com/e2e',
      events: [EventType.webset_created],
      metadata: { team: 'e2e' },
    })
    expect(hook).toMatchObject({ object: 'webhook', status: 'active', url: 'https://hooks.example.com/e2e' })
    expect(hook.secret).toMatch(/^whsec_/)

    const updated = await exa.websets.webhooks.update(hook.id, {
      url: 'https://hooks.example.com/e2e-2',
      events: [EventType.webset_idle],
    })
    expect(updated).toMatchObject({ id: hook.id, url: 'https://hooks.example.com/e2e-2', events: ['webset.idle'] })
    expect(await exa.websets.webhooks.get(hook.id)).toMatchObject({ url: updated.url, secret: null })

    const deleted = await exa.websets.webhooks.delete(hook.id)
    expect(deleted).toMatchObject({ id: hook.id, status: 'inactive' })

    const rows = await rowsOf(hook.id)
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([
      ['webhook.delete', 'succeeded'],
      ['webhook.update', 'succeeded'],
      ['webhook.create', 'succeeded'],
    ])
    expect(rows[1]!.changes).toEqual([
      { path: 'url', from: 'https://hooks.example.com/e2e', to: 'https://hooks.example.com/e2e-2' },
      { path: 'events', from: ['webset.created'], to: ['webset.idle'] },
    ])
    const verify = await (await fetch(`${gateway.url}/audit/verify`, { headers: { 'x-api-key': key } })).json()
    expect(verify).toMatchObject({ ok: true })

    const exported = await (
      await fetch(`${gateway.url}/audit/export?resourceType=webhook`, { headers: { 'x-api-key': key } })
    ).text()
    expect(exported).toContain(hook.id)
    expect(exported).not.toContain(hook.secret!)
    expect(readFileSync(gateway.logFile, 'utf8')).not.toContain(hook.secret!)
  })

  it('an invalid change is refused before Exa, with our error shape', async () => {
    const before = gateway.simulator.requests.length
    const error = await exaError(exa.websets.webhooks.create({ url: 'not a url', events: [EventType.webset_created] }))
    expect(error.statusCode).toBe(400)
    expect(gateway.simulator.requests.length).toBe(before)
  })
})

describe('exa-js websets.update through the gateway', () => {
  it('updates the metadata, answered as Exa answers, audited as webset.update', async () => {
    const { webset } = seedWebset(gateway.simulator.websets, { externalId: 'e2e:1', metadata: { owner: 'ana' } })
    const updated = await exa.websets.update('e2e:1', { metadata: { owner: 'bo' } })
    expect(updated).toMatchObject({ id: webset.id, metadata: { owner: 'bo' } })
    const [row] = await rowsOf(webset.id, 'webset')
    expect(row).toMatchObject({ action: 'webset.update', outcome: 'succeeded', resourceId: webset.id })
    expect(row!.changes).toEqual([{ path: 'metadata.owner', from: 'ana', to: 'bo' }])
  })
})
