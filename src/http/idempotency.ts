import { and, eq, lte, or, type SQL } from 'drizzle-orm'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Db } from '../db/client'
import { idempotencyRecords } from '../db/schema'
import type { AppEnv } from '../env'
import { sha256Hex } from '../lib/hash'
import { ApiError } from '../errors'

/** How long a stored answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000
/** An `in_progress` claim older than this belongs to a worker that died: it may be taken over. */
const ABANDONED_AFTER_MS = 60_000
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/**
 * Claims (key id, Idempotency-Key) for this request in one statement: a new record, or one that
 * expired or was abandoned, becomes ours; anything else is left as it is and returned to the caller.
 */
async function claim(db: Db, keyId: string, idempotencyKey: string, requestHash: string, now: number) {
  const claimed = await db
    .insert(idempotencyRecords)
    .values({
      keyId,
      idempotencyKey,
      requestHash,
      state: 'in_progress',
      createdAt: now,
      expiresAt: now + IDEMPOTENCY_TTL_MS,
    })
    .onConflictDoUpdate({
      target: [idempotencyRecords.keyId, idempotencyRecords.idempotencyKey],
      set: {
        requestHash,
        state: 'in_progress',
        responseStatus: null,
        responseBody: null,
        createdAt: now,
        expiresAt: now + IDEMPOTENCY_TTL_MS,
      },
      setWhere: or(
        lte(idempotencyRecords.expiresAt, now),
        and(eq(idempotencyRecords.state, 'in_progress'), lte(idempotencyRecords.createdAt, now - ABANDONED_AFTER_MS))
      ),
    })
    .returning({ keyId: idempotencyRecords.keyId })
  if (claimed.length) return undefined
  const where = and(eq(idempotencyRecords.keyId, keyId), eq(idempotencyRecords.idempotencyKey, idempotencyKey))
  return db.select().from(idempotencyRecords).where(where).get()
}

export type IdempotencyOptions = {
  /**
   * A stored answer as it may still be replayed at `now`, without what has expired since (a
   * capability past its validity), or the same object when nothing has. What it drops is dropped
   * from the record too.
   */
  unexpired?: (answer: unknown, now: number) => unknown
}

/**
 * The stored answer's text for a replay now, after `unexpired`. The record follows, best effort,
 * and only if it still holds the text read (never a newer claim's).
 */
async function replayText(
  c: Context<AppEnv>,
  record: SQL | undefined,
  text: string,
  unexpired: IdempotencyOptions['unexpired']
): Promise<string> {
  if (!unexpired || !text) return text
  let answer: unknown
  try {
    answer = JSON.parse(text)
  } catch {
    return text
  }
  const kept = unexpired(answer, Date.now())
  if (kept === answer) return text
  const keptText = JSON.stringify(kept)
  await c.var.db
    .update(idempotencyRecords)
    .set({ responseBody: keptText })
    .where(and(record, eq(idempotencyRecords.responseBody, text)))
    .catch(() =>
      console.error(
        JSON.stringify({ level: 'error', requestId: c.var.requestId, msg: 'idempotency record not trimmed' })
      )
    )
  return keptText
}

/**
 * `Idempotency-Key` for the import writes. The first request with a key runs and its answer is
 * kept for 24 h per client key; a replay gets that answer (`idempotent-replayed: true`) without
 * reaching Exa; the same key with another request is 422; while the first still runs, 409.
 * Answers of 500 and above are not kept: nothing certain happened, so a retry may run again.
 * A route whose answers hold something that expires says what with `unexpired`.
 * Mount after validation, so that only valid requests claim a key.
 */
export const idempotency = (options: IdempotencyOptions = {}) =>
  createMiddleware<AppEnv>(async function idempotency(c, next) {
    const idempotencyKey = c.req.header('idempotency-key')
    if (idempotencyKey === undefined) return next()
    if (!KEY_PATTERN.test(idempotencyKey)) {
      throw new ApiError('INVALID_PARAMS', 'Idempotency-Key must be 1 to 255 visible ASCII characters')
    }
    const { db, principal } = c.var
    const keyId = principal.keyId ?? principal.actor
    const requestHash = await sha256Hex(`${c.req.method} ${c.req.path}\n${await c.req.text()}`)
    const record = and(eq(idempotencyRecords.keyId, keyId), eq(idempotencyRecords.idempotencyKey, idempotencyKey))
    const existing = await claim(db, keyId, idempotencyKey, requestHash, Date.now())
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was already used with a different request; use a new key'
        )
      }
      if (existing.state === 'in_progress') {
        throw new ApiError('CONFLICT', 'a request with this Idempotency-Key is still in progress; retry in a moment')
      }
      const text = await replayText(c, record, existing.responseBody ?? '', options.unexpired)
      return c.body(text, existing.responseStatus as 200, {
        'content-type': 'application/json; charset=utf-8',
        'idempotent-replayed': 'true',
      })
    }

    await next()

    try {
      if (c.res.status >= 500) {
        await db.delete(idempotencyRecords).where(record)
        return
      }
      const body = await c.res.clone().text()
      await db
        .update(idempotencyRecords)
        .set({ state: 'done', responseStatus: c.res.status, responseBody: body })
        .where(record)
    } catch {
      // The answer stands: the change it reports was made, and an error would invite a retry.
      // The claim stays `in_progress`: a retry gets 409 until it counts as abandoned.
      console.error(JSON.stringify({ level: 'error', requestId: c.var.requestId, msg: 'idempotency record not saved' }))
    }
  })

/** The cron's share: forget records past their 24 h. */
export async function purgeExpiredIdempotencyRecords(db: Db, now = Date.now()) {
  await db.delete(idempotencyRecords).where(lte(idempotencyRecords.expiresAt, now))
}
