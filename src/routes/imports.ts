import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { callExa, importPath, IMPORTS_PATH } from '../exa/client'
import { withQuery } from '../exa/query'
import { CreateImportBody, ImportIdParam, ListImportsQuery, UpdateImportBody } from '../exa/schemas'
import { requireKey } from '../http/auth'
import { idempotency } from '../http/idempotency'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { auditedCreate, auditedDelete, auditedUpdate, withUnexpiredUpload } from '../operations/imports'
import { relay, upstreamConfig } from '../operations/upstream'

/**
 * Exa's own paths, so exa-js and exa-py work unchanged against the gateway's origin. Reads pass
 * through; changes are audited. GET and DELETE never read a body: exa-js sends
 * `content-type: application/json` on them with none.
 */
export const imports = new Hono<AppEnv>()
  .get('/', requireKey('imports:read'), zv('query', ListImportsQuery), async (c) => {
    const path = withQuery(IMPORTS_PATH, c.req.valid('query'))
    return relay(c, await callExa(upstreamConfig(c), { method: 'GET', path }))
  })
  .post(
    '/',
    requireKey('imports:write'),
    jsonBody(),
    zv('json', CreateImportBody),
    idempotency({ unexpired: withUnexpiredUpload }),
    (c) => auditedCreate(c, c.req.valid('json'))
  )
  .get('/:id', requireKey('imports:read'), zv('param', ImportIdParam), async (c) => {
    const { id } = c.req.valid('param')
    return relay(c, await callExa(upstreamConfig(c), { method: 'GET', path: importPath(id) }))
  })
  .patch(
    '/:id',
    requireKey('imports:write'),
    zv('param', ImportIdParam),
    jsonBody(),
    zv('json', UpdateImportBody),
    idempotency(),
    (c) => auditedUpdate(c, c.req.valid('param').id, c.req.valid('json'), { action: 'import.update' })
  )
  .delete('/:id', requireKey('imports:write'), zv('param', ImportIdParam), idempotency(), (c) =>
    auditedDelete(c, c.req.valid('param').id)
  )
