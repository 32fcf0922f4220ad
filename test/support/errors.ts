import { expect } from 'vitest'
import type { ErrorBody } from '../../src/errors'

/** Asserts our error shape (docs/architecture.md §3): status, tag, the request id echoed; returns the body. */
export async function expectError(res: Response, status: number, tag: string, message?: RegExp): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody
  expect(res.status, JSON.stringify(body)).toBe(status)
  expect(body.tag).toBe(tag)
  expect(body.requestId).toBe(res.headers.get('x-request-id'))
  if (message) expect(body.error).toMatch(message)
  return body
}

/** Asserts a 400 INVALID_PARAMS that names `field` in its message and among its issues. */
export async function expect400(res: Response, field: string) {
  const body = await expectError(res, 400, 'INVALID_PARAMS')
  expect(body.issues?.map((issue) => issue.path)).toContain(field)
  expect(body.error).toContain(field)
}
