import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import * as z from 'zod/mini'
import type { AppEnv } from '../env'
import { importPath, IMPORTS_PATH, type UpstreamCall } from '../exa/client'
import { readCall as get } from '../exa/query'
import { ImportIdParam, ListImportsQuery } from '../exa/schemas'
import * as ag from '../exa/agent'
import * as sm from '../exa/search-monitors'
import * as ws from '../exa/websets'
import { readAhead, requireKey } from '../http/auth'
import { requestValues, zv } from '../http/validator'
import type { Scope } from '../keys/principal'
import { STREAM } from '../operations/audited-call'
import { passThrough, readExa, relay, startReadOf } from '../operations/upstream'

/**
 * One row per read Exa serves (GET, no state change, not paid): its path (Exa's own), the scope a
 * key needs, the schemas of its path parameters and query, and the function that builds the
 * upstream call from the validated request. The routes are generated from this table, so a read
 * is added here and in docs/routes.md, and nowhere else. Reads pass through: not audited, never
 * retried, Exa's answer relayed unchanged.
 */
export type Read = {
  path: string
  scope: Scope
  params: z.ZodMiniType
  query: z.ZodMiniType
  /** The request headers Exa defines for it (`exa-beta`), forwarded once valid; others are never read. */
  headers: z.ZodMiniType
  call: (params: never, query: never, headers: never) => UpstreamCall
  /** Exa answers it as an SSE stream when the client asks (`Accept: text/event-stream`): passed through. */
  streams?: boolean
}

type Row = Omit<Read, 'scope'>

/** A row, with its call's argument types tied to its schemas. */
const read = <P extends z.ZodMiniType, Q extends z.ZodMiniType, H extends z.ZodMiniType = typeof NO_HEADERS>(
  path: string,
  params: P,
  query: Q,
  call: (params: z.output<P>, query: z.output<Q>, headers: z.output<H>) => UpstreamCall,
  headers: H = NO_HEADERS as unknown as H
): Row => ({ path, params, query, headers, call })

/** No header of the client's request is read (a loose object: the request has many). */
const NO_HEADERS = z.object({})

/** The rows of one family, which one scope covers. */
const family = (scope: Scope, rows: Row[]): Read[] => rows.map((row) => ({ ...row, scope }))

const W = '/websets/v0'
/** `exa-beta`: forwarded if sent (agent runs); required with the Agent Monitors beta (agent monitors). */
const BETA = ag.OptionalBeta
const MONITORS_BETA = ag.AgentMonitorsBeta
const NONE = ws.NoQuery

