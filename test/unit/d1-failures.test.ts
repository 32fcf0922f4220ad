import { DrizzleQueryError } from 'drizzle-orm/errors'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { d1Failure, STORAGE_RETRY_AFTER_SECONDS, storageUnavailable } from '../../src/db/failures'

/** An error as the D1 binding throws it: the prefixed message, the bare one as its cause. */
const fromD1 = (message: string) => new Error(`D1_ERROR: ${message}`, { cause: new Error(message) })

afterEach(() => {
  vi.restoreAllMocks()
})

describe('d1Failure', () => {
  it("recognises D1's failures, bare or wrapped by drizzle", () => {
    for (const message of [
      'Network connection lost.',
      'D1 DB is overloaded. Requests queued for too long.',
      'Durable Object reset because its code was updated.',
      'no such table: audit_events: SQLITE_ERROR',
    ]) {
      const err = fromD1(message)
      expect(d1Failure(err)).toBe(err)
      expect(d1Failure(new DrizzleQueryError('select 1', [], err))).toBe(err)
    }
  })

  it('does not take our own mistakes or other errors for D1 failing', () => {
    expect(d1Failure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined()
    expect(
      d1Failure(new Error("D1_TYPE_ERROR: Type 'object' not supported for value '[object Object]'"))
    ).toBeUndefined()
    expect(d1Failure(new Error('upstream said D1_ERROR somewhere'))).toBeUndefined()
    expect(d1Failure('D1_ERROR: a string, not an Error')).toBeUndefined()
    expect(d1Failure(undefined)).toBeUndefined()
  })

  it('stops on a cause chain that loops', () => {
    const a = new Error('a')
    const b = new Error('b', { cause: a })
    a.cause = b
    expect(d1Failure(a)).toBeUndefined()
  })
})

describe('storageUnavailable', () => {
  it('is a 503 with retry-after, logging the D1 message for the operator', () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    const answer = storageUnavailable(fromD1('Network connection lost.'), 'req_1')!
    expect(answer).toMatchObject({
      tag: 'STORAGE_UNAVAILABLE',
      status: 503,
      headers: { 'retry-after': String(STORAGE_RETRY_AFTER_SECONDS) },
    })
    expect(JSON.parse(log.mock.calls[0]![0] as string)).toEqual({
      level: 'error',
      requestId: 'req_1',
      msg: 'D1 unavailable',
      error: 'D1_ERROR: Network connection lost.',
    })
  })

  it('leaves any other error alone', () => {
    expect(storageUnavailable(new Error('boom'), 'req_2')).toBeUndefined()
  })
})
