import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../src/index'

export const GATEWAY = 'https://gateway.test'

/**
 * A request to the worker's default export (request id, routing, D1, upstream through the
 * simulator), with an execution context of its own. An audited call's row is settled after the
 * response (waitUntil), so by default a change waits for that background work to finish, as the
 * vpw fixtures do with `waitOnExecutionContext`: the row is then settled, as a client reading the
 * log a moment later would see it. `{ settle: false }` returns at once, for tests about the
 * `pending` state itself or whose background work runs on timers (the settle after a failure).
 *
 * Called directly rather than through `exports.default.fetch`: in vitest-pool-workers 0.15.1 each
 * `exports.default.fetch` gets slower the more were made before (measured: 5 ms a request for the
 * first 200, 60 ms after 1,000), while this stays under 1 ms.
 */
export async function api(path: string, init: RequestInit = {}, options: { settle?: boolean } = {}): Promise<Response> {
  const ctx = createExecutionContext()
  const request = new Request(GATEWAY + path, init) as Parameters<typeof worker.fetch>[0]
  const res = await worker.fetch(request, env, ctx)
  // A stream's usage row is written when the stream ends: waiting before it is read would wait forever.
  const streamed = res.headers.get('content-type')?.startsWith('text/event-stream')
  if (options.settle !== false && !streamed && init.method && init.method !== 'GET') await waitOnExecutionContext(ctx)
  return res
}

export function jsonInit(
  method: string,
  key: string,
  body?: unknown,
  headers: Record<string, string> = {}
): RequestInit {
  return {
    method,
    headers: { 'x-api-key': key, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  }
}

export const withKey = (key: string, headers: Record<string, string> = {}): RequestInit => ({
  headers: { 'x-api-key': key, ...headers },
})
