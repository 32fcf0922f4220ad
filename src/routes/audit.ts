import { Hono } from 'hono/tiny'
import { eq } from 'drizzle-orm'
import * as z from 'zod/mini'
import { EXPORT_PAGE_ROWS, exportHeaders, exportStream } from '../audit/export'
import { EventListQuery, ExportQuery } from '../audit/filters'
import { queryEvents } from '../audit/query'
import { revertEvent } from '../operations/revert'
import { verifyChain } from '../audit/verify'
import { EVENT_FIELDS, toEventView } from '../audit/view'
import { auditEvents } from '../db/schema'
import type { AppEnv } from '../env'
import { ULID_PATTERN } from '../lib/ids'
import { requireKey } from '../http/auth'
import { ApiError } from '../errors'
import { zv } from '../http/validator'

const EventIdParam = z.object({
  id: z.string().check(z.regex(ULID_PATTERN, 'event id must be a ULID (26 characters)')),
})

const RevertQuery = z.strictObject({ force: z.optional(z.enum(['true', 'false'])) })

/** An anchor is a head recorded earlier (both parts, or neither). */
const VerifyQuery = z.pipe(
  z.strictObject({
    seq: z.optional(z.string().check(z.regex(/^[1-9]\d{0,15}$/, 'seq must be a positive whole number'))),
    chainHash: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/, 'chainHash must be 64 lowercase hex characters'))),
  }),
  z.transform((query, ctx) => {
    if ((query.seq === undefined) !== (query.chainHash === undefined)) {
      const missing = query.seq === undefined ? 'seq' : 'chainHash'
      ctx.issues.push({
        code: 'custom',
        input: query,
        path: [missing],
        message: 'an anchor needs both seq and chainHash (from head)',
      })
    }
    return query.seq !== undefined && query.chainHash !== undefined
      ? { seq: Number(query.seq), chainHash: query.chainHash }
      : undefined
  })
)

const reader = requireKey('audit:read')

/** The audit log: queries and export for audit:read; revert also needs the resource's write scope. */
export const audit = new Hono<AppEnv>()
  .get('/events', reader, zv('query', EventListQuery), async (c) => {
    const page = await queryEvents(c.var.db, c.req.valid('query'))
    return c.json({ data: page.rows.map(toEventView), hasMore: page.hasMore, nextCursor: page.nextCursor })
  })
  .get('/events/:id', reader, zv('param', EventIdParam), async (c) => {
    const { id } = c.req.valid('param')
    const row = await c.var.db.select().from(auditEvents).where(eq(auditEvents.id, id)).get()
    if (!row) throw new ApiError('NOT_FOUND', `no audit event ${id}`)
    return c.json(toEventView(row))
  })
  .post(
    '/events/:id/revert',
    // and the resource's write scope (imports:write, webhooks:write), checked once the event is read
    requireKey('audit:read'),
    zv('param', EventIdParam),
    zv('query', RevertQuery),
    (c) => revertEvent(c, c.req.valid('param').id, c.req.valid('query').force === 'true')
  )
  .get('/export', reader, zv('query', ExportQuery), async (c) => {
    const { filters, format, raw } = c.req.valid('query')
    const events = {
      page: (beforeId?: string) => queryEvents(c.var.db, { filters, limit: EXPORT_PAGE_ROWS, beforeId }),
      view: toEventView,
      fields: EVENT_FIELDS,
      noun: 'events',
    }
    return c.body(await exportStream(events, { format, raw }, c.var.requestId), 200, exportHeaders('audit', format))
  })
  .get('/verify', reader, zv('query', VerifyQuery), async (c) =>
    c.json(await verifyChain(c.var.db, c.req.valid('query')))
  )
