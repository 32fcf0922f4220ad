import Exa, { AGENT_MONITORS_BETA_HEADER, EventType, ExaError } from 'exa-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedWebhook, seedWebset, type SeededWebset } from '../../simulator/websets-seed.ts'
import { startGateway, type Gateway } from './harness.ts'

/**
 * exa-js 2.23.0's Websets, Search Monitor and Agent reads, unchanged, against a real `wrangler dev` gateway whose upstream
 * is the Exa simulator: what each call answers is exactly what the simulator holds.
 */
let gateway: Gateway
let exa: Exa
let seeded: SeededWebset
let hookId: string
let agent: ReturnType<Gateway['simulator']['agent']['seedSearchMonitor']> & {
  runId: string
  agentMonitorId: string
  backtestId: string
}

beforeAll(async () => {
  gateway = await startGateway()
  const store = gateway.simulator.websets
  hookId = seedWebhook(store, { events: ['webset.created', 'webset.item.created'] }).id
  seeded = seedWebset(store, { externalId: 'crm:7', title: 'Dev tools', items: 4 })
  seedWebset(store, { title: 'Speakers', entity: 'person', items: 2 })
  const sims = gateway.simulator.agent
  agent = {
    ...sims.seedSearchMonitor(),
    runId: sims.seedAgentRun().id,
    agentMonitorId: sims.seedAgentMonitor().id,
    backtestId: sims.seedBacktest().id,
  }
  const { key } = await gateway.issueKey([
    'websets:read',
    'monitors:read',
    'webhooks:read',
    'events:read',
    'agent:read',
  ])
  exa = new Exa(key, gateway.url)
})
afterAll(async () => {
  await gateway?.stop()
})

describe('exa-js websets reads through the gateway', () => {
  it('websets.get, by id and by externalId, with expand items', async () => {
    expect(await exa.websets.get(seeded.webset.id)).toEqual(seeded.webset)
    const expanded = await exa.websets.get('crm:7', ['items'])
    expect(expanded).toEqual({ ...seeded.webset, items: seeded.items })
    expect(gateway.simulator.requests.at(-1)).toMatchObject({
      path: '/websets/v0/websets/crm%3A7',
      query: '?expand=items',
    })
  })

  it('websets.list: two pages through the cursor', async () => {
    const first = await exa.websets.list({ limit: 1 })
    expect(first).toMatchObject({ hasMore: true, nextCursor: expect.any(String) })
    const second = await exa.websets.list({ limit: 1, cursor: first.nextCursor! })
    expect(second.hasMore).toBe(false)
    expect([...first.data, ...second.data].map((w) => w.id)).toContain(seeded.webset.id)
  })

  it('websets.items.list and getAll', async () => {
    const page = await exa.websets.items.list(seeded.webset.id, { limit: 3, sourceId: seeded.search.id })
    expect(page.data).toHaveLength(3)
    const all = await exa.websets.items.getAll(seeded.webset.id, { limit: 3 })
    expect(all.map((i) => i.id).sort()).toEqual(seeded.items.map((i) => i.id).sort())
  })

  it('websets.monitors.list (by webset) and its runs', async () => {
    const monitors = await exa.websets.monitors.list({ websetId: seeded.webset.id })
    expect(monitors.data).toEqual([seeded.monitor])
    const runs = await exa.websets.monitors.runs.list(seeded.monitor.id)
    expect(runs.data).toEqual([seeded.run])
  })

  it('websets.webhooks.list and listAttempts filtered', async () => {
    const hooks = await exa.websets.webhooks.list()
    expect(hooks.data.map((h) => h.id)).toEqual([hookId])
    const attempts = await exa.websets.webhooks.listAttempts(hookId, {
      eventType: EventType.webset_item_created,
      successful: true,
    })
    expect(attempts.data).toHaveLength(4 + 2)
  })

  it('websets.events.list with types', async () => {
    const events = await exa.websets.events.list({ types: [EventType.webset_created, EventType.webset_idle] })
    expect(events.data.map((e) => e.type).sort()).toEqual([
      'webset.created',
      'webset.created',
      'webset.idle',
      'webset.idle',
    ])
    expect(gateway.simulator.requests.at(-1)!.query).toBe('?types=webset.created&types=webset.idle')
    expect(await exa.websets.events.get(seeded.events[0]!.id)).toEqual(seeded.events[0])
  })

  it('an unknown webset is Exa’s 404; an invalid id is our 400; neither is [object Object]', async () => {
    const missing = await exa.websets.get('webset_nope').catch((err: unknown) => err)
    expect(missing).toBeInstanceOf(ExaError)
    expect(missing).toMatchObject({ statusCode: 404, message: 'Webset webset_nope not found' })
    const invalid = await exa.websets.events.list({ limit: 500 }).catch((err: unknown) => err)
    expect(invalid).toMatchObject({ statusCode: 400, message: 'limit: limit must be a whole number from 1 to 200' })
  })
})

describe('exa-js search monitor and agent reads through the gateway', () => {
  it('monitors.list, get and runs', async () => {
    const page = await exa.monitors.list({ status: 'active', limit: 10 })
    expect(page.data).toEqual([agent.monitor])
    expect(await exa.monitors.get(agent.monitor.id)).toEqual(agent.monitor)
    expect((await exa.monitors.runs.list(agent.monitor.id)).data).toEqual([agent.run])
    expect(await exa.monitors.runs.get(agent.monitor.id, agent.run.id)).toEqual(agent.run)
  })

  it('agent.runs.list, get and events; an unknown run is the Agent API’s 404', async () => {
    const runs = await exa.agent.runs.list()
    expect(runs).toMatchObject({ object: 'list', hasMore: false, data: [{ id: agent.runId }] })
    expect(await exa.agent.runs.get(agent.runId)).toMatchObject({ id: agent.runId, status: 'completed' })
    const events = await exa.agent.runs.events.list(agent.runId, { limit: 2 })
    expect(events.data.map((e) => e.event)).toEqual(['agent_run.completed', 'agent_run.started'])
    const missing = await exa.agent.runs.get('agent_run_nope').catch((err: unknown) => err)
    expect(missing).toMatchObject({ statusCode: 404, code: 'RUN_NOT_FOUND' })
  })

  it('beta.agent.monitors list, get, entities, changes and a backtest, with the beta header exa-js sends', async () => {
    const betas = [AGENT_MONITORS_BETA_HEADER]
    const page = await exa.beta.agent.monitors.list({ betas })
    expect(page.data.map((m) => m.id)).toEqual([agent.agentMonitorId])
    expect(await exa.beta.agent.monitors.get(agent.agentMonitorId, { betas })).toMatchObject({ status: 'active' })
    expect(gateway.simulator.requests.at(-1)!.headers['exa-beta']).toBe(AGENT_MONITORS_BETA_HEADER)
    const entities = await exa.beta.agent.monitors.entities.list(agent.agentMonitorId, { betas, since: '2026-01-01' })
    expect(entities).toMatchObject({ object: 'list', version: 1 })
    expect(entities.data.map((e) => e.entity.name)).toEqual(['Globex', 'Acme'])
    const changes = await exa.beta.agent.monitors.changes.list(agent.agentMonitorId, { betas, limit: 1 })
    expect(changes).toMatchObject({ hasMore: true, data: [{ type: 'content.upserted' }] })
    const backtest = await exa.beta.agent.monitors.backtests.get(agent.backtestId, { betas })
    expect(backtest).toMatchObject({ id: agent.backtestId, status: 'completed' })
  })
})
