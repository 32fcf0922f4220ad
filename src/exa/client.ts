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
  /** Request headers Exa defines that the client's call carries (validated): `exa-beta`. */
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
  const headers: Record<string, string> = {
    ...call.headers,
    'x-api-key': config.exaApiKey ?? '',
    accept: 'application/json',
    'user-agent': USER_AGENT,
  }
  if (call.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(config.exaBaseUrl + call.path, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(config.upstreamTimeoutMs),
    })
    const text = await response.text()
    return {
      status: response.status,
      json: parseJson(text),
      text,
      requestId: response.headers.get('x-request-id'),
      retryAfter: response.headers.get('retry-after'),
    }
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      throw new ApiError('UPSTREAM_TIMEOUT', `Exa did not answer within ${config.upstreamTimeoutMs} ms`)
    }
    throw new ApiError('UPSTREAM_ERROR', 'could not reach Exa (network error)')
  }
}

/**
 * Calls Exa, retrying once (after a short jittered pause) on a network error, 502 or 503. For
 * reads only: a timeout is not retried (Exa may just be slow), nor is anything else.
 */
export async function callExaWithOneRetry(config: Config, call: UpstreamCall): Promise<UpstreamResponse> {
  const first = await callExa(config, call).catch((err: unknown) => {
    if (err instanceof ApiError && err.tag === 'UPSTREAM_ERROR') return undefined
    throw err
  })
  if (first && first.status !== 502 && first.status !== 503) return first
  await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100))
  return callExa(config, call)
}
