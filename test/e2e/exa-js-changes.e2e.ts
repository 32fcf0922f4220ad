import { readFileSync } from 'node:fs'
import Exa, {
  AGENT_MONITORS_BETA_HEADER,
  CreateEnrichmentParametersFormat,
  UpdateMonitorStatus,
  WebsetSearchBehavior,
  type AgentEvent,
} from 'exa-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedWebset } from '../../simulator/websets-seed.ts'
import { exaError, settledRows, startGateway, type AuditRow, type Gateway } from './harness.ts'

/**
 * exa-js 2.23.0's state-changing calls of the Websets sub-resources, Websets monitors, search
 * monitors, agent runs and Agent Monitors (src/routes/changes.ts), unchanged, against a real
 * `wrangler dev` gateway whose upstream is the Exa simulator: each answered as Exa answers it and
 * audited with its resource, parent, before and after; refusals reach exa-js as Exa's errors.
 */
let gateway: Gateway
let exa: Exa
let key: string

const SECRET_MARKER = '[secret returned once to the caller; not kept]'
const betas = [AGENT_MONITORS_BETA_HEADER]

beforeAll(async () => {
  gateway = await startGateway()
  key = (
    await gateway.issueKey([
      'websets:read',
      'websets:write',
      'monitors:read',
      'monitors:write',
      'agent:read',
      'agent:write',
      'audit:read',
    ])
  ).key
  exa = new Exa(key, gateway.url)
})
afterAll(async () => {
  await gateway?.stop()
})

type Row = AuditRow
const rowsOf = (type: string, id: string) => settledRows(gateway, key, type, id)
/** The resource's row of one action (exactly one). */
async function rowOf(type: string, id: string, action: string): Promise<Row> {
  const rows = (await rowsOf(type, id)).filter((row) => row.action === action)
  expect(rows).toHaveLength(1)
  return rows[0]!
}
/** Every row, newest first (at most 200: this file makes fewer). */
async function allRows(): Promise<Row[]> {
  const res = await fetch(`${gateway.url}/audit/events?limit=200`, { headers: { 'x-api-key': key } })
  return ((await res.json()) as { data: Row[] }).data
}

