import type {
  CreateEnrichmentParameters,
  CreateMonitorParameters,
  CreateWebsetParameters,
  CreateWebsetSearchParameters,
  Import,
  Monitor,
  MonitorRun,
  PreviewWebsetParameters,
  PreviewWebsetResponse,
  UpdateEnrichmentParameters,
  UpdateMonitor,
  Webhook,
  WebhookAttempt,
  Webset,
  WebsetEnrichment,
  WebsetItem,
  WebsetSearch,
} from 'exa-js'
import { randomToken } from './store.ts'
import { properties } from './websets-seed.ts'
import type { Wire } from './wire.ts'

/**
 * The simulator's Websets family in memory: websets with their items, searches and enrichments,
 * Websets monitors and their runs, webhooks and their delivery attempts, and the events every
 * change emits (docs/architecture.md §7). Objects are shaped like exa-js 2.23.0's types (`Wire`)
 * and Exa's spec (../shared/exa-api-surface.md §10.1). Each object is kept once, by id; a webset's
 * `searches`, `enrichments` and `monitors` are composed when it is read, so every read agrees with
 * every other. Nothing here knows about HTTP.
 */
export type SimWebset = Omit<Wire<Webset>, 'searches' | 'imports' | 'enrichments' | 'monitors'>
export type SimItem = Wire<WebsetItem>
export type SimSearch = Wire<WebsetSearch>
export type SimEnrichment = Wire<WebsetEnrichment>
export type SimMonitor = Omit<Wire<Monitor>, 'lastRun'>
export type SimMonitorRun = Wire<MonitorRun>
export type SimWebhook = Wire<Webhook>
export type SimAttempt = Wire<WebhookAttempt>
export type SimEvent = { id: string; object: 'event'; type: string; data: unknown; createdAt: string }
/** An Import a webset was created with (`import: [...]`), kept with the webset it belongs to. */
export type SimWebsetImport = Wire<Import> & { websetId: string }

/** A change's bodies, as exa-js 2.23.0 sends them (fields with a spec default may be left out). */
type Defaulted<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>
export type NewSearch = Defaulted<Wire<CreateWebsetSearchParameters>, 'behavior'>
export type NewWebset = Omit<Wire<CreateWebsetParameters>, 'search'> & {
  search?: Defaulted<NonNullable<Wire<CreateWebsetParameters>['search']>, 'count'>
}
export type NewEnrichment = Wire<CreateEnrichmentParameters>
export type EnrichmentPatch = Wire<UpdateEnrichmentParameters>
type Cadence = Defaulted<Wire<CreateMonitorParameters>['cadence'], 'timezone'>
type SentBehavior = Wire<CreateMonitorParameters>['behavior']
type Behavior = Omit<SentBehavior, 'config'> & { config: Defaulted<SentBehavior['config'], 'behavior'> }
export type NewMonitor = Omit<Wire<CreateMonitorParameters>, 'cadence' | 'behavior'> & {
  cadence: Cadence
  behavior: Behavior
}
export type MonitorPatch = Omit<Wire<UpdateMonitor>, 'cadence' | 'behavior'> & {
  cadence?: Cadence
  behavior?: Behavior
}

export type WebsetsState = {
  websets: Record<string, SimWebset>
  items: Record<string, SimItem>
  searches: Record<string, SimSearch>
  enrichments: Record<string, SimEnrichment>
  monitors: Record<string, SimMonitor>
  runs: Record<string, SimMonitorRun>
  webhooks: Record<string, SimWebhook>
  attempts: Record<string, SimAttempt>
  events: Record<string, SimEvent>
  imports: Record<string, SimWebsetImport>
  lastTime: number
}

const empty = (): WebsetsState => ({
  websets: {},
  items: {},
  searches: {},
  enrichments: {},
  monitors: {},
  runs: {},
  webhooks: {},
  attempts: {},
  events: {},
  imports: {},
  lastTime: 0,
})

export class WebsetsStore {
  state = empty()

  /** Monotonic, so that createdAt orders strictly (lists page newest first). */
  now(): string {
    this.state.lastTime = Math.max(Date.now(), this.state.lastTime + 1)
    return new Date(this.state.lastTime).toISOString()
  }

  newId(prefix: string): string {
    return `${prefix}_${randomToken(24)}`
  }

