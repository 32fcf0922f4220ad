import type { Context } from 'hono'
import { eq } from 'drizzle-orm'
import { auditEvents, type AuditEventRow } from '../db/schema'
import type { AppEnv } from '../env'
import { callExa, importPath, upstreamConfig } from '../exa/client'
import { isSuccess, relay } from '../exa/relay'
import { ImportSnapshot, type Import } from '../exa/schemas'
import { ApiError } from '../http/errors'
import { auditedUpdate } from '../imports/update'
import { diffImports } from './diff'

const REVERTIBLE = ['import.update', 'import.revert']

const conflict = (message: string) => new ApiError('CONFLICT', message)

/** The event to revert, or the reason it cannot be: only settled, successful updates with a before. */
async function revertibleEvent(c: Context<AppEnv>, id: string): Promise<AuditEventRow & { importId: string; before: Import }> {
  const event = await c.var.db.select().from(auditEvents).where(eq(auditEvents.id, id)).get()
  if (!event) throw new ApiError('NOT_FOUND', `no audit event ${id}`)
  if (!REVERTIBLE.includes(event.action) || !event.importId) {
    throw conflict(`event ${id} is ${event.action}; only import.update and import.revert events can be reverted`)
  }
  if (event.outcome !== 'succeeded') {
    throw conflict(`event ${id} is ${event.outcome}, not succeeded: there is no applied change to revert`)
  }
  if (!event.before) throw conflict(`event ${id} has no before snapshot to revert to`)
  return event as AuditEventRow & { importId: string; before: Import }
}

/** What changed at Exa since the event: paths where the current import differs from its after. */
function changedSince(event: AuditEventRow, current: Import): string[] {
  return diffImports((event.after ?? null) as Import | null, current).map((change) => change.path)
}

/**
 * POST /audit/events/{id}/revert: PATCHes the import back to the event's before title and
 * metadata, through the audited update (a new `import.revert` row pointing at the event).
 * Refuses with 409 when the import changed since the event, unless `force`: a revert must not
 * silently undo someone else's later edit.
 */
export async function revertEvent(c: Context<AppEnv>, id: string, force: boolean): Promise<Response> {
  const event = await revertibleEvent(c, id)
  if (!force) {
    const response = await callExa(upstreamConfig(c), { method: 'GET', path: importPath(event.importId) })
    if (!isSuccess(response.status)) return relay(c, response)
    const current = ImportSnapshot.safeParse(response.json)
    if (!current.success) throw new ApiError('UPSTREAM_ERROR', 'Exa answered with something that is not an Import')
    const changed = changedSince(event, current.data)
    if (changed.length > 0) {
      throw conflict(
        `import ${event.importId} has changed since event ${id} (${changed.join(', ')}); ` +
          'revert the later events first, or add ?force=true to overwrite them'
      )
    }
  }
  const { title, metadata } = event.before
  return auditedUpdate(c, event.importId, { title, metadata }, { action: 'import.revert', revertsEventId: id })
}
