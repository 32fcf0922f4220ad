import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { UpdateWebsetBody, websetChangePath } from '../exa/webset-changes'
import { WEBSETS_BASE, WebsetParams } from '../exa/websets'
import { readAhead, requireKey } from '../http/auth'
import { idempotency } from '../http/idempotency'
import { jsonBody, jsonText } from '../http/json-body'
import { zv } from '../http/validator'
import { startReadOf } from '../operations/upstream'
import { auditedWebsetCancel, auditedWebsetDelete, auditedWebsetUpdate } from '../operations/websets'

const validRef = (c: Context<AppEnv>) => {
  const param = WebsetParams.safeParse({ id: c.req.param('id') })
  return param.success ? param.data.id : undefined
}

/** A change's before-read, ahead of admission: only for a valid change, never with an Idempotency-Key. */
const beforeReadAhead = (body: typeof UpdateWebsetBody | undefined) =>
  startReadOf(async (c) => {
    const ref = validRef(c)
    if (ref === undefined || c.req.header('idempotency-key') !== undefined) return undefined
    if (body && !body.safeParse(JSON.parse(await jsonText(c))).success) return undefined
    return { method: 'GET', path: websetChangePath(ref) }
  })

const WEBSET = `${WEBSETS_BASE}/websets/:id`

/**
 * A webset's changes that are served, on Exa's paths and methods (exa-js `websets.update` is a POST,
 * not a PATCH; `delete`, `cancel`),
 * each audited (`webset.update|delete|cancel`). A delete's row records what was destroyed as ids
 * and counts (operations/websets.ts). Cancel is a bodiless POST (exa-js sends none). Reads are in
 * routes/reads.ts.
 */
export const websets = new Hono<AppEnv>()
  .post(
    WEBSET,
    readAhead(beforeReadAhead(UpdateWebsetBody)),
    requireKey('websets:write'),
    zv('param', WebsetParams),
    jsonBody(),
    zv('json', UpdateWebsetBody),
    idempotency(),
    (c) => auditedWebsetUpdate(c, c.req.valid('param').id, c.req.valid('json'), { action: 'webset.update' })
  )
  .delete(
    WEBSET,
    readAhead(beforeReadAhead(undefined)),
    requireKey('websets:write'),
    zv('param', WebsetParams),
    idempotency(),
    (c) => auditedWebsetDelete(c, c.req.valid('param').id)
  )
  .post(
    `${WEBSET}/cancel`,
    readAhead(beforeReadAhead(undefined)),
    requireKey('websets:write'),
    zv('param', WebsetParams),
    idempotency(),
    (c) => auditedWebsetCancel(c, c.req.valid('param').id)
  )
