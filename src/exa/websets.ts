import * as z from 'zod/mini'
import { booleanText, page, readCall as get, repeated, resourceId, segment } from './query'

/**
 * The reads of Exa's Websets family (websets, items, searches, enrichments, Websets monitors and
 * their runs, webhooks and their attempts, events): each endpoint's path parameters, its query
 * (exactly the parameters exa-js 2.23.0 sends; test/exa-js-params.test.ts pins them to its types),
 * and the upstream call built from the validated request alone, a pure function a caller may run
 * before anything else (docs/api.md, "Reads").
 */

export const WEBSETS_BASE = '/websets/v0'

/**
 * A webset is addressed by its id or by the `externalId` its creator chose (up to 300 characters,
 * S2): a wider alphabet than other ids, never `.` or `..` (a URL would read them as a path step),
 * and percent-encoded on its way into the URL.
 */
export const WEBSET_REF_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._~:@+=-]{1,300}$/
/** A webset id or externalId, as a path or a body names a webset. */
export const websetRef = z
  .string()
  .check(
    z.regex(WEBSET_REF_PATTERN, 'webset id or externalId must be 1 to 300 of A-Z a-z 0-9 . _ ~ : @ + = - (not . or ..)')
  )

/** The 19 event types of Exa's Websets (exa-js `EventType`). */
export const EVENT_TYPES = [
  'webset.created',
  'webset.deleted',
  'webset.paused',
  'webset.idle',
  'webset.search.created',
  'webset.search.canceled',
  'webset.search.completed',
  'webset.search.updated',
  'import.created',
  'import.completed',
  'webset.item.created',
  'webset.item.enriched',
  'monitor.created',
  'monitor.updated',
  'monitor.deleted',
  'monitor.run.created',
  'monitor.run.completed',
  'webset.export.created',
  'webset.export.completed',
] as const
const eventType = z.enum(EVENT_TYPES, 'must be a Websets event type (webset.created, webset.item.created, …)')

const none = z.strictObject({})

// ---- path parameters ----
export const WebsetParams = z.strictObject({ id: websetRef })
export const WebsetItemParams = z.strictObject({ webset: websetRef, id: resourceId('item') })
export const WebsetSearchParams = z.strictObject({ webset: websetRef, id: resourceId('search') })
export const WebsetEnrichmentParams = z.strictObject({ webset: websetRef, id: resourceId('enrichment') })
export const ItemsParams = z.strictObject({ webset: websetRef })
export const MonitorParams = z.strictObject({ id: resourceId('monitor') })
export const MonitorRunsParams = z.strictObject({ monitor: resourceId('monitor') })
export const MonitorRunParams = z.strictObject({ monitor: resourceId('monitor'), id: resourceId('monitor run') })
export const WebhookParams = z.strictObject({ id: resourceId('webhook') })
export const EventParams = z.strictObject({ id: resourceId('event') })

// ---- queries (limits per list: Exa's spec; docs/api.md) ----
export const NoQuery = none
export const GetWebsetQuery = z.strictObject({ expand: repeated(z.enum(['items'], 'must be "items"')) })
export const ListWebsetsQuery = z.strictObject(page(100))
export const ListItemsQuery = z.strictObject({ ...page(100), sourceId: z.optional(resourceId('source')) })
export const ListMonitorsQuery = z.strictObject({ ...page(200), websetId: z.optional(websetRef) })
/** Exa's spec lists no query for a monitor's runs; exa-js sends `cursor` and `limit` (assumed 1..200). */
export const ListMonitorRunsQuery = z.strictObject(page(200))
export const ListWebhooksQuery = z.strictObject(page(200))
export const ListWebhookAttemptsQuery = z.strictObject({
  ...page(200),
  eventType: z.optional(eventType),
  successful: booleanText,
})
export const ListEventsQuery = z.strictObject({ ...page(200), types: repeated(eventType) })

type Out<T extends z.ZodMiniType> = z.output<T>
type NoQueryValues = Out<typeof NoQuery>

const websetPath = (ref: string) => `${WEBSETS_BASE}/websets/${segment(ref)}`

// ---- validated request -> upstream call, one per route ----
export const listWebsetsCall = (_: NoQueryValues, q: Out<typeof ListWebsetsQuery>) => get(`${WEBSETS_BASE}/websets`, q)
export const getWebsetCall = (p: Out<typeof WebsetParams>, q: Out<typeof GetWebsetQuery>) => get(websetPath(p.id), q)
export const listItemsCall = (p: Out<typeof ItemsParams>, q: Out<typeof ListItemsQuery>) =>
  get(`${websetPath(p.webset)}/items`, q)
export const getItemCall = (p: Out<typeof WebsetItemParams>) => get(`${websetPath(p.webset)}/items/${p.id}`)
export const getSearchCall = (p: Out<typeof WebsetSearchParams>) => get(`${websetPath(p.webset)}/searches/${p.id}`)
export const getEnrichmentCall = (p: Out<typeof WebsetEnrichmentParams>) =>
  get(`${websetPath(p.webset)}/enrichments/${p.id}`)
export const listMonitorsCall = (_: NoQueryValues, q: Out<typeof ListMonitorsQuery>) =>
  get(`${WEBSETS_BASE}/monitors`, q)
export const getMonitorCall = (p: Out<typeof MonitorParams>) => get(`${WEBSETS_BASE}/monitors/${p.id}`)
export const listMonitorRunsCall = (p: Out<typeof MonitorRunsParams>, q: Out<typeof ListMonitorRunsQuery>) =>
  get(`${WEBSETS_BASE}/monitors/${p.monitor}/runs`, q)
export const getMonitorRunCall = (p: Out<typeof MonitorRunParams>) =>
  get(`${WEBSETS_BASE}/monitors/${p.monitor}/runs/${p.id}`)
export const listWebhooksCall = (_: NoQueryValues, q: Out<typeof ListWebhooksQuery>) =>
  get(`${WEBSETS_BASE}/webhooks`, q)
export const getWebhookCall = (p: Out<typeof WebhookParams>) => get(`${WEBSETS_BASE}/webhooks/${p.id}`)
export const listWebhookAttemptsCall = (p: Out<typeof WebhookParams>, q: Out<typeof ListWebhookAttemptsQuery>) =>
  get(`${WEBSETS_BASE}/webhooks/${p.id}/attempts`, q)
export const listEventsCall = (_: NoQueryValues, q: Out<typeof ListEventsQuery>) => get(`${WEBSETS_BASE}/events`, q)
export const getEventCall = (p: Out<typeof EventParams>) => get(`${WEBSETS_BASE}/events/${p.id}`)
