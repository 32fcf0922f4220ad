import * as z from 'zod/mini'
import { AGENT_RUN_ID_PATTERN } from './agent'
import { ContentsOptions } from './core-schemas'
import { Metadata } from './schemas'

/**
 * The bodies of the Search Monitor, agent run and Agent Monitor changes, as exa-js 2.23.0 sends
 * them (its exported parameter types; test/exa-types-agent.ts pins each in both directions), with
 * the limits ../shared/exa-api-surface.md §2.3–2.5 gives. Strict: a field exa-js's types lack is
 * refused. `agent.runs.create({stream: true})` puts nothing in the body for the stream: exa-js
 * strips `stream` and asks for SSE with `Accept: text/event-stream`.
 */

// Messages leave out the field: the error summary and each issue carry its path.
const filled = z.string().check(z.minLength(1, 'must not be empty'))
const strings = z.array(z.string())
const jsonObject = z.record(z.string(), z.unknown())
const number = (min: number, max: number, whole = false) =>
  z.number().check(
    z.refine((n) => !whole || Number.isInteger(n), 'must be a whole number'),
    z.minimum(min, `must be at least ${min}`),
    z.maximum(max, `must be at most ${max}`)
  )
/** A date-time with its offset, naming a real instant (2026-08-04T00:00:00Z). */
const instant = z
  .string()
  .check(
    z.refine(
      (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !isNaN(Date.parse(v)),
      'must be an ISO-8601 date-time with an offset, like 2026-08-04T00:00:00Z'
    )
  )
/** A duration as Exa writes them: a whole number of hours or days (`6h`, `1d`, `7d`). */
const duration = (minHours: number, example: string) =>
  z.string().check(
    z.refine((v) => {
      const m = /^([1-9]\d{0,3})([hd])$/.exec(v)
      return !!m && Number(m[1]) * (m[2] === 'd' ? 24 : 1) >= minHours
    }, `must be a whole number of hours or days, at least ${minHours}h (${example})`)
  )

// ---- Search Monitors (`/monitors`) ----

const WEBHOOK_EVENTS = [
  'monitor.created',
  'monitor.updated',
  'monitor.deleted',
  'monitor.run.created',
  'monitor.run.completed',
] as const

/** exa-js's SearchMonitorSearch: replaced whole on update too (its type needs `query` there as well). */
const SearchMonitorSearch = z.strictObject({
  query: filled,
  numResults: z.optional(number(1, 100, true)),
  includeDomains: z.optional(strings),
  excludeDomains: z.optional(strings),
  contents: z.optional(ContentsOptions),
})
const Trigger = z.strictObject({
  type: z.enum(['interval'], 'must be "interval"'),
  period: duration(1, '1h, 6h, 1d or 7d'),
})
/** Exa delivers to public HTTPS URLs only (S2). */
const Webhook = z.strictObject({
  url: z.string().check(
    z.maxLength(2048, 'url is at most 2048 characters'),
    z.refine((v) => /^https:\/\//i.test(v) && URL.canParse(v), 'url must be an https URL')
  ),
  events: z.optional(z.array(z.enum(WEBHOOK_EVENTS, `must be one of ${WEBHOOK_EVENTS.join(', ')}`))),
})

/** POST /monitors (exa-js `monitors.create`). */
export const CreateSearchMonitorBody = z.strictObject({
  name: z.optional(z.string()),
  search: SearchMonitorSearch,
  trigger: z.optional(Trigger),
  outputSchema: z.optional(jsonObject),
  metadata: z.optional(Metadata),
  webhook: Webhook,
})

/** PATCH /monitors/{id} (exa-js `monitors.update`): omitted fields stay, `null` clears. */
export const UpdateSearchMonitorBody = z.strictObject({
  name: z.optional(z.nullable(z.string())),
  status: z.optional(z.enum(['active', 'paused', 'disabled'], 'must be active, paused or disabled')),
  search: z.optional(SearchMonitorSearch),
  trigger: z.optional(z.nullable(Trigger)),
  outputSchema: z.optional(z.nullable(jsonObject)),
  metadata: z.optional(z.nullable(Metadata)),
  webhook: z.optional(Webhook),
})

// ---- Agent runs (`/agent/runs`) ----

const EFFORTS = ['minimal', 'low', 'medium', 'high', 'xhigh', 'auto', 'ultra', 'max'] as const

/** POST /agent/runs (exa-js `agent.runs.create`, streamed or not: the body is the same). */
export const CreateAgentRunBody = z
  .strictObject({
    query: filled,
    systemPrompt: z.optional(z.string()),
    input: z.optional(
      z.looseObject({ data: z.optional(z.array(jsonObject)), exclusion: z.optional(z.array(jsonObject)) })
    ),
    outputSchema: z.optional(jsonObject),
    effort: z.optional(z.enum(EFFORTS, `must be one of ${EFFORTS.join(', ')}`)),
    budget: z.optional(
      z.strictObject({
        maxCostDollars: z.optional(number(1, 100)),
        maxDurationSeconds: z.optional(number(300, 10_800, true)),
      })
    ),
    previousRunId: z.optional(
      z.string().check(z.regex(AGENT_RUN_ID_PATTERN, `must be an agent run id (${AGENT_RUN_ID_PATTERN.source})`))
    ),
    metadata: z.optional(jsonObject),
    dataSources: z.optional(z.array(z.strictObject({ provider: filled }))),
  })
  .check(
    z.refine((b) => b.budget?.maxCostDollars === undefined || b.effort === 'auto' || b.effort === 'ultra', {
      message: 'needs effort "auto" or "ultra"',
      path: ['budget', 'maxCostDollars'],
    }),
    z.refine((b) => b.budget?.maxDurationSeconds === undefined || b.effort === 'ultra', {
      message: 'needs effort "ultra"',
      path: ['budget', 'maxDurationSeconds'],
    })
  )

// ---- Agent Monitors (`/agent/monitors`, beta) ----

const Entity = z.strictObject({ name: filled, domain: filled, description: z.optional(z.string()) })
const MODES = ['static', 'dynamic'] as const
const VALUE_TYPES = ['string', 'number', 'boolean', 'date', 'url', 'email', 'phone'] as const
const Field = z.strictObject({
  name: filled,
  description: filled,
  // exa-js's type also takes a mode here (`type?: ValueType | Mode`).
  type: z.optional(z.enum([...VALUE_TYPES, ...MODES], `must be one of ${VALUE_TYPES.join(', ')}`)),
  mode: z.optional(z.enum(MODES, 'must be static or dynamic')),
})
const entities = z.array(Entity).check(z.minLength(1, 'give at least one entity'))
const fields = z.array(Field).check(z.minLength(1, 'give at least one field'))

/** POST /agent/monitors (exa-js `beta.agent.monitors.create`): a cadence of at least 6 hours. */
export const CreateAgentMonitorBody = z.strictObject({ cadence: duration(6, '6h, 12h or 7d'), entities, fields })

/** POST /agent/monitors/{id}/entities (exa-js `…monitors.entities.add`). */
export const AddAgentMonitorEntitiesBody = z.strictObject({ entities })

/** POST /agent/monitors/backtest (exa-js `…monitors.backtests.create`): a window that ends after it starts. */
export const CreateBacktestBody = z.strictObject({ entities, fields, startTime: instant, endTime: instant }).check(
  z.refine((b) => Date.parse(b.startTime) < Date.parse(b.endTime), {
    message: 'must be after startTime',
    path: ['endTime'],
  })
)

export type CreateSearchMonitor = z.infer<typeof CreateSearchMonitorBody>
export type UpdateSearchMonitor = z.infer<typeof UpdateSearchMonitorBody>
export type CreateAgentRun = z.infer<typeof CreateAgentRunBody>
export type CreateAgentMonitor = z.infer<typeof CreateAgentMonitorBody>

// ---- What the audit keeps of an answer (upstream's object is kept as it came) ----

const snapshot = () => z.looseObject({ id: z.string(), status: z.string() })
export const SearchMonitorSnapshot = snapshot()
export const AgentRunSnapshot = snapshot()
export const AgentMonitorSnapshot = snapshot()
export const BacktestSnapshot = snapshot()