  /** A webset by id or by externalId, as Exa's `{id}` and `{webset}` path parameters accept. */
  findWebset(ref: string): SimWebset | undefined {
    return this.state.websets[ref] ?? Object.values(this.state.websets).find((w) => w.externalId === ref)
  }

  /** The Webset as Exa answers it: its searches, enrichments and monitors inside (oldest first). */
  webset(ref: string): Wire<Webset> | undefined {
    const base = this.findWebset(ref)
    if (!base) return undefined
    const mine = <T extends { websetId: string; createdAt: string }>(all: Record<string, T>) =>
      Object.values(all)
        .filter((x) => x.websetId === base.id)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    const { metadata, dashboardUrl, createdAt, updatedAt, excludes, ...head } = base
    return structuredClone({
      ...head,
      searches: mine(this.state.searches),
      imports: mine(this.state.imports).map(({ websetId: _, ...i }) => i),
      enrichments: mine(this.state.enrichments),
      monitors: mine(this.state.monitors).map((m) => this.monitor(m.id)!),
      ...(excludes ? { excludes } : {}),
      metadata,
      dashboardUrl,
      createdAt,
      updatedAt,
    })
  }

  /** A Websets monitor with its latest run (`lastRun`, null before the first: unverified, §10.1). */
  monitor(id: string): Wire<Monitor> | undefined {
    const monitor = this.state.monitors[id]
    if (!monitor) return undefined
    const runs = Object.values(this.state.runs).filter((r) => r.monitorId === id)
    const lastRun = runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null
    return structuredClone({ ...monitor, lastRun: lastRun as SimMonitorRun })
  }

  itemsOf(websetId: string, sourceId?: string): SimItem[] {
    return Object.values(this.state.items).filter(
      (i) => i.websetId === websetId && (sourceId === undefined || i.sourceId === sourceId)
    )
  }

  /**
   * Records an event and delivers it to every active webhook subscribed to its type (one
   * successful attempt each: the simulator does not call out).
   */
  emit(type: string, data: unknown): SimEvent {
    const event: SimEvent = {
      id: this.newId('event'),
      object: 'event',
      type,
      data: structuredClone(data),
      createdAt: this.now(),
    }
    this.state.events[event.id] = event
    for (const hook of Object.values(this.state.webhooks)) {
      if (hook.status !== 'active' || !hook.events.includes(type as never)) continue
      const attempt: SimAttempt = {
        id: this.newId('attempt'),
        object: 'webhook_attempt',
        eventId: event.id,
        eventType: type as SimAttempt['eventType'],
        webhookId: hook.id,
        url: hook.url,
        successful: true,
        responseHeaders: { 'content-type': 'text/plain' },
        responseBody: 'ok',
        responseStatusCode: 200,
        attempt: 1,
        attemptedAt: this.now(),
      }
      this.state.attempts[attempt.id] = attempt
    }
    return event
  }

  /** Exa's PATCH of a webset: `metadata` replaces the webset's (null clears it); updatedAt moves on. */
  updateWebset(ref: string, patch: { metadata?: Record<string, string> | null }): Wire<Webset> | undefined {
    const webset = this.findWebset(ref)
    if (!webset) return undefined
    if (patch.metadata !== undefined) webset.metadata = { ...(patch.metadata ?? {}) }
    webset.updatedAt = this.now()
    return this.webset(webset.id)
  }

  /** Exa's cancel: running searches and enrichments are canceled, the webset goes idle. */
  cancelWebset(ref: string): Wire<Webset> | undefined {
    const webset = this.findWebset(ref)
    if (!webset) return undefined
    const now = this.now()
    for (const search of Object.values(this.state.searches))
      if (search.websetId === webset.id && search.status === 'running')
        Object.assign(search, {
          status: 'canceled',
          canceledAt: now,
          canceledReason: 'webset_canceled',
          updatedAt: now,
        })
    webset.status = 'idle'
    webset.updatedAt = now
    return this.webset(webset.id)
  }

  /** Exa's DELETE: the webset and everything in it are gone; answered with the webset as it was. */
  deleteWebset(ref: string): Wire<Webset> | undefined {
    const webset = this.findWebset(ref)
    if (!webset) return undefined
    const answer = this.webset(webset.id)
    for (const kind of ['items', 'searches', 'enrichments', 'monitors', 'imports'] as const)
      for (const [id, x] of Object.entries(this.state[kind]))
        if ((x as { websetId: string }).websetId === webset.id) delete this.state[kind][id]
    delete this.state.websets[webset.id]
    this.emit('webset.deleted', answer)
    return answer
  }

