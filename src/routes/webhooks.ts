import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { CreateWebhookBody, UpdateWebhookBody, webhookPath, WEBHOOKS_PATH } from '../exa/webhooks'
import { WebhookParams } from '../exa/websets'
import { readAhead, requireKey } from '../http/auth'
import { idempotency } from '../http/idempotency'
import { jsonBody, jsonText } from '../http/json-body'
import { zv } from '../http/validator'
import { startReadOf } from '../operations/upstream'
import { auditedWebhookCreate, auditedWebhookDelete, auditedWebhookUpdate } from '../operations/webhooks'

const validId = (c: Context<AppEnv>) => {
  const param = WebhookParams.safeParse({ id: c.req.param('id') })
  return param.success ? param.data.id : undefined
}

/**
 * A change's before-read, started ahead of admission only for a valid change and never for one
 * with an Idempotency-Key (a retry answered from its stored result must reach nothing at Exa).
 */
const beforeReadAhead = (body: typeof UpdateWebhookBody | undefined) =>
  startReadOf(async (c) => {
    const id = validId(c)
    if (id === undefined || c.req.header('idempotency-key') !== undefined) return undefined
    if (body && !body.safeParse(JSON.parse(await jsonText(c))).success) return undefined
    return { method: 'GET', path: webhookPath(id) }
  })

/**
 * The changes of Exa's Websets webhooks, on Exa's own paths (exa-js `websets.webhooks.create`,
 * `update`, `delete`), each audited (`webhook.create|update|delete`). The secret Exa returns on
 * create reaches the caller only (operations/webhooks.ts). Reads are in routes/reads.ts.
 */
export const webhooks = new Hono<AppEnv>()
  .post(WEBHOOKS_PATH, requireKey('webhooks:write'), jsonBody(), zv('json', CreateWebhookBody), idempotency(), (c) =>
    auditedWebhookCreate(c, c.req.valid('json'))
  )
  .patch(
    `${WEBHOOKS_PATH}/:id`,
    readAhead(beforeReadAhead(UpdateWebhookBody)),
    requireKey('webhooks:write'),
    zv('param', WebhookParams),
    jsonBody(),
    zv('json', UpdateWebhookBody),
    idempotency(),
    (c) => auditedWebhookUpdate(c, c.req.valid('param').id, c.req.valid('json'), { action: 'webhook.update' })
  )
  .delete(
    `${WEBHOOKS_PATH}/:id`,
    readAhead(beforeReadAhead(undefined)),
    requireKey('webhooks:write'),
    zv('param', WebhookParams),
    idempotency(),
    (c) => auditedWebhookDelete(c, c.req.valid('param').id)
  )
