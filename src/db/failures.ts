import { ApiError } from '../errors'

/** What a client is told to wait before retrying when D1 fails (D1's own read retries take about that). */
export const STORAGE_RETRY_AFTER_SECONDS = 5

/** What D1 failing means to a client, in the gateway's words. */
export const STORAGE_DOWN = "the gateway's storage (D1) is unavailable"

/**
 * D1's own report of a failure, if `err` is one. The binding reports every failure of a query or
 * batch (connection lost, overloaded, object reset, a table missing) as an Error whose message
 * starts with `D1_ERROR`; drizzle wraps it in a DrizzleQueryError with the original as `cause`.
 * Mistakes of ours are not D1 failing: a TypeError, or a value D1 cannot bind (`D1_TYPE_ERROR`).
 */
export const d1Failure = (err: unknown) => causeWith(err, (message) => message.startsWith('D1_ERROR'))

/** `err` or the first of its causes (five deep at most) whose message passes `test`. */
export function causeWith(err: unknown, test: (message: string) => boolean): Error | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) if (test(e.message)) return e
}

/**
 * The answer to a request that D1 failed (docs/architecture.md §3): 503 STORAGE_UNAVAILABLE with
 * `retry-after`, the D1 message logged for the operator (it names a table or a cause, never a
 * bound value). Undefined when `err` is not D1 failing. The audited write path answers
 * AUDIT_UNAVAILABLE itself, before this is reached.
 */
export function storageUnavailable(err: unknown, requestId: string): ApiError | undefined {
  const failure = d1Failure(err)
  if (!failure) return undefined
  console.error(
    JSON.stringify({ level: 'error', requestId, msg: 'D1 unavailable', error: failure.message.slice(0, 200) })
  )
  return new ApiError(
    'STORAGE_UNAVAILABLE',
    `${STORAGE_DOWN}, so the request was not served; retry in ${STORAGE_RETRY_AFTER_SECONDS} s`,
    { headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) } }
  )
}