  /** Exa's create: an active webhook, answered with its `secret` once (kept as null: reads never show it). */
  createWebhook(fields: { events: string[]; url: string; metadata?: Record<string, string> }): SimWebhook {
    const now = this.now()
    const hook: SimWebhook = {
      id: this.newId('webhook'),
      object: 'webhook',
      status: 'active',
      events: [...fields.events] as SimWebhook['events'],
      url: fields.url,
      secret: null,
      metadata: { ...(fields.metadata ?? {}) },
      createdAt: now,
      updatedAt: now,
    }
    this.state.webhooks[hook.id] = hook
    return { ...structuredClone(hook), secret: `whsec_${randomToken(32)}` }
  }

  /** Exa's PATCH: each field given replaces the webhook's (`metadata` whole); updatedAt moves on. */
  updateWebhook(
    id: string,
    patch: { events?: string[]; url?: string; metadata?: Record<string, string> }
  ): SimWebhook | undefined {
    const hook = this.state.webhooks[id]
    if (!hook) return undefined
    if (patch.events !== undefined) hook.events = [...patch.events] as SimWebhook['events']
    if (patch.url !== undefined) hook.url = patch.url
    if (patch.metadata !== undefined) hook.metadata = { ...patch.metadata }
    hook.updatedAt = this.now()
    return structuredClone(hook)
  }

  /** Exa's DELETE: the webhook stays, `inactive` (../shared/exa-api-surface.md §9), and is answered. */
  deleteWebhook(id: string): SimWebhook | undefined {
    const hook = this.state.webhooks[id]
    if (!hook) return undefined
    hook.status = 'inactive'
    hook.updatedAt = this.now()
    return structuredClone(hook)
  }

  // ---- creates and changes under a webset (../shared/exa-api-surface.md §2.6, §3) ----

  /**
   * Exa's create (201): the webset, its first search (running), an Import per `import` entry and
   * its enrichments (pending), or 'conflict' (409) when the externalId is taken, or the source a
   * webset import names that does not exist. The search finds nothing by itself: it runs until
   * canceled (the simulator has no clock), so reads see the webset `running`.
   */
  createWebset(params: NewWebset): Wire<Webset> | 'conflict' | { missing: string } {
    if (
      params.externalId !== undefined &&
      Object.values(this.state.websets).some((w) => w.externalId === params.externalId)
    )
      return 'conflict'
    const missing = params.import?.find((i) => i.source === 'webset' && !this.findWebset(i.id))
    if (missing) return { missing: missing.id }
    const now = this.now()
    const id = this.newId('webset')
    this.state.websets[id] = {
      id,
      object: 'webset',
      status: params.search ? 'running' : 'idle',
      externalId: params.externalId ?? null,
      title: null,
      ...(params.exclude ? { excludes: params.exclude.map(({ source, id }) => ({ source, id })) } : {}),
      metadata: { ...(params.metadata ?? {}) },
      dashboardUrl: `https://websets.exa.ai/${id}`,
      createdAt: now,
      updatedAt: now,
    }
    this.emit('webset.created', this.webset(id))
    if (params.search) this.createSearch(id, { ...params.search, count: params.search.count ?? 10 })
    for (const ref of params.import ?? []) this.attachImport(id, ref)
    for (const enrichment of params.enrichments ?? []) this.createEnrichment(id, enrichment)
    return this.webset(id)!
  }

  /** The Import an `import` entry attaches: a webset's items as a `webset` import, or the CSV import named. */
  private attachImport(websetId: string, ref: { source: string; id: string }) {
    const now = this.now()
    const source = ref.source === 'webset' ? this.findWebset(ref.id) : undefined
    const sourceSearch = source && Object.values(this.state.searches).find((x) => x.websetId === source.id)
    const found = ref.source === 'import' ? this.findImport?.(ref.id) : undefined
    const imported: SimWebsetImport = {
      id: ref.source === 'import' ? ref.id : this.newId('import'),
      object: 'import',
      status: source ? 'completed' : 'processing',
      format: source ? 'webset' : 'csv',
      entity: sourceSearch?.entity ?? { type: 'company' },
      title: source ? (source.title ?? source.id) : ref.id,
      count: source ? this.itemsOf(source.id).length : 0,
      metadata: {},
      failedReason: null as never,
      failedAt: null,
      failedMessage: null,
      createdAt: now,
      updatedAt: now,
      ...(found ? structuredClone(found) : {}),
      websetId,
    }
    this.state.imports[`${websetId}:${imported.id}`] = imported
  }

