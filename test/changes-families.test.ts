import { beforeEach, describe, expect, it } from 'vitest'
import { SECRET_MARKER } from '../src/operations/resources'
import { allSettled, getJson, listAll, wipeAudit } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { issueKey, rememberSecret, type IssuedKey } from './support/keys'
import { sim } from './support/simulator'

// The changes of the Websets family's sub-resources, Websets monitors, search monitors, agent runs
// and Agent Monitors (src/routes/changes.ts): each forwarded as exa-js sends it, each leaving one
// audit row with the resource, its parent, before and after as the audit contract says.

const W = '/websets/v0/websets'
const BETA = { 'exa-beta': 'agent-monitors-2026-08-04' }
let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey(['websets:read', 'websets:write', 'monitors:write', 'agent:read', 'agent:write', 'audit:read'])
})

const send = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonInit(method, key.key, body, headers))
/** The rows of changes at Exa (not the key's own `key.create`). */
const rows = async (query: Record<string, string>) =>
  (await listAll(key.key, query)).filter((row) => !String(row.action).startsWith('key.'))
const only = async (query: Record<string, string>) => {
  await allSettled()
  const found = await rows(query)
  expect(found).toHaveLength(1)
  return found[0]!
}
const verified = async () => expect((await getJson('/audit/verify', key.key)).body).toMatchObject({ ok: true })

describe('Websets: a webset, its items, searches and enrichments', () => {
  it('webset create: 201, the priority header forwarded, the row learns the id', async () => {
    const res = await send(
      'POST',
      W,
      { search: { query: 'AI startups in Berlin', count: 5 }, externalId: 'crm-7' },
      { 'x-exa-websets-priority': 'high' }
    )
    expect(res.status).toBe(201)
    const webset = (await res.json()) as { id: string }
    const [sent] = await sim.requests({ method: 'POST', pathIncludes: '/websets/v0/websets' })
    expect(sent!.headers?.['x-exa-websets-priority']).toBe('high')
    const row = await only({ action: 'webset.create' })
    expect(row).toMatchObject({ resourceType: 'webset', resourceId: webset.id, before: null, outcome: 'succeeded' })
    expect(row.after).toMatchObject({ id: webset.id, externalId: 'crm-7' })
  })

  it('enrichment update: Exa answers no body, so the after is read back; revert puts it back', async () => {
    const { webset, enrichment } = await sim.seedWebset()
    const path = `${W}/${webset.id}/enrichments/${enrichment.id}`
    const res = await send('PATCH', path, { description: 'the CEO, full name' })
    expect(res.status).toBe(200)
    const row = await only({ action: 'enrichment.update' })
    expect(row).toMatchObject({ resourceType: 'enrichment', resourceId: enrichment.id, parentId: webset.id })
    expect(row.before).toMatchObject({ description: enrichment.description })
    expect(row.after).toMatchObject({ description: 'the CEO, full name' })
    expect(row.changes).toContainEqual({ path: 'description', from: enrichment.description, to: 'the CEO, full name' })

    const revert = await api(`/audit/events/${row.id}/revert`, { method: 'POST', headers: { 'x-api-key': key.key } })
    expect(revert.status).toBe(200)
    const undone = await only({ action: 'enrichment.revert' })
    expect(undone).toMatchObject({ revertsEventId: row.id, outcome: 'succeeded', parentId: webset.id })
    expect(undone.after).toMatchObject({ description: enrichment.description })
    await verified()
  })

  it('enrichment create, cancel and delete; item delete; search create and cancel name their webset', async () => {
    const { webset, items, search: search0 } = await sim.seedWebset()
    const created = await send('POST', `${W}/${webset.id}/enrichments`, {
      description: 'funding raised',
      format: 'number',
    })
    expect(created.status).toBe(200)
    const enrichment = (await created.json()) as { id: string }
    expect((await send('POST', `${W}/${webset.id}/enrichments/${enrichment.id}/cancel`)).status).toBe(200)
    expect((await send('DELETE', `${W}/${webset.id}/enrichments/${enrichment.id}`)).status).toBe(200)
    expect((await send('DELETE', `${W}/${webset.id}/items/${items[0]!.id}`)).status).toBe(200)
    const search = (await (
      await send('POST', `${W}/${webset.id}/searches`, { query: 'fintechs', count: 3 })
    ).json()) as {
      id: string
    }
    expect((await send('POST', `${W}/${webset.id}/searches/${search.id}/cancel`)).status).toBe(200)
    await allSettled()
    const all = await rows({})
    expect(all.map((r) => [r.action, r.outcome, r.parentId]).sort()).toEqual(
      [
        ['enrichment.cancel', 'succeeded', webset.id],
        ['enrichment.create', 'succeeded', webset.id],
        ['enrichment.delete', 'succeeded', webset.id],
        ['item.delete', 'succeeded', webset.id],
        ['search.cancel', 'succeeded', webset.id],
        ['search.create', 'succeeded', webset.id],
      ].sort()
    )
    const itemRow = all.find((r) => r.action === 'item.delete')!
    expect(itemRow).toMatchObject({ resourceId: items[0]!.id, after: null, before: { id: items[0]!.id } })
    expect(all.find((r) => r.action === 'search.cancel')!.after).toMatchObject({ status: 'canceled' })
    // Created with override (Exa's default): its before is what it replaced, as ids and a count.
    expect(all.find((r) => r.action === 'search.create')!.before).toEqual({
      webset: webset.id,
      searches: [search0.id],
      itemsFound: items.length,
    })
    await verified()
  })

  it('a search that appends replaces nothing: no before read, no before', async () => {
    const { webset } = await sim.seedWebset()
    const res = await send('POST', `${W}/${webset.id}/searches`, { query: 'fintechs', count: 3, behavior: 'append' })
    expect(res.status).toBe(200)
    expect(await sim.requests({ method: 'GET' })).toEqual([])
    expect(await only({ action: 'search.create' })).toMatchObject({ before: null, outcome: 'succeeded' })
  })

  it('preview is passed through, unaudited', async () => {
    const res = await send('POST', `${W}/preview?search=true`, { search: { query: 'AI startups in Berlin', count: 2 } })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(2)
    await allSettled()
    expect(await rows({})).toEqual([])
  })

  it('an invalid body is refused before anything reaches Exa, and leaves no row', async () => {
    const { webset } = await sim.seedWebset()
    const res = await send('POST', `${W}/${webset.id}/enrichments`, { description: '', colour: 'red' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ tag: 'INVALID_REQUEST_BODY' })
    expect(await sim.requests({ pathIncludes: '/enrichments' })).toEqual([])
    expect(await rows({})).toEqual([])
  })
})

