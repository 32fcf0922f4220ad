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
 * Exa's agent runs (`/agent/runs`, with their stored events) and beta Agent Monitors
 * (`/agent/monitors`, only with `Exa-Beta: agent-monitors-2026-08-04`) on the simulator, reads and
 * changes, shaped like exa-js 2.23.0's types and ../shared/exa-api-surface.md §10.3, in the Agent
 * API's error shape (`{error: {type, code, message}}`, §5 envelope B). The store also holds the
 * Search Monitors, whose routes are in search-monitors.ts.
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
  /** Agent monitor creates by `Idempotency-Key`: the body sent and the answer given. */
  agentMonitorKeys: Record<string, { body: string; answer: SimAgentMonitor }>
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
      agentMonitorKeys: {},
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

  /** A snapshot from before a collection existed restores with that collection empty. */
  restore(snapshot: AgentState) {
    this.state = { ...AgentStore.empty(), ...structuredClone(snapshot) }
  }
}

type SimContext = Context<{ Variables: { requestId: string } }>

export function agentRoutes(app: Hono<any>, store: AgentStore) {
  const query = (c: SimContext) => c.req.query() as { limit?: string; cursor?: string }
  /** The Agent API's own error shape (envelope B), with the request id exa-js reads beside it. */
  const agentError = (c: SimContext, status: number, type: string, code: string, message: string) =>
    c.json({ error: { type, code, message }, requestId: c.var.requestId }, status as 404)
  const agentList = <T>(c: SimContext, page: Page<T> | string) =>
    typeof page === 'string'
      ? agentError(c, 400, 'INVALID_REQUEST', 'INVALID_REQUEST', page)
      : c.json({ object: 'list', ...page })

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
    // S2: with `Accept: text/event-stream` the same route replays the run's events as SSE, after
    // the one `Last-Event-ID` names when a client resumes.
    if ((c.req.header('accept') ?? '').includes('text/event-stream')) {
      const after = events.findIndex((e) => e.id === c.req.header('last-event-id'))
      return eventStream(c, events.slice(after + 1))
    }
    const page = pageOf(events, query(c), 20, 100)
    if (typeof page === 'string') return agentList(c, page)
    return c.json({ object: 'list', ...page, data: page.data.map(({ runId: _, ...event }) => event) })
  })
  agentRunChanges(app, store, agentError)

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
  agentMonitorChanges(app, store, agentError)
}

/** What `npm start` seeds: one search monitor, one agent run, one agent monitor and a backtest. */
export function seedDemoAgent(store: AgentStore) {
  store.seedSearchMonitor({ id: 'monitor_demo_funding' })
  store.seedAgentRun({ id: 'agent_run_demo' })
  store.seedAgentMonitor({ id: 'agent_monitor_demo' })
  store.seedBacktest({ id: 'backtest_demo' })
}

type AgentError = (c: SimContext, status: number, type: string, code: string, message: string) => Response
type Body = Record<string, unknown>
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const round = (n: number) => Math.round(n * 10_000) / 10_000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const EFFORTS = ['minimal', 'low', 'medium', 'high', 'xhigh', 'auto', 'ultra', 'max']
/** A run's price by effort (Exa: $0.012–$1.00 per fixed-effort run; `auto` and `ultra` metered, capped at $5 and $20). */
const PRICE: Record<string, number> = { minimal: 0.012, low: 0.05, medium: 0.1, high: 0.25, xhigh: 0.5, max: 1 }
const METERED: Record<string, { price: number; cap: number }> = {
  auto: { price: 0.4, cap: 5 },
  ultra: { price: 2, cap: 20 },
}

