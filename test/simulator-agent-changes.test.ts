import { Exa, type AgentEvent } from 'exa-js'
import { beforeEach, describe, expect, it } from 'vitest'
import { AGENT_MONITORS_BETA } from '../src/exa/agent'
import { SIMULATOR_ORIGIN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

/**
 * The simulator's model of Exa's Search Monitor, agent run and Agent Monitor changes: shapes,
 * statuses, error bodies, what reads see afterwards, the agent SSE wire format (read by exa-js's
 * own parser), and the same fault injection as every other route.
 */
type Json = Record<string, any>
const BETA = { 'exa-beta': AGENT_MONITORS_BETA }
const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(SIMULATOR_ORIGIN + path, {
    method,
    headers: { 'x-api-key': TEST_EXA_API_KEY, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Json }
}
const monitorBody = {
  name: 'Seed rounds',
  search: { query: 'AI seed rounds', numResults: 5 },
  trigger: { type: 'interval', period: '1d' },
  metadata: { team: 'research' },
  webhook: { url: 'https://hooks.example.com/m', events: ['monitor.run.completed'] },
}
const entities = [
  { name: 'Acme', domain: 'acme.example' },
  { name: 'Globex', domain: 'globex.example' },
]
const fields = [{ name: 'CEO', description: 'Who is the CEO?' }]

beforeEach(async () => {
  await sim.reset()
})

describe('search monitors', () => {
  it('create answers 201 with the webhookSecret once; reads never show it', async () => {
    const created = await call('POST', '/monitors', monitorBody)
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: 'Seed rounds', status: 'active', outputSchema: null })
    expect(created.body.webhookSecret).toMatch(/^whsec_/)
    expect(Date.parse(created.body.nextRunAt) - Date.parse(created.body.updatedAt)).toBe(86_400_000)
    const read = await call('GET', `/monitors/${created.body.id}`)
    const { webhookSecret: _, ...monitor } = created.body
    expect(read.body).toEqual(monitor)
    expect(JSON.stringify((await call('GET', '/monitors')).body)).not.toContain(created.body.webhookSecret)
  })

  it('update merges search and webhook, null clears, updatedAt moves', async () => {
    const { body: created } = await call('POST', '/monitors', monitorBody)
    const patch = { name: null, trigger: null, metadata: null, search: { query: 'robotics' }, webhook: { events: [] } }
    const { status, body } = await call('PATCH', `/monitors/${created.id}`, patch)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      name: null,
      trigger: null,
      metadata: null,
      nextRunAt: null,
      search: { query: 'robotics', numResults: 5 },
      webhook: { url: 'https://hooks.example.com/m', events: [] },
    })
    expect(body.updatedAt > created.updatedAt).toBe(true)
    expect((await call('GET', `/monitors/${created.id}`)).body).toEqual(body)
    const paused = await call('PATCH', `/monitors/${created.id}`, { status: 'paused' })
    expect(paused.body.status).toBe('paused')
    expect((await call('PATCH', `/monitors/${created.id}`, { status: 'gone' })).status).toBe(400)
  })

  it('trigger leaves a run the reads see; delete answers the monitor, then 404 in Exa’s shape', async () => {
    const { body: created } = await call('POST', '/monitors', monitorBody)
    expect((await call('POST', `/monitors/${created.id}/trigger`)).body).toEqual({ triggered: true })
    const runs = await call('GET', `/monitors/${created.id}/runs`)
    expect(runs.body.data).toHaveLength(1)
    expect(runs.body.data[0]).toMatchObject({ monitorId: created.id, status: 'completed', failReason: null })
    const deleted = await call('DELETE', `/monitors/${created.id}`)
    expect(deleted.body).toEqual((({ webhookSecret: _, ...m }) => m)(created))
    for (const [method, path] of [
      ['GET', `/monitors/${created.id}`],
      ['PATCH', `/monitors/${created.id}`],
      ['DELETE', `/monitors/${created.id}`],
      ['POST', `/monitors/${created.id}/trigger`],
    ] as const) {
      const res = await call(method, path, method === 'PATCH' ? { name: 'x' } : undefined)
      expect(res.status).toBe(404)
      expect(res.body).toMatchObject({ tag: 'NOT_FOUND', error: expect.stringContaining(created.id) })
    }
  })

  it('refuses a body Exa would refuse, in Exa’s shape', async () => {
    const res = await call('POST', '/monitors', { ...monitorBody, webhook: { url: 'http://x' } })
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ tag: 'INVALID_REQUEST_BODY', requestId: expect.any(String) })
  })
})

