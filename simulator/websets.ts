import type { Context, Hono } from 'hono'
import type {
  EnrichmentPatch,
  MonitorPatch,
  NewEnrichment,
  NewMonitor,
  NewSearch,
  NewWebset,
  WebsetsStore,
} from './websets-store.ts'
import { pageOf, type Page } from './wire.ts'

/**
 * Exa's Websets reads on the simulator (../shared/exa-api-surface.md §2.6, §7): websets (with
 * `expand=items`), items, searches, enrichments, Websets monitors and their runs, webhooks and
 * their attempts, events. Lists page newest first with each list's default and maximum `limit`;
 * a missing object is a 404 in Exa's error shape. Authentication, recording and faults happen in
 * the simulator's middleware before these run.
 */

type SimContext = Context<{ Variables: { requestId: string } }>
type ExaError = (c: SimContext, status: number, error: string, tag: string) => Response

const W = '/websets/v0'
/** `?expand=items` returns at most the first 100 items (Exa's spec). */
const EXPANDED_ITEMS = 100

export function websetsRoutes(app: Hono<any>, store: WebsetsStore, exaError: ExaError) {
  const notFound = (c: SimContext, what: string, id: string) => exaError(c, 404, `${what} ${id} not found`, 'NOT_FOUND')
  /** Answers a page, or Exa's 400 for a limit or cursor it refuses. */
  const list = <T>(c: SimContext, page: Page<T> | string) =>
    typeof page === 'string' ? exaError(c, 400, page, 'INVALID_REQUEST') : c.json(page)
  const query = (c: SimContext) => c.req.query() as { limit?: string; cursor?: string }
  /** The webset a sub-resource path names, or undefined (the caller answers 404). */
  const websetOf = (c: SimContext) => store.findWebset(c.req.param('webset')!)

  app.get(`${W}/websets`, (c) => list(c, pageOf(Object.values(store.state.websets), query(c), 25, 100)))
  app.get(`${W}/websets/:id`, (c) => {
    const webset = store.webset(c.req.param('id'))
    if (!webset) return notFound(c, 'Webset', c.req.param('id'))
    if (!c.req.queries('expand')?.includes('items')) return c.json(webset)
    const items = store
      .itemsOf(webset.id)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .slice(0, EXPANDED_ITEMS)
    return c.json({ ...webset, items })
  })
  app.get(`${W}/websets/:webset/items`, (c) => {
    const webset = websetOf(c)
    if (!webset) return notFound(c, 'Webset', c.req.param('webset'))
    return list(c, pageOf(store.itemsOf(webset.id, c.req.query('sourceId')), query(c), 20, 100))
  })
  for (const [kind, collection, what] of [
    ['items', 'items', 'Item'],
    ['searches', 'searches', 'Search'],
    ['enrichments', 'enrichments', 'Enrichment'],
  ] as const) {
    app.get(`${W}/websets/:webset/${kind}/:id`, (c) => {
      const webset = websetOf(c)
      if (!webset) return notFound(c, 'Webset', c.req.param('webset'))
      const found = store.state[collection][c.req.param('id')]
      return found && found.websetId === webset.id ? c.json(found) : notFound(c, what, c.req.param('id'))
    })
  }

  app.get(`${W}/monitors`, (c) => {
    const websetId = c.req.query('websetId')
    const webset = websetId === undefined ? undefined : store.findWebset(websetId)
    const monitors = Object.values(store.state.monitors)
      .filter((m) => websetId === undefined || m.websetId === webset?.id)
      .map((m) => store.monitor(m.id)!)
    return list(c, pageOf(monitors, query(c), 25, 200))
  })
  app.get(`${W}/monitors/:id`, (c) => {
    const monitor = store.monitor(c.req.param('id'))
    return monitor ? c.json(monitor) : notFound(c, 'Monitor', c.req.param('id'))
  })
  app.get(`${W}/monitors/:monitor/runs`, (c) => {
    const id = c.req.param('monitor')
    if (!store.state.monitors[id]) return notFound(c, 'Monitor', id)
    return list(
      c,
      pageOf(
        Object.values(store.state.runs).filter((r) => r.monitorId === id),
        query(c),
        25,
        200
      )
    )
  })
  app.get(`${W}/monitors/:monitor/runs/:id`, (c) => {
    const run = store.state.runs[c.req.param('id')]
    if (!store.state.monitors[c.req.param('monitor')]) return notFound(c, 'Monitor', c.req.param('monitor'))
    return run?.monitorId === c.req.param('monitor') ? c.json(run) : notFound(c, 'Monitor run', c.req.param('id'))
  })

  // Webhooks: the list shows the active ones; a read never shows the secret (only create does).
  const withoutSecret = <T extends { secret: string | null }>(hook: T) => ({ ...hook, secret: null })
  app.get(`${W}/webhooks`, (c) => {
    const active = Object.values(store.state.webhooks).filter((h) => h.status === 'active')
    return list(c, pageOf(active.map(withoutSecret), query(c), 25, 200))
  })
  app.get(`${W}/webhooks/:id`, (c) => {
    const hook = store.state.webhooks[c.req.param('id')]
    return hook ? c.json(withoutSecret(hook)) : notFound(c, 'Webhook', c.req.param('id'))
  })
  // Creates and changes of websets, items, searches, enrichments and monitors (§2.6). Bodies are
  // checked as loosely as Exa is known to: the kinds of the fields a change needs. Preview comes
  // before the webset update (POST /websets/:id), which would otherwise take its path.
  type Body = Record<string, unknown>
  const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
  const isText = (v: unknown) => typeof v === 'string' && v.length > 0
  const optional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || ok(v)
  const oneOf = (values: string[]) => (v: unknown) => values.includes(v as string)
  const isCount = (v: unknown) => Number.isInteger(v) && (v as number) >= 1
  const isMetadata = (v: unknown) => isObject(v) && Object.values(v).every((x) => typeof x === 'string')
  const areSources = (v: unknown) =>
    Array.isArray(v) && v.every((x) => isObject(x) && oneOf(['import', 'webset'])(x.source) && isText(x.id))
  const isSearch = (b: Body, countNeeded: boolean) =>
    isText(b.query) &&
    (countNeeded ? isCount(b.count) : optional(b.count, isCount)) &&
    optional(b.criteria, (v) => Array.isArray(v) && v.every((x) => isObject(x) && isText(x.description))) &&
    optional(b.exclude, areSources) &&
    optional(b.behavior, oneOf(['override', 'append'])) &&
    optional(b.metadata, isMetadata)
  const isEnrichment = (b: unknown, patch = false) =>
    isObject(b) &&
    (patch ? optional(b.description, isText) : isText(b.description)) &&
    optional(b.format, oneOf(['text', 'date', 'number', 'options', 'email', 'phone', 'url'])) &&
    optional(b.options, (v) => Array.isArray(v) && v.every((x) => isObject(x) && isText(x.label))) &&
    optional(b.metadata, (v) => (patch && v === null) || isMetadata(v))
  const isBehavior = (v: unknown) => isObject(v) && v.type === 'search' && isObject(v.config) && isCount(v.config.count)
  const isCadence = (v: unknown) => isObject(v) && isText(v.cron) && optional(v.timezone, isText)
  /** The JSON object a change sent and whether it has what the change needs, or Exa's 400. */
  const changeBody = async <T>(c: SimContext, valid: (body: Body) => boolean, run: (body: T) => Response) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    return isObject(body) && valid(body) ? run(body as T) : badBody(c)
  }
  const found = <T>(c: SimContext, value: T | undefined, what: string, id: string, status = 200) =>
    value === undefined ? notFound(c, what, id) : c.json(value as object, status as 200)
  /** 404 for the webset first (as a read does), then for the child. */
  const childAnswer = <T>(c: SimContext, value: T | undefined, what: string) =>
    websetOf(c) ? found(c, value, what, c.req.param('id')!) : notFound(c, 'Webset', c.req.param('webset')!)

  app.post(`${W}/websets`, (c) =>
    changeBody<NewWebset>(
      c,
      (b) =>
        optional(b.search, (v) => isObject(v) && isSearch(v, false)) &&
        optional(b.import, areSources) &&
        optional(b.exclude, areSources) &&
        optional(b.enrichments, (v) => Array.isArray(v) && v.every((e) => isEnrichment(e))) &&
        optional(b.externalId, isText) &&
        optional(b.metadata, isMetadata),
      (body) => {
        const webset = store.createWebset(body)
        if (webset === 'conflict')
          return exaError(c, 409, `Webset with externalId ${body.externalId} already exists`, 'CONFLICT')
        if ('missing' in webset) return notFound(c, 'Webset', webset.missing)
        return c.json(webset, 201)
      }
    )
  )
  app.post(`${W}/websets/preview`, (c) =>
    changeBody<Parameters<WebsetsStore['preview']>[0]>(
      c,
      (b) =>
        isObject(b.search) && isText(b.search.query) && optional(b.search.count, (v) => isCount(v) && Number(v) <= 10),
      (body) => {
        const preview = store.preview(body, c.req.query('search') === 'true')
        return preview
          ? c.json(preview)
          : exaError(c, 422, 'Unable to detect entity or criteria from query', 'UNPROCESSABLE_ENTITY')
      }
    )
  )
  app.delete(`${W}/websets/:webset/items/:id`, (c) =>
    childAnswer(c, store.deleteItem(c.req.param('webset'), c.req.param('id')), 'Item')
  )
  app.post(`${W}/websets/:webset/searches`, (c) =>
    changeBody<NewSearch>(
      c,
      (b) => isSearch(b, true),
      (body) => found(c, store.createSearch(c.req.param('webset'), body), 'Webset', c.req.param('webset'))
    )
  )
  app.post(`${W}/websets/:webset/searches/:id/cancel`, (c) =>
    childAnswer(c, store.cancelSearch(c.req.param('webset'), c.req.param('id')), 'Search')
  )
  app.post(`${W}/websets/:webset/enrichments`, (c) =>
    changeBody<NewEnrichment>(c, isEnrichment, (body) =>
      found(c, store.createEnrichment(c.req.param('webset'), body), 'Webset', c.req.param('webset'))
    )
  )
  // Exa answers an enrichment's update with 200 and no body (exa-js: Promise<void>).
  app.patch(`${W}/websets/:webset/enrichments/:id`, (c) =>
    changeBody<EnrichmentPatch>(
      c,
      (b) => isEnrichment(b, true),
      (body) => {
        const updated = store.updateEnrichment(c.req.param('webset'), c.req.param('id'), body)
        return updated ? c.body(null, 200) : childAnswer(c, undefined, 'Enrichment')
      }
    )
  )
  app.delete(`${W}/websets/:webset/enrichments/:id`, (c) =>
    childAnswer(c, store.deleteEnrichment(c.req.param('webset'), c.req.param('id')), 'Enrichment')
  )
  app.post(`${W}/websets/:webset/enrichments/:id/cancel`, (c) =>
    childAnswer(c, store.cancelEnrichment(c.req.param('webset'), c.req.param('id')), 'Enrichment')
  )

  app.post(`${W}/monitors`, (c) =>
    changeBody<NewMonitor>(
      c,
      (b) => isText(b.websetId) && isCadence(b.cadence) && isBehavior(b.behavior) && optional(b.metadata, isMetadata),
      (body) => found(c, store.createMonitor(body), 'Webset', body.websetId, 201)
    )
  )
  app.patch(`${W}/monitors/:id`, (c) =>
    changeBody<MonitorPatch>(
      c,
      (b) =>
        optional(b.behavior, isBehavior) &&
        optional(b.cadence, isCadence) &&
        optional(b.metadata, isMetadata) &&
        optional(b.status, oneOf(['enabled', 'disabled'])),
      (body) => found(c, store.updateMonitor(c.req.param('id'), body), 'Monitor', c.req.param('id'))
    )
  )
  app.delete(`${W}/monitors/:id`, (c) => found(c, store.deleteMonitor(c.req.param('id')), 'Monitor', c.req.param('id')))

  // Webset changes (update is a POST, cancel, delete): each answers the Webset.
  app.post(`${W}/websets/:id`, async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { metadata?: unknown } | undefined
    const metadata = body?.metadata
    const valid =
      typeof body === 'object' &&
      body !== null &&
      (metadata === undefined ||
        metadata === null ||
        (typeof metadata === 'object' && Object.values(metadata).every((v) => typeof v === 'string')))
    if (!valid) return exaError(c, 400, 'Invalid request body', 'INVALID_REQUEST_BODY')
    const webset = store.updateWebset(c.req.param('id'), body as { metadata?: Record<string, string> | null })
    return webset ? c.json(webset) : notFound(c, 'Webset', c.req.param('id'))
  })
  app.post(`${W}/websets/:id/cancel`, (c) => {
    const webset = store.cancelWebset(c.req.param('id'))
    return webset ? c.json(webset) : notFound(c, 'Webset', c.req.param('id'))
  })
  app.delete(`${W}/websets/:id`, (c) => {
    const webset = store.deleteWebset(c.req.param('id'))
    return webset ? c.json(webset) : notFound(c, 'Webset', c.req.param('id'))
  })

  // Webhook changes: the secret is answered on create only; updatedAt strictly increases (store.now).
  const badBody = (c: SimContext) => exaError(c, 400, 'Invalid request body', 'INVALID_REQUEST_BODY')
  const bodyOf = async (c: SimContext) => {
    const body: unknown = await c.req.json().catch(() => undefined)
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as { events?: unknown; url?: unknown; metadata?: unknown })
      : undefined
  }
  const validFields = (body: { events?: unknown; url?: unknown; metadata?: unknown }) =>
    (body.events === undefined ||
      (Array.isArray(body.events) && body.events.length > 0 && body.events.every((e) => typeof e === 'string'))) &&
    (body.url === undefined || (typeof body.url === 'string' && /^https?:\/\//.test(body.url))) &&
    (body.metadata === undefined ||
      (typeof body.metadata === 'object' &&
        body.metadata !== null &&
        Object.values(body.metadata).every((v) => typeof v === 'string')))
  app.post(`${W}/webhooks`, async (c) => {
    const body = await bodyOf(c)
    if (!body || body.events === undefined || body.url === undefined || !validFields(body)) return badBody(c)
    const hook = store.createWebhook(body as { events: string[]; url: string; metadata?: Record<string, string> })
    return c.json(hook, 200)
  })
  app.patch(`${W}/webhooks/:id`, async (c) => {
    const body = await bodyOf(c)
    if (!body || !validFields(body)) return badBody(c)
    const hook = store.updateWebhook(c.req.param('id'), body as Parameters<WebsetsStore['updateWebhook']>[1])
    return hook ? c.json(hook) : notFound(c, 'Webhook', c.req.param('id'))
  })
  app.delete(`${W}/webhooks/:id`, (c) => {
    const hook = store.deleteWebhook(c.req.param('id'))
    return hook ? c.json(hook) : notFound(c, 'Webhook', c.req.param('id'))
  })
  app.get(`${W}/webhooks/:id/attempts`, (c) => {
    const id = c.req.param('id')
    if (!store.state.webhooks[id]) return notFound(c, 'Webhook', id)
    const { eventType, successful } = c.req.query()
    const attempts = Object.values(store.state.attempts)
      .filter((a) => a.webhookId === id && (eventType === undefined || a.eventType === eventType))
      .filter((a) => successful === undefined || String(a.successful) === successful)
      .map((a) => ({ ...a, createdAt: a.attemptedAt }))
    const page = pageOf(attempts, query(c), 25, 200)
    if (typeof page === 'string') return list(c, page)
    return c.json({ ...page, data: page.data.map(({ createdAt: _, ...a }) => a) })
  })

  app.get(`${W}/events`, (c) => {
    const types = c.req.queries('types')
    const events = Object.values(store.state.events).filter((e) => !types || types.includes(e.type))
    return list(c, pageOf(events, query(c), 25, 200))
  })
  app.get(`${W}/events/:id`, (c) => {
    const event = store.state.events[c.req.param('id')]
    return event ? c.json(event) : notFound(c, 'Event', c.req.param('id'))
  })
}