  /** How a CSV import is looked up by id (the imports live in another store); unset, a stub stands in. */
  findImport?: (id: string) => Wire<Import> | undefined

  /**
   * Exa's search create: `override` (the default) discards the webset's items not found by this
   * search, which at its start is every item; `append` keeps them. The webset runs again.
   */
  createSearch(ref: string, params: NewSearch): SimSearch | undefined {
    const webset = this.findWebset(ref)
    if (!webset) return undefined
    const now = this.now()
    const search: SimSearch = {
      id: this.newId('wsearch'),
      object: 'webset_search',
      websetId: webset.id,
      status: 'running',
      query: params.query,
      entity: params.entity ?? { type: detectEntity(params.query) },
      criteria: (params.criteria ?? detectCriteria(params.query)).map(({ description }) => ({
        description,
        successRate: 0,
      })),
      count: params.count,
      maxPeoplePerCompany: params.maxPeoplePerCompany ?? null,
      behavior: params.behavior ?? 'override',
      exclude: params.exclude ?? [],
      scope: params.scope ?? [],
      progress: { found: 0, analyzed: 0, completion: 0, timeLeft: null },
      recall: null,
      metadata: { ...(params.metadata ?? {}) },
      canceledAt: null,
      canceledReason: null as never,
      createdAt: now,
      updatedAt: now,
    }
    if (search.behavior === 'override')
      for (const item of this.itemsOf(webset.id)) if (item.sourceId !== search.id) delete this.state.items[item.id]
    this.state.searches[search.id] = search
    Object.assign(webset, { status: 'running', updatedAt: now })
    this.emit('webset.search.created', search)
    return structuredClone(search)
  }

  /** Exa's search cancel: a running search is canceled (not resumable); a finished one is answered as it is. */
  cancelSearch(ref: string, id: string): SimSearch | undefined {
    const search = this.child('searches', ref, id)
    if (!search) return undefined
    if (['created', 'pending', 'running'].includes(search.status)) {
      const now = this.now()
      Object.assign(search, { status: 'canceled', canceledAt: now, updatedAt: now })
      this.emit('webset.search.canceled', search)
      this.settle(search.websetId, now)
    }
    return structuredClone(search)
  }

  /** Exa's item delete: the item is gone (with its enrichment results), answered as it was. */
  deleteItem(ref: string, id: string): SimItem | undefined {
    const item = this.child('items', ref, id)
    if (item) delete this.state.items[id]
    return item && structuredClone(item)
  }

  /** Exa's enrichment create: pending, with a pending result on every item the webset holds. */
  createEnrichment(ref: string, params: NewEnrichment): SimEnrichment | undefined {
    const webset = this.findWebset(ref)
    if (!webset) return undefined
    const now = this.now()
    const format = params.format ?? detectFormat(params.description)
    const enrichment: SimEnrichment = {
      id: this.newId('wenrich'),
      object: 'webset_enrichment',
      websetId: webset.id,
      status: 'pending',
      title: params.description.split(/\s+/).slice(0, 6).join(' '),
      description: params.description,
      format,
      options: params.options ? params.options.map(({ label }) => ({ label })) : null,
      instructions: `For each item, find: ${params.description}`,
      metadata: { ...(params.metadata ?? {}) },
      createdAt: now,
      updatedAt: now,
    }
    this.state.enrichments[enrichment.id] = enrichment
    for (const item of this.itemsOf(webset.id)) {
      item.enrichments = [
        ...(item.enrichments ?? []),
        {
          object: 'enrichment_result',
          enrichmentId: enrichment.id,
          format,
          status: 'pending',
          result: null,
          reasoning: null,
          references: [],
        },
      ]
      item.updatedAt = now
    }
    return structuredClone(enrichment)
  }

  /** Exa's enrichment PATCH: each field given replaces the enrichment's; `metadata: null` clears it. */
  updateEnrichment(ref: string, id: string, patch: EnrichmentPatch): SimEnrichment | undefined {
    const enrichment = this.child('enrichments', ref, id)
    if (!enrichment) return undefined
    if (patch.description !== undefined) enrichment.description = patch.description
    if (patch.format !== undefined) enrichment.format = patch.format
    if (patch.options !== undefined) enrichment.options = patch.options.map(({ label }) => ({ label }))
    if (patch.metadata !== undefined) enrichment.metadata = { ...(patch.metadata ?? {}) }
    enrichment.updatedAt = this.now()
    return structuredClone(enrichment)
  }

