import type { Context } from 'hono'
import { assertUnchangedSince, findRevertible, type RevertibleEvent } from '../audit/revertible'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { callExa } from '../exa/client'
import type { UpdateImport } from '../exa/schemas'
import type { UpdateWebset } from '../exa/webset-changes'
import type { UpdateWebhook } from '../exa/webhooks'
import { auditedUpdate } from './imports'
import { RESOURCES, resourceNamed } from './resources'
import { forwardingConfig, isSuccess, relay } from './upstream'
import { auditedWebhookUpdate } from './webhooks'
import { auditedWebsetUpdate } from './websets'

/** The write scope a revert of each resource needs (besides audit:read), and the body that undoes the event. */
const UNDO = {
  import: {
    scope: 'imports:write',
    restores: ['title', 'metadata'],
    body: ({ before }: RevertibleEvent): UpdateImport => ({
      title: before.title as string,
      metadata: before.metadata as Record<string, string>,
    }),
  },
  webhook: {
    scope: 'webhooks:write',
    // A deleted webhook (inactive) counts as changed: its revert needs `force`.
    restores: ['url', 'events', 'status', 'metadata'],
    body: ({ before }: RevertibleEvent): UpdateWebhook => ({
      url: before.url as string,
      events: before.events as UpdateWebhook['events'],
      metadata: (before.metadata ?? {}) as Record<string, string>,
    }),
  },
  webset: {
    scope: 'websets:write',
    restores: ['metadata'],
    body: ({ before }: RevertibleEvent): UpdateWebset => ({
      metadata: (before.metadata ?? {}) as Record<string, string>,
    }),
  },
} as const

/**
 * POST /audit/events/{id}/revert: PATCHes the resource (an import, a webhook, a webset) back to the event's
 * before state (its editable fields), through its audited update (a new `<resource>.revert` row
 * pointing at the event). Needs the resource's write scope. Refuses with 409 when the resource
 * changed since the event, unless `force`, and when another revert of the event is running or has
 * run (the write-ahead insert's guard, audit/recorder.ts).
 */
export async function revertEvent(c: Context<AppEnv>, id: string, force: boolean): Promise<Response> {
  const event = await findRevertible(c.var.db, id)
  const resource = resourceNamed(event.resourceType)
  const undo = UNDO[event.resourceType as keyof typeof UNDO]
  if (!resource || !undo) throw new ApiError('CONFLICT', `event ${id} is of a resource the gateway cannot revert`)
  if (!(c.var.principal?.scopes as readonly string[] | undefined)?.includes(undo.scope))
    throw new ApiError('FORBIDDEN', `this key lacks the scope ${undo.scope}`)
  if (!force) {
    const response = await callExa(forwardingConfig(c), { method: 'GET', path: resource.path(event.resourceId) })
    if (!isSuccess(response.status)) return relay(c, response)
    if (!resource.snapshot.safeParse(response.json).success)
      throw new ApiError('UPSTREAM_ERROR', `Exa answered with something that is not ${resource.noun}`)
    assertUnchangedSince(event, response.json as Record<string, unknown>, undo.restores)
  }
  // The audited update's before read checks again, so that a change landing since is refused too;
  // one landing after it is shown by the order (audit/order.ts) on the revert's row.
  const options = {
    revertsEventId: id,
    check: force ? undefined : (before: Record<string, unknown>) => assertUnchangedSince(event, before, undo.restores),
  }
  if (resource === RESOURCES.webset)
    return auditedWebsetUpdate(c, event.resourceId, UNDO.webset.body(event), { action: 'webset.revert', ...options })
  if (resource === RESOURCES.webhook)
    return auditedWebhookUpdate(c, event.resourceId, UNDO.webhook.body(event), {
      action: 'webhook.revert',
      ...options,
    })
  return auditedUpdate(c, event.resourceId, UNDO.import.body(event), { action: 'import.revert', ...options })
}
