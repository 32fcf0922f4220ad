import type {
  AgentEvent,
  AgentMonitor,
  AgentMonitorBacktest,
  AgentMonitorChange,
  AgentMonitorEntityView,
  AgentRun,
  SearchMonitor,
  SearchMonitorRun,
} from 'exa-js'
import type { Context, Hono } from 'hono'
import { randomToken } from './store.ts'
import { pageOf, type Page, type Wire } from './wire.ts'

/**
 * The reads of Exa's Search Monitors (`/monitors`), agent runs (`/agent/runs`, with their stored
 * events) and beta Agent Monitors (`/agent/monitors`, only with `Exa-Beta:
 * agent-monitors-2026-08-04`) on the simulator, shaped like exa-js 2.23.0's types and
 * ../shared/exa-api-surface.md §10.3. Search Monitors answer errors in Exa's usual shape; the
 * Agent API in its own (`{error: {type, code, message}}`, §5 envelope B).
 */
export type SimSearchMonitor = Wire<SearchMonitor>
export type SimSearchMonitorRun = Wire<SearchMonitorRun>
export type SimAgentRun = Wire<AgentRun> & { createdAt: string }
export type SimAgentEvent = Wire<AgentEvent> & { id: string; createdAt: string; runId: string }
export type SimAgentMonitor = Wire<AgentMonitor>
/** An entity's current contents, kept with its monitor's id and when it last changed (for `since`). */
export type SimAgentEntity = Wire<AgentMonitorEntityView> & { id: string; monitorId: string; createdAt: string }
export type SimAgentChange = Wire<AgentMonitorChange> & { id: string; monitorId: string }
export type SimBacktest = Wire<AgentMonitorBacktest>

export type AgentState = {
  searchMonitors: Record<string, SimSearchMonitor>
  searchMonitorRuns: Record<string, SimSearchMonitorRun>
  agentRuns: Record<string, SimAgentRun>
  agentEvents: Record<string, SimAgentEvent>
  agentMonitors: Record<string, SimAgentMonitor>
  agentEntities: Record<string, SimAgentEntity>
  agentChanges: Record<string, SimAgentChange>
  backtests: Record<string, SimBacktest>
}

export const AGENT_MONITORS_BETA = 'agent-monitors-2026-08-04'

export class AgentStore {
  state: AgentState = AgentStore.empty()
  private lastTime = 0

  static empty(): AgentState {
    return {
      searchMonitors: {},
      searchMonitorRuns: {},
      agentRuns: {},
      agentEvents: {},
      agentMonitors: {},
      agentEntities: {},
      agentChanges: {},
      backtests: {},
    }
  }

