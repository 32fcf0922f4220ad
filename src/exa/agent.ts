import * as z from 'zod/mini'
import { page, readCall, resourceId, segment } from './query'

/**
 * The reads of Exa's Agent API: agent runs (`/agent/runs`) with their stored events, and the beta
 * Agent Monitors (`/agent/monitors`, their entities, changes and backtests), which Exa serves only with `Exa-Beta:
 * agent-monitors-2026-08-04` (exa-js 2.23.0 refuses to call them without it). The `exa-beta`
 * header a client sends is forwarded once validated; nothing else of its headers is.
 */

/** S2's AgentRunId: `^[A-Za-z0-9_.:-]{1,200}$`, never `.` or `..` (a URL would read them as a path step). */
export const AGENT_RUN_ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.:-]{1,200}$/
export const AGENT_MONITORS_BETA = 'agent-monitors-2026-08-04'

/** `Exa-Beta` as exa-js sends it: beta tokens joined by commas. */
const BETA_PATTERN = /^[a-z0-9-]{1,64}( *, *[a-z0-9-]{1,64}){0,9}$/
const betaList = z.string().check(z.regex(BETA_PATTERN, 'exa-beta must be beta names separated by commas'))

export const OptionalBeta = z.object({ 'exa-beta': z.optional(betaList) })
export const AgentMonitorsBeta = z.object({
  'exa-beta': z.string(`exa-beta must include ${AGENT_MONITORS_BETA} (Agent Monitors are a beta)`).check(
    z.regex(BETA_PATTERN, 'exa-beta must be beta names separated by commas'),
    z.refine(
      (value) => value.split(',').some((token) => token.trim() === AGENT_MONITORS_BETA),
      `exa-beta must include ${AGENT_MONITORS_BETA} (Agent Monitors are a beta)`
    )
  ),
})

const runId = z.string().check(z.regex(AGENT_RUN_ID_PATTERN, `agent run id must match ${AGENT_RUN_ID_PATTERN.source}`))
export const AgentRunParams = z.strictObject({ id: runId })
export const MonitorParams = z.strictObject({ id: resourceId('agent monitor') })
export const BacktestParams = z.strictObject({ id: resourceId('backtest') })

/** `since`: an ISO-8601 date or date-time that names a real instant. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/
const since = z.optional(
  z
    .string()
    .check(
      z.refine(
        (value) => ISO_TIME.test(value) && !Number.isNaN(Date.parse(value)),
        'since must be an ISO-8601 date or date-time (2026-08-04T00:00:00Z)'
      )
    )
)

/** Limits: 1..100 for runs and their events (S2); Agent Monitors' lists state none, so the same is assumed. */
export const ListAgentRunsQuery = z.strictObject(page(100))
export const ListRunEventsQuery = z.strictObject(page(100))
/** The events' SSE replay resumes after the event a client last saw (`Last-Event-ID`, an event's id). */
export const RunEventsHeaders = z.object({
  ...OptionalBeta.shape,
  'last-event-id': z.optional(resourceId('event', AGENT_RUN_ID_PATTERN)),
})
export const ListAgentMonitorsQuery = z.strictObject(page(100))
export const ListEntitiesQuery = z.strictObject({ ...page(100), since })
export const ListChangesQuery = z.strictObject({ ...page(100), since })

type Out<T extends z.ZodMiniType> = z.output<T>
type Beta = Out<typeof OptionalBeta>
type NoValues = Record<string, never>

/** The call, with `exa-beta` when the client sent one. */
const get = (path: string, query: object | undefined, beta: Beta) =>
  readCall(path, query, beta['exa-beta'] ? { 'exa-beta': beta['exa-beta'] } : undefined)

export const listAgentRunsCall = (_: NoValues, q: Out<typeof ListAgentRunsQuery>, h: Beta) => get('/agent/runs', q, h)
export const getAgentRunCall = (p: Out<typeof AgentRunParams>, _: NoValues, h: Beta) =>
  get(`/agent/runs/${segment(p.id)}`, undefined, h)
export const listRunEventsCall = (p: Out<typeof AgentRunParams>, q: Out<typeof ListRunEventsQuery>, h: Beta) =>
  get(`/agent/runs/${segment(p.id)}/events`, q, h)
export const listAgentMonitorsCall = (_: NoValues, q: Out<typeof ListAgentMonitorsQuery>, h: Beta) =>
  get('/agent/monitors', q, h)
export const getAgentMonitorCall = (p: Out<typeof MonitorParams>, _: NoValues, h: Beta) =>
  get(`/agent/monitors/${p.id}`, undefined, h)
export const listEntitiesCall = (p: Out<typeof MonitorParams>, q: Out<typeof ListEntitiesQuery>, h: Beta) =>
  get(`/agent/monitors/${p.id}/entities`, q, h)
export const listChangesCall = (p: Out<typeof MonitorParams>, q: Out<typeof ListChangesQuery>, h: Beta) =>
  get(`/agent/monitors/${p.id}/changes`, q, h)
export const getBacktestCall = (p: Out<typeof BacktestParams>, _: NoValues, h: Beta) =>
  get(`/agent/monitors/backtest/${p.id}`, undefined, h)
