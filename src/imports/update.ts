import type { Context } from 'hono'
import { auditOrigin, finalize, recordFailedAttempt, settledFields, writeAhead, type AuditStart } from '../audit/recorder'
import { settleInBackground } from '../audit/reconcile'
import type { AppEnv } from '../env'
import { callExa, callExaWithOneRetry, upstreamConfig, type UpstreamResponse } from '../exa/client'
import { isSuccess, relay } from '../exa/relay'
import { ImportSnapshot, type Import, type UpdateImport } from '../exa/schemas'
import { ApiError } from '../http/errors'

export const importPath = (id: string) => `/websets/v0/imports/${id}`

type UpdateOptions = { action: 'import.update' | 'import.revert'; revertsEventId?: string }

const malformed = () => new ApiError('UPSTREAM_ERROR', 'Exa answered with something that is not an Import')

/**
 * The audited update: read the before snapshot, commit the write-ahead row, forward the PATCH,
 * settle the row. Every authenticated, valid attempt leaves exactly one row.
 */
export async function auditedUpdate(
  c: Context<AppEnv>,
  importId: string,
  body: UpdateImport,
  options: UpdateOptions
): Promise<Response> {
  const config = upstreamConfig(c)
  const db = c.var.db
  const start: AuditStart = { ...auditOrigin(c), action: options.action, importId, requestBody: body, revertsEventId: options.revertsEventId ?? null }

  const before = await readBefore(c, start)
  if (before instanceof Response) return before

  const eventId = await writeAhead(db, { ...start, before })

  let response: UpstreamResponse
  try {
    response = await callExa(config, { method: 'PATCH', path: importPath(importId), body })
  } catch (err) {
    // Exa may or may not have applied it: the row stays pending until its state is read back.
    settleInBackground(c, eventId, err instanceof ApiError ? err.message : 'upstream call failed')
    throw err
  }
  const after = isSuccess(response.status) ? ImportSnapshot.safeParse(response.json) : undefined
  if (after && !after.success) {
    settleInBackground(c, eventId, 'Exa answered the PATCH with something that is not an Import')
    throw malformed()
  }
  const fields = settledFields(before, {
    status: response.status,
    upstreamRequestId: response.requestId,
    after: after ? (response.json as Import) : null,
    error: isSuccess(response.status) ? null : `Exa answered ${response.status}`,
  })
  await finalizeOrRetryLater(c, eventId, fields)
  return relay(c, response)
}

/** Reads the import before changing it. A failed read is recorded as a failed attempt. */
async function readBefore(c: Context<AppEnv>, start: AuditStart): Promise<Import | Response> {
  const config = upstreamConfig(c)
  const fail = (status: number | null, error: string, upstreamRequestId?: string | null) =>
    recordFailedAttempt(c.var.db, start, { status, error, upstreamRequestId }).catch(() =>
      console.error(JSON.stringify({ level: 'error', requestId: start.requestId, msg: 'failed attempt not recorded' }))
    )
  let response: UpstreamResponse
  try {
    response = await callExaWithOneRetry(config, { method: 'GET', path: importPath(start.importId!) })
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

const FINALIZE_RETRY_DELAYS_MS = [100, 400, 1600]

/**
 * Finalizes the row; if D1 fails now, the client still gets upstream's answer and the finalize
 * is retried off the request path. If every retry fails the reconciler settles the row later.
 */
async function finalizeOrRetryLater(c: Context<AppEnv>, eventId: string, fields: Parameters<typeof finalize>[2]) {
  try {
    await finalize(c.var.db, eventId, fields)
  } catch {
    c.executionCtx.waitUntil(
      (async () => {
        for (const delay of FINALIZE_RETRY_DELAYS_MS) {
          await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())))
          try {
            return await finalize(c.var.db, eventId, fields)
          } catch {
            // next attempt
          }
        }
        console.error(JSON.stringify({ level: 'error', eventId, msg: 'finalize failed; left pending for the reconciler' }))
      })()
    )
  }
}