describe('monitors: Websets monitors and search monitors', () => {
  it('Websets monitor create, update (revertible) and delete', async () => {
    const { webset } = await sim.seedWebset()
    const created = await send('POST', '/websets/v0/monitors', {
      websetId: webset.id,
      cadence: { cron: '0 9 * * 1' },
      behavior: { type: 'search', config: { query: 'new AI startups', count: 5 } },
    })
    expect(created.status).toBe(201)
    const monitor = (await created.json()) as { id: string }
    expect((await send('PATCH', `/websets/v0/monitors/${monitor.id}`, { status: 'disabled' })).status).toBe(200)
    const update = await only({ action: 'monitor.update' })
    expect(update.changes).toContainEqual({ path: 'status', from: 'enabled', to: 'disabled' })
    const revert = await api(`/audit/events/${update.id}/revert`, { method: 'POST', headers: { 'x-api-key': key.key } })
    expect(revert.status).toBe(200)
    expect(await revert.json()).toMatchObject({ status: 'enabled' })
    expect((await send('DELETE', `/websets/v0/monitors/${monitor.id}`)).status).toBe(200)
    await allSettled()
    expect((await rows({ resourceId: monitor.id })).map((r) => r.action).sort()).toEqual(
      ['monitor.create', 'monitor.delete', 'monitor.revert', 'monitor.update'].sort()
    )
    await verified()
  })

  it('search monitor create: the webhookSecret reaches the caller only; update and revert; trigger reads the after back', async () => {
    const res = await send('POST', '/monitors', {
      name: 'funding news',
      search: { query: 'AI startups raising a seed round' },
      trigger: { type: 'interval', period: '1d' },
      webhook: { url: 'https://hooks.example.com/exa' },
    })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { id: string; webhookSecret: string }
    expect(created.webhookSecret).toMatch(/\S/)
    // The log-leak scan (test/log-leaks.test.ts) checks no log line of the suite ever held it.
    await rememberSecret(created.webhookSecret)
    const row = await only({ action: 'search_monitor.create' })
    expect(row.after).toMatchObject({ id: created.id, webhookSecret: SECRET_MARKER })
    expect(JSON.stringify(row)).not.toContain(created.webhookSecret)

    // An update, then its revert: every field the update can change put back.
    const renamed = await send('PATCH', `/monitors/${created.id}`, { name: 'renamed', status: 'paused' })
    expect(renamed.status).toBe(200)
    const update = await only({ action: 'search_monitor.update' })
    expect(update.changes).toContainEqual({ path: 'name', from: 'funding news', to: 'renamed' })
    const revert = await api(`/audit/events/${update.id}/revert`, { method: 'POST', headers: { 'x-api-key': key.key } })
    expect(revert.status).toBe(200)
    expect(await revert.json()).toMatchObject({ name: 'funding news', status: 'active' })
    expect(await only({ action: 'search_monitor.revert' })).toMatchObject({ outcome: 'succeeded' })

    expect((await send('POST', `/monitors/${created.id}/trigger`)).status).toBe(200)
    const trigger = await only({ action: 'search_monitor.trigger' })
    expect(trigger).toMatchObject({ resourceId: created.id, outcome: 'succeeded', after: { id: created.id } })
    await verified()
  })
})

