import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv } from '../env'
import { ApiError } from '../http/errors'
import type { UpstreamResponse } from './client'

/**
 * Answers with upstream's status and JSON body unchanged, plus upstream's request id (as
 * `x-upstream-request-id`) and `retry-after`. A body that is not JSON never reaches the client:
 * a 2xx one is a 502, an error one keeps its status with our error shape.
 */
export function relay(c: Context<AppEnv>, upstream: UpstreamResponse): Response {
  c.set('upstreamStatus', upstream.status)
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' })
  if (upstream.requestId) headers.set('x-upstream-request-id', upstream.requestId)
  if (upstream.retryAfter) headers.set('retry-after', upstream.retryAfter)
  if (upstream.json === undefined) {
    const ok = upstream.status >= 200 && upstream.status < 300
    const extra = Object.fromEntries(headers)
    delete extra['content-type']
    throw ok
      ? new ApiError('UPSTREAM_ERROR', `Exa answered ${upstream.status} without a JSON body`, { headers: extra })
      : new ApiError('UPSTREAM_ERROR', `Exa answered ${upstream.status} (with a body that is not JSON)`, {
          status: upstream.status as ContentfulStatusCode,
          headers: extra,
        })
  }
  return new Response(upstream.text, { status: upstream.status, headers })
}

export const isSuccess = (status: number) => status >= 200 && status < 300
