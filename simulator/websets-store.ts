import type {
  Monitor,
  MonitorRun,
  Webhook,
  WebhookAttempt,
  Webset,
  WebsetEnrichment,
  WebsetItem,
  WebsetSearch,
} from 'exa-js'
import { randomToken } from './store.ts'
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
      imports: [],
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
    for (const kind of ['items', 'searches', 'enrichments', 'monitors'] as const)
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

  clear() {
    this.state = empty()
  }

  snapshot(): WebsetsState {
    return structuredClone(this.state)
  }

  restore(snapshot: WebsetsState) {
    this.state = structuredClone(snapshot)
  }
}
