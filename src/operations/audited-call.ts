import type { Context } from 'hono'
import type { ImportAction } from '../audit/actions'
import { settlePending } from '../audit/chain'
import { recordFailedAttempt, settledFields, writeAhead, type AuditStart } from '../audit/recorder'
import type { AuditEventRow } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { callExa, importPath, type UpstreamCall, type UpstreamResponse } from '../exa/client'
import { ImportSnapshot, type Import } from '../exa/schemas'
import { auditOrigin } from './origin'
import { settleInBackground } from './reconcile'
import { forwardingConfig, isSuccess, readExaWithOneRetry, relay, upstreamConfig } from './upstream'

/** One audited change of an import: what to send Exa and how to read its answer into the row. */
export type AuditedCall = {
  action: ImportAction
  /** The import the call is about; null for a create (Exa names it in its answer). */
  importId: string | null
  requestBody?: unknown
  revertsEventId?: string | null
  /** Read the import first, for the row's `before` (update, delete). */
  readsBefore: boolean
  upstream: UpstreamCall
  /** The row's `after`, from upstream's successful answer (already checked to be an Import). */
  afterOf: (answer: Import) => Import | null
}

const malformed = () => new ApiError('UPSTREAM_ERROR', 'Exa answered with something that is not an Import')

/**
 * The audited-call machinery shared by create, update and delete: read the before snapshot,
 * commit the write-ahead row, forward (never retried), settle the row, answer with upstream's
 * response unchanged. Every authenticated, valid attempt leaves exactly one row.
 */
export async function runAuditedCall(c: Context<AppEnv>, call: AuditedCall): Promise<Response> {
  upstreamConfig(c) // refuses before anything is read when no Exa key is configured
  const start: AuditStart = {
    ...auditOrigin(c),
    action: call.action,
    importId: call.importId,
    requestBody: call.requestBody ?? null,
    revertsEventId: call.revertsEventId ?? null,
  }

  let before: Import | null = null
  if (call.readsBefore) {
    const read = await readBefore(c, start)
    if (read instanceof Response) return read
    before = read
  }

  return outlivingTheClient(c, forwardAndSettle(c, call, start, before))
}

/**
 * Work a client's going away must not cut short. Deployed, a request whose client disconnects is
 * cancelled with everything it awaits, except what it handed to `waitUntil`: a forwarded change
 * cut off there would leave its row pending for the reconciler, and one cut off between the
 * write-ahead row and the call would leave a row for a change never sent. Kept alive, the change
 * is forwarded and its row settled as if the client had stayed (docs/architecture.md §5).
 */
function outlivingTheClient<T>(c: Context<AppEnv>, work: Promise<T>): Promise<T> {
  c.executionCtx.waitUntil(work.catch(() => undefined))
  return work
}

/** Commits the write-ahead row, forwards (never retried), settles the row, answers with upstream's response. */
async function forwardAndSettle(
  c: Context<AppEnv>,
  call: AuditedCall,
  start: AuditStart,
  before: Import | null
): Promise<Response> {
  const config = forwardingConfig(c)
  const pending = await writeAhead(c.var.db, { ...start, before }, c.var.idempotencyClaim)
  const eventId = pending.id

  let response: UpstreamResponse
  try {
    response = await callExa(config, call.upstream)
  } catch (err) {
    // Exa may or may not have applied it: the row stays pending until its state is read back.
    settleInBackground(c, eventId, err instanceof ApiError ? err.message : 'upstream call failed')
    throw err
  }
  const succeeded = isSuccess(response.status)
  const answer = succeeded ? ImportSnapshot.safeParse(response.json) : undefined
  if (answer && !answer.success) {
    settleInBackground(c, eventId, `Exa answered the ${call.upstream.method} with something that is not an Import`)
    throw malformed()
  }
  const fields = settledFields(before, {
    status: response.status,
    upstreamRequestId: response.requestId,
    // Upstream's object as it came (key order included); the schema only vouched for it.
    after: answer?.success ? call.afterOf(response.json as Import) : null,
    error: succeeded ? null : `Exa answered ${response.status}`,
  })
  // A create learns its import id only now; the settle writes it with the outcome.
  const learnedImportId = call.importId === null && answer?.success ? answer.data.id : null
  settleAfterResponse(c, pending, learnedImportId === null ? fields : { ...fields, importId: learnedImportId })
  return relay(c, response)
}

/** Reads the import before changing it. A failed read is recorded as a failed attempt. */
async function readBefore(c: Context<AppEnv>, start: AuditStart): Promise<Import | Response> {
  const fail = (status: number | null, error: string, upstreamRequestId?: string | null) =>
    recordFailedAttempt(c.var.db, start, { status, error, upstreamRequestId }).catch(() =>
      console.error(JSON.stringify({ level: 'error', requestId: start.requestId, msg: 'failed attempt not recorded' }))
    )
  let response: UpstreamResponse
  try {
    response = await readExaWithOneRetry(c, { method: 'GET', path: importPath(start.importId!) })
  } catch (err) {
    await fail(null, `before read: ${err instanceof ApiError ? err.message : 'failed'}`)
    throw err
  }
  if (!isSuccess(response.status)) {
    await fail(response.status, `before read: Exa answered ${response.status}`, response.requestId)
    return relay(c, response)
  }
  const parsed = ImportSnapshot.safeParse(response.json)
  if (!parsed.success) {
    await fail(response.status, 'before read: Exa answered with something that is not an Import', response.requestId)
    throw malformed()
  }
  // Keep upstream's object as it came (key order included); the schema only vouched for it.
  return response.json as Import
}

type SettledFields = ReturnType<typeof settledFields> & { importId?: string }

const SETTLE_RETRY_DELAYS_MS = [100, 400, 1600]

/**
 * Settles the row after the response (docs/architecture.md §5): the write-ahead row with its before
 * snapshot is already committed, so the client need not wait for the settle's D1 round trips;
 * the API shows the row `pending` until it lands. A failed settle is retried a few times; if
 * every retry fails the reconciler settles the row later. A create's import id, known only from
 * Exa's answer, is set by the same settle.
 */
function settleAfterResponse(c: Context<AppEnv>, pending: AuditEventRow, fields: SettledFields) {
  const db = c.var.db
  c.executionCtx.waitUntil(
    (async () => {
      for (const delay of [0, ...SETTLE_RETRY_DELAYS_MS]) {
        if (delay) await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
        try {
          return await settlePending(db, pending.id, fields, pending)
        } catch {
          // next attempt
        }
      }
      console.error(
        JSON.stringify({ level: 'error', eventId: pending.id, msg: 'settle failed; left pending for the reconciler' })
      )
    })()
  )
}