export const READS: readonly Read[] = [
  ...family('imports:read', [
    read(IMPORTS_PATH, NONE, ListImportsQuery, (_, query) => get(IMPORTS_PATH, query)),
    read(`${IMPORTS_PATH}/:id`, ImportIdParam, NONE, ({ id }) => get(importPath(id))),
  ]),
  ...family('websets:read', [
    read(`${W}/websets`, NONE, ws.ListWebsetsQuery, ws.listWebsetsCall),
    read(`${W}/websets/:id`, ws.WebsetParams, ws.GetWebsetQuery, ws.getWebsetCall),
    read(`${W}/websets/:webset/items`, ws.ItemsParams, ws.ListItemsQuery, ws.listItemsCall),
    read(`${W}/websets/:webset/items/:id`, ws.WebsetItemParams, NONE, ws.getItemCall),
    read(`${W}/websets/:webset/searches/:id`, ws.WebsetSearchParams, NONE, ws.getSearchCall),
    read(`${W}/websets/:webset/enrichments/:id`, ws.WebsetEnrichmentParams, NONE, ws.getEnrichmentCall),
  ]),
  ...family('monitors:read', [
    read(`${W}/monitors`, NONE, ws.ListMonitorsQuery, ws.listMonitorsCall),
    read(`${W}/monitors/:id`, ws.MonitorParams, NONE, ws.getMonitorCall),
    read(`${W}/monitors/:monitor/runs`, ws.MonitorRunsParams, ws.ListMonitorRunsQuery, ws.listMonitorRunsCall),
    read(`${W}/monitors/:monitor/runs/:id`, ws.MonitorRunParams, NONE, ws.getMonitorRunCall),
  ]),
  ...family('webhooks:read', [
    read(`${W}/webhooks`, NONE, ws.ListWebhooksQuery, ws.listWebhooksCall),
    read(`${W}/webhooks/:id`, ws.WebhookParams, NONE, ws.getWebhookCall),
    read(`${W}/webhooks/:id/attempts`, ws.WebhookParams, ws.ListWebhookAttemptsQuery, ws.listWebhookAttemptsCall),
  ]),
  ...family('events:read', [
    read(`${W}/events`, NONE, ws.ListEventsQuery, ws.listEventsCall),
    read(`${W}/events/:id`, ws.EventParams, NONE, ws.getEventCall),
  ]),
  ...family('monitors:read', [
    read('/monitors', NONE, sm.ListSearchMonitorsQuery, sm.listSearchMonitorsCall),
    read('/monitors/:id', sm.SearchMonitorParams, NONE, sm.getSearchMonitorCall),
    read('/monitors/:id/runs', sm.SearchMonitorParams, sm.ListSearchMonitorRunsQuery, sm.listSearchMonitorRunsCall),
    read('/monitors/:id/runs/:runId', sm.SearchMonitorRunParams, NONE, sm.getSearchMonitorRunCall),
  ]),
  ...family('agent:read', [
    read('/agent/runs', NONE, ag.ListAgentRunsQuery, ag.listAgentRunsCall, BETA),
    read('/agent/runs/:id', ag.AgentRunParams, NONE, ag.getAgentRunCall, BETA),
    {
      ...read(
        '/agent/runs/:id/events',
        ag.AgentRunParams,
        ag.ListRunEventsQuery,
        ag.listRunEventsCall,
        ag.RunEventsHeaders
      ),
      streams: true,
    },
    read('/agent/monitors', NONE, ag.ListAgentMonitorsQuery, ag.listAgentMonitorsCall, MONITORS_BETA),
    read('/agent/monitors/:id', ag.MonitorParams, NONE, ag.getAgentMonitorCall, MONITORS_BETA),
    read('/agent/monitors/:id/entities', ag.MonitorParams, ag.ListEntitiesQuery, ag.listEntitiesCall, MONITORS_BETA),
    read('/agent/monitors/:id/changes', ag.MonitorParams, ag.ListChangesQuery, ag.listChangesCall, MONITORS_BETA),
    read('/agent/monitors/backtest/:id', ag.BacktestParams, NONE, ag.getBacktestCall, MONITORS_BETA),
  ]),
]

/** Whether the client asked a row that streams for its stream (a read started ahead would be wasted). */
const streamed = (row: Read, c: Context<AppEnv>) => row.streams === true && !!c.req.header('accept')?.includes(STREAM)

/** The row's call from the raw request, validated as its route validates it (undefined when invalid). */
function callOf(row: Read, values: { param: unknown; query: unknown; header: unknown }): UpstreamCall | undefined {
  const params = row.params.safeParse(values.param)
  const query = row.query.safeParse(values.query)
  const headers = row.headers.safeParse(values.header)
  if (!params.success || !query.success || !headers.success) return undefined
  return row.call(params.data as never, query.data as never, headers.data as never)
}

/**
 * The reads as routes: authenticate and authorize (a warm key's read starting ahead of its
 * admission: http/auth.ts), validate the path, the query and the headers, forward, relay.
 */
export const reads = new Hono<AppEnv>()
for (const row of READS) {
  const ahead = startReadOf((c) => {
    const call = callOf(row, {
      param: requestValues(c, 'param'),
      query: requestValues(c, 'query'),
      header: requestValues(c, 'header'),
    })
    return call?.method === 'GET' && !streamed(row, c) ? { ...call, method: 'GET' } : undefined
  })
  reads.get(
    row.path,
    readAhead(ahead),
    requireKey(row.scope),
    zv('param', row.params),
    zv('query', row.query),
    zv('header', row.headers),
    async (c) => {
      const headers = c.req.valid('header') as Record<string, string | undefined>
      const call = row.call(c.req.valid('param') as never, c.req.valid('query') as never, headers as never)
      if (!streamed(row, c)) return relay(c, await readExa(c, call))
      const resume = headers['last-event-id']
      return passThrough(c, {
        ...call,
        headers: { ...call.headers, accept: STREAM, ...(resume !== undefined && { 'last-event-id': resume }) },
      })
    }
  )
}