describe('exa-js websets changes through the gateway', () => {
  it('websets.create: 201 answered as Exa answers, audited as webset.create', async () => {
    const webset = await exa.websets.create({
      search: { query: 'AI startups in Berlin', count: 5 },
      externalId: 'e2e-changes:1',
      metadata: { team: 'e2e' },
    })
    expect(webset).toMatchObject({ object: 'webset', externalId: 'e2e-changes:1', metadata: { team: 'e2e' } })
    expect(webset.id).toMatch(/^webset_/)
    const row = await rowOf('webset', webset.id, 'webset.create')
    expect(row).toMatchObject({ resourceType: 'webset', resourceId: webset.id, outcome: 'succeeded', before: null })
    expect(row.after).toMatchObject({ id: webset.id, externalId: 'e2e-changes:1' })
  })

  it('websets.preview is answered, and not audited', async () => {
    const before = await allRows()
    const preview = await exa.websets.preview(
      { search: { query: 'AI startups in Berlin', count: 2 } },
      { search: true }
    )
    expect(preview.items).toHaveLength(2)
    expect(await allRows()).toHaveLength(before.length)
  })

  it('items.delete: the item answered, its row item.delete under its webset, after null', async () => {
    const { webset, items } = seedWebset(gateway.simulator.websets, { items: 3 })
    const item = items[0]!
    const deleted = await exa.websets.items.delete(webset.id, item.id)
    expect(deleted).toMatchObject({ id: item.id, object: 'webset_item', websetId: webset.id })
    const row = await rowOf('item', item.id, 'item.delete')
    expect(row).toMatchObject({ resourceId: item.id, parentId: webset.id, outcome: 'succeeded', after: null })
    expect(row.before).toMatchObject({ id: item.id })
  })

  it('searches.create and cancel: each answered as the search, audited under its webset', async () => {
    const { webset } = seedWebset(gateway.simulator.websets)
    const search = await exa.websets.searches.create(webset.id, {
      query: 'fintechs in Paris',
      count: 3,
      behavior: WebsetSearchBehavior.append,
    })
    expect(search).toMatchObject({ object: 'webset_search', websetId: webset.id, query: 'fintechs in Paris' })
    const canceled = await exa.websets.searches.cancel(webset.id, search.id)
    expect(canceled).toMatchObject({ id: search.id, status: 'canceled' })
    const rows = await rowsOf('search', search.id)
    expect(rows.map((row) => [row.action, row.outcome, row.parentId])).toEqual([
      ['search.cancel', 'succeeded', webset.id],
      ['search.create', 'succeeded', webset.id],
    ])
    expect(rows[1]).toMatchObject({ before: null, after: { id: search.id, query: 'fintechs in Paris' } })
    expect(rows[0]!.before).toMatchObject({ id: search.id })
    expect(rows[0]!.after).toMatchObject({ id: search.id, status: 'canceled' })
  })

  it('enrichments create, update (no body; the after read back), cancel, delete', async () => {
    const { webset } = seedWebset(gateway.simulator.websets)
    const enrichment = await exa.websets.enrichments.create(webset.id, {
      description: 'funding raised',
      format: CreateEnrichmentParametersFormat.number,
    })
    expect(enrichment).toMatchObject({
      object: 'webset_enrichment',
      websetId: webset.id,
      description: 'funding raised',
    })

    const updated = await exa.websets.enrichments.update(webset.id, enrichment.id, {
      description: 'total funding raised, in USD',
    })
    expect(updated).toBeUndefined()
    const update = await rowOf('enrichment', enrichment.id, 'enrichment.update')
    expect(update).toMatchObject({ parentId: webset.id, outcome: 'succeeded' })
    expect(update.before).toMatchObject({ description: 'funding raised' })
    expect(update.after).toMatchObject({ id: enrichment.id, description: 'total funding raised, in USD' })
    expect(update.changes).toContainEqual({
      path: 'description',
      from: 'funding raised',
      to: 'total funding raised, in USD',
    })

    const canceled = await exa.websets.enrichments.cancel(webset.id, enrichment.id)
    expect(canceled).toMatchObject({ id: enrichment.id, status: 'canceled' })
    const deleted = await exa.websets.enrichments.delete(webset.id, enrichment.id)
    expect(deleted).toMatchObject({ id: enrichment.id })
    const rows = await rowsOf('enrichment', enrichment.id)
    expect(rows.map((row) => [row.action, row.outcome, row.parentId])).toEqual([
      ['enrichment.delete', 'succeeded', webset.id],
      ['enrichment.cancel', 'succeeded', webset.id],
      ['enrichment.update', 'succeeded', webset.id],
      ['enrichment.create', 'succeeded', webset.id],
    ])
    expect(rows[3]).toMatchObject({ before: null, after: { id: enrichment.id, description: 'funding raised' } })
    expect(rows[1]!.after).toMatchObject({ status: 'canceled' })
  })

  it('monitors create, update, delete: audited as monitor.*', async () => {
    const { webset } = seedWebset(gateway.simulator.websets)
    const monitor = await exa.websets.monitors.create({
      websetId: webset.id,
      cadence: { cron: '0 9 * * 1', timezone: 'Etc/UTC' },
      behavior: {
        type: 'search',
        config: { query: 'new AI startups', count: 5, behavior: WebsetSearchBehavior.append },
      },
    })
    expect(monitor).toMatchObject({ object: 'monitor', websetId: webset.id, status: 'enabled' })
    const updated = await exa.websets.monitors.update(monitor.id, { status: UpdateMonitorStatus.disabled })
    expect(updated).toMatchObject({ id: monitor.id, status: 'disabled' })
    const deleted = await exa.websets.monitors.delete(monitor.id)
    expect(deleted).toMatchObject({ id: monitor.id })
    const rows = await rowsOf('monitor', monitor.id)
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([
      ['monitor.delete', 'succeeded'],
      ['monitor.update', 'succeeded'],
      ['monitor.create', 'succeeded'],
    ])
    expect(rows[2]).toMatchObject({ before: null, after: { id: monitor.id, status: 'enabled' } })
    expect(rows[1]!.changes).toContainEqual({ path: 'status', from: 'enabled', to: 'disabled' })
  })

  it('an unknown enrichment is Exa’s 404; an invalid body is our 400, before Exa', async () => {
    const { webset } = seedWebset(gateway.simulator.websets)
    const missing = await exaError(exa.websets.enrichments.delete(webset.id, 'wenrich_nope'))
    expect(missing.statusCode).toBe(404)
    const sent = gateway.simulator.requests.length
    const invalid = await exaError(exa.websets.enrichments.create(webset.id, { description: '' }))
    expect(invalid.statusCode).toBe(400)
    expect(gateway.simulator.requests.length).toBe(sent)
  })
})

