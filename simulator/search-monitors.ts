import type { Context, Hono } from 'hono'
import type { AgentStore, SimSearchMonitor, SimSearchMonitorRun } from './agent.ts'
import { randomToken } from './store.ts'
import { pageOf, type Page } from './wire.ts'

/**
 * Exa's Search Monitors (`/monitors`) on the simulator: the reads, and the changes exa-js 2.23.0
 * makes (create, update, delete, trigger), kept in the AgentStore the reads use. Errors come in
 * Exa's usual shape (`{requestId, error, tag}`, §5 envelope A).
 * - create answers 201 with the monitor plus its `webhookSecret`, which nothing shows again;
 * - update merges `search` and `webhook` into what is there (so either may come partial: Exa
 *   takes it, though exa-js's types want `query` and `url`), `null` clears name, trigger,
 *   outputSchema and metadata, and `nextRunAt` follows the trigger and the status;
 * - delete answers the monitor as it was (its runs go with it);
 * - trigger answers `{triggered: true}` and leaves a completed run the runs list shows.
 */
type SimContext = Context<{ Variables: { requestId: string } }>
type ExaError = (c: SimContext, status: number, error: string, tag: string) => Response
type Body = Record<string, unknown>

const EVENTS = ['monitor.created', 'monitor.updated', 'monitor.deleted', 'monitor.run.created', 'monitor.run.completed']
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string')
/** `6h`, `1d`, `7d`: the period in milliseconds, or undefined. */
const periodMs = (period: unknown) => {
  const m = typeof period === 'string' ? /^([1-9]\d{0,3})([hd])$/.exec(period) : null
  return m ? Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000) : undefined
}

