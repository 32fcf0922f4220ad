import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { api as gateway } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// Properties over open-ended input: whatever arrives, the gateway never answers 5xx, always uses
// the JSON error shape for its refusals, and forwards nothing it refused. Thousands of requests:
// none waits for its background work (a settle goes on after the answer, as in production).
const RUNS = 1000

const api = (path: string, init: RequestInit) => gateway(path, init, { settle: false })

let key: IssuedKey
let importId: string

beforeAll(async () => {
  await sim.reset()
  // Thousands of requests: a per-key limit far above the default 600 a minute.
  key = await issueKey(undefined, { rateLimit: { requests: 1_000_000, periodSeconds: 60 } })
  importId = (await sim.seed({ title: 'target' })).id
})

async function expectGatewayError(res: Response, statuses: number[]) {
  expect(statuses).toContain(res.status)
  const body = (await res.json()) as Record<string, unknown>
  expect(typeof body.error).toBe('string')
  expect(typeof body.tag).toBe('string')
  expect(body.requestId).toBe(res.headers.get('x-request-id'))
}

const forwardedCount = async () => (await sim.requests()).length

/** A refusal never went upstream: only forwarded answers carry Exa's request id. */
const wasForwarded = (res: Response) => res.headers.has('x-upstream-request-id')

/** Checks `predicate` on RUNS inputs fast-check draws from `arbitrary`, shrinking any failure. */
async function forAll<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>) {
  await fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS })
}

/**
 * Runs a property, then checks against the simulator's own record that exactly the requests
 * the property counted as forwarded reached Exa (one look at the end keeps 1,000 runs fast).
 */
async function assertForwarding<T>(
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  expectedUpstreamCalls: () => number
) {
  const before = await forwardedCount()
  await forAll(arbitrary, predicate)
  expect(await forwardedCount()).toBe(before + expectedUpstreamCalls())
}

/** Our own oracle of a valid UpdateImport body, written independently of the zod schema. */
function isValidUpdate(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.entries(value).every(([k, v]) => {
    if (k === 'title') return typeof v === 'string'
    if (k !== 'metadata' || typeof v !== 'object' || v === null || Array.isArray(v)) return false
    return Object.entries(v).every(([mk, mv]) => mk !== '__proto__' && typeof mv === 'string' && mv.length <= 1000)
  })
}

const tricky = fc.constantFrom('title', 'metadata', '__proto__', 'constructor', 'prototype', 'toString', '', 'owner')
const bodies = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(tricky, fc.jsonValue()),
  fc.record(
    {
      title: fc.oneof(fc.string(), fc.jsonValue()),
      metadata: fc.dictionary(fc.oneof(tricky, fc.string()), fc.oneof(fc.string({ maxLength: 1005 }), fc.jsonValue())),
    },
    { requiredKeys: [] }
  )
)

describe('hostile input (fast-check)', { timeout: 180_000 }, () => {
  it('any JSON body: valid ones are forwarded, everything else is a 400 that forwards nothing', async () => {
    let upstreamCalls = 0
    await assertForwarding(
      bodies,
      async (body) => {
        const text = JSON.stringify(body)
        const res = await api(`/websets/v0/imports/${importId}`, {
          method: 'PATCH',
          headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
          body: text,
        })
        if (isValidUpdate(JSON.parse(text))) {
          expect(res.status).toBe(200)
          upstreamCalls += 2 // the before read and the PATCH
        } else {
          await expectGatewayError(res, [400])
          expect(wasForwarded(res)).toBe(false)
        }
      },
      () => upstreamCalls
    )
  })

  it('any bytes with any content type: never 5xx, never forwarded unless they are a valid update', async () => {
    const contentTypes = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
      '',
      'multipart/form-data; boundary=x'
    )
    let upstreamCalls = 0
    await assertForwarding(
      fc.tuple(fc.uint8Array({ maxLength: 300 }), contentTypes),
      async ([bytes, contentType]) => {
        const headers: Record<string, string> = { 'x-api-key': key.key }
        if (contentType) headers['content-type'] = contentType
        const res = await api(`/websets/v0/imports/${importId}`, { method: 'PATCH', headers, body: bytes })
        expect(res.status).toBeLessThan(500)
        if (res.status === 200) upstreamCalls += 2
        else {
          await expectGatewayError(res, [400, 415])
          expect(wasForwarded(res)).toBe(false)
        }
      },
      () => upstreamCalls
    )
  })

  it('any import id: only ids of the safe alphabet reach Exa, verbatim', async () => {
    let upstreamCalls = 0
    await assertForwarding(
      fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_%./\\-]{0,140}$/)),
      async (id) => {
        const res = await api(`/websets/v0/imports/${encodeURIComponent(id)}`, { headers: { 'x-api-key': key.key } })
        expect(res.status).toBeLessThan(500)
        if (/^[A-Za-z0-9_-]{1,128}$/.test(id)) {
          expect(wasForwarded(res)).toBe(true)
          upstreamCalls++
        } else if (wasForwarded(res)) {
          // Only what URL parsing turns into the list path ("", ".", "..") may reach Exa, as a list.
          expect(new URL(`https://x/websets/v0/imports/${encodeURIComponent(id)}`).pathname).toMatch(
            /^\/websets\/v0\/imports\/?$/
          )
          upstreamCalls++
        } else {
          await expectGatewayError(res, [400, 404])
        }
      },
      () => upstreamCalls
    )
    const paths = (await sim.requests({ method: 'GET' })).map((r) => r.path)
    expect(paths.every((p) => /^\/websets\/v0\/imports(\/[A-Za-z0-9_-]{1,128})?$/.test(p))).toBe(true)
  })

  it('any query string on the list and audit routes: never 5xx, refusals in our shape', async () => {
    const params = fc.dictionary(
      fc.constantFrom('limit', 'cursor', 'importId', 'since', 'until', 'action', 'outcome', 'actor', 'x'),
      fc.string()
    )
    await forAll(fc.tuple(params, fc.constantFrom('/websets/v0/imports', '/audit/events')), async ([query, path]) => {
      const res = await api(`${path}?${new URLSearchParams(query)}`, { headers: { 'x-api-key': key.key } })
      expect(res.status).toBeLessThan(500)
      // A valid query reaches Exa, whose own refusals (e.g. an unknown cursor) pass through.
      if (res.status !== 200 && !wasForwarded(res)) await expectGatewayError(res, [400])
    })
  })

  it('any credential and Idempotency-Key header values: never 5xx, never forwarded unless authenticated', async () => {
    const headerValue = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 300,
    })
    await assertForwarding(
      fc.tuple(headerValue, headerValue),
      async ([credential, idempotencyKey]) => {
        const res = await api(`/websets/v0/imports/${importId}`, {
          method: 'PATCH',
          headers: { 'x-api-key': credential, 'idempotency-key': idempotencyKey, 'content-type': 'application/json' },
          body: '{"title":"x"}',
        })
        await expectGatewayError(res, [400, 401])
      },
      () => 0
    )
  })
})
