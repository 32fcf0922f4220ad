import type { Context } from 'hono'
import type { Snapshot } from '../audit/diff'
import type { AppEnv } from '../env'
import { WEBHOOKS_PATH, webhookPath, type CreateWebhook, type UpdateWebhook } from '../exa/webhooks'
import { runAuditedCall } from './audited-call'
import { RESOURCES } from './resources'

/**
 * What a row, the export and the logs hold in place of a webhook's `secret`: Exa returns it once,
 * on create, and anyone holding it can sign deliveries the subscriber will trust, so it goes to the
 * caller and nowhere else (issue 15 §4, ../shared/exa-api-surface.md §9).
 */
export const SECRET_MARKER = '[secret returned once to the caller; not kept]'

/** The webhook as its row keeps it: the secret, when Exa sent one, replaced by the marker. */
export function withoutSecret(webhook: Snapshot): Snapshot {
  if (webhook.secret === undefined || webhook.secret === null) return webhook
  return { ...webhook, secret: SECRET_MARKER }
}

/** The audited create: write-ahead row (no before), POST, settle. Exa's answer, secret included, goes back unchanged. */
export function auditedWebhookCreate(c: Context<AppEnv>, body: CreateWebhook): Promise<Response> {
  return runAuditedCall(c, {
    action: 'webhook.create',
    resource: RESOURCES.webhook,
    resourceId: null,
    requestBody: body,
    readsBefore: false,
    upstream: { method: 'POST', path: WEBHOOKS_PATH, body },
    afterOf: withoutSecret,
  })
}

type UpdateOptions = {
  action: 'webhook.update' | 'webhook.revert'
  revertsEventId?: string
  check?: (before: Snapshot) => void
}

/** The audited update (also used by revert): before snapshot, write-ahead row, PATCH, settle in Exa's order. */
export function auditedWebhookUpdate(
  c: Context<AppEnv>,
  id: string,
  body: UpdateWebhook,
  options: UpdateOptions
): Promise<Response> {
  return runAuditedCall(c, {
    action: options.action,
    resource: RESOURCES.webhook,
    resourceId: id,
    requestBody: body,
    revertsEventId: options.revertsEventId ?? null,
    readsBefore: true,
    upstream: { method: 'PATCH', path: webhookPath(id), body },
    afterOf: withoutSecret,
    check: options.check,
  })
}

/**
 * The audited delete: before snapshot, write-ahead row, DELETE, settle. Exa answers with the
 * webhook, now `inactive` (§9): that is the row's `after`, so its changes show the status.
 */
export function auditedWebhookDelete(c: Context<AppEnv>, id: string): Promise<Response> {
  return runAuditedCall(c, {
    action: 'webhook.delete',
    resource: RESOURCES.webhook,
    resourceId: id,
    readsBefore: true,
    upstream: { method: 'DELETE', path: webhookPath(id) },
    afterOf: withoutSecret,
  })
}
