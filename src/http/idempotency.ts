import { and, eq, isNull, lte, or, type SQL } from 'drizzle-orm'
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { Db } from '../db/client'
import { auditEvents, idempotencyRecords, type IdempotencyRecord } from '../db/schema'
import type { AppEnv, IdempotencyClaim } from '../env'
import { sha256Hex } from '../lib/hash'
import { ApiError } from '../errors'

/** How long a stored answer is replayed. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000
/**
 * An `in_progress` claim older than this, and not linked to a write-ahead row, belongs to a worker
 * that died before it could forward anything: it may be taken over. A linked one never is.
 */
const ABANDONED_AFTER_MS = 60_000
/** What a retry is told while the outcome of a forwarded request is being settled (docs/architecture.md §5). */
const SETTLING_RETRY_AFTER_S = 10
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/**
 * Claims (key id, Idempotency-Key) for this request in one statement: a new record, or one that
 * expired or was abandoned before it forwarded anything, becomes ours (held by `requestId`);
 * anything else is left as it is and returned to the caller (`record` selects it).
 */
async function claim(
  db: Db,
  { keyId, idempotencyKey }: IdempotencyClaim,
  record: SQL | undefined,
  requestId: string,
  requestHash: string,
  now: number
) {
  const claimed = await db
    .insert(idempotencyRecords)
    .values({
      keyId,
      idempotencyKey,
      requestHash,
      state: 'in_progress',
      requestId,
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
        requestId,
        eventId: null,
        createdAt: now,
        expiresAt: now + IDEMPOTENCY_TTL_MS,
      },
      setWhere: or(
        lte(idempotencyRecords.expiresAt, now),
        and(
          eq(idempotencyRecords.state, 'in_progress'),
          lte(idempotencyRecords.createdAt, now - ABANDONED_AFTER_MS),
          isNull(idempotencyRecords.eventId)
        )
      ),
    })
    .returning({ keyId: idempotencyRecords.keyId })
  if (claimed.length) return undefined
  return db.select().from(idempotencyRecords).where(record).get()
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
 * The answer to a retry that finds the claim still in progress. Unlinked: the first request has
 * not forwarded anything yet (409, retry soon). Linked to its write-ahead row, it may have reached
 * Exa, so it is answered from that row and never forwarded again: a replay of Exa's answer once
 * the row settled `succeeded` or holds it (waiting for its turn), 409 with `retry-after` while it is pending, and once it settled
 * `failed` a 409 that says the key is spent; once `unknown`, a 409 naming the event (check the import).
 */
async function answerInProgress(c: Context<AppEnv>, existing: IdempotencyRecord): Promise<Response> {
  if (!existing.eventId) {
    throw new ApiError('CONFLICT', 'a request with this Idempotency-Key is still in progress; retry in a moment', {
      headers: { 'retry-after': '1' },
    })
  }
  const row = await c.var.db.select().from(auditEvents).where(eq(auditEvents.id, existing.eventId)).get()
  // A pending row with an `after` holds Exa's answer and waits for its turn in the order (audit/order.ts).
  if (row?.outcome === 'succeeded' || (row?.outcome === 'pending' && row.after !== null)) {
    // Exa's answer as the row keeps it: the Import after the change (a delete's: the one deleted).
    const status = row.upstreamStatus ?? (row.action === 'import.create' ? 201 : 200)
    return c.json(row.after ?? row.before, status as 200, { 'idempotent-replayed': 'true' })
  }
  if (row?.outcome === 'failed') {
    throw new ApiError(
      'CONFLICT',
      `the request with this Idempotency-Key reached Exa and failed (audit event ${row.id}); ` +
        'it is never sent twice: send it with a new Idempotency-Key to try again'
    )
  }
  if (row?.outcome === 'unknown') {
    throw new ApiError(
      'CONFLICT',
      `the request with this Idempotency-Key reached Exa and its outcome is unknown (audit event ${row.id}): ` +
        "Exa's state could not prove whether it was applied; it is never sent twice: check the import, " +
        'and send it with a new Idempotency-Key if the change is still needed'
    )
  }
  throw new ApiError(
    'CONFLICT',
    'the request with this Idempotency-Key reached Exa and is still in progress (its outcome is being ' +
      'settled); it is never sent twice: retry later for its answer',
    { headers: { 'retry-after': String(SETTLING_RETRY_AFTER_S) } }
  )
}

/**
 * `Idempotency-Key` for the import writes: at most one call reaches Exa per key and client key
 * within 24 h, whatever fails. The first request with a key runs and its answer is kept; a replay
 * gets that answer (`idempotent-replayed: true`) without reaching Exa; the same key with another
 * request is 422; while the first still runs, 409. Answers of 500 and above are not kept; a retry
 * after one runs again only if nothing was forwarded (else see `answerInProgress`).
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
    const { db, principal, requestId } = c.var
    const held: IdempotencyClaim = { keyId: principal.keyId ?? principal.actor, idempotencyKey }
    const requestHash = await sha256Hex(`${c.req.method} ${c.req.path}\n${await c.req.text()}`)
    const record = and(eq(idempotencyRecords.keyId, held.keyId), eq(idempotencyRecords.idempotencyKey, idempotencyKey))
    const existing = await claim(db, held, record, requestId, requestHash, Date.now())
    if (existing) {
      if (existing.requestHash !== requestHash) {
        throw new ApiError(
          'IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was already used with a different request; use a new key'
        )
      }
      if (existing.state === 'in_progress') return answerInProgress(c, existing)
      const text = await replayText(c, record, existing.responseBody ?? '', options.unexpired)
      return c.body(text, existing.responseStatus as 200, {
        'content-type': 'application/json; charset=utf-8',
        'idempotent-replayed': 'true',
      })
    }

    c.set('idempotencyClaim', held)
    await next()

    // Only while the claim is still ours (a request that lost it must not touch the new holder's).
    const ours = and(record, eq(idempotencyRecords.requestId, requestId))
    try {
      if (c.res.status >= 500) {
        // Nothing certain happened. Dropped only if nothing was forwarded (no linked row): a
        // retry then runs again; a linked claim stays, and retries are answered from its row.
        await db.delete(idempotencyRecords).where(and(ours, isNull(idempotencyRecords.eventId)))
        return
      }
      const body = await c.res.clone().text()
      await db
        .update(idempotencyRecords)
        .set({ state: 'done', responseStatus: c.res.status, responseBody: body })
        .where(ours)
    } catch {
      // The answer stands: the change it reports was made, and an error would invite a retry.
      // The claim stays `in_progress`, linked to its row: a retry is answered from that row.
      console.error(JSON.stringify({ level: 'error', requestId, msg: 'idempotency record not saved' }))
    }
  })

/** The cron's share: forget records past their 24 h. */
export async function purgeExpiredIdempotencyRecords(db: Db, now = Date.now()) {
  await db.delete(idempotencyRecords).where(lte(idempotencyRecords.expiresAt, now))
}
