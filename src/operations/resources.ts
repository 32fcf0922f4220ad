import type { ResourceType, Snapshot } from '../audit/diff'
import { AGENT_MONITORS_BETA } from '../exa/agent'
import { AgentMonitorSnapshot, AgentRunSnapshot, BacktestSnapshot, SearchMonitorSnapshot } from '../exa/agent-bodies'
import { importPath, type UpstreamCall } from '../exa/client'
import { segment } from '../exa/query'
import { ImportSnapshot } from '../exa/schemas'
import { EnrichmentSnapshot, MonitorSnapshot, WebsetItemSnapshot, WebsetSearchSnapshot } from '../exa/webset-bodies'
import { websetChangePath, WebsetSnapshot } from '../exa/webset-changes'
import { WEBSETS_BASE } from '../exa/websets'
import { webhookPath, WebhookSnapshot } from '../exa/webhooks'

/**
 * What a row, the export and the logs hold in place of something Exa returns once (a webhook's
 * `secret`, a search monitor's `webhookSecret`): anyone holding it can sign deliveries the
 * subscriber will trust, so it goes to the caller and nowhere else (issue 15 §4).
 */
export const SECRET_MARKER = '[secret returned once to the caller; not kept]'

/**
 * The resources whose changes are audited: how to read one at Exa (its before snapshot, an
 * after Exa does not answer with, and the reconciler's look at its state) and what an answer must
 * be to be kept in a row. The fields a diff speaks of are in audit/diff.ts (EDITABLE_FIELDS).
 */
export type Resource = {
  type: Exclude<ResourceType, 'key'>
  /** `an Import`, for errors about an answer that is not one. */
  noun: string
  /** Its own path at Exa (GET reads it; an update, delete and cancel go there too). A sub-resource's names its parent. */
  path: (id: string, parent: string | null) => string
  /** Headers its every call needs (a beta's `exa-beta`). */
  headers?: Record<string, string>
  snapshot: { safeParse: (value: unknown) => { success: boolean; data?: unknown } }
  /**
   * Whether a GET after a delete shows it applied: Exa answers 404 for a deleted import, and a
   * deleted webhook reads as `inactive` (../shared/exa-api-surface.md §9).
   */
  gone: (status: number, state: unknown) => boolean
  /** The resource as its row keeps it: without what Exa returns once (a secret, an upload URL). */
  kept: (answer: Snapshot) => Snapshot
}

const notFound = (status: number) => status === 404
const asIs = (answer: Snapshot) => answer
/** The answer without the fields Exa returns once, each replaced by the marker when present. */
const withoutSecrets =
  (...fields: string[]) =>
  (answer: Snapshot): Snapshot =>
    Object.fromEntries(
      Object.entries(answer).map(([field, value]) => [
        field,
        fields.includes(field) && value !== null && value !== undefined ? SECRET_MARKER : value,
      ])
    )

/** A webset's sub-resource (its items, searches, enrichments): under the webset, named by id or externalId. */
const inWebset = (kind: string) => (id: string, webset: string | null) =>
  `${websetChangePath(webset!)}/${kind}/${segment(id)}`

/** Exa serves Agent Monitors only with their beta named (exa-js sends it on every call). */
const AGENT_MONITORS_BETA_HEADER = { 'exa-beta': AGENT_MONITORS_BETA }

export const RESOURCES = {
  import: {
    type: 'import',
    noun: 'an Import',
    path: importPath,
    snapshot: ImportSnapshot,
    gone: notFound,
    // A presigned upload URL is a capability (anyone holding it can upload until it expires).
    kept: ({ uploadUrl: _url, uploadValidUntil: _until, ...rest }) => rest,
  },
  webhook: {
    type: 'webhook',
    noun: 'a Webhook',
    path: webhookPath,
    snapshot: WebhookSnapshot,
    gone: (status, state) =>
      notFound(status) || (status === 200 && (state as { status?: unknown })?.status === 'inactive'),
    kept: withoutSecrets('secret'),
  },
  webset: {
    type: 'webset',
    noun: 'a Webset',
    path: websetChangePath,
    snapshot: WebsetSnapshot,
    gone: notFound,
    kept: asIs,
  },
  item: {
    type: 'item',
    noun: 'a Webset Item',
    path: inWebset('items'),
    snapshot: WebsetItemSnapshot,
    gone: notFound,
    kept: asIs,
  },
  search: {
    type: 'search',
    noun: 'a Webset Search',
    path: inWebset('searches'),
    snapshot: WebsetSearchSnapshot,
    gone: notFound,
    kept: asIs,
  },
  enrichment: {
    type: 'enrichment',
    noun: 'a Webset Enrichment',
    path: inWebset('enrichments'),
    snapshot: EnrichmentSnapshot,
    gone: notFound,
    kept: asIs,
  },
  monitor: {
    type: 'monitor',
    noun: 'a Monitor',
    path: (id) => `${WEBSETS_BASE}/monitors/${id}`,
    snapshot: MonitorSnapshot,
    gone: notFound,
    kept: asIs,
  },
  search_monitor: {
    type: 'search_monitor',
    noun: 'a Search Monitor',
    path: (id) => `/monitors/${id}`,
    snapshot: SearchMonitorSnapshot,
    gone: notFound,
    kept: withoutSecrets('webhookSecret'),
  },
  agent_run: {
    type: 'agent_run',
    noun: 'an Agent Run',
    path: (id) => `/agent/runs/${segment(id)}`,
    snapshot: AgentRunSnapshot,
    gone: notFound,
    kept: asIs,
  },
  agent_monitor: {
    type: 'agent_monitor',
    noun: 'an Agent Monitor',
    path: (id) => `/agent/monitors/${id}`,
    headers: AGENT_MONITORS_BETA_HEADER,
    snapshot: AgentMonitorSnapshot,
    gone: notFound,
    kept: asIs,
  },
  backtest: {
    type: 'backtest',
    noun: 'an Agent Monitor Backtest',
    path: (id) => `/agent/monitors/backtest/${id}`,
    headers: AGENT_MONITORS_BETA_HEADER,
    snapshot: BacktestSnapshot,
    gone: notFound,
    kept: asIs,
  },
} as const satisfies Record<string, Resource>

/** The GET of a resource: its before snapshot, an after read back, the reconciler's look. */
export const readOf = (resource: Resource, id: string, parent: string | null): UpstreamCall & { method: 'GET' } => ({
  method: 'GET',
  path: resource.path(id, parent),
  ...(resource.headers && { headers: resource.headers }),
})

/** The resource a row names, if its changes are served (undefined for a key, or an unknown type). */
export const resourceNamed = (type: string | null): Resource | undefined =>
  type !== null && Object.hasOwn(RESOURCES, type) ? RESOURCES[type as keyof typeof RESOURCES] : undefined
