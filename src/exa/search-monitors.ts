import * as z from 'zod/mini'
import { page, readCall as get, resourceId } from './query'

/**
 * The reads of Exa's Search Monitors (`/monitors`, not the Websets monitors under
 * `/websets/v0/monitors`): monitors, filtered by `status`, and their runs. Lists take `limit`
 * 1..100 (default 50, S2). S2 also filters by `name` and `metadata[key]`; exa-js 2.23.0 sends
 * neither, so they are refused like any unknown parameter.
 */
export const SearchMonitorParams = z.strictObject({ id: resourceId('search monitor') })
export const SearchMonitorRunParams = z.strictObject({ id: resourceId('search monitor'), runId: resourceId('run') })
export const ListSearchMonitorsQuery = z.strictObject({
  ...page(100),
  status: z.optional(z.enum(['active', 'paused', 'disabled'], 'must be active, paused or disabled')),
})
export const ListSearchMonitorRunsQuery = z.strictObject(page(100))

type Out<T extends z.ZodMiniType> = z.output<T>

export const listSearchMonitorsCall = (_: Record<string, never>, q: Out<typeof ListSearchMonitorsQuery>) =>
  get('/monitors', q)
export const getSearchMonitorCall = (p: Out<typeof SearchMonitorParams>) => get(`/monitors/${p.id}`)
export const listSearchMonitorRunsCall = (
  p: Out<typeof SearchMonitorParams>,
  q: Out<typeof ListSearchMonitorRunsQuery>
) => get(`/monitors/${p.id}/runs`, q)
export const getSearchMonitorRunCall = (p: Out<typeof SearchMonitorRunParams>) =>
  get(`/monitors/${p.id}/runs/${p.runId}`)