  /** Exa's enrichment cancel: a pending enrichment and its pending results are canceled for good. */
  cancelEnrichment(ref: string, id: string): SimEnrichment | undefined {
    const enrichment = this.child('enrichments', ref, id)
    if (!enrichment) return undefined
    if (enrichment.status === 'pending') {
      const now = this.now()
      Object.assign(enrichment, { status: 'canceled', updatedAt: now })
      this.eachResult(enrichment, (item, result) => {
        if (result.status !== 'pending') return
        result.status = 'canceled'
        item.updatedAt = now
      })
    }
    return structuredClone(enrichment)
  }

  /** Exa's enrichment delete: the enrichment and every item's result of it are gone; answered as it was. */
  deleteEnrichment(ref: string, id: string): SimEnrichment | undefined {
    const enrichment = this.child('enrichments', ref, id)
    if (!enrichment) return undefined
    const now = this.now()
    this.eachResult(enrichment, (item) => {
      item.enrichments = item.enrichments!.filter((r) => r.enrichmentId !== enrichment.id)
      item.updatedAt = now
    })
    delete this.state.enrichments[id]
    return structuredClone(enrichment)
  }

  /** Exa's monitor create (201): enabled, next run at the cadence's next minute and hour (UTC). */
  createMonitor(params: NewMonitor): Wire<Monitor> | undefined {
    const webset = this.findWebset(params.websetId)
    if (!webset) return undefined
    const now = this.now()
    const monitor: SimMonitor = {
      id: this.newId('monitor'),
      object: 'monitor',
      status: 'enabled',
      websetId: webset.id,
      cadence: { cron: params.cadence.cron, timezone: params.cadence.timezone ?? 'Etc/UTC' },
      behavior: withDefaults(params.behavior),
      nextRunAt: nextRun(params.cadence.cron, now),
      metadata: { ...(params.metadata ?? {}) },
      createdAt: now,
      updatedAt: now,
    }
    this.state.monitors[monitor.id] = monitor
    this.emit('monitor.created', this.monitor(monitor.id))
    return this.monitor(monitor.id)
  }

  /** Exa's monitor PATCH: a partial merge, each field given replaced whole; disabled, it has no next run. */
  updateMonitor(id: string, patch: MonitorPatch): Wire<Monitor> | undefined {
    const monitor = this.state.monitors[id]
    if (!monitor) return undefined
    const now = this.now()
    if (patch.behavior !== undefined) monitor.behavior = withDefaults(patch.behavior)
    if (patch.cadence !== undefined)
      monitor.cadence = { cron: patch.cadence.cron, timezone: patch.cadence.timezone ?? 'Etc/UTC' }
    if (patch.metadata !== undefined) monitor.metadata = { ...patch.metadata }
    if (patch.status !== undefined) monitor.status = patch.status
    monitor.nextRunAt = monitor.status === 'enabled' ? nextRun(monitor.cadence.cron, now) : null
    monitor.updatedAt = now
    this.emit('monitor.updated', this.monitor(id))
    return this.monitor(id)
  }

  /** Exa's monitor delete: the monitor and its runs are gone; answered as it was. */
  deleteMonitor(id: string): Wire<Monitor> | undefined {
    const answer = this.monitor(id)
    if (!answer) return undefined
    delete this.state.monitors[id]
    for (const run of Object.values(this.state.runs)) if (run.monitorId === id) delete this.state.runs[run.id]
    this.emit('monitor.deleted', answer)
    return answer
  }

  /**
   * Exa's preview, or undefined for a query nothing can be detected in (Exa's 422). Deterministic:
   * a query is undetectable when it holds no word of three letters or more; the entity comes from
   * its words (people, articles, papers, else companies), one criterion per clause (split at
   * commas, semicolons and "and", at most 5), an enrichment per attribute it names (email, phone,
   * website, revenue, funding, employees), and with `search`, `count` items.
   */
  preview(params: Wire<PreviewWebsetParameters>, search: boolean): Wire<PreviewWebsetResponse> | undefined {
    const { query } = params.search
    if (!/\p{L}{3,}/u.test(query)) return undefined
    const entity = params.search.entity ?? { type: detectEntity(query) }
    const at = this.now()
    return {
      search: { entity, criteria: detectCriteria(query) },
      enrichments: PREVIEW_ENRICHMENTS.filter(([word]) => word.test(query)).map(([, description, format]) => ({
        description,
        format,
      })),
      items: search
        ? Array.from({ length: params.search.count ?? 10 }, (_, n) => ({
            id: this.newId('witem'),
            createdAt: at,
            properties: properties(entity.type, n + 1),
          }))
        : [],
    }
  }

