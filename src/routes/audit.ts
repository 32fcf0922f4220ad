import { Hono } from 'hono'
import { eq } from 'drizzle-orm'
import * as z from 'zod/mini'
import { AuditQuery, queryEvents } from '../audit/query'
import { toEventView } from '../audit/view'
import { auditEvents } from '../db/schema'
import type { AppEnv } from '../env'
import { ULID_PATTERN } from '../ids'
import { requireKey } from '../http/auth'
import { ApiError } from '../http/errors'
import { zv } from '../http/validator'

const EventIdParam = z.object({ id: z.string().check(z.regex(ULID_PATTERN, 'event id must be a ULID (26 characters)')) })

/** The audit log, for keys with scope audit:read. */
export const audit = new Hono<AppEnv>()
  .use(requireKey('audit:read'))
  .get('/events', zv('query', AuditQuery), async (c) => {
    const page = await queryEvents(c.var.db, c.req.valid('query'))
    return c.json({ data: page.rows.map(toEventView), hasMore: page.hasMore, nextCursor: page.nextCursor })
  })
  .get('/events/:id', zv('param', EventIdParam), async (c) => {
    const { id } = c.req.valid('param')
    const row = await c.var.db.select().from(auditEvents).where(eq(auditEvents.id, id)).get()
    if (!row) throw new ApiError('NOT_FOUND', `no audit event ${id}`)
    return c.json(toEventView(row))
  })
