import type { Monitor, PreviewWebsetResponse, Webset, WebsetEnrichment, WebsetItem, WebsetSearch } from 'exa-js'
import { beforeEach, describe, expect, it } from 'vitest'
import { SIMULATOR_ORIGIN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

/**
 * The simulator's model of Exa's Websets changes (../shared/exa-api-surface.md §2.6, §3), called
 * directly as exa-js would call Exa: what each answers, what the reads see afterwards, Exa's error
 * shape for unknown ids, and that the changes are recorded and take injected faults.
 */
const W = '/websets/v0'

async function exa<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await fetch(SIMULATOR_ORIGIN + W + path, {
    method,
    headers: { 'x-api-key': TEST_EXA_API_KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, text, body: (text ? JSON.parse(text) : undefined) as T }
}

const notFound = expect.objectContaining({ error: expect.stringContaining('not found'), tag: 'NOT_FOUND' })

beforeEach(async () => {
  await sim.reset()
})

describe('webset create and preview', () => {
  it('creates a webset with its search, imports and enrichments (201), readable by externalId', async () => {
    const source = await sim.seedWebset({ items: 2 })
    const res = await exa<Webset>('POST', '/websets', {
      search: { query: 'Founders of fintech startups in Berlin', criteria: [{ description: 'Founded a company' }] },
      import: [{ source: 'webset', id: source.webset.id }],
      enrichments: [{ description: 'Work email', format: 'email' }],
      exclude: [{ source: 'webset', id: source.webset.id }],
      externalId: 'crm:42',
      metadata: { owner: 'ana' },
    })
    expect(res.status).toBe(201)
    const webset = res.body
    expect(webset).toMatchObject({
      object: 'webset',
      status: 'running',
      externalId: 'crm:42',
      metadata: { owner: 'ana' },
      excludes: [{ source: 'webset', id: source.webset.id }],
      searches: [
        {
          object: 'webset_search',
          status: 'running',
          count: 10,
          behavior: 'override',
          entity: { type: 'person' },
          criteria: [{ description: 'Founded a company', successRate: 0 }],
        },
      ],
      imports: [{ object: 'import', format: 'webset', status: 'completed', count: 2 }],
      enrichments: [{ object: 'webset_enrichment', status: 'pending', format: 'email', description: 'Work email' }],
      monitors: [],
    })
    expect((await exa('GET', '/websets/crm%3A42')).body).toEqual(webset)

    const again = await exa('POST', '/websets', { externalId: 'crm:42' })
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({ error: expect.stringContaining('crm:42'), tag: 'CONFLICT' })
    expect((await exa('POST', '/websets', { search: { query: '' } })).status).toBe(400)
    expect((await sim.requests({ method: 'POST', pathIncludes: '/websets/v0/websets' })).length).toBe(3)
  })

  it('previews deterministically; items only with ?search=true; 422 when nothing can be detected', async () => {
    const query = 'Research papers on protein folding, and their authors with email'
    const plain = await exa<PreviewWebsetResponse>('POST', '/websets/preview', { search: { query } })
    expect(plain.status).toBe(200)
    expect(plain.body).toEqual({
      search: {
        entity: { type: 'research_paper' },
        criteria: [{ description: 'Research papers on protein folding' }, { description: 'their authors with email' }],
      },
      enrichments: [{ description: 'Email address', format: 'email' }],
      items: [],
    })
    const withItems = await exa<PreviewWebsetResponse>('POST', '/websets/preview?search=true', {
      search: { query, count: 3 },
    })
    expect(withItems.body.items).toHaveLength(3)
    expect(withItems.body.items[0]!.properties).toMatchObject({ type: 'research_paper' })
    const undetectable = await exa('POST', '/websets/preview', { search: { query: '?? 12 a b' } })
    expect(undetectable.status).toBe(422)
    expect(undetectable.body).toMatchObject({ error: expect.any(String), tag: expect.any(String) })
    expect((await exa('GET', '/websets')).body).toMatchObject({ data: [] })
  })
})

describe('items and searches', () => {
  it('deletes an item and answers it; unknown ids are 404 in Exa’s shape', async () => {
    const { webset, items } = await sim.seedWebset({ items: 2 })
    const [first] = items
    const res = await exa<WebsetItem>('DELETE', `/websets/${webset.id}/items/${first!.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual(first)
    expect((await exa('GET', `/websets/${webset.id}/items/${first!.id}`)).status).toBe(404)
    expect((await exa('GET', `/websets/${webset.id}/items`)).body).toMatchObject({ data: [{ id: items[1]!.id }] })
    const again = await exa('DELETE', `/websets/${webset.id}/items/${first!.id}`)
    expect([again.status, again.body]).toEqual([404, notFound])
    expect((await exa('DELETE', `/websets/webset_nope/items/${items[1]!.id}`)).status).toBe(404)
  })

  it('append keeps the items; override (the default) discards those not from the new search', async () => {
    const { webset } = await sim.seedWebset({ items: 3 })
    const appended = await exa<WebsetSearch>('POST', `/websets/${webset.id}/searches`, {
      query: 'More companies',
      count: 5,
      behavior: 'append',
    })
    expect(appended.status).toBe(200)
    expect(appended.body).toMatchObject({ object: 'webset_search', status: 'running', behavior: 'append', count: 5 })
    expect((await exa<{ data: unknown[] }>('GET', `/websets/${webset.id}/items`)).body.data).toHaveLength(3)
    expect((await exa<Webset>('GET', `/websets/${webset.id}`)).body.status).toBe('running')

    const override = await exa<WebsetSearch>('POST', `/websets/${webset.id}/searches`, { query: 'Others', count: 2 })
    expect(override.body.behavior).toBe('override')
    expect((await exa<{ data: unknown[] }>('GET', `/websets/${webset.id}/items`)).body.data).toEqual([])
    expect((await exa<Webset>('GET', `/websets/${webset.id}`)).body.searches.map((s) => s.id)).toContain(
      override.body.id
    )
    expect((await exa('POST', `/websets/${webset.id}/searches`, { query: 'no count' })).status).toBe(400)
    expect((await exa('POST', '/websets/webset_nope/searches', { query: 'x', count: 1 })).body).toEqual(notFound)
  })

  it('cancels a running search (the webset goes idle once none runs) and answers a finished one as it is', async () => {
    const { webset, search: done } = await sim.seedWebset({ items: 1 })
    const { body: search } = await exa<WebsetSearch>('POST', `/websets/${webset.id}/searches`, {
      query: 'x y z',
      count: 1,
      behavior: 'append',
    })
    const res = await exa<WebsetSearch>('POST', `/websets/${webset.id}/searches/${search.id}/cancel`)
    expect(res.body).toMatchObject({ id: search.id, status: 'canceled', canceledAt: expect.any(String) })
    expect(res.body.updatedAt > search.updatedAt).toBe(true)
    expect((await exa('GET', `/websets/${webset.id}/searches/${search.id}`)).body).toEqual(res.body)
    expect((await exa<Webset>('GET', `/websets/${webset.id}`)).body.status).toBe('idle')
    expect((await exa('POST', `/websets/${webset.id}/searches/${done.id}/cancel`)).body).toEqual(done)
    expect((await exa('POST', `/websets/${webset.id}/searches/wsearch_nope/cancel`)).body).toEqual(notFound)
  })
})

describe('enrichments', () => {
  it('create, update (200 with no body), cancel and delete, with every item’s results following', async () => {
    const { webset, items } = await sim.seedWebset({ items: 2 })
    const created = await exa<WebsetEnrichment>('POST', `/websets/${webset.id}/enrichments`, {
      description: 'Annual revenue in USD',
      metadata: { team: 'sales' },
    })
    expect(created.body).toMatchObject({ object: 'webset_enrichment', status: 'pending', format: 'number' })
    const id = created.body.id
    const resultsOf = async () =>
      (await exa<{ data: WebsetItem[] }>('GET', `/websets/${webset.id}/items`)).body.data.map(
        (i) => i.enrichments?.filter((r) => r.enrichmentId === id).map((r) => r.status) ?? []
      )
    expect(await resultsOf()).toEqual([['pending'], ['pending']])

    const patched = await exa('PATCH', `/websets/${webset.id}/enrichments/${id}`, {
      description: 'Revenue',
      metadata: null,
    })
    expect([patched.status, patched.text]).toEqual([200, ''])
    const after = (await exa<WebsetEnrichment>('GET', `/websets/${webset.id}/enrichments/${id}`)).body
    expect(after).toMatchObject({ description: 'Revenue', metadata: {}, format: 'number' })
    expect(after.updatedAt > created.body.updatedAt).toBe(true)

    const canceled = await exa<WebsetEnrichment>('POST', `/websets/${webset.id}/enrichments/${id}/cancel`)
    expect(canceled.body.status).toBe('canceled')
    expect(await resultsOf()).toEqual([['canceled'], ['canceled']])

    const deleted = await exa('DELETE', `/websets/${webset.id}/enrichments/${id}`)
    expect(deleted.body).toEqual(canceled.body)
    expect(await resultsOf()).toEqual([[], []])
    expect((await exa('GET', `/websets/${webset.id}/enrichments/${id}`)).status).toBe(404)
    expect((await exa('GET', `/websets/${webset.id}/items/${items[0]!.id}`)).body).toMatchObject({
      enrichments: [expect.objectContaining({ status: 'completed' })],
    })
    for (const [method, path] of [
      ['PATCH', `/websets/${webset.id}/enrichments/${id}`],
      ['DELETE', `/websets/${webset.id}/enrichments/${id}`],
      ['POST', `/websets/${webset.id}/enrichments/${id}/cancel`],
      ['POST', `/websets/webset_nope/enrichments`],
    ] as const)
      expect((await exa(method, path, method === 'DELETE' ? undefined : { description: 'x' })).body).toEqual(notFound)
  })
})

describe('Websets monitors', () => {
  it('create (201, defaults filled), a partial-merge PATCH, delete answering the monitor', async () => {
    const { webset } = await sim.seedWebset({ externalId: 'crm:7' })
    const created = await exa<Monitor>('POST', '/monitors', {
      websetId: 'crm:7',
      cadence: { cron: '30 8 * * 1' },
      behavior: { type: 'search', config: { count: 5 } },
      metadata: { owner: 'ana' },
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      object: 'monitor',
      status: 'enabled',
      websetId: webset.id,
      cadence: { cron: '30 8 * * 1', timezone: 'Etc/UTC' },
      behavior: { type: 'search', config: { count: 5, behavior: 'append' } },
      lastRun: null,
      nextRunAt: expect.stringMatching(/T08:30:00.000Z$/),
    })
    const id = created.body.id
    expect((await exa<Webset>('GET', `/websets/${webset.id}`)).body.monitors.map((m) => m.id)).toContain(id)

    const patched = await exa<Monitor>('PATCH', `/monitors/${id}`, { status: 'disabled', metadata: { owner: 'bo' } })
    expect(patched.body).toMatchObject({
      status: 'disabled',
      metadata: { owner: 'bo' },
      cadence: created.body.cadence,
      behavior: created.body.behavior,
      nextRunAt: null,
    })
    expect(patched.body.updatedAt > created.body.updatedAt).toBe(true)
    expect((await exa('GET', `/monitors/${id}`)).body).toEqual(patched.body)

    const deleted = await exa('DELETE', `/monitors/${id}`)
    expect(deleted.body).toEqual(patched.body)
    expect((await exa('GET', `/monitors/${id}`)).body).toEqual(notFound)
    expect((await exa('PATCH', `/monitors/${id}`, {})).body).toEqual(notFound)
    expect((await exa('DELETE', `/monitors/${id}`)).body).toEqual(notFound)
    // Newest first: this monitor's three, then the seeded monitor's create.
    const events = await exa<{ data: { type: string }[] }>(
      'GET',
      '/events?types=monitor.created&types=monitor.updated&types=monitor.deleted'
    )
    expect(events.body.data.map((e) => e.type)).toEqual([
      'monitor.deleted',
      'monitor.updated',
      'monitor.created',
      'monitor.created',
    ])
    const body = { cadence: { cron: '0 9 * * *' }, behavior: { type: 'search', config: { count: 1 } } }
    expect((await exa('POST', '/monitors', { ...body, websetId: 'webset_nope' })).body).toEqual(notFound)
    expect((await exa('POST', '/monitors', { ...body, websetId: webset.id, cadence: {} })).status).toBe(400)
  })
})

describe('faults and recording', () => {
  it('an injected fault answers instead, and the change is not applied', async () => {
    const { webset, enrichment } = await sim.seedWebset()
    await sim.fault({ kind: 'status', status: 503, method: 'DELETE', pathIncludes: enrichment.id })
    const res = await exa('DELETE', `/websets/${webset.id}/enrichments/${enrichment.id}`)
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ tag: 'SIMULATED_FAULT' })
    expect((await exa('GET', `/websets/${webset.id}/enrichments/${enrichment.id}`)).status).toBe(200)
    const recorded = await sim.requests({ method: 'DELETE', pathIncludes: enrichment.id })
    expect(recorded).toHaveLength(1)
    const unauthorized = await fetch(`${SIMULATOR_ORIGIN}${W}/monitors`, { method: 'POST', body: '{}' })
    expect(unauthorized.status).toBe(401)
  })
})
