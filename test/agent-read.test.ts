import { beforeEach, describe, expect, it } from 'vitest'
import { AGENT_MONITORS_BETA, getAgentRunCall } from '../src/exa/agent'
import { expectError } from './support/errors'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { SIMULATOR_ORIGIN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

/**
 * The reads of Search Monitors (`/monitors`), agent runs and the beta Agent Monitors: forwarded
 * with Exa's path and query (and the validated `exa-beta`), relayed unchanged, refused before
 * anything goes upstream when invalid.
 */
type Seeded = {
  monitor: { id: string }
  run: { id: string }
  agentRun: { id: string }
  agentMonitor: { id: string }
  backtest: { id: string }
}
let key: IssuedKey
let seeded: Seeded

beforeEach(async () => {
  await sim.reset()
  key = await issueKey(['monitors:read', 'agent:read'])
  seeded = await sim.seedAgent<Seeded>()
})

const BETA = { 'exa-beta': AGENT_MONITORS_BETA }
const get = (path: string, headers: Record<string, string> = {}) =>
  api(path, { headers: { 'x-api-key': key.key, 'content-type': 'application/json', ...headers } })
const direct = async (path: string, headers: Record<string, string> = {}) =>
  (await fetch(SIMULATOR_ORIGIN + path, { headers: { 'x-api-key': TEST_EXA_API_KEY, ...headers } })).text()

describe('forwarded as Exa’s path, query and beta header, relayed unchanged', () => {
  const cases: [string, () => [string, Record<string, string>?]][] = [
    ['search monitors list', () => ['/monitors?limit=1&status=active']],
    ['search monitor get', () => [`/monitors/${seeded.monitor.id}`]],
    ['search monitor runs list', () => [`/monitors/${seeded.monitor.id}/runs?limit=5`]],
    ['search monitor run get', () => [`/monitors/${seeded.monitor.id}/runs/${seeded.run.id}`]],
    ['agent runs list', () => ['/agent/runs?limit=20']],
    ['agent run get, with a beta', () => [`/agent/runs/${seeded.agentRun.id}`, { 'exa-beta': 'agent-2026-05-07' }]],
    ['agent run events', () => [`/agent/runs/${seeded.agentRun.id}/events?limit=2`]],
    ['agent monitors list', () => ['/agent/monitors?limit=3', BETA]],
    [
      'agent monitor get',
      () => [`/agent/monitors/${seeded.agentMonitor.id}`, { 'exa-beta': `x-1, ${AGENT_MONITORS_BETA}` }],
    ],
    [
      'agent monitor entities',
      () => [`/agent/monitors/${seeded.agentMonitor.id}/entities?limit=1&since=2026-01-01`, BETA],
    ],
    [
      'agent monitor changes',
      () => [`/agent/monitors/${seeded.agentMonitor.id}/changes?since=2026-01-01T00%3A00%3A00Z`, BETA],
    ],
    ['agent monitor backtest get', () => [`/agent/monitors/backtest/${seeded.backtest.id}`, BETA]],
  ]
  for (const [label, build] of cases) {
    it(label, async () => {
      const [path, headers = {}] = build()
      const res = await get(path, headers)
      const text = await res.text()
      expect(res.status, text).toBe(200)
      const [forwarded, ...more] = await sim.requests()
      expect(more).toEqual([])
      expect(forwarded!.path + forwarded!.query).toBe(path)
      expect(forwarded!.headers['exa-beta']).toBe(headers['exa-beta'])
      expect(forwarded!.headers['x-api-key']).toBe(TEST_EXA_API_KEY)
      expect(text).toBe(await direct(path, headers))
    })
  }

  it('builds an agent run’s call with its id percent-encoded and the beta as a header', () => {
    expect(getAgentRunCall({ id: 'run:1' }, {}, { 'exa-beta': 'agent-2026-05-07' })).toEqual({
      method: 'GET',
      path: '/agent/runs/run%3A1',
      headers: { 'exa-beta': 'agent-2026-05-07' },
    })
  })
})

describe('refused with 400 before anything goes upstream', () => {
  const bad: [string, string, Record<string, string>?][] = [
    ['/monitors?limit=101', 'limit'],
    ['/monitors?status=stopped', 'status'],
    ['/monitors?name=funding', ''],
    ['/monitors/m%2F1', 'id'],
    ['/monitors/m1/runs/r.1', 'runId'],
    ['/agent/runs?limit=0', 'limit'],
    ['/agent/runs/..%2Fx', 'id'],
    [`/agent/runs/${'r'.repeat(201)}`, 'id'],
    ['/agent/runs/r1', 'exa-beta', { 'exa-beta': 'Agent 2026' }],
    ['/agent/runs/r1/events?cursor=', 'cursor'],
    ['/agent/monitors', 'exa-beta'],
    ['/agent/monitors', 'exa-beta', { 'exa-beta': 'agent-2026-05-07' }],
    ['/agent/monitors/m1?limit=1', '', BETA],
    ['/agent/monitors/m1/entities?since=yesterday', 'since', BETA],
    ['/agent/monitors/m1/changes?since=2026-13-45', 'since', BETA],
    ['/agent/monitors/backtest/b.1', 'id', BETA],
    ['/agent/monitors/m1/entities', 'exa-beta'],
  ]
  for (const [path, field, headers] of bad) {
    it(`GET ${path} ${headers ? JSON.stringify(headers) : ''}`, async () => {
      const body = await expectError(await get(path, headers), 400, 'INVALID_PARAMS')
      expect(body.issues?.map((issue) => issue.path)).toContain(field)
      expect(await sim.requests()).toEqual([])
    })
  }

  it('says which beta Agent Monitors need', async () => {
    await expectError(await get('/agent/monitors'), 400, 'INVALID_PARAMS', new RegExp(AGENT_MONITORS_BETA))
  })
})

describe('Exa’s errors pass through, in each API’s own shape', () => {
  it('a search monitor Exa does not have, an agent run, an agent monitor', async () => {
    const monitor = await get('/monitors/monitor_missing')
    expect(monitor.status).toBe(404)
    expect(await monitor.json()).toMatchObject({ tag: 'NOT_FOUND', error: 'Monitor monitor_missing not found' })
    const run = await get('/agent/runs/agent_run_missing')
    expect(run.status).toBe(404)
    expect(await run.json()).toMatchObject({ error: { type: 'NOT_FOUND', code: 'RUN_NOT_FOUND' } })
    const agentMonitor = await get('/agent/monitors/agent_monitor_missing', BETA)
    expect(await agentMonitor.json()).toMatchObject({ error: { code: 'MONITOR_NOT_FOUND' } })
  })

  it('a 429 on agent runs, with retry-after', async () => {
    const body = { error: { type: 'RATE_LIMIT_ERROR', code: 'CONCURRENCY_LIMIT_REACHED', message: 'later' } }
    await sim.fault({ kind: 'status', status: 429, pathIncludes: '/agent/runs', headers: { 'retry-after': '9' }, body })
    const res = await get('/agent/runs')
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('9')
    expect(await res.json()).toEqual(body)
  })
})
