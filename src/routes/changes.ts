import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { Hono } from 'hono/tiny'
import * as z from 'zod/mini'
import type { ResourceAction } from '../audit/actions'
import type { AppEnv } from '../env'
import * as ag from '../exa/agent'
import * as ab from '../exa/agent-bodies'
import * as sm from '../exa/search-monitors'
import { IMPORTS_PATH } from '../exa/client'
import { CreateImportBody, ImportIdParam, UpdateImportBody } from '../exa/schemas'
import * as wb from '../exa/webset-bodies'
import { UpdateWebsetBody, websetChangePath } from '../exa/webset-changes'
import { CreateWebhookBody, UpdateWebhookBody, WEBHOOKS_PATH } from '../exa/webhooks'
import * as ws from '../exa/websets'
import { readAhead, requireKey } from '../http/auth'
import { idempotency, type IdempotencyOptions } from '../http/idempotency'
import { jsonBody, jsonText } from '../http/json-body'
import { requestValues, zv } from '../http/validator'
import type { Scope } from '../keys/principal'
import { runAuditedCall, STREAM, type AfterOf } from '../operations/audited-call'
import { withUnexpiredUpload } from '../operations/imports'
import { readOf, RESOURCES, type Resource } from '../operations/resources'
import { startReadOf } from '../operations/upstream'
import { destroyed, replaced } from '../operations/websets'

type Schema = z.ZodMiniType
type Method = 'POST' | 'PATCH' | 'DELETE'

/**
 * One row per change Exa serves (the state-changing calls of ../shared/exa-api-surface.md §3):
 * its method and path (Exa's own), the scope a key needs, the audit action and resource, the
 * schemas of its path, body and headers, and how the row's `after` comes from Exa's answer. The
 * routes are generated from this table, so a change is added here and in docs/routes.md, and
 * nowhere else. Every change is audited the same way (operations/audited-call.ts): before read
 * (a change of an existing resource), write-ahead row, the call (never retried), settle.
 */
export type Change = {
  method: Method
  path: string
  scope: Scope
  action: ResourceAction
  resource: Resource
  /** Path parameters: `id` names the resource (none for a create), `webset` its parent. */
  params: Schema
  /** The JSON body; none for a bodiless call (exa-js sends `content-type` with no body). */
  body?: Schema
  headers?: Schema
  /** Exa's path of a create (the collection); a change of an existing resource goes to its own path. */
  collection?: (params: Params) => string
  /** Appended to the resource's path (`/cancel`). */
  suffix?: string
  after?: AfterOf
  /** What a successful answer is when not the resource: a deleted stub. */
  answer?: Schema
  /** Exa answers it as an SSE stream when the client asks (`Accept: text/event-stream`). */
  streams?: boolean
  /** It spends at Exa (an agent run, a search monitor's run, a backtest): a key over its budget is refused it. */
  paid?: boolean
  /** Whether the change replaces part of its parent webset (a search's `override`): the parent is read first. */
  overrides?: (body: never) => boolean
  replay?: IdempotencyOptions
}

type Params = { id?: string; webset?: string }

const NONE = z.strictObject({})

/** A change of an existing resource (update, delete, cancel): read before, at the resource's own path. */
const change = (
  method: Method,
  path: string,
  action: ResourceAction,
  resource: Resource,
  params: Schema,
  more: Partial<Change> = {}
) => ({ method, path, action, resource, params, ...more })

/** A create: no before, at its collection's path. */
const create = (
  path: string,
  action: ResourceAction,
  resource: Resource,
  body: Schema,
  more: Partial<Change> = {}
) => ({
  method: 'POST' as const,
  path,
  action,
  resource,
  params: NONE,
  body,
  collection: () => path,
  ...more,
})

/** The rows of one family, which one scope covers. */
const family = (scope: Scope, rows: Omit<Change, 'scope'>[]): Change[] => rows.map((row) => ({ ...row, scope }))

const WEBSETS = `${ws.WEBSETS_BASE}/websets`
const WEBSET = `${WEBSETS}/:id`
const WEBHOOK = `${WEBHOOKS_PATH}/:id`
const IMPORT = `${IMPORTS_PATH}/:id`
const MONITORS = `${ws.WEBSETS_BASE}/monitors`
const {
  import: imp,
  webhook,
  webset,
  item,
  search,
  enrichment,
  monitor,
  search_monitor: searchMonitor,
  agent_run: agentRun,
  agent_monitor: agentMonitor,
  backtest,
} = RESOURCES
/** `exa-beta`: forwarded if sent (agent runs); required with the Agent Monitors beta (agent monitors). */
const BETA = ag.OptionalBeta
const MONITORS_BETA = ag.AgentMonitorsBeta
/** The stub Exa answers a delete of an agent run or Agent Monitor with. */
const DELETED = z.looseObject({ id: z.string(), deleted: z.literal(true) })
/** A create under a webset (its searches, enrichments), at `/websets/{webset}/<kind>`. */
const under = (kind: string) => `${WEBSETS}/:webset/${kind}`
const inWebset = (kind: string) => (params: Params) => `${websetChangePath(params.webset!)}/${kind}`
/** `x-exa-websets-priority`, forwarded when sent (exa-js `websets.create(p, { headers })`, `searches.create`). */
const PRIORITY = z.object({ 'x-exa-websets-priority': z.optional(z.enum(['low', 'medium', 'high'])) })

