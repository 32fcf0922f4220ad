import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { UsageEventRow } from '../db/schema'
import { bufferUsage } from '../db/usage'
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
 * A usage row for every request that called Exa (paid or not, answered or failed), buffered after
 * the response for this isolate's next flush (db/usage.ts): no response waits for it. For a stream
 * the row is buffered when the stream ends, with the cost read from its chunks as they passed.
 */
export const usageMeter = () =>
  createMiddleware<AppEnv>(async function usageMeter(c, next) {
    await next()
    const forwardedAt = c.var.forwardedAt
    if (forwardedAt === undefined) return
    const finished = c.var.usage?.ended ?? Promise.resolve({ costMicros: null, at: Date.now() })
    const keyId = c.var.principal?.keyId
    c.executionCtx.waitUntil(
      finished.then(({ costMicros, at }) => {
        bufferUsage(c.var.db, c.executionCtx, usageRow(c, forwardedAt, costMicros, at))
        if (keyId && costMicros) return addSpend(c, keyId, costMicros)
      })
    )
  })
