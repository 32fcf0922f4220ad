import { Hono } from 'hono'
import { auditOrigin, recordKeyEvent } from '../audit/recorder'
import type { AppEnv } from '../env'
import { requireAdmin } from '../http/auth'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { CreateKeyBody } from '../keys/schemas'
import { listKeys, prepareKey, toKeyView } from '../keys/store'

/** Key management: ADMIN_TOKEN or a key with scope admin. Every change is audited. */
export const adminKeys = new Hono<AppEnv>()
  .use(requireAdmin())
  .post('/', jsonBody(), zv('json', CreateKeyBody), async (c) => {
    const input = c.req.valid('json')
    const { db } = c.var
    const { row, secret, statements } = await prepareKey(db, input)
    const view = toKeyView(row)
    await recordKeyEvent(db, auditOrigin(c), { action: 'key.create', subjectKeyId: row.id, before: null, after: view }, statements)
    return c.json({ ...view, key: secret }, 201)
  })
  .get('/', async (c) => {
    const rows = await listKeys(c.var.db)
    return c.json({ data: rows.map(toKeyView) })
  })