export const CHANGES: readonly Change[] = [
  ...family('imports:write', [
    // The upload URL stays in a replay while Exa says it is valid (operations/imports.ts).
    create(IMPORTS_PATH, 'import.create', imp, CreateImportBody, { replay: { unexpired: withUnexpiredUpload } }),
    change('PATCH', IMPORT, 'import.update', imp, ImportIdParam, { body: UpdateImportBody }),
    // Gone: its changes run from the before state to nothing.
    change('DELETE', IMPORT, 'import.delete', imp, ImportIdParam, { after: () => null }),
  ]),
  ...family('webhooks:write', [
    create(WEBHOOKS_PATH, 'webhook.create', webhook, CreateWebhookBody),
    change('PATCH', WEBHOOK, 'webhook.update', webhook, ws.WebhookParams, { body: UpdateWebhookBody }),
    // Exa answers with the webhook, now `inactive`: its row's changes show the status.
    change('DELETE', WEBHOOK, 'webhook.delete', webhook, ws.WebhookParams),
  ]),
  ...family('websets:write', [
    create(WEBSETS, 'webset.create', webset, wb.CreateWebsetBody, { headers: PRIORITY }),
    // exa-js `websets.update` is a POST, not a PATCH.
    change('POST', WEBSET, 'webset.update', webset, ws.WebsetParams, { body: UpdateWebsetBody }),
    change('DELETE', WEBSET, 'webset.delete', webset, ws.WebsetParams, { after: destroyed }),
    change('POST', `${WEBSET}/cancel`, 'webset.cancel', webset, ws.WebsetParams, { suffix: '/cancel' }),
    // The item as it was: its row's changes run from its properties to nothing.
    change('DELETE', `${under('items')}/:id`, 'item.delete', item, ws.WebsetItemParams, { after: () => null }),
    create(under('searches'), 'search.create', search, wb.CreateWebsetSearchBody, {
      params: ws.ItemsParams,
      collection: inWebset('searches'),
      headers: PRIORITY,
      overrides: (body: wb.CreateWebsetSearch) => body.behavior === 'override',
    }),
    change('POST', `${under('searches')}/:id/cancel`, 'search.cancel', search, ws.WebsetSearchParams, {
      suffix: '/cancel',
    }),
    create(under('enrichments'), 'enrichment.create', enrichment, wb.CreateEnrichmentBody, {
      params: ws.ItemsParams,
      collection: inWebset('enrichments'),
    }),
    // Exa answers an enrichment's update with no body: its after is read back.
    change('PATCH', `${under('enrichments')}/:id`, 'enrichment.update', enrichment, ws.WebsetEnrichmentParams, {
      body: wb.UpdateEnrichmentBody,
      after: 'read',
    }),
    change('DELETE', `${under('enrichments')}/:id`, 'enrichment.delete', enrichment, ws.WebsetEnrichmentParams),
    change('POST', `${under('enrichments')}/:id/cancel`, 'enrichment.cancel', enrichment, ws.WebsetEnrichmentParams, {
      suffix: '/cancel',
    }),
  ]),
  ...family('monitors:write', [
    create(MONITORS, 'monitor.create', monitor, wb.CreateMonitorBody),
    change('PATCH', `${MONITORS}/:id`, 'monitor.update', monitor, ws.MonitorParams, { body: wb.UpdateMonitorBody }),
    change('DELETE', `${MONITORS}/:id`, 'monitor.delete', monitor, ws.MonitorParams),
    // Search monitors: the `webhookSecret` of a create reaches the caller only (the resource's `kept`).
    create('/monitors', 'search_monitor.create', searchMonitor, ab.CreateSearchMonitorBody),
    change('PATCH', '/monitors/:id', 'search_monitor.update', searchMonitor, sm.SearchMonitorParams, {
      body: ab.UpdateSearchMonitorBody,
    }),
    change('DELETE', '/monitors/:id', 'search_monitor.delete', searchMonitor, sm.SearchMonitorParams),
    // Exa answers `{triggered}`: the monitor after (its next run) is read back.
    change('POST', '/monitors/:id/trigger', 'search_monitor.trigger', searchMonitor, sm.SearchMonitorParams, {
      suffix: '/trigger',
      after: 'read',
      paid: true,
    }),
  ]),
  ...family('agent:write', [
    create('/agent/runs', 'agent_run.create', agentRun, ab.CreateAgentRunBody, {
      headers: BETA,
      streams: true,
      paid: true,
    }),
    change('POST', '/agent/runs/:id/cancel', 'agent_run.cancel', agentRun, ag.AgentRunParams, {
      suffix: '/cancel',
      headers: BETA,
    }),
    change('POST', '/agent/runs/:id/stop', 'agent_run.stop', agentRun, ag.AgentRunParams, {
      suffix: '/stop',
      headers: BETA,
    }),
    // Exa answers a stub: the row keeps the run as it was before, and nothing after.
    change('DELETE', '/agent/runs/:id', 'agent_run.delete', agentRun, ag.AgentRunParams, {
      headers: BETA,
      answer: DELETED,
      after: () => null,
    }),
    create('/agent/monitors', 'agent_monitor.create', agentMonitor, ab.CreateAgentMonitorBody, {
      headers: MONITORS_BETA,
    }),
    change('DELETE', '/agent/monitors/:id', 'agent_monitor.delete', agentMonitor, ag.MonitorParams, {
      headers: MONITORS_BETA,
      answer: DELETED,
      after: () => null,
    }),
    change('POST', '/agent/monitors/:id/entities', 'agent_monitor.add_entities', agentMonitor, ag.MonitorParams, {
      body: ab.AddAgentMonitorEntitiesBody,
      suffix: '/entities',
      headers: MONITORS_BETA,
    }),
    create('/agent/monitors/backtest', 'backtest.create', backtest, ab.CreateBacktestBody, {
      headers: MONITORS_BETA,
      paid: true,
    }),
  ]),
]

