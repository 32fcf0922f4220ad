import * as z from 'zod/mini'
import { Metadata } from './schemas'
import { EVENT_TYPES, WEBSETS_BASE } from './websets'

/**
 * The changes of Exa's Websets webhooks (create, update, delete): their bodies, pinned to exa-js
 * 2.23.0's CreateWebhookParameters and UpdateWebhookParameters (test/exa-types.ts), and the
 * Webhook as the audit keeps it.
 */

export const WEBHOOKS_PATH = `${WEBSETS_BASE}/webhooks`
export const webhookPath = (id: string) => `${WEBHOOKS_PATH}/${id}`

const eventTypes = z
  .array(z.enum(EVENT_TYPES, 'must be a Websets event type (webset.created, webset.item.created, …)'))
  .check(z.minLength(1, 'events must name at least one event type'), z.maxLength(EVENT_TYPES.length))
const parses = (value: string) => {
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}
/** Exa's spec: `Format: uri`; deliveries go to a public URL, so only http(s), at most 2048 characters. */
const url = z.string().check(
  z.maxLength(2048, 'url is at most 2048 characters'),
  z.refine((value) => /^https?:\/\//i.test(value) && parses(value), 'url must be an http(s) URL')
)

/** POST /websets/v0/webhooks (exa-js `websets.webhooks.create`). */
export const CreateWebhookBody = z.strictObject({
  events: eventTypes,
  url,
  metadata: z.optional(Metadata),
})
export type CreateWebhook = z.infer<typeof CreateWebhookBody>

/** PATCH /websets/v0/webhooks/{id} (exa-js `websets.webhooks.update`). */
export const UpdateWebhookBody = z.strictObject({
  events: z.optional(eventTypes),
  url: z.optional(url),
  metadata: z.optional(Metadata),
})
export type UpdateWebhook = z.infer<typeof UpdateWebhookBody>

/** What an answer must be to be kept as a Webhook in the audit log (upstream's object is kept as it came). */
export const WebhookSnapshot = z.looseObject({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  status: z.string(),
})
export type WebhookState = z.infer<typeof WebhookSnapshot> & { metadata?: Record<string, string>; secret?: unknown }
