import { Hono } from 'hono/tiny'
import { exportHeaders, exportStream } from '../audit/export'
import { usageRows, usageTotals, UsageExportQuery, UsageQuery } from '../audit/usage'
import type { AppEnv } from '../env'
import { requireKey } from '../http/auth'
import { zv } from '../http/validator'

/**
 * What the calls forwarded to Exa cost, per key, endpoint and UTC day (docs/usage.md): scope
 * usage:read, which admin implies. The dollars are Exa's own estimates (costDollars.total).
 */
export const usage = new Hono<AppEnv>()
  .get('/', requireKey('usage:read'), zv('query', UsageQuery), async (c) => {
    const { filters, groupBy } = c.req.valid('query')
    return c.json({ ...filters, groupBy, ...(await usageTotals(c.var.db, filters, groupBy)) })
  })
  .get('/export', requireKey('usage:read'), zv('query', UsageExportQuery), async (c) => {
    const { filters, format } = c.req.valid('query')
    const body = await exportStream(usageRows(c.var.db, filters), { format, raw: false }, c.var.requestId)
    return c.body(body, 200, exportHeaders('usage', format))
  })