/** Why an agent run's body is not one Exa takes (undefined when it is). */
function invalidRun(body: Body): string | undefined {
  const { query, effort, budget, outputSchema, dataSources } = body
  if (typeof query !== 'string' || !query) return 'query must be a non-empty string'
  if (effort !== undefined && !EFFORTS.includes(effort as string)) return `effort must be one of ${EFFORTS.join(', ')}`
  if (outputSchema !== undefined && !isObject(outputSchema)) return 'outputSchema must be a JSON schema object'
  if (budget !== undefined) {
    if (!isObject(budget)) return 'budget must be an object'
    const { maxCostDollars: cost, maxDurationSeconds: seconds } = budget as Record<string, number | undefined>
    if (cost !== undefined && (typeof cost !== 'number' || cost < 1 || cost > 100))
      return 'budget.maxCostDollars must be between 1 and 100'
    if (cost !== undefined && effort !== 'auto' && effort !== 'ultra')
      return 'budget.maxCostDollars is only supported for auto and ultra effort'
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 300 || seconds > 10_800))
      return 'budget.maxDurationSeconds must be between 300 and 10800'
    if (seconds !== undefined && effort !== 'ultra')
      return 'budget.maxDurationSeconds is only supported for ultra effort'
  }
  if (
    dataSources !== undefined &&
    !(Array.isArray(dataSources) && dataSources.every((d) => typeof d?.provider === 'string'))
  )
    return 'dataSources must be a list of {provider}'
  return undefined
}

/** An agent run's usage and cost once it has spent `dollars` (60% compute, 40% search). */
const spent = (dollars: number) => ({
  usage: {
    agentComputeUnits: Math.round(dollars * 100),
    searches: Math.round(dollars * 80),
    emails: 0,
    phoneNumbers: 0,
  },
  costDollars: {
    total: round(dollars),
    agentCompute: round(dollars * 0.6),
    search: round(dollars * 0.4),
    emails: 0,
    phoneNumbers: 0,
  },
})

/** An SSE answer in Exa's agent wire format (§6 #3): `id:`, `event:`, `data:` per event, one every 10 ms. */
function eventStream(c: SimContext, events: SimAgentEvent[]): Response {
  const encoder = new TextEncoder()
  let sent = 0
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0) await sleep(10)
      const event = events[sent++]
      if (!event) return controller.close()
      controller.enqueue(
        encoder.encode(`id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`)
      )
    },
  })
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': c.var.requestId },
  })
}

/**
 * Creating, cancelling, stopping and deleting agent runs. A run answers `queued` with nothing
 * spent yet; by the next read it has run: `completed` with its output and cost, except an `ultra`
 * run, which stays `running` (it can take hours) until it is stopped or cancelled. Asked for with
 * `Accept: text/event-stream`, create answers the run's events as SSE instead, ending with the
 * terminal `agent_run.completed` whose data is the run with its `costDollars`; the same events are
 * then listed at `/agent/runs/{id}/events` (a client that goes away changes nothing: the run ran).
 */
