import { Hono, type Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { AgentStore, agentRoutes } from './agent.ts'
import { CORE_PATHS, createCoreSimulator } from './core.ts'
import { searchMonitorRoutes } from './search-monitors.ts'
import { ImportStore, randomToken, type SimImport } from './store.ts'
import { seedWebhook, seedWebset, type WebsetSeed } from './websets-seed.ts'
import { WebsetsStore } from './websets-store.ts'
import { websetsRoutes } from './websets.ts'
import { decodeCursor, encodeCursor } from './wire.ts'

/** A request the simulator received on Exa's API paths, for tests to assert on. */
export type RecordedRequest = {
  method: string
  path: string
  query: string
  headers: Record<string, string>
  body: string | null
  at: number
}

/** A CSV a client PUT to an `uploadUrl` (the simulator's stand-in for Exa's storage). */
export type RecordedUpload = {
  importId: string
  contentType: string | null
  body: string
  at: number
}

/**
 * A fault to inject into the next matching API request(s).
 * - status: answer `status` with `body` (Exa's error shape by default) and `headers`;
 * - latency: wait `latencyMs`, then answer normally (longer than the gateway's timeout = a timeout);
 * - malformed: answer 200 with a truncated JSON body;
 * - notJson: answer `status` (default 200) with an HTML body;
 * - drop: fail the connection without an answer (after `latencyMs`, if given: a call that hangs and
 *   is never applied).
 */
export type Fault = {
  kind: 'status' | 'latency' | 'malformed' | 'notJson' | 'drop'
  method?: string
  /** Matches when the request path contains this text (e.g. an import id). */
  pathIncludes?: string
  /** How many matching requests it applies to (default 1). */
  times?: number
  status?: number
  body?: unknown
  headers?: Record<string, string>
  latencyMs?: number
}

/** Thrown for a `drop` fault; each host turns it into a broken connection. */
export class SimulatedDrop extends Error {
  override name = 'SimulatedDrop'
}

export type SimulatorOptions = {
  /** The Exa key the simulator accepts (as `x-api-key` or `Authorization: Bearer`). */
  apiKey: string
  /** Added to every API request (benchmarks use it to model Exa's latency). */
  latencyMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const ENTITY_TYPES = ['company', 'person', 'article', 'research_paper', 'custom']
const isStringRecord = (v: unknown): v is Record<string, string> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')

/** A faithful in-memory Exa Imports API, plus a control API under `/__sim/` for tests and demos. */
export function createExaSimulator(options: SimulatorOptions) {
  const store = new ImportStore()
  const websets = new WebsetsStore()
  // A webset created with `import: [{source: 'import', id}]` attaches the CSV import it names.
  websets.findImport = (id) => store.get(id) as never
  const agent = new AgentStore()
  const requests: RecordedRequest[] = []
  const uploads: RecordedUpload[] = []
  /** Presigned-URL signatures by import id, as Exa's storage would check them. */
  const uploadSignatures = new Map<string, string>()
  const faults: Fault[] = []
  const core = createCoreSimulator()
  let latencyMs = options.latencyMs ?? 0

  type SimEnv = { Variables: { requestId: string } }
  const exaError = (c: Context<SimEnv>, status: number, error: string, tag: string) =>
    c.json({ requestId: c.var.requestId, error, tag }, status as 400)

  const app = new Hono<SimEnv>()

  // ---- control API (no key: it is not part of Exa) ----
  app.post('/__sim/reset', (c) => {
    store.clear()
    websets.clear()
    agent.clear()
    requests.length = 0
    uploads.length = 0
    uploadSignatures.clear()
    faults.length = 0
    core.reset()
    latencyMs = options.latencyMs ?? 0
    return c.json({ ok: true })
  })
  app.post('/__sim/imports', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as Partial<SimImport> | Partial<SimImport>[]
    const items = (Array.isArray(body) ? body : [body]).map((fields) => store.create(fields))
    return c.json(Array.isArray(body) ? items : items[0], 201)
  })
  app.get('/__sim/imports/:id', (c) => {
    const item = store.get(c.req.param('id'))
    return item ? c.json(item) : c.json({ error: 'not found' }, 404)
  })
  // A webset with its search, items, enrichment, monitor and run; a webhook (seed it first to see deliveries).
  app.post('/__sim/websets', async (c) => c.json(seedWebset(websets, (await c.req.json()) as WebsetSeed), 201))
  app.post('/__sim/webhooks', async (c) => c.json(seedWebhook(websets, await c.req.json()), 201))
  // A search monitor with a run, an agent run with its events, an agent monitor with entities, a backtest.
  app.post('/__sim/agent', (c) =>
    c.json(
      {
        ...agent.seedSearchMonitor(),
        agentRun: agent.seedAgentRun(),
        agentMonitor: agent.seedAgentMonitor(),
        backtest: agent.seedBacktest(),
      },
      201
    )
  )
  app.get('/__sim/imports/:id/applied', (c) => c.json(store.appliedTo(c.req.param('id'))))
  app.get('/__sim/requests', (c) => {
    const { method, pathIncludes } = c.req.query()
    return c.json(
      requests.filter((r) => (!method || r.method === method) && (!pathIncludes || r.path.includes(pathIncludes)))
    )
  })
  app.post('/__sim/faults', async (c) => {
    const body = (await c.req.json()) as Fault | Fault[]
    faults.push(...(Array.isArray(body) ? body : [body]))
    return c.json({ ok: true })
  })
  app.get('/__sim/uploads', (c) => c.json(uploads))

  // ---- storage: where an uploadUrl points (like a presigned URL: no key, a signature) ----
  app.put('/__storage/uploads/:id', async (c) => {
    const id = c.req.param('id')
    const expected = uploadSignatures.get(id)
    if (!expected || c.req.query('signature') !== expected) return c.text('SignatureDoesNotMatch', 403)
    uploads.push({
      importId: id,
      contentType: c.req.header('content-type') ?? null,
      body: await c.req.text(),
      at: Date.now(),
    })
    return c.body(null, 200)
  })
  app.post('/__sim/latency', async (c) => {
    latencyMs = Number(((await c.req.json()) as { latencyMs: number }).latencyMs) || 0
    return c.json({ ok: true })
  })

  // ---- Exa's API (Websets, Search Monitors, Agent): record, authenticate, inject faults ----
  const exaApi = createMiddleware<SimEnv>(async (c, next) => {
    c.set('requestId', `req_${randomToken(20)}`)
    c.header('x-request-id', c.var.requestId)
    const body = c.req.raw.body ? await c.req.text() : null
    const url = new URL(c.req.url)
    requests.push({
      method: c.req.method,
      path: url.pathname,
      query: url.search,
      headers: c.req.header(),
      body,
      at: Date.now(),
    })
    if (latencyMs) await sleep(latencyMs)
    const index = faults.findIndex(
      (f) => (!f.method || f.method === c.req.method) && (!f.pathIncludes || url.pathname.includes(f.pathIncludes))
    )
    const fault = index >= 0 ? faults[index]! : undefined
    if (fault) {
      fault.times = (fault.times ?? 1) - 1
      if (fault.times <= 0) faults.splice(index, 1)
      if (fault.kind === 'drop' && fault.latencyMs) await sleep(fault.latencyMs)
      if (fault.kind === 'drop') throw new SimulatedDrop('connection dropped by the simulator')
      if (fault.kind === 'latency') await sleep(fault.latencyMs ?? 0)
      if (fault.kind === 'malformed') return c.body('{"id": "import_', 200, { 'content-type': 'application/json' })
      if (fault.kind === 'notJson') return c.html('<html><body>Bad gateway</body></html>', (fault.status ?? 200) as 200)
      if (fault.kind === 'status') {
        const status = fault.status ?? 500
        for (const [name, value] of Object.entries(fault.headers ?? {})) c.header(name, value)
        return c.json(
          fault.body ?? { requestId: c.var.requestId, error: `Simulated ${status}`, tag: 'SIMULATED_FAULT' },
          status as 500
        )
      }
    }
    const presented = c.req.header('x-api-key') ?? /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1]
    if (presented !== options.apiKey) return exaError(c, 401, 'Invalid or missing API key', 'UNAUTHORIZED')
    await next()
  })
  for (const prefix of ['/websets/*', '/monitors/*', '/agent/*', ...CORE_PATHS]) app.use(prefix, exaApi)
  core.mount(app)

  app.get('/websets/v0/imports', (c) => {
    const { limit = '25', cursor } = c.req.query()
    const n = Number(limit)
    if (!Number.isInteger(n) || n < 1 || n > 200)
      return exaError(c, 400, 'limit must be between 1 and 200', 'INVALID_REQUEST')
    const from = cursor === undefined ? undefined : decodeCursor(cursor)
    if (cursor !== undefined && from === undefined) return exaError(c, 400, 'Invalid cursor', 'INVALID_REQUEST')
    const page = store.list(n, from)
    if (!page) return exaError(c, 400, 'Invalid cursor', 'INVALID_REQUEST')
    return c.json({
      data: page.data,
      hasMore: page.nextCursor !== null,
      nextCursor: page.nextCursor && encodeCursor(page.nextCursor),
    })
  })

  app.post('/websets/v0/imports', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as Record<string, unknown> | undefined
    const entity = body?.entity as { type?: string; description?: unknown } | undefined
    const valid =
      body &&
      typeof body.size === 'number' &&
      body.size > 0 &&
      body.size <= 50_000_000 &&
      typeof body.count === 'number' &&
      body.count > 0 &&
      body.format === 'csv' &&
      entity &&
      ENTITY_TYPES.includes(entity.type ?? '') &&
      (entity.type !== 'custom' || typeof entity.description === 'string') &&
      (body.title === undefined || typeof body.title === 'string') &&
      (body.metadata === undefined || isStringRecord(body.metadata))
    if (!valid) return exaError(c, 400, 'Invalid request body', 'INVALID_REQUEST_BODY')
    const item = store.create({
      status: 'pending',
      entity: entity as SimImport['entity'],
      title: (body.title as string | undefined) ?? 'Untitled import',
      count: body.count as number,
      metadata: (body.metadata as Record<string, string> | undefined) ?? {},
    })
    const uploadValidUntil = new Date(Date.now() + 3600_000).toISOString()
    // The upload URL points at the simulator's own storage route, on the origin it was called at.
    const signature = randomToken(16)
    uploadSignatures.set(item.id, signature)
    const uploadUrl = `${new URL(c.req.url).origin}/__storage/uploads/${item.id}?signature=${signature}`
    return c.json({ ...item, uploadUrl, uploadValidUntil }, 201)
  })

  app.get('/websets/v0/imports/:id', (c) => {
    const item = store.get(c.req.param('id'))
    return item ? c.json(item) : exaError(c, 404, `Import ${c.req.param('id')} not found`, 'NOT_FOUND')
  })

  app.patch('/websets/v0/imports/:id', async (c) => {
    const text = await c.req.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : {}
    } catch {
      return exaError(c, 400, 'Invalid JSON body', 'INVALID_REQUEST_BODY')
    }
    const patch = body as { title?: unknown; metadata?: unknown }
    if (
      typeof body !== 'object' ||
      body === null ||
      Array.isArray(body) ||
      (patch.title !== undefined && typeof patch.title !== 'string') ||
      (patch.metadata !== undefined && !isStringRecord(patch.metadata))
    ) {
      return exaError(c, 400, 'Invalid request body', 'INVALID_REQUEST_BODY')
    }
    const item = store.update(c.req.param('id'), patch as { title?: string; metadata?: Record<string, string> })
    return item ? c.json(item) : exaError(c, 404, `Import ${c.req.param('id')} not found`, 'NOT_FOUND')
  })

  app.delete('/websets/v0/imports/:id', (c) => {
    const item = store.delete(c.req.param('id'))
    return item ? c.json(item) : exaError(c, 404, `Import ${c.req.param('id')} not found`, 'NOT_FOUND')
  })

  websetsRoutes(app, websets, exaError)
  searchMonitorRoutes(app, agent, exaError)
  agentRoutes(app, agent)

  app.notFound((c) => exaError(c, 404, `Cannot ${c.req.method} ${new URL(c.req.url).pathname}`, 'NOT_FOUND'))
  app.onError((err) => {
    throw err
  })

  return {
    fetch: (request: Request) => app.fetch(request),
    store,
    /** The Websets family (websets, items, searches, enrichments, monitors, webhooks, events). */
    websets,
    /** Search monitors, agent runs and agent monitors. */
    agent,
    requests,
    uploads,
    /** Pending faults; push one to inject it (same as POST /__sim/faults). */
    faults,
    /** The streams served by the paid calls (same as GET /__sim/streams). */
    streams: core.streams,
  }
}

export type ExaSimulator = ReturnType<typeof createExaSimulator>
