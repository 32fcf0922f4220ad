import type { Context } from 'hono'
import { assertUnchangedSince, findRevertible } from '../audit/revertible'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { callExa, importPath } from '../exa/client'
import { ImportSnapshot } from '../exa/schemas'
import { auditedUpdate } from './imports'
import { forwardingConfig, isSuccess, relay } from './upstream'

/**
 * POST /audit/events/{id}/revert: PATCHes the import back to the event's before title and
 * metadata, through the audited update (a new `import.revert` row pointing at the event).
 * Refuses with 409 when the import changed since the event, unless `force`.
 */
export async function revertEvent(c: Context<AppEnv>, id: string, force: boolean): Promise<Response> {
  const event = await findRevertible(c.var.db, id)
  if (!force) {
    const response = await callExa(forwardingConfig(c), { method: 'GET', path: importPath(event.importId) })
    if (!isSuccess(response.status)) return relay(c, response)
    const current = ImportSnapshot.safeParse(response.json)
    if (!current.success) throw new ApiError('UPSTREAM_ERROR', 'Exa answered with something that is not an Import')
    assertUnchangedSince(event, current.data)
  }
  const { title, metadata } = event.before
  return auditedUpdate(c, event.importId, { title, metadata }, { action: 'import.revert', revertsEventId: id })
}
