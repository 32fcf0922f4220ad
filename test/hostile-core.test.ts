import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { api as gateway } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// Properties over open-ended bodies and headers for the paid calls: whatever arrives, the gateway
// never answers 5xx, refuses in its own shape without forwarding, and forwards what it accepts
// exactly as sent (a paid call must not be reshaped on the way).
const RUNS = 300

const api = (path: string, init: RequestInit) => gateway(path, init, { settle: false })

let key: IssuedKey

beforeAll(async () => {
  await sim.reset()
  await sim.streamInterval(0)
  key = await issueKey(['search', 'contents', 'answer'], { rateLimit: { requests: 1_000_000, periodSeconds: 60 } })
})

const PATHS = ['/search', '/findSimilar', '/contents', '/answer'] as const

/** The top-level fields exa-js 2.23.0 can send to each path (from its types, written out by hand). */
const CONTENTS = ['text', 'highlights', 'summary', 'livecrawl', 'context', 'livecrawlTimeout', 'maxAgeHours'].concat([
  'snapshotAsOf',
  'filterEmptyResults',
  'subpages',
  'subpageTarget',
  'extras',
])
const BASE_SEARCH = ['contents', 'numResults', 'includeDomains', 'excludeDomains', 'startCrawlDate', 'endCrawlDate']
  .concat(['startPublishedDate', 'endPublishedDate', 'category', 'includeText', 'excludeText', 'flags'])
  .concat(['userLocation', 'stream'])
const KNOWN: Record<(typeof PATHS)[number], string[]> = {
  '/search': [
    'query',
    'type',
    'additionalQueries',
    'moderation',
    'useAutoprompt',
    'systemPrompt',
    'outputSchema',
  ].concat(BASE_SEARCH),
  '/findSimilar': ['url', 'excludeSourceDomain', ...BASE_SEARCH],
  '/contents': ['urls', ...CONTENTS],
  '/answer': ['query', 'stream', 'text', 'model', 'systemPrompt', 'outputSchema', 'userLocation'],
}

const hostileKeys = fc.constantFrom('__proto__', 'constructor', 'toString', '', 'ids', 'betas', 'apiKey', 'x-api-key')
const value = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(true, 'auto', 'deep', 'exa-pro', 'text', 'https://example.com/a', ['https://example.com/a']),
  fc.record({ type: fc.constantFrom('text', 'object') }, { requiredKeys: [] })
)

/** The least each call needs, so that some drawn bodies are valid. */
const REQUIRED: Record<(typeof PATHS)[number], Record<string, unknown>> = {
  '/search': { query: 'q' },
  '/findSimilar': { url: 'https://example.com/a' },
  '/contents': { urls: ['https://example.com/a'] },
  '/answer': { query: 'q' },
}

/** A body of known fields with hostile values, sometimes with a key exa-js never sends. */
const bodyFor = (path: (typeof PATHS)[number]) =>
  fc.oneof(
    fc.jsonValue(),
    fc.dictionary(fc.constantFrom(...KNOWN[path]), value),
    fc
      .dictionary(fc.constantFrom(...KNOWN[path]), value, { maxKeys: 2 })
      .map((body) => ({ ...REQUIRED[path], ...body })),
    fc.tuple(fc.dictionary(fc.constantFrom(...KNOWN[path]), value), hostileKeys, value).map(([body, k, v]) => ({
      ...body,
      [k]: v,
    }))
  )

const call = fc.constantFrom(...PATHS).chain((path) => fc.tuple(fc.constant(path), bodyFor(path)))

const hasUnknownKey = (path: (typeof PATHS)[number], body: unknown) =>
  typeof body === 'object' &&
  body !== null &&
  !Array.isArray(body) &&
  Object.keys(body).some((k) => !KNOWN[path].includes(k))

async function expectOurError(res: Response) {
  expect(res.status).toBe(400)
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ tag: 'INVALID_REQUEST_BODY', requestId: res.headers.get('x-request-id') })
  expect(res.headers.has('x-upstream-request-id')).toBe(false)
}

describe('hostile input to the paid calls (fast-check)', { timeout: 180_000 }, () => {
  it('any body: never 5xx; refused in our shape and not forwarded, or forwarded exactly as sent', async () => {
    await sim.reset()
    await sim.streamInterval(0)
    const sent: { path: string; body: unknown }[] = []
    await fc.assert(
      fc.asyncProperty(call, async ([path, body]) => {
        const text = JSON.stringify(body)
        const res = await api(path, {
          method: 'POST',
          headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
          body: text,
        })
        expect(res.status).toBeLessThan(500)
        if (res.headers.has('x-upstream-request-id')) {
          expect(hasUnknownKey(path, body)).toBe(false)
          sent.push({ path, body: JSON.parse(text) })
          await res.body?.cancel()
        } else await expectOurError(res)
      }),
      { numRuns: RUNS }
    )
    const forwarded = (await sim.requests()).map((r) => ({ path: r.path, body: JSON.parse(r.body!) as unknown }))
    expect(forwarded).toEqual(sent)
    expect(sent.length).toBeGreaterThan(RUNS / 20)
  })

  it('any exa-beta value: forwarded verbatim when it is a list of beta names, else refused unforwarded', async () => {
    await sim.reset()
    const ascii = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 80,
    })
    const betaLike = fc
      .array(fc.stringMatching(/^[a-z0-9-]{1,20}$/), { minLength: 1, maxLength: 9 })
      .map((t) => t.join(','))
    const accepted: string[] = []
    await fc.assert(
      fc.asyncProperty(fc.oneof(ascii, betaLike), async (beta) => {
        const res = await api('/contents', {
          method: 'POST',
          headers: { 'x-api-key': key.key, 'content-type': 'application/json', 'exa-beta': beta },
          body: '{"urls":["https://example.com/a"]}',
        })
        expect(res.status).toBeLessThan(500)
        if (res.status === 200) accepted.push(beta.trim())
        else expect(res.status).toBe(400)
        await res.body?.cancel()
      }),
      { numRuns: RUNS }
    )
    const forwarded = (await sim.requests()).map((r) => r.headers['exa-beta'])
    expect(forwarded).toEqual(accepted)
    expect(accepted.length).toBeGreaterThan(RUNS / 20)
    expect(forwarded.every((b) => /^[a-z0-9-]{1,64}( *, *[a-z0-9-]{1,64}){0,7}$/.test(b!))).toBe(true)
  })
})