/** Why a body's fields are not what Exa takes (undefined when they are). */
function invalid(body: Body, creating: boolean): string | undefined {
  const { name, status, search, trigger, outputSchema, metadata, webhook } = body
  if (creating ? !isObject(search) : search !== undefined && !isObject(search)) return 'search must be an object'
  if (isObject(search)) {
    if ((creating || search.query !== undefined) && (typeof search.query !== 'string' || !search.query))
      return 'search.query must be a non-empty string'
    const n = search.numResults
    if (n !== undefined && (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 100))
      return 'search.numResults must be between 1 and 100'
    for (const key of ['includeDomains', 'excludeDomains'] as const)
      if (search[key] !== undefined && !isStrings(search[key])) return `search.${key} must be a list of domains`
  }
  if (creating ? !isObject(webhook) : webhook !== undefined && !isObject(webhook)) return 'webhook must be an object'
  if (isObject(webhook)) {
    const url = webhook.url
    if ((creating || url !== undefined) && (typeof url !== 'string' || !/^https:\/\//.test(url)))
      return 'webhook.url must be an HTTPS URL'
    const events = webhook.events
    if (events !== undefined && !(Array.isArray(events) && events.every((e) => EVENTS.includes(e as string))))
      return `webhook.events must be a list of ${EVENTS.join(', ')}`
  }
  if (name !== undefined && typeof name !== 'string' && (creating || name !== null)) return 'name must be a string'
  if (status !== undefined && (creating || !['active', 'paused', 'disabled'].includes(status as string)))
    return 'status must be active, paused or disabled'
  if (trigger !== undefined && (creating || trigger !== null)) {
    if (!isObject(trigger) || trigger.type !== 'interval' || periodMs(trigger.period) === undefined)
      return 'trigger must be {type: "interval", period} with a period like 1h, 6h, 1d or 7d'
  }
  if (outputSchema !== undefined && !isObject(outputSchema) && (creating || outputSchema !== null))
    return 'outputSchema must be an object'
  if (metadata !== undefined && (creating || metadata !== null)) {
    if (!isObject(metadata) || !Object.values(metadata).every((v) => typeof v === 'string'))
      return 'metadata must map keys to strings'
  }
  return undefined
}

export function searchMonitorRoutes(app: Hono<any>, store: AgentStore, exaError: ExaError) {
  const monitors = () => store.state.searchMonitors
  const query = (c: SimContext) => c.req.query() as { limit?: string; cursor?: string }
  const list = <T>(c: SimContext, page: Page<T> | string) =>
    typeof page === 'string' ? exaError(c, 400, page, 'INVALID_REQUEST') : c.json(page)
  const notFound = (c: SimContext) => exaError(c, 404, `Monitor ${c.req.param('id')} not found`, 'NOT_FOUND')
  /** The JSON body, or a 400 in Exa's shape. */
  const readBody = async (c: SimContext): Promise<Body | Response> => {
    const body: unknown = await c.req.json().catch(() => undefined)
    return isObject(body) ? body : exaError(c, 400, 'Request body must be a JSON object', 'INVALID_REQUEST_BODY')
  }
  const nextRunAt = (m: SimSearchMonitor) => {
    const ms = m.status === 'active' && m.trigger ? periodMs(m.trigger.period) : undefined
    return ms === undefined ? null : new Date(Date.parse(m.updatedAt) + ms).toISOString()
  }

  // ---- reads: limit 1..100, default 50 ----
  app.get('/monitors', (c) => {
    const status = c.req.query('status')
    const all = Object.values(monitors()).filter((m) => !status || m.status === status)
    return list(c, pageOf(all, query(c), 50, 100))
  })
  app.get('/monitors/:id', (c) => {
    const monitor = monitors()[c.req.param('id')]
    return monitor ? c.json(monitor) : notFound(c)
  })
  app.get('/monitors/:id/runs', (c) => {
    const id = c.req.param('id')
    if (!monitors()[id]) return notFound(c)
    const runs = Object.values(store.state.searchMonitorRuns).filter((r) => r.monitorId === id)
    return list(c, pageOf(runs, query(c), 50, 100))
  })
  app.get('/monitors/:id/runs/:runId', (c) => {
    const run = store.state.searchMonitorRuns[c.req.param('runId')]
    return run?.monitorId === c.req.param('id')
      ? c.json(run)
      : exaError(c, 404, `Run ${c.req.param('runId')} not found`, 'NOT_FOUND')
  })

  // ---- changes ----
  app.post('/monitors', async (c) => {
    const body = await readBody(c)
    if (body instanceof Response) return body
    const problem = invalid(body, true)
    if (problem) return exaError(c, 400, problem, 'INVALID_REQUEST_BODY')
    const at = store.now()
    const monitor = {
      id: `monitor_${randomToken(24)}`,
      name: (body.name as string | undefined) ?? null,
      status: 'active',
      search: body.search,
      trigger: body.trigger ?? null,
      outputSchema: body.outputSchema ?? null,
      metadata: body.metadata ?? null,
      webhook: body.webhook,
      nextRunAt: null,
      createdAt: at,
      updatedAt: at,
    } as SimSearchMonitor
    monitor.nextRunAt = nextRunAt(monitor)
    monitors()[monitor.id] = monitor
    return c.json({ ...structuredClone(monitor), webhookSecret: `whsec_${randomToken(32)}` }, 201)
  })

  app.patch('/monitors/:id', async (c) => {
    const monitor = monitors()[c.req.param('id')]
    if (!monitor) return notFound(c)
    const body = await readBody(c)
    if (body instanceof Response) return body
    const problem = invalid(body, false)
    if (problem) return exaError(c, 400, problem, 'INVALID_REQUEST_BODY')
    const patch = body as Partial<SimSearchMonitor>
    if (patch.search) monitor.search = { ...monitor.search, ...patch.search }
    if (patch.webhook) monitor.webhook = { ...monitor.webhook, ...patch.webhook }
    for (const key of ['name', 'status', 'trigger', 'outputSchema', 'metadata'] as const)
      if (patch[key] !== undefined) (monitor as Record<string, unknown>)[key] = patch[key]
    monitor.updatedAt = store.now()
    monitor.nextRunAt = nextRunAt(monitor)
    return c.json(monitor)
  })

  app.delete('/monitors/:id', (c) => {
    const monitor = monitors()[c.req.param('id')]
    if (!monitor) return notFound(c)
    delete monitors()[monitor.id]
    for (const run of Object.values(store.state.searchMonitorRuns))
      if (run.monitorId === monitor.id) delete store.state.searchMonitorRuns[run.id]
    return c.json(monitor)
  })

  app.post('/monitors/:id/trigger', (c) => {
    const monitor = monitors()[c.req.param('id')]
    if (!monitor) return notFound(c)
    const at = store.now()
    const n = Math.min(monitor.search.numResults ?? 10, 3)
    const run: SimSearchMonitorRun = {
      id: `run_${randomToken(24)}`,
      monitorId: monitor.id,
      status: 'completed',
      output: {
        results: Array.from({ length: n }, (_, i) => ({
          url: `https://example.com/${i + 1}`,
          title: `${monitor.search.query} (${i + 1})`,
        })),
        content: null,
        grounding: null,
      },
      failReason: null,
      startedAt: at,
      completedAt: at,
      failedAt: null,
      cancelledAt: null,
      durationMs: 900,
      createdAt: at,
      updatedAt: at,
    }
    store.state.searchMonitorRuns[run.id] = run
    return c.json({ triggered: true })
  })
}
