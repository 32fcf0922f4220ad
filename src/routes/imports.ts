import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { importPath, IMPORTS_PATH, type UpstreamCall } from '../exa/client'
import { withQuery } from '../exa/query'
import { CreateImportBody, ImportIdParam, ListImportsQuery, UpdateImportBody, type ListImports } from '../exa/schemas'
import { readAhead, requireKey } from '../http/auth'
import { idempotency } from '../http/idempotency'
import { jsonBody, jsonText } from '../http/json-body'
import { requestValues, zv } from '../http/validator'
import { auditedCreate, auditedDelete, auditedUpdate, withUnexpiredUpload } from '../operations/imports'
import { readExa, relay, startReadOf } from '../operations/upstream'

type Read = UpstreamCall & { method: 'GET' }

const listCall = (query: ListImports): Read => ({ method: 'GET', path: withQuery(IMPORTS_PATH, query) })
const importCall = (id: string): Read => ({ method: 'GET', path: importPath(id) })

/**
 * The same GETs built from the raw request, for reads started ahead of admission (http/auth.ts):
 * validated as the route validates them, nothing started for an invalid request.
 */
const listAhead = startReadOf((c) => {
  const query = ListImportsQuery.safeParse(requestValues(c, 'query'))
  return query.success ? listCall(query.data) : undefined
})
const validId = (c: Context<AppEnv>) => {
  const param = ImportIdParam.safeParse({ id: c.req.param('id') })
  return param.success ? param.data.id : undefined
}
const importAhead = startReadOf((c) => {
  const id = validId(c)
  return id === undefined ? undefined : importCall(id)
})
/**
 * A change's before-read, started only for a valid change (an update's body is read once: see
 * jsonText), and never for one with an Idempotency-Key: that may be a retry answered from its
 * stored result, which must reach nothing at Exa.
 */
const beforeReadAhead = (body: typeof UpdateImportBody | undefined) =>
  startReadOf(async (c) => {
    const id = validId(c)
    if (id === undefined || c.req.header('idempotency-key') !== undefined) return undefined
    if (body && !body.safeParse(JSON.parse(await jsonText(c))).success) return undefined
    return importCall(id)
  })

/**
 * Exa's own paths, so exa-js and exa-py work unchanged against the gateway's origin. Reads pass
 * through; changes are audited. GET and DELETE never read a body: exa-js sends
 * `content-type: application/json` on them with none. A read, and the before-read of an update
 * or delete, may start ahead of admission for a warm key (`readAhead`; released only once admitted).
 */
export const imports = new Hono<AppEnv>()
  .get('/', readAhead(listAhead), requireKey('imports:read'), zv('query', ListImportsQuery), async (c) =>
    relay(c, await readExa(c, listCall(c.req.valid('query'))))
  )
  .post(
    '/',
    requireKey('imports:write'),
    jsonBody(),
    zv('json', CreateImportBody),
    idempotency({ unexpired: withUnexpiredUpload }),
    (c) => auditedCreate(c, c.req.valid('json'))
  )
  .get('/:id', readAhead(importAhead), requireKey('imports:read'), zv('param', ImportIdParam), async (c) =>
    relay(c, await readExa(c, importCall(c.req.valid('param').id)))
  )
  .patch(
    '/:id',
    readAhead(beforeReadAhead(UpdateImportBody)),
    requireKey('imports:write'),
    zv('param', ImportIdParam),
    jsonBody(),
    zv('json', UpdateImportBody),
    idempotency(),
    (c) => auditedUpdate(c, c.req.valid('param').id, c.req.valid('json'), { action: 'import.update' })
  )
  .delete(
    '/:id',
    readAhead(beforeReadAhead(undefined)),
    requireKey('imports:write'),
    zv('param', ImportIdParam),
    idempotency(),
    (c) => auditedDelete(c, c.req.valid('param').id)
  )
