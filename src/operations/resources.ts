import type { ResourceType } from '../audit/diff'
import { importPath } from '../exa/client'
import { ImportSnapshot } from '../exa/schemas'
import { websetChangePath, WebsetSnapshot } from '../exa/webset-changes'
import { webhookPath, WebhookSnapshot } from '../exa/webhooks'

/**
 * The resources whose changes are audited: how to read one at Exa (its before snapshot, and the
 * reconciler's look at its state) and what an answer must be to be kept in a row. The fields a
 * diff speaks of are in audit/diff.ts (EDITABLE_FIELDS).
 */
export type Resource = {
  type: Exclude<ResourceType, 'key'>
  /** `an Import`, for errors about an answer that is not one. */
  noun: string
  path: (id: string) => string
  snapshot: { safeParse: (value: unknown) => { success: boolean; data?: unknown } }
  /**
   * Whether a GET after a delete shows it applied: Exa answers 404 for a deleted import, and a
   * deleted webhook reads as `inactive` (../shared/exa-api-surface.md §9).
   */
  gone: (status: number, state: unknown) => boolean
}

const notFound = (status: number) => status === 404

export const RESOURCES = {
  import: { type: 'import', noun: 'an Import', path: importPath, snapshot: ImportSnapshot, gone: notFound },
  webhook: {
    type: 'webhook',
    noun: 'a Webhook',
    path: webhookPath,
    snapshot: WebhookSnapshot,
    gone: (status, state) =>
      notFound(status) || (status === 200 && (state as { status?: unknown })?.status === 'inactive'),
  },
  webset: { type: 'webset', noun: 'a Webset', path: websetChangePath, snapshot: WebsetSnapshot, gone: notFound },
} as const satisfies Record<string, Resource>

/** The resource a row names, if its changes are served (undefined for a key, or an unknown type). */
export const resourceNamed = (type: string | null): Resource | undefined =>
  type !== null && Object.hasOwn(RESOURCES, type) ? RESOURCES[type as keyof typeof RESOURCES] : undefined