  /** A webset's search, item or enrichment, by the webset's id or externalId and its own id. */
  private child<K extends 'searches' | 'items' | 'enrichments'>(kind: K, ref: string, id: string) {
    const webset = this.findWebset(ref)
    const found = this.state[kind][id] as WebsetsState[K][string] | undefined
    return webset && found?.websetId === webset.id ? found : undefined
  }

  private eachResult(
    enrichment: SimEnrichment,
    visit: (item: SimItem, result: NonNullable<SimItem['enrichments']>[number]) => void
  ) {
    for (const item of this.itemsOf(enrichment.websetId))
      for (const result of item.enrichments ?? []) if (result.enrichmentId === enrichment.id) visit(item, result)
  }

  /** With no search running, a webset goes idle. */
  private settle(websetId: string, now: string) {
    const webset = this.state.websets[websetId]
    const running = Object.values(this.state.searches).some((s) => s.websetId === websetId && s.status === 'running')
    if (!webset || running || webset.status === 'idle') return
    Object.assign(webset, { status: 'idle', updatedAt: now })
    this.emit('webset.idle', this.webset(websetId))
  }

  clear() {
    this.state = empty()
  }

  snapshot(): WebsetsState {
    return structuredClone(this.state)
  }

  restore(snapshot: WebsetsState) {
    this.state = { ...empty(), ...structuredClone(snapshot) }
  }
}

const ENTITY_WORDS: [RegExp, 'person' | 'article' | 'research_paper'][] = [
  [/\b(people|persons?|founders?|ceos?|engineers?|leaders?|executives?|researchers?)\b/i, 'person'],
  [/\b(articles?|news|blog posts?|posts?)\b/i, 'article'],
  [/\b(papers?|publications?|preprints?)\b/i, 'research_paper'],
]
/** The entity a query names (companies when it names none), as the simulator detects it. */
const detectEntity = (query: string) => ENTITY_WORDS.find(([word]) => word.test(query))?.[1] ?? 'company'
/** One criterion per clause of the query, at most 5. */
const detectCriteria = (query: string) =>
  query
    .split(/\s*(?:[,;]|\band\b)\s*/i)
    .filter((clause) => /\p{L}/u.test(clause))
    .slice(0, 5)
    .map((description) => ({ description }))
const PREVIEW_ENRICHMENTS: [RegExp, string, SimEnrichment['format']][] = [
  [/\bemails?\b/i, 'Email address', 'email'],
  [/\bphones?\b/i, 'Phone number', 'phone'],
  [/\b(websites?|urls?)\b/i, 'Website', 'url'],
  [/\brevenue\b/i, 'Annual revenue', 'number'],
  [/\bfunding\b/i, 'Total funding raised', 'number'],
  [/\bemployees\b/i, 'Number of employees', 'number'],
]
/** The format an enrichment's description asks for (text when it names none). */
const detectFormat = (description: string): SimEnrichment['format'] =>
  PREVIEW_ENRICHMENTS.find(([word]) => word.test(description))?.[2] ?? 'text'

/** A monitor's behavior with Exa's defaults filled in (`append`). */
const withDefaults = (behavior: Behavior): SimMonitor['behavior'] => ({
  type: 'search',
  config: { ...structuredClone(behavior.config), behavior: behavior.config.behavior ?? 'append' },
})

/** The next time after `from` at the cron's minute and hour, in UTC (the day fields are not modelled). */
function nextRun(cron: string, from: string): string | null {
  const [minute, hour] = cron.split(' ').map(Number)
  if (!Number.isInteger(minute) || !Number.isInteger(hour)) return null
  const next = new Date(from)
  next.setUTCHours(hour!, minute!, 0, 0)
  if (next.getTime() <= Date.parse(from)) next.setUTCDate(next.getUTCDate() + 1)
  return next.toISOString()
}