  now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1)
    return new Date(this.lastTime).toISOString()
  }

  /** A search monitor that ran once, successfully. */
  seedSearchMonitor(fields: Partial<SimSearchMonitor> = {}) {
    const at = this.now()
    const monitor: SimSearchMonitor = {
      id: `monitor_${randomToken(24)}`,
      name: 'AI funding news',
      status: 'active',
      search: { query: 'AI startups raising a seed round', numResults: 10 },
      trigger: { type: 'interval', period: '1d' },
      outputSchema: null,
      metadata: { owner: 'ana' },
      webhook: { url: 'https://hooks.example.com/monitors', events: ['monitor.run.completed'] },
      nextRunAt: new Date(Date.parse(at) + 86_400_000).toISOString(),
      createdAt: at,
      updatedAt: at,
      ...fields,
    }
    this.state.searchMonitors[monitor.id] = monitor
    const ran = this.now()
    const run: SimSearchMonitorRun = {
      id: `run_${randomToken(24)}`,
      monitorId: monitor.id,
      status: 'completed',
      output: {
        results: [{ url: 'https://example.com/a', title: 'A raises a seed round' }],
        content: null,
        grounding: null,
      },
      failReason: null,
      startedAt: ran,
      completedAt: ran,
      failedAt: null,
      cancelledAt: null,
      durationMs: 1200,
      createdAt: ran,
      updatedAt: ran,
    }
    this.state.searchMonitorRuns[run.id] = run
    return { monitor: structuredClone(monitor), run: structuredClone(run) }
  }

  /** A completed agent run with its three stored events. */
  seedAgentRun(fields: Partial<SimAgentRun> = {}) {
    const at = this.now()
    const run: SimAgentRun = {
      id: `agent_run_${randomToken(24)}`,
      object: 'agent_run',
      status: 'completed',
      stopReason: 'schema_satisfied',
      createdAt: at,
      completedAt: this.now(),
      request: { query: 'Find three developer tools companies in Berlin', effort: 'low' },
      output: { text: 'Acme, Globex and Initech.', structured: null, grounding: [] },
      usage: { agentComputeUnits: 3, searches: 4, emails: 0, phoneNumbers: 0 },
      costDollars: { total: 0.05, agentCompute: 0.03, search: 0.02, emails: 0, phoneNumbers: 0 },
      ...fields,
    }
    this.state.agentRuns[run.id] = run
    for (const event of ['agent_run.created', 'agent_run.started', 'agent_run.completed']) {
      const id = `agent_event_${randomToken(24)}`
      this.state.agentEvents[id] = {
        id,
        event,
        data: { id: run.id, status: run.status },
        createdAt: this.now(),
        runId: run.id,
      }
    }
    return structuredClone(run)
  }

  /** An active agent monitor, refreshed once. */
  seedAgentMonitor(fields: Partial<SimAgentMonitor> = {}) {
    const at = this.now()
    const monitor: SimAgentMonitor = {
      id: `agent_monitor_${randomToken(24)}`,
      object: 'agent_monitor',
      status: 'active',
      cadence: '7d',
      fields: [{ id: 'field_ceo', name: 'CEO', description: 'Who is the CEO?', mode: 'dynamic', type: 'string' }],
      entityCount: 2,
      version: 1,
      createdAt: at,
      lastRefreshAt: at,
      refresh: { state: 'idle' },
      creation: { state: 'idle' },
      usage: { totalAcus: 4, lastRefreshAcus: 2 },
      ...fields,
    }
    this.state.agentMonitors[monitor.id] = monitor
    for (const [n, name] of ['Acme', 'Globex'].entries()) {
      const at = this.now()
      const entity = { id: `entity_${randomToken(24)}`, name, domain: `${name.toLowerCase()}.example` }
      const content = { value: `CEO ${n + 1}`, citations: [{ url: `https://${entity.domain}/about` }], updatedAt: at }
      const view = { entity, contents: { field_ceo: content } }
      this.state.agentEntities[entity.id] = { ...view, id: entity.id, monitorId: monitor.id, createdAt: at }
      const change = { type: 'content.upserted' as const, entity, field: { id: 'field_ceo', name: 'CEO' }, content }
      const id = `change_${randomToken(24)}`
      this.state.agentChanges[id] = { ...change, version: 1, createdAt: at, id, monitorId: monitor.id }
    }
    return structuredClone(monitor)
  }

  /** A completed backtest of the same field over the last month. */
  seedBacktest(fields: Partial<SimBacktest> = {}) {
    const at = this.now()
    const backtest = {
      id: `backtest_${randomToken(24)}`,
      object: 'agent_monitor.backtest',
      startTime: new Date(Date.parse(at) - 30 * 86_400_000).toISOString(),
      endTime: at,
      createdAt: at,
      expiresAt: new Date(Date.parse(at) + 7 * 86_400_000).toISOString(),
      status: 'completed',
      data: [
        { name: 'Acme', contents: { CEO: { value: 'CEO 1', citations: [{ url: 'https://acme.example/about' }] } } },
      ],
      ...fields,
    } as SimBacktest
    this.state.backtests[backtest.id] = backtest
    return structuredClone(backtest)
  }

  clear() {
    this.state = AgentStore.empty()
  }

  snapshot(): AgentState {
    return structuredClone(this.state)
  }

  restore(snapshot: AgentState) {
    this.state = structuredClone(snapshot)
  }
}

type SimContext = Context<{ Variables: { requestId: string } }>
type ExaError = (c: SimContext, status: number, error: string, tag: string) => Response