describe('agent runs and Agent Monitors', () => {
  it('agent run create and delete: the delete stub keeps the run as its before, nothing after', async () => {
    const created = await send('POST', '/agent/runs', { query: 'who founded Exa?', effort: 'low' })
    expect(created.status).toBe(200)
    const run = (await created.json()) as { id: string }
    expect((await send('DELETE', `/agent/runs/${run.id}`)).status).toBe(200)
    await allSettled()
    const [del] = await rows({ action: 'agent_run.delete' })
    expect(del).toMatchObject({ resourceId: run.id, outcome: 'succeeded', after: null, before: { id: run.id } })
    expect(await rows({ action: 'agent_run.create' })).toMatchObject([{ resourceId: run.id, outcome: 'succeeded' }])
  })

  it('a streamed create is passed through as SSE, and its row settles with the run the stream ended on', async () => {
    const res = await send('POST', '/agent/runs', { query: 'who founded Exa?' }, { accept: 'text/event-stream' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const text = await res.text()
    expect(text).toContain('event: agent_run.completed')
    const row = await only({ action: 'agent_run.create' })
    expect(row).toMatchObject({ outcome: 'succeeded', after: { status: 'completed' } })
    expect(text).toContain(row.resourceId)
  })

  it("a run's events replay as SSE, resumed after Last-Event-ID", async () => {
    const created = (await (await send('POST', '/agent/runs', { query: 'who founded Exa?' })).json()) as { id: string }
    const replay = async (headers: Record<string, string>) => {
      const res = await send('GET', `/agent/runs/${created.id}/events`, undefined, {
        accept: 'text/event-stream',
        ...headers,
      })
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
      return [...(await res.text()).matchAll(/^id: (.+)$/gm)].map((m) => m[1]!)
    }
    const all = await replay({})
    expect(all.length).toBeGreaterThan(1)
    expect(await replay({ 'last-event-id': all[0]! })).toEqual(all.slice(1))
    const [sent] = (await sim.requests({ method: 'GET', pathIncludes: '/events' })).slice(-1)
    expect(sent!.headers['last-event-id']).toBe(all[0])
    // The JSON list is still the list.
    const list = (await (await send('GET', `/agent/runs/${created.id}/events`)).json()) as { data: unknown[] }
    expect(list.data).toHaveLength(all.length)
  })

  it('Agent Monitors need their beta: without it 400 and nothing at Exa; with it create, add entities, delete', async () => {
    const body = {
      cadence: '12h',
      entities: [{ name: 'Exa', domain: 'exa.ai' }],
      fields: [{ name: 'ceo', description: 'the CEO' }],
    }
    const refused = await send('POST', '/agent/monitors', body)
    expect(refused.status).toBe(400)
    expect(await sim.requests({ pathIncludes: '/agent/monitors' })).toEqual([])

    const created = await send('POST', '/agent/monitors', body, BETA)
    expect(created.status).toBe(200)
    const monitor = (await created.json()) as { id: string }
    const added = await send(
      'POST',
      `/agent/monitors/${monitor.id}/entities`,
      { entities: [{ name: 'Anthropic', domain: 'anthropic.com' }] },
      BETA
    )
    expect(added.status).toBe(200)
    expect((await send('DELETE', `/agent/monitors/${monitor.id}`, undefined, BETA)).status).toBe(200)
    await allSettled()
    const all = await rows({ resourceType: 'agent_monitor' })
    expect(all.map((r) => [r.action, r.outcome]).sort()).toEqual(
      [
        ['agent_monitor.add_entities', 'succeeded'],
        ['agent_monitor.create', 'succeeded'],
        ['agent_monitor.delete', 'succeeded'],
      ].sort()
    )
    // The before reads went out with the beta, or Exa would have refused them.
    const reads = await sim.requests({ method: 'GET', pathIncludes: '/agent/monitors' })
    expect(reads.length).toBeGreaterThan(0)
    await verified()
  })
})