function agentRunChanges(app: Hono<any>, store: AgentStore, agentError: AgentError) {
  const runs = () => store.state.agentRuns
  const invalid = (c: SimContext, message: string, code = 'INVALID_REQUEST') =>
    agentError(c, 400, 'INVALID_REQUEST', code, message)
  const conflict = (c: SimContext, run: SimAgentRun) =>
    agentError(c, 409, 'INVALID_REQUEST', 'INVALID_REQUEST', `Agent run ${run.id} is already ${run.status}`)
  const runNotFound = (c: SimContext) =>
    agentError(c, 404, 'NOT_FOUND', 'RUN_NOT_FOUND', `Agent run ${c.req.param('id')} not found`)
  const record = (run: SimAgentRun, event: string) => {
    const id = `agent_event_${randomToken(24)}`
    const stored = {
      id,
      event,
      data: structuredClone(run) as Record<string, unknown>,
      createdAt: store.now(),
      runId: run.id,
    }
    store.state.agentEvents[id] = stored
    return stored
  }
  /** The run finished: its output, and what it spent (capped by its budget). */
  const finish = (run: SimAgentRun, stopReason: 'schema_satisfied' | 'stopped', dollars: number) => {
    const request = run.request as { query: string; outputSchema?: unknown }
    Object.assign(run, {
      status: 'completed',
      stopReason,
      completedAt: store.now(),
      output: {
        text: `What the agent found for "${request.query}".`,
        structured: request.outputSchema ? { answer: `What the agent found for "${request.query}".` } : null,
        grounding: [],
      },
      ...spent(dollars),
    })
  }

  app.post('/agent/runs', async (c) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    if (!isObject(body)) return invalid(c, 'Request body must be a JSON object')
    const problem = invalidRun(body)
    if (problem) return invalid(c, problem, problem.startsWith('outputSchema') ? 'INVALID_OUTPUT_SCHEMA' : undefined)
    if (body.previousRunId !== undefined) {
      const previous = runs()[body.previousRunId as string]
      if (!previous)
        return agentError(c, 404, 'NOT_FOUND', 'PREVIOUS_RUN_NOT_FOUND', `Agent run ${body.previousRunId} not found`)
      if (previous.status !== 'completed')
        return invalid(c, `Agent run ${previous.id} has not completed`, 'PREVIOUS_RUN_NOT_COMPLETED')
    }
    const effort = (body.effort as string | undefined) ?? 'auto'
    const streamed = (c.req.header('accept') ?? '').includes('text/event-stream')
    const run: SimAgentRun = {
      id: `agent_run_${randomToken(24)}`,
      object: 'agent_run',
      status: 'queued',
      stopReason: null,
      createdAt: store.now(),
      completedAt: null,
      request: { ...body, effort },
      output: null,
      ...spent(0),
    }
    const answer = structuredClone(run)
    runs()[run.id] = run
    const events = [record(run, 'agent_run.created')]
    run.status = 'running'
    const metered = METERED[effort]
    const price = metered
      ? Math.min(metered.price, ((body.budget as Body | undefined)?.maxCostDollars as number) ?? metered.cap)
      : PRICE[effort]!
    if (effort === 'ultra' && !streamed) Object.assign(run, spent(price / 2))
    events.push(record(run, 'agent_run.started'))
    if (effort !== 'ultra' || streamed) {
      finish(run, 'schema_satisfied', price)
      if (metered && price < metered.price) run.stopReason = 'budget_reached'
      events.push(record(run, 'agent_run.completed'))
    }
    return streamed ? eventStream(c, events) : c.json(answer)
  })

  app.post('/agent/runs/:id/cancel', (c) => {
    const run = runs()[c.req.param('id')]
    if (!run) return runNotFound(c)
    if (run.status !== 'queued' && run.status !== 'running') return conflict(c, run)
    Object.assign(run, { status: 'cancelled', stopReason: 'cancelled', completedAt: store.now() })
    record(run, 'agent_run.cancelled')
    return c.json(run)
  })

  app.post('/agent/runs/:id/stop', (c) => {
    const run = runs()[c.req.param('id')]
    if (!run) return runNotFound(c)
    if ((run.request as { effort?: string } | undefined)?.effort !== 'ultra')
      return invalid(c, `Agent run ${run.id} is not an ultra effort run: only ultra runs can be stopped`)
    if (run.status !== 'queued' && run.status !== 'running') return conflict(c, run)
    finish(run, 'stopped', run.costDollars?.total ?? 0)
    record(run, 'agent_run.completed')
    return c.json(run)
  })

  app.delete('/agent/runs/:id', (c) => {
    const run = runs()[c.req.param('id')]
    if (!run) return runNotFound(c)
    delete runs()[run.id]
    for (const event of Object.values(store.state.agentEvents))
      if (event.runId === run.id) delete store.state.agentEvents[event.id]
    return c.json({ id: run.id, object: 'agent_run.deleted', deleted: true })
  })
}

const MODES = ['static', 'dynamic']
const VALUE_TYPES = ['string', 'number', 'boolean', 'date', 'url', 'email', 'phone']
type EntityParams = { name: string; domain: string; description?: string }
type FieldParams = { name: string; description: string; type?: string; mode?: string }

