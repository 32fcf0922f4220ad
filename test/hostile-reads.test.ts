import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { WEBSET_REF_PATTERN } from '../src/exa/websets'
import { READS } from '../src/routes/reads'
import { api as gateway } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// Properties over the reads (src/routes/reads.ts): whatever id, query or beta header arrives, the
// gateway never answers 5xx, refuses in its own shape, and what it forwards is only what passed.
const RUNS = 500
const api = (path: string, headers: Record<string, string> = {}) =>
  gateway(path, { headers: { 'x-api-key': key.key, ...headers } })
const forAll = <T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>) =>
  fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS })

let key: IssuedKey
beforeAll(async () => {
  await sim.reset()
  key = await issueKey(
    ['imports:read', 'websets:read', 'monitors:read', 'webhooks:read', 'events:read', 'agent:read'],
    {
      rateLimit: { requests: 1_000_000, periodSeconds: 60 },
    }
  )
})

async function expectRefusal(res: Response) {
  expect(res.status).toBe(400)
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ tag: 'INVALID_PARAMS', error: expect.any(String) })
  expect(res.headers.has('x-upstream-request-id')).toBe(false)
}

describe('hostile input on the reads (fast-check)', { timeout: 120_000 }, () => {
  it('any webset id or externalId: only the safe alphabet reaches Exa, percent-encoded', async () => {
    const before = (await sim.requests()).length
    let forwarded = 0
    await forAll(fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9._~:@+=%/\\ -]{0,310}$/)), async (ref) => {
      const res = await api(`/websets/v0/websets/${encodeURIComponent(ref)}`)
      expect(res.status).toBeLessThan(500)
      if (WEBSET_REF_PATTERN.test(ref)) {
        expect(res.headers.has('x-upstream-request-id')).toBe(true)
        forwarded++
      } else if (res.status === 400) await expectRefusal(res)
      // Otherwise URL parsing made it another route (`..`, an empty id: the list), or none (404).
      else expect([200, 404]).toContain(res.status)
    })
    const paths = (await sim.requests()).slice(before).map((r) => r.path)
    expect(paths.length).toBeGreaterThanOrEqual(forwarded)
    for (const path of paths) {
      const ref = decodeURIComponent(path.replace(/^\/websets\/v0\/websets\/?/, ''))
      expect(ref === '' || WEBSET_REF_PATTERN.test(ref), path).toBe(true)
    }
  })

  const lists = READS.filter((read) => !read.path.includes(':'))
  it('any query on every list: never 5xx; forwarded only with the names its schema knows', async () => {
    const names = fc.constantFrom(
      'limit',
      'cursor',
      'types',
      'expand',
      'status',
      'websetId',
      'sourceId',
      'x',
      'limit[]'
    )
    const value = fc.oneof(fc.string(), fc.constantFrom('1', '100', '201', 'webset.created', 'active', 'true'))
    const query = fc.array(fc.tuple(names, value), { maxLength: 4 })
    const before = (await sim.requests()).length
    await forAll(fc.tuple(fc.constantFrom(...lists), query), async ([read, pairs]) => {
      const headers: Record<string, string> = read.path.startsWith('/agent/monitors')
        ? { 'exa-beta': 'agent-monitors-2026-08-04' }
        : {}
      const res = await api(`${read.path}?${new URLSearchParams(pairs)}`, headers)
      expect(res.status).toBeLessThan(500)
      if (!res.headers.has('x-upstream-request-id')) await expectRefusal(res)
    })
    for (const request of (await sim.requests()).slice(before)) {
      const read = lists.find((r) => r.path === request.path)!
      const known = Object.keys((read.query as unknown as { def: { shape: object } }).def.shape)
      for (const name of new URLSearchParams(request.query).keys()) expect(known).toContain(name)
    }
  })

  it('any exa-beta on agent monitors: forwarded only when it names the Agent Monitors beta', async () => {
    const header = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 120,
    })
    const beta = fc.oneof(
      header,
      header.map((h) => `${h},agent-monitors-2026-08-04`)
    )
    await forAll(beta, async (value) => {
      const res = await api('/agent/monitors', { 'exa-beta': value })
      expect(res.status).toBeLessThan(500)
      if (res.headers.has('x-upstream-request-id')) {
        expect(value.split(',').map((b) => b.trim())).toContain('agent-monitors-2026-08-04')
      } else await expectRefusal(res)
    })
  })
})