describe('exa-js: the rest of a webset, read, cancelled and deleted', () => {
  it('items, searches, enrichments, monitors and runs read by id; cancel and delete audited', async () => {
    const { webset, items, search, enrichment, monitor, run } = seedWebset(gateway.simulator.websets, { items: 2 })
    expect(await exa.websets.items.get(webset.id, items[0]!.id)).toMatchObject({ id: items[0]!.id })
    expect(await exa.websets.searches.get(webset.id, search.id)).toMatchObject({ id: search.id })
    expect(await exa.websets.enrichments.get(webset.id, enrichment.id)).toMatchObject({ id: enrichment.id })
    expect(await exa.websets.monitors.get(monitor.id)).toMatchObject({ id: monitor.id })
    expect(await exa.websets.monitors.runs.get(monitor.id, run.id)).toMatchObject({ id: run.id })

    expect(await exa.websets.cancel(webset.id)).toMatchObject({ id: webset.id, status: 'idle' })
    expect(await exa.websets.delete(webset.id)).toMatchObject({ id: webset.id })
    const rows = await rowsOf('webset', webset.id)
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([
      ['webset.delete', 'succeeded'],
      ['webset.cancel', 'succeeded'],
    ])
    expect(rows[0]!.after.destroyed).toMatchObject({ searches: [search.id], itemsFound: 2 })
    await expect(exa.websets.get(webset.id)).rejects.toMatchObject({ statusCode: 404 })
  })
})

describe('exa-js search monitor changes through the gateway', () => {
  it('create (the webhookSecret to the caller only), update, trigger, delete: audited as search_monitor.*', async () => {
    const created = await exa.monitors.create({
      name: 'funding news',
      search: { query: 'AI startups raising a seed round' },
      trigger: { type: 'interval', period: '1d' },
      webhook: { url: 'https://hooks.example.com/e2e-monitor' },
    })
    expect(created).toMatchObject({ name: 'funding news', status: 'active', search: { query: expect.any(String) } })
    expect(created.id).toMatch(/^monitor_/)
    expect(created.webhookSecret).toMatch(/^whsec_/)

    const updated = await exa.monitors.update(created.id, { name: 'seed rounds' })
    expect(updated).toMatchObject({ id: created.id, name: 'seed rounds' })
    expect(await exa.monitors.trigger(created.id)).toEqual({ triggered: true })
    const deleted = await exa.monitors.delete(created.id)
    expect(deleted).toMatchObject({ id: created.id, name: 'seed rounds' })

    const rows = await rowsOf('search_monitor', created.id)
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([
      ['search_monitor.delete', 'succeeded'],
      ['search_monitor.trigger', 'succeeded'],
      ['search_monitor.update', 'succeeded'],
      ['search_monitor.create', 'succeeded'],
    ])
    expect(rows[3]).toMatchObject({ before: null, after: { id: created.id, webhookSecret: SECRET_MARKER } })
    expect(rows[2]!.changes).toContainEqual({ path: 'name', from: 'funding news', to: 'seed rounds' })
    expect(rows[1]!.after).toMatchObject({ id: created.id })
    expect(JSON.stringify(rows)).not.toContain(created.webhookSecret)

    const exported = await (
      await fetch(`${gateway.url}/audit/export?format=ndjson`, { headers: { 'x-api-key': key } })
    ).text()
    expect(exported).toContain(created.id)
    expect(exported).not.toContain(created.webhookSecret)
    expect(readFileSync(gateway.logFile, 'utf8')).not.toContain(created.webhookSecret)
  })

  it('an unknown monitor is Exa’s 404', async () => {
    const error = await exaError(exa.monitors.update('monitor_nope', { name: 'x' }))
    expect(error.statusCode).toBe(404)
  })
})