/** Why a list of entities or fields is not one Exa takes (undefined when it is). */
function invalidEntities(entities: unknown): string | undefined {
  if (!Array.isArray(entities) || entities.length === 0) return 'entities must be a non-empty list'
  const bad = entities.findIndex(
    (e) =>
      !isObject(e) ||
      typeof e.name !== 'string' ||
      !e.name ||
      typeof e.domain !== 'string' ||
      !e.domain ||
      (e.description !== undefined && typeof e.description !== 'string')
  )
  return bad < 0 ? undefined : `entities[${bad}] must have a name and a domain`
}
function invalidFields(fields: unknown): string | undefined {
  if (!Array.isArray(fields) || fields.length === 0) return 'fields must be a non-empty list'
  const bad = fields.findIndex(
    (f) =>
      !isObject(f) ||
      typeof f.name !== 'string' ||
      typeof f.description !== 'string' ||
      (f.type !== undefined && ![...VALUE_TYPES, ...MODES].includes(f.type as string)) ||
      (f.mode !== undefined && !MODES.includes(f.mode as string))
  )
  return bad < 0 ? undefined : `fields[${bad}] must have a name, a description and a known type and mode`
}
/** `6h`, `12h`, `7d`: at least six hours. */
const validCadence = (cadence: unknown) => {
  const m = typeof cadence === 'string' ? /^([1-9]\d{0,3})([hd])$/.exec(cadence) : null
  return !!m && Number(m[1]) * (m[2] === 'd' ? 24 : 1) >= 6
}
const valueOf = (field: { name: string }, entity: { name: string }) => `${field.name} of ${entity.name}`

/**
 * Creating and deleting agent monitors, adding entities, starting backtests (beta). A monitor
 * answers `creating`; by the next read it is `active`, refreshed once (version 1, a value and a
 * change for each entity and field). A backtest answers `running` and is `completed` by the next
 * read. Create honours `Idempotency-Key`: the same key and body answer the first answer again; the
 * same key with another body is a 409.
 */
