import type Exa from 'exa-js'
import { describe, expect, it } from 'vitest'
import type * as z from 'zod/mini'
import { withQuery } from '../src/exa/query'
import * as agent from '../src/exa/agent'
import * as sm from '../src/exa/search-monitors'
import * as ws from '../src/exa/websets'

/**
 * Each read's query schema pinned to the parameter type exa-js 2.23.0 sends it from, both ways:
 * the same names, each with the value exa-js puts in the query string (a number as text, a
 * boolean as "true"/"false", an enum as its strings, an array as repeated keys). A parameter
 * exa-js adds, drops or retypes, or one our schema accepts beyond it, fails `npm run typecheck`.
 */

/** What exa-js's `request()` makes of a value: `String(value)`, arrays item by item. */
type QueryValue<V> = V extends readonly (infer E)[]
  ? QueryValue<E>[]
  : V extends number
    ? string
    : V extends boolean | string
      ? `${V}`
      : never
/** exa-js's parameter type as a query string carries it. */
type AsQuery<T> = { [K in keyof T]-?: QueryValue<NonNullable<T[K]>> }
/** What a schema lets through, once validated. */
type Validated<S extends z.ZodMiniType> = { [K in keyof z.output<S>]-?: NonNullable<z.output<S>[K]> }
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
/** exa-js's parameter type `E` and the schema `S` let exactly the same query through. */
type Pin<E, S extends z.ZodMiniType> = Equal<AsQuery<E>, Validated<S>>
type Param<F extends (...args: never[]) => unknown, N extends number> = NonNullable<Parameters<F>[N]>

type Websets = Exa['websets']
/** `websets.get(id, expand?)` sends `expand` as its only query parameter. */
type GetWebsetParams = { expand?: Param<Websets['get'], 1> }

export const pins: Record<string, true> = {
  'websets.list': true satisfies Pin<Param<Websets['list'], 0>, typeof ws.ListWebsetsQuery>,
  'websets.get': true satisfies Pin<GetWebsetParams, typeof ws.GetWebsetQuery>,
  'websets.items.list': true satisfies Pin<Param<Websets['items']['list'], 1>, typeof ws.ListItemsQuery>,
  'websets.monitors.list': true satisfies Pin<Param<Websets['monitors']['list'], 0>, typeof ws.ListMonitorsQuery>,
  'websets.monitors.runs.list': true satisfies Pin<
    Param<Websets['monitors']['runs']['list'], 1>,
    typeof ws.ListMonitorRunsQuery
  >,
  'websets.webhooks.list': true satisfies Pin<Param<Websets['webhooks']['list'], 0>, typeof ws.ListWebhooksQuery>,
  'websets.webhooks.listAttempts': true satisfies Pin<
    Param<Websets['webhooks']['listAttempts'], 1>,
    typeof ws.ListWebhookAttemptsQuery
  >,
  'websets.events.list': true satisfies Pin<Param<Websets['events']['list'], 0>, typeof ws.ListEventsQuery>,
  'monitors.list': true satisfies Pin<Param<Exa['monitors']['list'], 0>, typeof sm.ListSearchMonitorsQuery>,
  'monitors.runs.list': true satisfies Pin<
    Param<Exa['monitors']['runs']['list'], 1>,
    typeof sm.ListSearchMonitorRunsQuery
  >,
  'agent.runs.list': true satisfies Pin<Param<Exa['agent']['runs']['list'], 0>, typeof agent.ListAgentRunsQuery>,
  'agent.runs.events.list': true satisfies Pin<
    Param<Exa['agent']['runs']['events']['list'], 1>,
    typeof agent.ListRunEventsQuery
  >,
  // exa-js passes `betas` in the same object; it becomes the exa-beta header, not a query parameter.
  'beta.agent.monitors.list': true satisfies Pin<
    Omit<Param<Exa['beta']['agent']['monitors']['list'], 0>, 'betas'>,
    typeof agent.ListAgentMonitorsQuery
  >,
  'beta.agent.monitors.entities.list': true satisfies Pin<
    Omit<Param<Exa['beta']['agent']['monitors']['entities']['list'], 1>, 'betas'>,
    typeof agent.ListEntitiesQuery
  >,
  'beta.agent.monitors.changes.list': true satisfies Pin<
    Omit<Param<Exa['beta']['agent']['monitors']['changes']['list'], 1>, 'betas'>,
    typeof agent.ListChangesQuery
  >,
  // The gets send no query at all: their schema lets no name through.
  'gets without a query': true satisfies Equal<z.output<typeof ws.NoQuery>, Record<string, never>>,
}

