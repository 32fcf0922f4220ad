import { beforeEach, describe, expect, it } from 'vitest'
import { getWebsetCall, listEventsCall, listWebhookAttemptsCall } from '../src/exa/websets'
import type { SeededWebset } from '../simulator/websets-seed'
import type { SimWebhook } from '../simulator/websets-store'
import { expectError } from './support/errors'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { SIMULATOR_ORIGIN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

/**
 * The Websets family's reads (src/routes/reads.ts): each forwarded with exactly Exa's path and
 * the validated query, Exa's answer relayed byte for byte; anything invalid refused before a byte
 * goes upstream; Exa's errors passed through.
 */
let key: IssuedKey
let hook: SimWebhook
let seeded: SeededWebset

const READ_SCOPES = ['websets:read', 'monitors:read', 'webhooks:read', 'events:read']

beforeEach(async () => {
  await sim.reset()
  key = await issueKey(READ_SCOPES)
  hook = await sim.seedWebhook({ events: ['webset.created', 'webset.item.created'] })
  seeded = await sim.seedWebset({ externalId: 'crm:42', title: 'Dev tools', items: 3 })
})

// exa-js sends content-type: application/json on every GET, with no body.
const get = (path: string, k = key.key) =>
  api(path, { headers: { 'x-api-key': k, 'content-type': 'application/json' } })

/** What Exa answers for `path` when asked directly (the simulator, with the Exa key). */
const direct = async (path: string) =>
  (await fetch(SIMULATOR_ORIGIN + path, { headers: { 'x-api-key': TEST_EXA_API_KEY } })).text()

describe('every read is forwarded as Exa’s path and query, and relayed unchanged', () => {
  /** [what, () => [gateway path, what Exa must receive (default: the same)]] */
  const cases: [string, () => [string, string?]][] = [
    ['websets list', () => ['/websets/v0/websets?limit=1']],
    ['webset get', () => [`/websets/v0/websets/${seeded.webset.id}`]],
    ['webset get, expand=items', () => [`/websets/v0/websets/${seeded.webset.id}?expand=items`]],
    ['webset get by externalId', () => ['/websets/v0/websets/crm:42', '/websets/v0/websets/crm%3A42']],
    [
      'items list by externalId',
      () => [
        `/websets/v0/websets/crm:42/items?limit=2&sourceId=${seeded.search.id}`,
        `/websets/v0/websets/crm%3A42/items?limit=2&sourceId=${seeded.search.id}`,
      ],
    ],
    ['items list', () => [`/websets/v0/websets/${seeded.webset.id}/items?limit=2&sourceId=${seeded.search.id}`]],
    ['item get', () => [`/websets/v0/websets/${seeded.webset.id}/items/${seeded.items[0]!.id}`]],
    ['search get', () => [`/websets/v0/websets/${seeded.webset.id}/searches/${seeded.search.id}`]],
    ['enrichment get', () => [`/websets/v0/websets/${seeded.webset.id}/enrichments/${seeded.enrichment.id}`]],
    ['monitors list', () => [`/websets/v0/monitors?limit=5&websetId=${seeded.webset.id}`]],
    ['monitor get', () => [`/websets/v0/monitors/${seeded.monitor.id}`]],
    ['monitor runs list', () => [`/websets/v0/monitors/${seeded.monitor.id}/runs?limit=1`]],
    ['monitor run get', () => [`/websets/v0/monitors/${seeded.monitor.id}/runs/${seeded.run.id}`]],
    ['webhooks list', () => ['/websets/v0/webhooks']],
    ['webhook get', () => [`/websets/v0/webhooks/${hook.id}`]],
    [
      'webhook attempts list (the query in the schema’s order)',
      () => [
        `/websets/v0/webhooks/${hook.id}/attempts?successful=true&eventType=webset.item.created&limit=2`,
        `/websets/v0/webhooks/${hook.id}/attempts?limit=2&eventType=webset.item.created&successful=true`,
      ],
    ],
    [
      'events list, types repeated',
      () => [
        '/websets/v0/events?types=webset.created&types=webset.idle&limit=3',
        '/websets/v0/events?limit=3&types=webset.created&types=webset.idle',
      ],
    ],
    [
      'events list, an empty query (what exa-js sends with no options)',
      () => ['/websets/v0/events?', '/websets/v0/events'],
    ],
    ['event get', () => [`/websets/v0/events/${seeded.events[0]!.id}`]],
  ]
  for (const [label, build] of cases) {
    it(label, async () => {
      const [path, upstream = path] = build()
      const res = await get(path)
      const text = await res.text()
      expect(res.status, text).toBe(200)
      expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
      const [forwarded, ...more] = await sim.requests()
      expect(more).toEqual([])
      expect(forwarded!.method).toBe('GET')
      expect(forwarded!.path + forwarded!.query).toBe(upstream)
      expect(forwarded!.headers['x-api-key']).toBe(TEST_EXA_API_KEY)
      expect(JSON.stringify(forwarded!.headers)).not.toContain(key.key)
      expect(text).toBe(await direct(upstream))
    })
  }

  it('answers what the simulator holds: the webset with its parts, items, a page of events', async () => {
    const webset = await (await get(`/websets/v0/websets/${seeded.webset.id}?expand=items`)).json()
    expect(webset).toEqual({ ...seeded.webset, items: seeded.items })
    const page = (await (await get('/websets/v0/events?limit=2')).json()) as { data: unknown[]; hasMore: boolean }
    expect(page.data).toHaveLength(2)
    expect(page.hasMore).toBe(true)
    const attempts = (await (await get(`/websets/v0/webhooks/${hook.id}/attempts`)).json()) as { data: unknown[] }
    expect(attempts.data).toHaveLength(1 + 3) // webset.created and three webset.item.created
  })
})

describe('the upstream call is a pure function of the validated request', () => {
  it('builds the path and the query, arrays as repeated keys, ids percent-encoded', () => {
    expect(getWebsetCall({ id: 'crm:42' }, { expand: ['items'] })).toEqual({
      method: 'GET',
      path: '/websets/v0/websets/crm%3A42?expand=items',
    })
    expect(listEventsCall({}, { types: ['webset.created', 'webset.idle'] }).path).toBe(
      '/websets/v0/events?types=webset.created&types=webset.idle'
    )
    expect(listWebhookAttemptsCall({ id: 'webhook_1' }, { successful: 'false' }).path).toBe(
      '/websets/v0/webhooks/webhook_1/attempts?successful=false'
    )
  })
})

describe('invalid ids and queries are refused with 400, nothing forwarded', () => {
  const bad: [string, string][] = [
    ['/websets/v0/websets?limit=101', 'limit'],
    ['/websets/v0/websets?limit=0', 'limit'],
    ['/websets/v0/websets?cursor=', 'cursor'],
    ['/websets/v0/websets?search=acme', ''],
    ['/websets/v0/websets/a%2Fb', 'id'],
    [`/websets/v0/websets/${'a'.repeat(301)}`, 'id'],
    ['/websets/v0/websets/w1?expand=searches', 'expand.0'],
    ['/websets/v0/websets/w1?expand=items&page=2', ''],
    ['/websets/v0/websets/w1/items?limit=101', 'limit'],
    ['/websets/v0/websets/w1/items?sourceId=a%2Fb', 'sourceId'],
    ['/websets/v0/websets/w1/items/item.1', 'id'],
    ['/websets/v0/websets/w1/searches/s%201', 'id'],
    ['/websets/v0/websets/w1/enrichments/e1?x=1', ''],
    ['/websets/v0/monitors?limit=201', 'limit'],
    ['/websets/v0/monitors/m%2F1', 'id'],
    ['/websets/v0/monitors/m1/runs?limit=1&limit=2', 'limit'],
    ['/websets/v0/monitors/m1/runs/r%3A1', 'id'],
    ['/websets/v0/webhooks?limit=1.5', 'limit'],
    ['/websets/v0/webhooks/h1/attempts?successful=yes', 'successful'],
    ['/websets/v0/webhooks/h1/attempts?eventType=webset.exploded', 'eventType'],
    ['/websets/v0/events?types=webset.created&types=bogus', 'types.1'],
    ['/websets/v0/events?createdAfter=2026-01-01T00:00:00Z', ''],
    ['/websets/v0/events/e%2E1', 'id'],
  ]
  for (const [path, field] of bad) {
    it(`GET ${path.slice(0, 80)}`, async () => {
      const body = await expectError(await get(path), 400, 'INVALID_PARAMS')
      expect(body.issues?.map((issue) => issue.path)).toContain(field)
      expect(await sim.requests()).toEqual([])
    })
  }

  it('says which parameter it does not know', async () => {
    const res = await get('/websets/v0/events?createdAfter=2026-01-01T00:00:00Z')
    await expectError(res, 400, 'INVALID_PARAMS', /createdAfter/)
  })
})

describe('Exa’s errors pass through with their status, body and retry-after', () => {
  it('a webset, item, monitor, webhook or event Exa does not have: its 404', async () => {
    for (const path of [
      '/websets/v0/websets/webset_missing',
      `/websets/v0/websets/${seeded.webset.id}/items/witem_missing`,
      '/websets/v0/monitors/monitor_missing/runs',
      '/websets/v0/webhooks/webhook_missing/attempts',
      '/websets/v0/events/event_missing',
    ]) {
      const res = await get(path)
      expect(res.status, path).toBe(404)
      expect(await res.json()).toMatchObject({ tag: 'NOT_FOUND', error: expect.stringMatching(/not found$/) })
      expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    }
  })

  it('a 429 with retry-after, and a 500', async () => {
    await sim.fault({
      kind: 'status',
      status: 429,
      pathIncludes: '/v0/events',
      headers: { 'retry-after': '3' },
      body: { requestId: 'req_x', error: 'slow down', tag: 'RATE_LIMITED' },
    })
    const limited = await get('/websets/v0/events')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('3')
    expect(await limited.json()).toEqual({ requestId: 'req_x', error: 'slow down', tag: 'RATE_LIMITED' })

    await sim.fault({ kind: 'status', status: 500, pathIncludes: '/v0/monitors/' })
    const failing = await get(`/websets/v0/monitors/${seeded.monitor.id}`)
    expect(failing.status).toBe(500)
    expect(await failing.json()).toMatchObject({ tag: 'SIMULATED_FAULT' })
    expect((await sim.requests()).map((r) => r.path)).toEqual([
      '/websets/v0/events',
      `/websets/v0/monitors/${seeded.monitor.id}`,
    ])
  })

  it('never a read Exa answers with a webset the key may not read: the scope is checked first', async () => {
    const eventsOnly = await issueKey(['events:read'])
    await expectError(
      await get(`/websets/v0/websets/${seeded.webset.id}`, eventsOnly.key),
      403,
      'FORBIDDEN',
      /websets:read/
    )
    expect(await sim.requests()).toEqual([])
  })
})