function agentMonitorChanges(app: Hono<any>, store: AgentStore, agentError: AgentError) {
  const monitors = () => store.state.agentMonitors
  const invalid = (c: SimContext, message: string) => agentError(c, 400, 'INVALID_REQUEST', 'INVALID_REQUEST', message)
  const monitorNotFound = (c: SimContext) =>
    agentError(c, 404, 'NOT_FOUND', 'MONITOR_NOT_FOUND', `Agent monitor ${c.req.param('id')} not found`)
  const readBody = async (c: SimContext) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    return isObject(body) ? body : undefined
  }
  /** Refresh `entities` of `monitor` once: their contents and a change for each field, at a new version. */
  const refresh = (monitor: SimAgentMonitor, entities: EntityParams[]) => {
    monitor.version++
    for (const params of entities) {
      const at = store.now()
      const entity = { id: `entity_${randomToken(24)}`, name: params.name, domain: params.domain }
      const contents: SimAgentEntity['contents'] = {}
      for (const field of monitor.fields) {
        const content = {
          value: valueOf(field, entity),
          citations: [{ url: `https://${entity.domain}/` }],
          updatedAt: at,
        }
        contents[field.id] = content
        const id = `change_${randomToken(24)}`
        const change = { type: 'content.upserted' as const, entity, field: { id: field.id, name: field.name }, content }
        store.state.agentChanges[id] = { ...change, version: monitor.version, createdAt: at, id, monitorId: monitor.id }
      }
      store.state.agentEntities[entity.id] = { entity, contents, id: entity.id, monitorId: monitor.id, createdAt: at }
    }
    monitor.entityCount += entities.length
    monitor.lastRefreshAt = store.now()
    monitor.usage = {
      totalAcus: monitor.usage.totalAcus + entities.length * monitor.fields.length,
      lastRefreshAcus: entities.length * monitor.fields.length,
    }
  }

  app.post('/agent/monitors', async (c) => {
    const body = await readBody(c)
    if (!body) return invalid(c, 'Request body must be a JSON object')
    const key = c.req.header('idempotency-key')
    const sent = JSON.stringify(body)
    const seen = key === undefined ? undefined : store.state.agentMonitorKeys[key]
    if (seen && seen.body !== sent)
      return agentError(
        c,
        409,
        'INVALID_REQUEST',
        'INVALID_REQUEST',
        'Idempotency-Key was already used with another body'
      )
    if (seen) return c.json(seen.answer)
    if (!validCadence(body.cadence)) return invalid(c, 'cadence must be a duration of at least 6h, like 12h or 7d')
    const problem = invalidEntities(body.entities) ?? invalidFields(body.fields)
    if (problem) return invalid(c, problem)
    const entities = body.entities as EntityParams[]
    const at = store.now()
    const monitor: SimAgentMonitor = {
      id: `agent_monitor_${randomToken(24)}`,
      object: 'agent_monitor',
      status: 'creating',
      cadence: body.cadence as string,
      fields: (body.fields as FieldParams[]).map((f) => ({
        id: `field_${randomToken(16)}`,
        name: f.name,
        description: f.description,
        // exa-js lets a mode stand in `type`.
        mode: (f.mode ?? (MODES.includes(f.type ?? '') ? f.type : 'dynamic')) as 'static' | 'dynamic',
        type: (VALUE_TYPES.includes(f.type ?? '') ? f.type : 'string') as SimAgentMonitor['fields'][number]['type'],
      })),
      entityCount: 0,
      version: 0,
      createdAt: at,
      lastRefreshAt: null,
      refresh: { state: 'idle' },
      creation: { state: 'running', entitiesProcessed: 0, entitiesTotal: entities.length, startedAt: at },
      usage: { totalAcus: 0, lastRefreshAcus: 0 },
    }
    const answer = { ...structuredClone(monitor), entityCount: entities.length }
    if (key !== undefined) store.state.agentMonitorKeys[key] = { body: sent, answer }
    monitors()[monitor.id] = monitor
    refresh(monitor, entities)
    Object.assign(monitor, { status: 'active', creation: { state: 'idle' } })
    return c.json(answer)
  })

  app.delete('/agent/monitors/:id', (c) => {
    const monitor = monitors()[c.req.param('id')]
    if (!monitor) return monitorNotFound(c)
    delete monitors()[monitor.id]
    for (const collection of [store.state.agentEntities, store.state.agentChanges])
      for (const x of Object.values(collection)) if (x.monitorId === monitor.id) delete collection[x.id]
    return c.json({ id: monitor.id, object: 'agent_monitor.deleted', deleted: true })
  })

  app.post('/agent/monitors/:id/entities', async (c) => {
    const monitor = monitors()[c.req.param('id')]
    if (!monitor) return monitorNotFound(c)
    const body = await readBody(c)
    const problem = body ? invalidEntities(body.entities) : 'Request body must be a JSON object'
    if (problem) return invalid(c, problem)
    refresh(monitor, body!.entities as EntityParams[])
    return c.json(monitor)
  })

  app.post('/agent/monitors/backtest', async (c) => {
    const body = await readBody(c)
    if (!body) return invalid(c, 'Request body must be a JSON object')
    const problem = invalidEntities(body.entities) ?? invalidFields(body.fields)
    if (problem) return invalid(c, problem)
    const [start, end] = [body.startTime, body.endTime].map((t) => (typeof t === 'string' ? Date.parse(t) : NaN))
    if (Number.isNaN(start) || Number.isNaN(end) || start! >= end!)
      return invalid(c, 'startTime and endTime must be ISO-8601 date-times, startTime before endTime')
    const at = store.now()
    const answer = {
      id: `backtest_${randomToken(24)}`,
      object: 'agent_monitor.backtest' as const,
      startTime: body.startTime as string,
      endTime: body.endTime as string,
      createdAt: at,
      expiresAt: new Date(Date.parse(at) + 7 * 86_400_000).toISOString(),
      status: 'running' as const,
    }
    const fields = body.fields as FieldParams[]
    const data = (body.entities as EntityParams[]).map((entity) => ({
      name: entity.name,
      contents: Object.fromEntries(
        fields.map((f) => [f.name, { value: valueOf(f, entity), citations: [{ url: `https://${entity.domain}/` }] }])
      ),
    }))
    store.state.backtests[answer.id] = { ...answer, status: 'completed', data }
    return c.json(answer)
  })
}