describe('agent runs', () => {
  it('create answers the run queued with costDollars; by the next read it has completed and spent', async () => {
    const { status, body } = await call('POST', '/agent/runs', { query: 'Berlin dev tools', effort: 'low' })
    expect(status).toBe(200)
    expect(body).toMatchObject({ object: 'agent_run', status: 'queued', costDollars: { total: 0 } })
    const read = (await call('GET', `/agent/runs/${body.id}`)).body
    expect(read).toMatchObject({ status: 'completed', stopReason: 'schema_satisfied', costDollars: { total: 0.05 } })
    const events = (await call('GET', `/agent/runs/${body.id}/events`)).body.data.map((e: Json) => e.event)
    expect(events.sort()).toEqual(['agent_run.completed', 'agent_run.created', 'agent_run.started'])
  })

  it('a streamed create is SSE that exa-js parses, ending with the terminal event and its cost', async () => {
    const res = await fetch(`${SIMULATOR_ORIGIN}/agent/runs`, {
      method: 'POST',
      headers: { 'x-api-key': TEST_EXA_API_KEY, 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'Berlin dev tools', effort: 'medium' }),
    })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const text = await res.text()
    expect(text).toMatch(/^id: agent_event_\w+\nevent: agent_run\.created\ndata: \{.*\}\n\n/)

    const exa = new Exa(TEST_EXA_API_KEY, SIMULATOR_ORIGIN)
    const seen: AgentEvent[] = []
    for await (const event of await exa.agent.runs.create({ query: 'Berlin dev tools', stream: true })) seen.push(event)
    expect(seen.map((e) => e.event)).toEqual(['agent_run.created', 'agent_run.started', 'agent_run.completed'])
    const last = seen.at(-1)!
    expect(last.data).toMatchObject({ status: 'completed', costDollars: { total: 0.4 } })
    const runId = last.data.id as string
    const stored = (await call('GET', `/agent/runs/${runId}/events?limit=10`)).body.data as Json[]
    expect(stored.map((e) => e.id).sort()).toEqual(seen.map((e) => e.id).sort())
    const body = (await sim.requests({ method: 'POST', pathIncludes: '/agent/runs' })).at(-1)!.body
    expect(JSON.parse(body!)).toEqual({ query: 'Berlin dev tools' })
  })

  it('cancel and stop an ultra run; stop refuses other efforts; terminal runs answer 409', async () => {
    const ultra = (await call('POST', '/agent/runs', { query: 'q', effort: 'ultra' })).body
    expect((await call('GET', `/agent/runs/${ultra.id}`)).body.status).toBe('running')
    const stopped = await call('POST', `/agent/runs/${ultra.id}/stop`)
    expect(stopped.body).toMatchObject({ status: 'completed', stopReason: 'stopped', costDollars: { total: 1 } })
    expect((await call('POST', `/agent/runs/${ultra.id}/stop`)).status).toBe(409)
    expect((await call('POST', `/agent/runs/${ultra.id}/cancel`)).status).toBe(409)

    const other = (await call('POST', '/agent/runs', { query: 'q', effort: 'ultra' })).body
    const cancelled = await call('POST', `/agent/runs/${other.id}/cancel`)
    expect(cancelled.body).toMatchObject({ status: 'cancelled', stopReason: 'cancelled' })

    const low = (await call('POST', '/agent/runs', { query: 'q', effort: 'low' })).body
    const refused = await call('POST', `/agent/runs/${low.id}/stop`)
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ type: 'INVALID_REQUEST', code: 'INVALID_REQUEST' })
  })

  it('delete answers the stub; the run and its events are gone (Agent API error shape)', async () => {
    const run = (await call('POST', '/agent/runs', { query: 'q' })).body
    expect((await call('DELETE', `/agent/runs/${run.id}`)).body).toEqual({
      id: run.id,
      object: 'agent_run.deleted',
      deleted: true,
    })
    for (const [method, path] of [
      ['GET', `/agent/runs/${run.id}/events`],
      ['POST', `/agent/runs/${run.id}/cancel`],
      ['POST', `/agent/runs/${run.id}/stop`],
      ['DELETE', `/agent/runs/${run.id}`],
    ] as const) {
      const res = await call(method, path)
      expect(res.status).toBe(404)
      expect(res.body.error).toMatchObject({ type: 'NOT_FOUND', code: 'RUN_NOT_FOUND' })
    }
  })

  it('refuses what Exa refuses: a budget for the wrong effort, an unknown previous run', async () => {
    const budget = await call('POST', '/agent/runs', { query: 'q', effort: 'low', budget: { maxCostDollars: 5 } })
    expect(budget.status).toBe(400)
    const previous = await call('POST', '/agent/runs', { query: 'q', previousRunId: 'agent_run_nope' })
    expect(previous.status).toBe(404)
    expect(previous.body.error.code).toBe('PREVIOUS_RUN_NOT_FOUND')
  })
})