type Valid = { params: Params; body: unknown; headers: Record<string, string> | undefined }

/** The row's audited call from the validated request. */
function audited(c: Context<AppEnv>, row: Change, { params, body, headers }: Valid) {
  const id = row.collection ? null : params.id!
  const parent = params.webset ?? null
  const path = row.collection ? row.collection(params) : row.resource.path(id!, parent) + (row.suffix ?? '')
  const sent = Object.entries(headers ?? {}).filter(([, value]) => value !== undefined)
  // exa-js asks for a streamed create with this Accept alone; Exa then answers SSE.
  if (row.streams && c.req.header('accept')?.includes(STREAM)) sent.push(['accept', STREAM])
  return runAuditedCall(c, {
    action: row.action,
    resource: row.resource,
    resourceId: id,
    parentId: parent,
    requestBody: body ?? null,
    readsBefore: id !== null,
    upstream: {
      method: row.method,
      path,
      ...(body !== undefined && { body }),
      ...(sent.length && { headers: Object.fromEntries(sent) }),
    },
    after: row.after ?? row.resource.kept,
    answer: row.answer,
    ...(row.overrides?.(body as never) && { replaces: { resource: webset, id: parent!, summary: replaced } }),
  })
}

/**
 * A change's before-read, ahead of admission: only for a request the route would accept (its
 * path, headers and body validated as the route does; the body read once, see jsonText), and
 * never with an Idempotency-Key, which may be a retry answered from its stored result and must
 * reach nothing at Exa.
 */
const beforeReadAhead = (row: Change) =>
  startReadOf(async (c) => {
    if (c.req.header('idempotency-key') !== undefined) return undefined
    const params = row.params.safeParse(requestValues(c, 'param'))
    if (!params.success || !(row.headers?.safeParse(requestValues(c, 'header')).success ?? true)) return undefined
    if (row.body && !row.body.safeParse(JSON.parse(await jsonText(c))).success) return undefined
    const { id, webset } = params.data as Params
    return readOf(row.resource, id!, webset ?? null)
  })

const markPaid = createMiddleware<AppEnv>(async (c, next) => {
  c.set('paid', true)
  await next()
})

/**
 * The changes as routes: a warm key's before-read started ahead of admission (http/auth.ts),
 * authenticate and authorize, validate the path, the body and the headers, the Idempotency-Key
 * claim, then the audited call.
 */
export const changes = new Hono<AppEnv>()
for (const row of CHANGES) {
  const handlers = [
    ...(row.collection ? [] : [readAhead(beforeReadAhead(row))]),
    ...(row.paid ? [markPaid] : []),
    requireKey(row.scope),
    zv('param', row.params),
    ...(row.body ? [jsonBody(), zv('json', row.body)] : []),
    ...(row.headers ? [zv('header', row.headers)] : []),
    idempotency(row.replay),
    (c: Context<AppEnv>) =>
      audited(c, row, {
        params: c.req.valid('param' as never) as Params,
        body: row.body ? c.req.valid('json' as never) : undefined,
        headers: row.headers ? (c.req.valid('header' as never) as Record<string, string>) : undefined,
      }),
  ]
  changes.on(row.method, row.path, ...(handlers as [never]))
}
