import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Every error the gateway itself produces carries one of these tags (docs/architecture.md §3). */
const tagStatus = {
  INVALID_REQUEST_BODY: 400,
  INVALID_PARAMS: 400,
  UNAUTHENTICATED: 401,
  BUDGET_EXCEEDED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL_ERROR: 500,
  CONFIGURATION_ERROR: 500,
  UPSTREAM_ERROR: 502,
  AUDIT_UNAVAILABLE: 503,
  STORAGE_UNAVAILABLE: 503,
  UPSTREAM_TIMEOUT: 504,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorTag = keyof typeof tagStatus

export type Issue = { path: string; message: string }

/**
 * Fields a client can act on without reading the message, beside the usual ones: a revert refused
 * because the import changed since names what `changed` and that it is `forceable`.
 */
export type ErrorDetails = { changed?: string[]; forceable?: boolean }

export type ErrorBody = { error: string; tag: ErrorTag; requestId: string; issues?: Issue[] } & ErrorDetails

type ErrorOptions = {
  issues?: Issue[]
  status?: ContentfulStatusCode
  headers?: Record<string, string>
  details?: ErrorDetails
}

/** An error the gateway answers with, in the shape of docs/architecture.md §3. */
export class ApiError extends Error {
  readonly tag: ErrorTag
  readonly status: ContentfulStatusCode
  declare readonly issues?: Issue[]
  declare readonly headers?: Record<string, string>
  declare readonly details?: ErrorDetails

  constructor(tag: ErrorTag, message: string, options: ErrorOptions = {}) {
    super(message)
    Object.assign(this, options)
    this.tag = tag
    this.status = options.status ?? tagStatus[tag]
  }
}

export function errorResponse(c: Context, error: ApiError): Response {
  const body: ErrorBody = { error: error.message, tag: error.tag, requestId: c.get('requestId'), ...error.details }
  if (error.issues?.length) body.issues = error.issues
  return c.json(body, error.status, error.headers)
}

function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 400) return new ApiError('INVALID_REQUEST_BODY', err.message || 'bad request')
  if (err.status === 413) return new ApiError('PAYLOAD_TOO_LARGE', 'request body is too large')
  return new ApiError('INTERNAL_ERROR', 'internal error')
}

/** Root error handler: our errors as they are, anything unexpected as a generic 500. */
export const handleError: ErrorHandler = (err, c) => {
  if (err instanceof ApiError) return errorResponse(c, err)
  if (err instanceof HTTPException) return errorResponse(c, fromHttpException(err))
  // Never echo err.message: it may carry upstream text or internals. Log the name only.
  console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), error: err.name }))
  return errorResponse(c, new ApiError('INTERNAL_ERROR', 'internal error; quote the requestId when reporting it'))
}

export const handleNotFound: NotFoundHandler = (c) =>
  errorResponse(c, new ApiError('NOT_FOUND', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`))
