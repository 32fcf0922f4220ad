/**
 * Type-level pins, checked by `npm run typecheck` (nothing here runs): each body schema of
 * src/exa/agent-bodies.ts against the body exa-js 2.23.0 sends, in both directions, with the
 * Pin of test/exa-types.ts. A field added, removed or retyped on either side fails here.
 */
import type {
  AddAgentMonitorEntitiesParams,
  CreateAgentMonitorBacktestParams,
  CreateAgentMonitorParams,
  CreateAgentRunParams,
  CreateSearchMonitorParams,
  UpdateSearchMonitorParams,
} from 'exa-js'
import type {
  AddAgentMonitorEntitiesBody,
  CreateAgentMonitorBody,
  CreateAgentRunBody,
  CreateBacktestBody,
  CreateSearchMonitorBody,
  UpdateSearchMonitorBody,
} from '../src/exa/agent-bodies'
import type { Pin, Wire } from './exa-types'

export const agentPins = {
  createSearchMonitor: { sendable: true, allowed: true },
  updateSearchMonitor: { sendable: true, allowed: true },
  createAgentRun: { sendable: true, allowed: true },
  createAgentMonitor: { sendable: true, allowed: true },
  addAgentMonitorEntities: { sendable: true, allowed: true },
  createBacktest: { sendable: true, allowed: true },
} satisfies {
  /** `monitors.create(params)` and `update(id, params)`: a zod `summary.schema` goes as JSON Schema. */
  createSearchMonitor: Pin<typeof CreateSearchMonitorBody, Wire<CreateSearchMonitorParams>>
  updateSearchMonitor: Pin<typeof UpdateSearchMonitorBody, Wire<UpdateSearchMonitorParams>>
  /**
   * `agent.runs.create(params)`: exa-js turns a zod `outputSchema` into JSON Schema and strips
   * `stream` (a streamed create asks with `Accept: text/event-stream`), so the body is CreateAgentRunParams.
   */
  createAgentRun: Pin<typeof CreateAgentRunBody, CreateAgentRunParams>
  /** `beta.agent.monitors.*`: exa-js strips `betas` (they go in `Exa-Beta`). */
  createAgentMonitor: Pin<typeof CreateAgentMonitorBody, CreateAgentMonitorParams>
  addAgentMonitorEntities: Pin<typeof AddAgentMonitorEntitiesBody, AddAgentMonitorEntitiesParams>
  createBacktest: Pin<typeof CreateBacktestBody, CreateAgentMonitorBacktestParams>
}
