import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppEnv, Config } from '../env'
import { ApiError } from '../errors'
import { costMicrosOf, meterStream } from '../lib/cost'
import {
  callExa,
  callExaWithOneRetry,
  callName,
  openExa,
  readUpstream,
  type UpstreamCall,
  type UpstreamResponse,
} from '../exa/client'

/** The config for calling Exa; refuses clearly when no Exa key is configured. */
export function upstreamConfig(c: Context<AppEnv>): Config {
  const config = c.var.config
  if (!config.exaApiKey) {
    throw new ApiError(
      'CONFIGURATION_ERROR',
      'EXA_API_KEY is not set: run `wrangler secret put EXA_API_KEY` (npm start uses the simulator)'
    )
  }
  return config
}

/** The config for a call about to go to Exa: from now on the request has a usage row (http/usage-meter.ts). */
export function forwardingConfig(c: Context<AppEnv>): Config {
  const config = upstreamConfig(c)
  if (c.var.forwardedAt === undefined) c.set('forwardedAt', Date.now())
  return config
}

/**
 * Answers with upstream's status and JSON body unchanged, plus upstream's request id (as
 * `x-upstream-request-id`) and `retry-after`. A body that is not JSON never reaches the client:
 * a 2xx one is a 502, an error one keeps its status with our error shape.
 */
export function relay(c: Context<AppEnv>, upstream: UpstreamResponse): Response {
  c.set('upstreamStatus', upstream.status)
  c.set('usage', {
    upstreamRequestId: upstream.requestId,
    ended: Promise.resolve({ costMicros: costMicrosOf(upstream.json), at: Date.now() }),
  })
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' })
  if (upstream.requestId) headers.set('x-upstream-request-id', upstream.requestId)
  if (upstream.retryAfter) headers.set('retry-after', upstream.retryAfter)
  const ok = isSuccess(upstream.status)
  // An empty success is relayed empty (an enrichment's update: Exa answers 200 with no body).
  if (ok && upstream.text === '') return new Response(null, { status: upstream.status, headers: without(headers) })
  if (upstream.json === undefined) {
    const extra = Object.fromEntries(without(headers))
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

/** The relayed headers without the JSON content type, for an answer that is not JSON. */
const without = (headers: Headers) => {
  headers.delete('content-type')
  return headers
}

export const isEventStream = (response: Response) =>
  response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() === 'text/event-stream'

/**
 * Answers with Exa's answer to a call that may stream. A successful `text/event-stream` is passed
 * through as it arrives, never buffered: the client reads each chunk when Exa sends it, and its
 * going away cancels Exa's stream (the body is Exa's own). Anything else is read whole and relayed
 * as JSON, Exa's error shapes unchanged.
 */
export async function relayStream(c: Context<AppEnv>, response: Response): Promise<Response> {
  if (!isSuccess(response.status) || !isEventStream(response) || !response.body) {
    const whole = await readUpstream(response).catch(() => {
      throw new ApiError('UPSTREAM_ERROR', "Exa's answer broke off before its end")
    })
    return relay(c, whole)
  }
  c.set('upstreamStatus', response.status)
  const headers = new Headers({ 'content-type': response.headers.get('content-type')!, 'cache-control': 'no-cache' })
  const requestId = response.headers.get('x-request-id')
  if (requestId) headers.set('x-upstream-request-id', requestId)
  // The cost is in the stream's last events: read from the chunks as they pass, for the usage row.
  let ended!: (value: { costMicros: number | null; at: number }) => void
  c.set('usage', { upstreamRequestId: requestId, ended: new Promise((resolve) => (ended = resolve)) })
  const body = meterStream(response.body, (costMicros) => ended({ costMicros, at: Date.now() }))
  return new Response(body, { status: response.status, headers })
}

/** One call to Exa, never retried (a paid call must not be made twice), its answer relayed as it comes. */
export const passThrough = async (c: Context<AppEnv>, call: UpstreamCall) =>
  relayStream(c, await openExa(forwardingConfig(c), call))

type Read = UpstreamCall & { method: 'GET' }

/**
 * The starter of a route's read ahead of admission (http/auth.ts `readAhead`): `toCall` builds the
 * GET the handler will make from the raw request, validating the whole request as the route does
 * (undefined when it is invalid: nothing goes upstream, and the route's validation answers it).
 * The read's answer stays in the context until the handler of the admitted request takes it.
 */
export function startReadOf(toCall: (c: Context<AppEnv>) => Read | undefined | Promise<Read | undefined>) {
  return (c: Context<AppEnv>) => {
    if (!c.var.config.exaApiKey) return
    const started = (async () => {
      const call = await toCall(c)
      if (!call) return
      const response = callExa(c.var.config, call)
      // Never an unhandled rejection when it is discarded; the handler that takes it sees the error.
      response.catch(() => undefined)
      c.set('readAhead', { call: callName(call), response })
    })()
    started.catch(() => undefined)
  }
}

/** The read started ahead for exactly `call`, taken from the context (once), if there is one. */
function takeReadAhead(c: Context<AppEnv>, call: UpstreamCall): Promise<UpstreamResponse> | undefined {
  const ahead = c.var.readAhead
  if (!ahead || ahead.call !== callName(call)) return undefined
  c.set('readAhead', undefined)
  return ahead.response
}

/** A GET of Exa: the one started ahead of admission when it is the same call, else made now. */
export function readExa(c: Context<AppEnv>, call: UpstreamCall): Promise<UpstreamResponse> {
  const config = forwardingConfig(c)
  return takeReadAhead(c, call) ?? callExa(config, call)
}

/** A GET of Exa retried once on a network error, 502 or 503 (see callExaWithOneRetry), the first attempt possibly started ahead. */
export function readExaWithOneRetry(c: Context<AppEnv>, call: Read): Promise<UpstreamResponse> {
  return callExaWithOneRetry(forwardingConfig(c), call, takeReadAhead(c, call))
}