describe('agent monitors (beta)', () => {
  it('create answers creating; by the next read it is active with entities; without the beta, 400', async () => {
    expect((await call('POST', '/agent/monitors', { cadence: '12h', entities, fields })).status).toBe(400)
    const { status, body } = await call('POST', '/agent/monitors', { cadence: '12h', entities, fields }, BETA)
    expect(status).toBe(200)
    expect(body).toMatchObject({ object: 'agent_monitor', status: 'creating', entityCount: 2, version: 0 })
    expect(body.fields[0]).toMatchObject({ name: 'CEO', mode: 'dynamic', type: 'string' })
    expect((await call('GET', `/agent/monitors/${body.id}`, undefined, BETA)).body.status).toBe('active')
    const listed = (await call('GET', `/agent/monitors/${body.id}/entities`, undefined, BETA)).body
    expect(listed.data).toHaveLength(2)
  })

  it('Idempotency-Key: the same body answers the first answer, another body is a 409', async () => {
    const headers = { ...BETA, 'idempotency-key': 'key-1' }
    const first = await call('POST', '/agent/monitors', { cadence: '7d', entities, fields }, headers)
    const again = await call('POST', '/agent/monitors', { cadence: '7d', entities, fields }, headers)
    expect(again.body).toEqual(first.body)
    expect((await call('GET', '/agent/monitors', undefined, BETA)).body.data).toHaveLength(1)
    const other = await call('POST', '/agent/monitors', { cadence: '1d', entities, fields }, headers)
    expect(other.status).toBe(409)
    expect(other.body.error).toMatchObject({ type: 'INVALID_REQUEST' })
  })

  it('entities.add answers the monitor with the new count; delete answers the stub, then 404', async () => {
    const monitor = (await call('POST', '/agent/monitors', { cadence: '6h', entities, fields }, BETA)).body
    const added = { entities: [{ name: 'Initech', domain: 'initech.example' }] }
    const after = await call('POST', `/agent/monitors/${monitor.id}/entities`, added, BETA)
    expect(after.body).toMatchObject({ id: monitor.id, entityCount: 3, version: 2 })
    const deleted = await call('DELETE', `/agent/monitors/${monitor.id}`, undefined, BETA)
    expect(deleted.body).toEqual({ id: monitor.id, object: 'agent_monitor.deleted', deleted: true })
    const gone = await call('POST', `/agent/monitors/${monitor.id}/entities`, added, BETA)
    expect(gone.status).toBe(404)
    expect(gone.body.error).toMatchObject({ type: 'NOT_FOUND', code: 'MONITOR_NOT_FOUND' })
  })

  it('a backtest answers running and is completed by the next read', async () => {
    const window = { startTime: '2026-07-01T00:00:00Z', endTime: '2026-08-01T00:00:00Z' }
    const { body } = await call('POST', '/agent/monitors/backtest', { entities, fields, ...window }, BETA)
    expect(body).toMatchObject({ object: 'agent_monitor.backtest', status: 'running', ...window })
    const read = (await call('GET', `/agent/monitors/backtest/${body.id}`, undefined, BETA)).body
    expect(read).toMatchObject({ status: 'completed', data: [{ name: 'Acme' }, { name: 'Globex' }] })
    const reversed = { startTime: window.endTime, endTime: window.startTime }
    expect((await call('POST', '/agent/monitors/backtest', { entities, fields, ...reversed }, BETA)).status).toBe(400)
  })
})

describe('recorded and fault-injected like every other route', () => {
  it('a status fault answers instead of the change, which is not applied; the call is recorded', async () => {
    await sim.fault({ kind: 'status', method: 'POST', pathIncludes: '/monitors', status: 503 })
    expect((await call('POST', '/monitors', monitorBody)).status).toBe(503)
    expect((await call('GET', '/monitors')).body.data).toHaveLength(0)
    const recorded = await sim.requests({ method: 'POST', pathIncludes: '/monitors' })
    expect(recorded).toHaveLength(1)
    expect(JSON.parse(recorded[0]!.body!)).toEqual(monitorBody)
    await sim.fault({ kind: 'status', method: 'DELETE', pathIncludes: '/agent/runs/', status: 500 })
    const run = (await call('POST', '/agent/runs', { query: 'q' })).body
    expect((await call('DELETE', `/agent/runs/${run.id}`)).status).toBe(500)
    expect((await call('GET', `/agent/runs/${run.id}`)).status).toBe(200)
  })
})
