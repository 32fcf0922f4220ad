import type { Context } from 'hono'
import { assertUnchangedSince, findRevertible, type RevertibleEvent } from '../audit/revertible'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { callExa, type UpstreamCall } from '../exa/client'
import type { UpdateImport } from '../exa/schemas'
import type { UpdateSearchMonitor } from '../exa/agent-bodies'
import type { UpdateEnrichment, UpdateMonitor } from '../exa/webset-bodies'
import type { UpdateWebset } from '../exa/webset-changes'
import type { UpdateWebhook } from '../exa/webhooks'
import { runAuditedCall } from './audited-call'
import { readOf, resourceNamed } from './resources'
import { forwardingConfig, isSuccess, relay } from './upstream'

/**
 * The write scope a revert of each resource needs (besides audit:read), the fields it restores,
 * the method of the resource's update (at its own path) and the body that undoes the event.
 */
const UNDO = {
  import: {
    scope: 'imports:write',
    method: 'PATCH',
    restores: ['title', 'metadata'],
    body: ({ before }: RevertibleEvent): UpdateImport => ({
      title: before.title as string,
      metadata: before.metadata as Record<string, string>,
    }),
  },
  webhook: {
    scope: 'webhooks:write',
    method: 'PATCH',
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
    // exa-js `websets.update` is a POST.
    method: 'POST',
    restores: ['metadata'],
    body: ({ before }: RevertibleEvent): UpdateWebset => ({
      metadata: (before.metadata ?? {}) as Record<string, string>,
    }),
  },
  enrichment: {
    scope: 'websets:write',
    method: 'PATCH',
    // Exa answers its update with no body: the after is read back, as for the update.
    after: 'read',
    restores: ['description', 'format', 'options', 'metadata'],
    body: ({ before }: RevertibleEvent): UpdateEnrichment => ({
      description: before.description as string,
      ...(typeof before.format === 'string' && { format: before.format as UpdateEnrichment['format'] }),
      // Exa answers options as `[{label}]`, as it takes them (or null for a format without options).
      ...(Array.isArray(before.options) && {
        options: (before.options as { label: string }[]).map(({ label }) => ({ label })),
      }),
      metadata: (before.metadata ?? {}) as Record<string, string>,
    }),
  },
  monitor: {
    scope: 'monitors:write',
    method: 'PATCH',
    restores: ['cadence', 'behavior', 'status', 'metadata'],
    body: ({ before }: RevertibleEvent): UpdateMonitor => ({
      cadence: before.cadence as UpdateMonitor['cadence'],
      behavior: before.behavior as UpdateMonitor['behavior'],
      status: before.status as UpdateMonitor['status'],
      metadata: (before.metadata ?? {}) as Record<string, string>,
    }),
  },
  search_monitor: {
    scope: 'monitors:write',
    method: 'PATCH',
    restores: ['name', 'status', 'search', 'trigger', 'outputSchema', 'webhook', 'metadata'],
    // Nullable fields Exa clears with null; the webhook as it is updated (its url and events).
    body: ({ before }: RevertibleEvent): UpdateSearchMonitor => {
      const webhook = before.webhook as { url: string; events?: string[] }
      return {
        name: (before.name ?? null) as string | null,
        status: before.status as UpdateSearchMonitor['status'],
        search: before.search as UpdateSearchMonitor['search'],
        trigger: (before.trigger ?? null) as UpdateSearchMonitor['trigger'],
        outputSchema: (before.outputSchema ?? null) as UpdateSearchMonitor['outputSchema'],
        metadata: (before.metadata ?? null) as Record<string, string> | null,
        webhook: { url: webhook.url, events: webhook.events } as UpdateSearchMonitor['webhook'],
      }
    },
  },
} as const satisfies Record<
  string,
  {
    scope: string
    method: UpstreamCall['method']
    restores: readonly string[]
    body: (event: RevertibleEvent) => unknown
    after?: 'read'
  }
>

/**
 * POST /audit/events/{id}/revert: updates the resource (an import, a webhook, a webset, an enrichment, a monitor of either kind) back to the event's
 * before state (its editable fields), through its audited update (a new `<resource>.revert` row
 * pointing at the event). Needs the resource's write scope. Refuses with 409 when the resource
 * changed since the event, unless `force`, and when another revert of the event is running or has
 * run (the write-ahead insert's guard, audit/recorder.ts).
 */
export async function revertEvent(c: Context<AppEnv>, id: string, force: boolean): Promise<Response> {
  const event = await findRevertible(c.var.db, id)
  const resource = resourceNamed(event.resourceType)
  const type = event.resourceType as keyof typeof UNDO
  const undo = UNDO[type]
  if (!resource || !undo) throw new ApiError('CONFLICT', `event ${id} is of a resource the gateway cannot revert`)
  if (!(c.var.principal?.scopes as readonly string[] | undefined)?.includes(undo.scope))
    throw new ApiError('FORBIDDEN', `this key lacks the scope ${undo.scope}`)
  const { resourceId, parentId: parent } = event
  if (!force) {
    const response = await callExa(forwardingConfig(c), readOf(resource, resourceId, parent))
    if (!isSuccess(response.status)) return relay(c, response)
    if (!resource.snapshot.safeParse(response.json).success)
      throw new ApiError('UPSTREAM_ERROR', `Exa answered with something that is not ${resource.noun}`)
    assertUnchangedSince(event, response.json as Record<string, unknown>, undo.restores)
  }
  // The audited update's before read checks again, so that a change landing since is refused too;
  // one landing after it is shown by the order (audit/order.ts) on the revert's row.
  const body = undo.body(event)
  return runAuditedCall(c, {
    action: `${type}.revert`,
    resource,
    resourceId,
    parentId: parent,
    requestBody: body,
    revertsEventId: id,
    readsBefore: true,
    upstream: { method: undo.method, path: resource.path(resourceId, parent), body },
    after: 'after' in undo ? undo.after : resource.kept,
    check: force ? undefined : (before) => assertUnchangedSince(event, before, undo.restores),
  })
}
