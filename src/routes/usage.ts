import { Hono } from 'hono/tiny'
import { exportContentType } from '../audit/export'
import { usageExportStream, usageTotals, UsageExportQuery, UsageQuery } from '../audit/usage'
import type { AppEnv } from '../env'
import { requireKey } from '../http/auth'
import { zv } from '../http/validator'

/** `usage-20261201T120000Z.csv`: sortable, and safe in a content-disposition header. */
const fileName = (format: string, now = new Date()) =>
  `usage-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${format}`

/**
 * What the calls forwarded to Exa cost, per key, endpoint and UTC day (docs/usage.md): scope
 * usage:read, which admin implies. The dollars are Exa's own estimates (costDollars.total).
 */
export const usage = new Hono<AppEnv>()
  .get('/', requireKey('usage:read'), zv('query', UsageQuery), async (c) => {
    const { filters, groupBy } = c.req.valid('query')
    const totals = await usageTotals(c.var.db, filters, groupBy)
    return c.json({ ...filters, groupBy, ...totals })
  })
  .get('/export', requireKey('usage:read'), zv('query', UsageExportQuery), async (c) => {
    const { filters, format } = c.req.valid('query')
    const body = await usageExportStream(c.var.db, filters, format)
    return c.body(body, 200, {
      'content-type': exportContentType(format),
      'content-disposition': `attachment; filename="${fileName(format)}"`,
      'cache-control': 'no-store',
    })
  })