describe('exa-js agent run changes through the gateway', () => {
  it('create: answered queued, audited as agent_run.create', async () => {
    const run = await exa.agent.runs.create({ query: 'Who founded Exa?', effort: 'low' })
    expect(run).toMatchObject({ object: 'agent_run', status: 'queued' })
    expect(run.id).toMatch(/^agent_run_/)
    const row = await rowOf('agent_run', run.id, 'agent_run.create')
    expect(row).toMatchObject({ resourceId: run.id, outcome: 'succeeded', before: null })
    expect(row.after).toMatchObject({ id: run.id })
  })

  it('a streamed create, consumed to the end; its row settles with the final run', async () => {
    const stream = await exa.agent.runs.create({ query: 'Who founded Exa?', effort: 'low', stream: true })
    const events: AgentEvent[] = []
    for await (const event of stream) events.push(event)
    expect(events.map((e) => e.event)).toEqual(['agent_run.created', 'agent_run.started', 'agent_run.completed'])
    const final = events.at(-1)!.data as { id: string; status: string; costDollars: { total: number } }
    expect(final).toMatchObject({ status: 'completed', costDollars: { total: 0.05 } })
    const row = await rowOf('agent_run', final.id, 'agent_run.create')
    expect(row).toMatchObject({ resourceId: final.id, outcome: 'succeeded' })
    expect(row.after).toMatchObject({ id: final.id, status: 'completed' })
    const sent = gateway.simulator.requests.findLast((r) => r.method === 'POST' && r.path === '/agent/runs')
    expect(sent!.headers.accept).toContain('text/event-stream')
  })

  it('cancel a running (ultra) run; stop of a non-ultra run is Exa’s refusal; delete leaves after null', async () => {
    const ultra = await exa.agent.runs.create({ query: 'Every AI lab in Europe', effort: 'ultra' })
    const canceled = await exa.agent.runs.cancel(ultra.id)
    expect(canceled).toMatchObject({ id: ultra.id, status: 'cancelled', stopReason: 'cancelled' })
    const cancel = await rowOf('agent_run', ultra.id, 'agent_run.cancel')
    expect(cancel).toMatchObject({
      outcome: 'succeeded',
      before: { status: 'running' },
      after: { status: 'cancelled' },
    })

    const low = await exa.agent.runs.create({ query: 'Who founded Exa?', effort: 'low' })
    const refused = await exaError(exa.agent.runs.stop(low.id))
    expect(refused.statusCode).toBe(400)
    expect(refused.message).toContain('only ultra runs can be stopped')
    const stop = await rowOf('agent_run', low.id, 'agent_run.stop')
    expect(stop.outcome).toBe('failed')

    const deleted = await exa.agent.runs.delete(low.id)
    expect(deleted).toEqual({ id: low.id, object: 'agent_run.deleted', deleted: true })
    const del = await rowOf('agent_run', low.id, 'agent_run.delete')
    expect(del).toMatchObject({ outcome: 'succeeded', after: null, before: { id: low.id, status: 'completed' } })
  })

  it('an unknown run is the Agent API’s 404', async () => {
    const error = await exaError(exa.agent.runs.cancel('agent_run_nope'))
    expect(error.statusCode).toBe(404)
  })
})

describe('exa-js Agent Monitors (beta) changes through the gateway', () => {
  const entities = [{ name: 'Exa', domain: 'exa.ai' }]
  const fields = [{ name: 'CEO', description: 'Who is the CEO?' }]

  it('create, entities.add, delete: audited as agent_monitor.*, with the beta header sent upstream', async () => {
    const monitor = await exa.beta.agent.monitors.create({ cadence: '12h', entities, fields, betas })
    expect(monitor).toMatchObject({ object: 'agent_monitor', status: 'creating', cadence: '12h', entityCount: 1 })
    const created = gateway.simulator.requests.findLast((r) => r.method === 'POST' && r.path === '/agent/monitors')
    expect(created!.headers['exa-beta']).toBe(AGENT_MONITORS_BETA_HEADER)

    const added = await exa.beta.agent.monitors.entities.add(monitor.id, {
      entities: [{ name: 'Anthropic', domain: 'anthropic.com' }],
      betas,
    })
    expect(added).toMatchObject({ id: monitor.id, entityCount: 2, version: 2 })
    const deleted = await exa.beta.agent.monitors.delete(monitor.id, { betas })
    expect(deleted).toEqual({ id: monitor.id, object: 'agent_monitor.deleted', deleted: true })

    const rows = await rowsOf('agent_monitor', monitor.id)
    expect(rows.map((row) => [row.action, row.outcome])).toEqual([
      ['agent_monitor.delete', 'succeeded'],
      ['agent_monitor.add_entities', 'succeeded'],
      ['agent_monitor.create', 'succeeded'],
    ])
    expect(rows[2]).toMatchObject({ before: null, after: { id: monitor.id } })
    expect(rows[1]).toMatchObject({ before: { entityCount: 1 }, after: { entityCount: 2 } })
    expect(rows[0]).toMatchObject({ before: { id: monitor.id }, after: null })
  })

  it('backtests.create: answered running, audited as backtest.create', async () => {
    const backtest = await exa.beta.agent.monitors.backtests.create({
      entities,
      fields,
      startTime: '2026-01-01T00:00:00Z',
      endTime: '2026-02-01T00:00:00Z',
      betas,
    })
    expect(backtest).toMatchObject({ object: 'agent_monitor.backtest', status: 'running' })
    const row = await rowOf('backtest', backtest.id, 'backtest.create')
    expect(row).toMatchObject({ resourceId: backtest.id, outcome: 'succeeded', before: null })
    expect(row.after).toMatchObject({ id: backtest.id })
  })

  it('an unknown Agent Monitor is the Agent API’s 404; the audit chain still verifies', async () => {
    const error = await exaError(exa.beta.agent.monitors.delete('agent_monitor_nope', { betas }))
    expect(error.statusCode).toBe(404)
    const verify = await (await fetch(`${gateway.url}/audit/verify`, { headers: { 'x-api-key': key } })).json()
    expect(verify).toMatchObject({ ok: true })
  })
})
