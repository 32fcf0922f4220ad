import { eq } from 'drizzle-orm'
import type { Db } from '../db/client'
import { auditEvents, type AuditEventRow } from '../db/schema'
import { ApiError } from '../errors'
import { isRevertible, REVERTIBLE_ACTIONS } from './actions'
import { diffResource, type Snapshot } from './diff'

export type RevertibleEvent = AuditEventRow & { resourceType: string; resourceId: string; before: Snapshot }

/** The event to revert, or the reason it cannot be: only settled, successful updates with a before. */
export async function findRevertible(db: Db, id: string): Promise<RevertibleEvent> {
  const event = await db.select().from(auditEvents).where(eq(auditEvents.id, id)).get()
  if (!event) throw new ApiError('NOT_FOUND', `no audit event ${id}`)
  if (!isRevertible(event.action) || !event.resourceType || !event.resourceId) {
    throw new ApiError(
      'CONFLICT',
      `event ${id} is ${event.action}; only ${REVERTIBLE_ACTIONS.join(', ')} events can be reverted`
    )
  }
  if (event.outcome !== 'succeeded') {
    throw new ApiError(
      'CONFLICT',
      `event ${id} is ${event.outcome}, not succeeded: there is no applied change to revert`
    )
  }
  if (!event.before) throw new ApiError('CONFLICT', `event ${id} has no before snapshot to revert to`)
  return event as RevertibleEvent
}

/**
 * Refuses a revert when the resource changed since the event (fields where its current state
 * differs from the event's after): a revert must not silently undo someone else's later edit.
 * Only the fields the revert puts back count (`restores`, e.g. a webset's `metadata`, not the
 * `status` Exa moves on its own). The 409 names the fields and says that `force` would overwrite them.
 */
export function assertUnchangedSince(event: RevertibleEvent, current: Snapshot, restores?: readonly string[]) {
  const changed = diffResource(event.resourceType, event.after, current)
    .map((change) => change.path)
    .filter((path) => !restores || restores.some((field) => path === field || path.startsWith(`${field}.`)))
  if (changed.length === 0) return
  throw new ApiError(
    'CONFLICT',
    `${event.resourceType} ${event.resourceId} has changed since event ${event.id} (${changed.join(', ')}); ` +
      'revert the later events first, or add ?force=true to overwrite them',
    { details: { changed, forceable: true } }
  )
}