export function agentRoutes(app: Hono<any>, store: AgentStore, exaError: ExaError) {
  const query = (c: SimContext) => c.req.query() as { limit?: string; cursor?: string }
  const list = <T>(c: SimContext, page: Page<T> | string) =>
    typeof page === 'string' ? exaError(c, 400, page, 'INVALID_REQUEST') : c.json(page)
  /** The Agent API's own error shape (envelope B), with the request id exa-js reads beside it. */
  const agentError = (c: SimContext, status: number, type: string, code: string, message: string) =>
    c.json({ error: { type, code, message }, requestId: c.var.requestId }, status as 404)
  const agentList = <T>(c: SimContext, page: Page<T> | string) =>
    typeof page === 'string'
      ? agentError(c, 400, 'INVALID_REQUEST', 'INVALID_REQUEST', page)
      : c.json({ object: 'list', ...page })

  // ---- Search Monitors: limit 1..100, default 50 ----
  app.get('/monitors', (c) => {
    const status = c.req.query('status')
    const monitors = Object.values(store.state.searchMonitors).filter((m) => !status || m.status === status)
    return list(c, pageOf(monitors, query(c), 50, 100))
  })
  app.get('/monitors/:id', (c) => {
    const monitor = store.state.searchMonitors[c.req.param('id')]
    return monitor ? c.json(monitor) : exaError(c, 404, `Monitor ${c.req.param('id')} not found`, 'NOT_FOUND')
  })
  app.get('/monitors/:id/runs', (c) => {
    const id = c.req.param('id')
    if (!store.state.searchMonitors[id]) return exaError(c, 404, `Monitor ${id} not found`, 'NOT_FOUND')
    const runs = Object.values(store.state.searchMonitorRuns).filter((r) => r.monitorId === id)
    return list(c, pageOf(runs, query(c), 50, 100))
  })
  app.get('/monitors/:id/runs/:runId', (c) => {
    const run = store.state.searchMonitorRuns[c.req.param('runId')]
    return run?.monitorId === c.req.param('id')
      ? c.json(run)
      : exaError(c, 404, `Run ${c.req.param('runId')} not found`, 'NOT_FOUND')
  })

  // ---- Agent runs: limit 1..100, default 20 ----
  const runNotFound = (c: SimContext) =>
    agentError(c, 404, 'NOT_FOUND', 'RUN_NOT_FOUND', `Agent run ${c.req.param('id')} not found`)
  app.get('/agent/runs', (c) => agentList(c, pageOf(Object.values(store.state.agentRuns), query(c), 20, 100)))
  app.get('/agent/runs/:id', (c) => {
    const run = store.state.agentRuns[c.req.param('id')]
    return run ? c.json(run) : runNotFound(c)
  })
  app.get('/agent/runs/:id/events', (c) => {
    const id = c.req.param('id')
    if (!store.state.agentRuns[id]) return runNotFound(c)
    const events = Object.values(store.state.agentEvents).filter((e) => e.runId === id)
    const page = pageOf(events, query(c), 20, 100)
    if (typeof page === 'string') return agentList(c, page)
    return c.json({ object: 'list', ...page, data: page.data.map(({ runId: _, ...event }) => event) })
  })

  // ---- Agent Monitors (beta): refused without the beta header ----
  app.use('/agent/monitors/*', async (c, next) => {
    const betas = (c.req.header('exa-beta') ?? '').split(',').map((b) => b.trim())
    if (!betas.includes(AGENT_MONITORS_BETA)) {
      const message = `Agent Monitors are in beta: send Exa-Beta: ${AGENT_MONITORS_BETA}`
      return agentError(c, 400, 'INVALID_REQUEST', 'INVALID_REQUEST', message)
    }
    await next()
  })
  app.get('/agent/monitors', (c) => agentList(c, pageOf(Object.values(store.state.agentMonitors), query(c), 20, 100)))
  const monitorNotFound = (c: SimContext) =>
    agentError(c, 404, 'NOT_FOUND', 'MONITOR_NOT_FOUND', `Agent monitor ${c.req.param('id')} not found`)
  app.get('/agent/monitors/:id', (c) => {
    const monitor = store.state.agentMonitors[c.req.param('id')]
    return monitor ? c.json(monitor) : monitorNotFound(c)
  })
  /** An agent monitor's entities or changes since `since`, with the monitor's `version` (not a cursor). */
  for (const [kind, collection] of [
    ['entities', 'agentEntities'],
    ['changes', 'agentChanges'],
  ] as const) {
    app.get(`/agent/monitors/:id/${kind}`, (c) => {
      const monitor = store.state.agentMonitors[c.req.param('id')]
      if (!monitor) return monitorNotFound(c)
      const since = c.req.query('since')
      const all = Object.values(store.state[collection] as Record<string, SimAgentEntity | SimAgentChange>).filter(
        (x) => x.monitorId === monitor.id && (!since || x.createdAt >= new Date(since).toISOString())
      )
      const page = pageOf(all, query(c), 20, 100)
      if (typeof page === 'string') return agentList(c, page)
      const data = page.data.map(({ id: _, monitorId: __, ...rest }) =>
        kind === 'entities'
          ? { entity: (rest as SimAgentEntity).entity, contents: (rest as SimAgentEntity).contents }
          : rest
      )
      return c.json({
        object: 'list',
        data,
        hasMore: page.hasMore,
        nextCursor: page.nextCursor,
        version: monitor.version,
      })
    })
  }
  app.get('/agent/monitors/backtest/:id', (c) => {
    const backtest = store.state.backtests[c.req.param('id')]
    return backtest
      ? c.json(backtest)
      : agentError(c, 404, 'NOT_FOUND', 'BACKTEST_NOT_FOUND', `Backtest ${c.req.param('id')} not found`)
  })
}

/** What `npm start` seeds: one search monitor, one agent run, one agent monitor and a backtest. */
export function seedDemoAgent(store: AgentStore) {
  store.seedSearchMonitor({ id: 'monitor_demo_funding' })
  store.seedAgentRun({ id: 'agent_run_demo' })
  store.seedAgentMonitor({ id: 'agent_monitor_demo' })
  store.seedBacktest({ id: 'backtest_demo' })
}
