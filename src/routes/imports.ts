import { Hono } from 'hono'
import * as z from 'zod/mini'
import type { AppEnv } from '../env'
import { callExa, upstreamConfig } from '../exa/client'
import { relay } from '../exa/relay'
import { ImportIdParam, UpdateImportBody } from '../exa/schemas'
import { requireKey } from '../http/auth'
import { idempotency } from '../http/idempotency'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { auditedUpdate, importPath } from '../imports/update'

const ListQuery = z.strictObject({
  limit: z.optional(z.string().check(z.regex(/^([1-9]|[1-9]\d|1\d\d|200)$/, 'limit must be a whole number from 1 to 200'))),
  cursor: z.optional(z.string().check(z.minLength(1, 'cursor must not be empty'), z.maxLength(1024))),
})

/** Exa's own paths, so exa-js and exa-py work unchanged against the gateway's origin. */
export const imports = new Hono<AppEnv>()
  .get('/', requireKey('imports:read'), zv('query', ListQuery), async (c) => {
    const query = new URLSearchParams(c.req.valid('query')).toString()
    const path = '/websets/v0/imports' + (query ? `?${query}` : '')
    return relay(c, await callExa(upstreamConfig(c), { method: 'GET', path }))
  })
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