/** The query object Hono's validator hands a schema: one value as text, a repeated one as an array. */
function asHonoQuery(url: string): Record<string, string | string[]> {
  const search = new URL(url, 'https://x').searchParams
  return Object.fromEntries(
    [...new Set(search.keys())].map((name) => {
      const all = search.getAll(name)
      return [name, all.length === 1 ? all[0]! : all]
    })
  )
}

/** exa-js's URL building (`request()`): arrays as repeated keys, `undefined` skipped, the rest `String()`. */
function exaJsQuery(params: Record<string, unknown>): string {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const item of value) search.append(name, String(item))
    else if (value !== undefined) search.append(name, String(value))
  }
  return `?${search}`
}

describe('what exa-js sends passes, and is forwarded as exa-js built it', () => {
  const cases: [string, z.ZodMiniType, Record<string, unknown>][] = [
    ['websets.list', ws.ListWebsetsQuery, { cursor: 'c1', limit: 100 }],
    ['websets.get', ws.GetWebsetQuery, { expand: ['items'] }],
    ['websets.items.list', ws.ListItemsQuery, { cursor: 'c1', limit: 100, sourceId: 'wsearch_1' }],
    ['websets.monitors.list', ws.ListMonitorsQuery, { cursor: 'c1', limit: 200, websetId: 'webset_1' }],
    ['websets.monitors.runs.list', ws.ListMonitorRunsQuery, { cursor: 'c1', limit: 5 }],
    ['websets.webhooks.list', ws.ListWebhooksQuery, { limit: 1 }],
    [
      'websets.webhooks.listAttempts',
      ws.ListWebhookAttemptsQuery,
      { cursor: 'c', limit: 10, eventType: 'webset.created', successful: false },
    ],
    ['websets.events.list', ws.ListEventsQuery, { limit: 25, types: ['webset.created', 'webset.idle'] }],
    ['websets.events.list (one type)', ws.ListEventsQuery, { types: ['webset.idle'] }],
    ['monitors.list', sm.ListSearchMonitorsQuery, { cursor: 'c', limit: 100, status: 'paused' }],
    ['monitors.runs.list', sm.ListSearchMonitorRunsQuery, { limit: 1 }],
    ['agent.runs.list', agent.ListAgentRunsQuery, { cursor: 'c', limit: 100 }],
    ['agent.runs.events.list', agent.ListRunEventsQuery, { limit: 20 }],
    ['beta.agent.monitors.list', agent.ListAgentMonitorsQuery, { cursor: 'c', limit: 5 }],
    [
      'beta.agent.monitors.entities.list',
      agent.ListEntitiesQuery,
      { cursor: 'c', limit: 5, since: '2026-08-04T00:00:00.000Z' },
    ],
    ['beta.agent.monitors.changes.list', agent.ListChangesQuery, { since: '2026-08-04' }],
    ['websets.events.list (nothing)', ws.ListEventsQuery, { cursor: undefined, limit: undefined, types: undefined }],
  ]
  for (const [name, schema, params] of cases) {
    it(name, () => {
      const sent = exaJsQuery(params)
      const parsed = schema.safeParse(asHonoQuery(sent))
      expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true)
      expect(withQuery('', parsed.data as never) || '?').toBe(sent)
    })
  }
  it('pins every list and get', () => expect(Object.keys(pins)).toHaveLength(16))
})
