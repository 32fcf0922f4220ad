import type { Config } from '../env'
import { ApiError } from '../errors'

const USER_AGENT = 'exa-imports-gateway/0.1'

export type UpstreamResponse = {
  status: number
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  json: unknown
  text: string
  requestId: string | null
  retryAfter: string | null
}

/** Exa's Imports collection; an import's path is built only from a validated id. */
export const IMPORTS_PATH = '/websets/v0/imports'
export const importPath = (id: string) => `${IMPORTS_PATH}/${id}`

export type UpstreamCall = {
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE'
  /** A path under the Exa origin, built from validated parts only. */
  path: string
  body?: unknown
  /** Known, validated request headers the endpoint takes (`exa-beta`); never the client's credentials. */
  headers?: Record<string, string>
}

function parseJson(text: string): unknown {
  if (!text) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * One call to Exa. Carries the gateway's own headers (the Exa key, JSON content type and a user
 * agent) and, of the client's request, only the validated headers the call names. Network failures become 502, slowness 504.
 */
export async function callExa(config: Config, call: UpstreamCall): Promise<UpstreamResponse> {
  try {
    const response = await fetch(config.exaBaseUrl + call.path, {
      ...requestInit(config, call, 'application/json'),
      signal: AbortSignal.timeout(config.upstreamTimeoutMs),
    })
    return await readUpstream(response)
  } catch (err) {
    throw upstreamFailure(config, err)
  }
}

/** Exa's answer read whole: its text, parsed when it is JSON, and the headers relayed with it. */
export async function readUpstream(response: Response): Promise<UpstreamResponse> {
  const text = await response.text()
  return {
    status: response.status,
    json: parseJson(text),
    text,
    requestId: response.headers.get('x-request-id'),
    retryAfter: response.headers.get('retry-after'),
  }
}

function requestInit(config: Config, call: UpstreamCall, accept: string): RequestInit {
  const headers: Record<string, string> = {
    ...call.headers,
    'x-api-key': config.exaApiKey ?? '',
    // A call may name the one format it wants (a streamed agent run's create: `text/event-stream`).
    accept: call.headers?.accept ?? accept,
    'user-agent': USER_AGENT,
  }
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  return { method: call.method, headers, body: call.body === undefined ? undefined : JSON.stringify(call.body) }
}

function upstreamFailure(config: Config, err: unknown): ApiError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new ApiError('UPSTREAM_TIMEOUT', `Exa did not answer within ${config.upstreamTimeoutMs} ms`)
  }
  return new ApiError('UPSTREAM_ERROR', 'could not reach Exa (network error)')
}

/**
 * One call to Exa whose answer may be a stream: resolves as soon as Exa's status and headers
 * arrive, with the body unread. The timeout covers only that wait; the body then flows for as
 * long as Exa sends it, and cancelling it (a client that went away) cancels the fetch. Never
 * retried: the paid calls go through here.
 */
export async function openExa(config: Config, call: UpstreamCall): Promise<Response> {
  const controller = new AbortController()
  const timer = setTimeout(
    () => controller.abort(new DOMException('upstream timeout', 'TimeoutError')),
    config.upstreamTimeoutMs
  )
  try {
    return await fetch(config.exaBaseUrl + call.path, {
      ...requestInit(config, call, 'application/json, text/event-stream'),
      signal: controller.signal,
    })
  } catch (err) {
    throw upstreamFailure(config, err)
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Calls Exa, retrying once (after a short jittered pause) on a network error, 502 or 503. For
 * reads only: a timeout is not retried (Exa may just be slow), nor is anything else. `first` is
 * the first attempt when it was already started (a read ahead of admission).
 */
export async function callExaWithOneRetry(
  config: Config,
  call: UpstreamCall,
  first: Promise<UpstreamResponse> = callExa(config, call)
): Promise<UpstreamResponse> {
  const answered = await first.catch((err: unknown) => {
    if (err instanceof ApiError && err.tag === 'UPSTREAM_ERROR') return undefined
    throw err
  })
  if (answered && answered.status !== 502 && answered.status !== 503) return answered
  await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100))
  return callExa(config, call)
}

/** A call's name for matching a read started ahead with the handler's own: method, path and headers. */
export const callName = (call: UpstreamCall) => `${call.method} ${call.path} ${JSON.stringify(call.headers ?? {})}`
