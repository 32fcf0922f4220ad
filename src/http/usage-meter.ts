import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import { inBackgroundRound } from '../db/batch-rounds'
import type { Db } from '../db/client'
import type { UsageEventRow } from '../db/schema'
import { usagePart } from '../db/usage'
import type { AppEnv } from '../env'
import { ulid } from '../lib/ids'
import { handlerRoute } from './access-log'

/** A route's family, for grouping: `search`, `contents`, `answer`, `imports`, `websets`, … */
export function familyOf(route: string): string {
  const path = route.slice(route.indexOf(' ') + 1)
  if (path === '/findSimilar') return 'search'
  const parts = path.split('/').filter(Boolean)
  if (parts[0] === 'websets' && parts[1] === 'v0') return parts[2] === 'websets' || !parts[2] ? 'websets' : parts[2]
  return parts[0] ?? 'unknown'
}

/** The usage rows whose write failed, kept in this isolate to go with the next write (bounded). */
const backlog: UsageEventRow[] = []
/** The most rows kept for retry; past it the oldest are dropped, and that is logged as an error. */
export const MAX_BACKLOG = 5_000
/** The most backlog rows sent with one new row, so that one write stays one modest batch. */
const DRAIN_PER_WRITE = 100

const stats = { written: 0, failedWrites: 0, dropped: 0 }

/** What the usage writes of this isolate have met: for tests and the log. */
export const usageWriteStats = () => ({ ...stats, backlog: backlog.length })

function keep(rows: UsageEventRow[]) {
  backlog.push(...rows)
  const over = backlog.length - MAX_BACKLOG
  if (over > 0) {
    backlog.splice(0, over)
    stats.dropped += over
  }
}

/**
 * Writes a usage row, with up to DRAIN_PER_WRITE rows whose earlier write failed, in a gathered
 * background round (db/batch-rounds.ts): never on a response's path. A failed write is counted and
 * logged, and its rows are kept in this isolate for the next write (one round, one transaction:
 * they are written whole or not at all, and a row written twice counts once: db/usage.ts).
 */
export async function writeUsage(db: Db, row: UsageEventRow, requestId: string): Promise<void> {
  const rows = [row, ...backlog.splice(0, DRAIN_PER_WRITE)]
  try {
    await inBackgroundRound(db, usagePart, rows)
    stats.written += rows.length
  } catch (err) {
    stats.failedWrites++
    keep(rows)
    console.error(
      JSON.stringify({
        level: 'error',
        requestId,
        msg: 'usage rows not written; kept in this isolate for the next write',
        rows: rows.length,
        ...usageWriteStats(),
        error: err instanceof Error ? err.message.slice(0, 200) : typeof err,
      })
    )
  }
}

/**
 * Adds a call's cost to its key's spend in the key's RateLimiter Durable Object, after the response
 * (the next request's limiter call then reports it, for the budget). Logged when it fails: the
 * call's usage row still has the cost, but the budget does not count it.
 */
async function addSpend(c: Context<AppEnv>, keyId: string, costMicros: number) {
  try {
    await c.env.RATE_LIMITER.getByName(keyId).addCost(costMicros)
  } catch (err) {
    console.error(
      JSON.stringify({
        level: 'error',
        requestId: c.var.requestId,
        keyId,
        msg: "a call's cost was not added to its key's budget spend (rate limiter unreachable)",
        costUsd: costMicros / 1e6,
        error: err instanceof Error ? err.message.slice(0, 200) : typeof err,
      })
    )
  }
}

function usageRow(c: Context<AppEnv>, forwardedAt: number, costMicros: number | null, endedAt: number): UsageEventRow {
  const route = `${c.req.method} ${handlerRoute(c)}`
  return {
    id: ulid(forwardedAt),
    keyId: c.var.principal?.keyId ?? null,
    actor: c.var.principal?.actor ?? 'unknown',
    family: familyOf(route),
    route,
    status: c.var.upstreamStatus ?? null,
    requestId: c.var.requestId,
    upstreamRequestId: c.var.usage?.upstreamRequestId ?? null,
    costMicros,
    durationMs: endedAt - forwardedAt,
    at: forwardedAt,
  }
}

/**
 * A usage row for every request that called Exa (paid or not, answered or failed): written after
 * the response, in waitUntil, so that no response waits for it. For a stream the row is written
 * when the stream ends, with the cost read from its chunks as they passed.
 */
export const usageMeter = () =>
  createMiddleware<AppEnv>(async function usageMeter(c, next) {
    await next()
    const forwardedAt = c.var.forwardedAt
    if (forwardedAt === undefined) return
    const usage = c.var.usage
    const finished = usage?.ended ?? Promise.resolve({ costMicros: usage?.costMicros ?? null, at: Date.now() })
    const db = c.var.db
    const keyId = c.var.principal?.keyId
    c.executionCtx.waitUntil(
      finished.then(({ costMicros, at }) =>
        Promise.all([
          writeUsage(db, usageRow(c, forwardedAt, costMicros, at), c.var.requestId),
          keyId && costMicros ? addSpend(c, keyId, costMicros) : undefined,
        ])
      )
    )
  })
