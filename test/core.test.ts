import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { expectError } from './support/errors'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'
import { TEST_EXA_API_KEY } from './support/secrets'

/**
 * The paid calls (search, findSimilar, contents, answer) and the retired Research API: forwarded
 * exactly as validated, Exa's answers relayed unchanged (costDollars included), streams passed
 * through chunk by chunk, nothing invalid forwarded, nothing audited.
 */
let key: IssuedKey

beforeAll(async () => {
  key = await issueKey(['search', 'contents', 'answer', 'research:read', 'research:write', 'audit:read'])
})
beforeEach(() => sim.reset())

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  api(path, jsonInit('POST', key.key, body, headers))
const get = (path: string) => api(path, { headers: { 'x-api-key': key.key, 'content-type': 'application/json' } })

/** What the simulator received: the one request forwarded, its body parsed. */
async function forwarded() {
  const requests = await sim.requests()
  expect(requests).toHaveLength(1)
  const [request] = requests
  return { ...request!, json: request!.body ? (JSON.parse(request!.body) as unknown) : undefined }
}

/** Reads a response chunk by chunk, noting when each arrived. */
async function readChunks(res: Response) {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const chunks: { text: string; at: number }[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks
    chunks.push({ text: decoder.decode(value), at: Date.now() })
  }
}

/** The `data:` payloads of an SSE text. */
const events = (text: string) =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((event) => event.replace(/^data: /, ''))

describe.each([
  ['/search', { query: 'gateway design', numResults: 3, contents: { text: true, highlights: true } }],
  ['/findSimilar', { url: 'https://example.com/a', numResults: 2, excludeSourceDomain: true }],
  ['/contents', { urls: ['https://example.com/a', 'https://example.com/b'], summary: { query: 'what' } }],
  ['/answer', { query: 'what is a gateway', stream: false, text: true, model: 'exa' }],
])('POST %s', (path, body) => {
  it("forwards the validated body with the Exa key only, and relays Exa's answer unchanged, costDollars included", async () => {
    const res = await post(path, body, { 'x-client-secret': 'not-forwarded', cookie: 'session=1' })
    expect(res.status).toBe(200)
    const text = await res.text()
    const answer = JSON.parse(text) as { costDollars: { total: number }; requestId: string }
    expect(answer.costDollars.total).toBeGreaterThan(0)
    expect(answer.requestId).toBe(res.headers.get('x-upstream-request-id'))
    const request = await forwarded()
    expect(request).toMatchObject({ method: 'POST', path, json: body })
    expect(request.headers['x-api-key']).toBe(TEST_EXA_API_KEY)
    expect(request.headers['x-client-secret']).toBeUndefined()
    expect(request.headers.cookie).toBeUndefined()
    expect(request.headers.authorization).toBeUndefined()
    expect(text).not.toContain(TEST_EXA_API_KEY)
  })

  it('refuses an unknown field and a wrong type with our 400, forwarding nothing', async () => {
    const unknown = await expectError(await post(path, { ...body, surprise: 1 }), 400, 'INVALID_REQUEST_BODY')
    expect(unknown.error).toMatch(/surprise/)
    await expectError(await post(path, 'just a string'), 400, 'INVALID_REQUEST_BODY')
    await expectError(await post(path, {}), 400, 'INVALID_REQUEST_BODY')
    expect(await sim.requests()).toEqual([])
  })

  it("passes Exa's error shapes through with upstream's status, never retrying", async () => {
    await sim.fault({
      kind: 'status',
      status: 402,
      body: { requestId: 'r1', error: 'You have exceeded your credits', tag: 'NO_MORE_CREDITS' },
    })
    const credits = await post(path, body)
    expect(credits.status).toBe(402)
    expect(await credits.json()).toEqual({
      requestId: 'r1',
      error: 'You have exceeded your credits',
      tag: 'NO_MORE_CREDITS',
    })
    await sim.fault({
      kind: 'status',
      status: 503,
      body: { error: { type: 'SERVER_ERROR', code: 'SERVER_ERROR', message: 'x' } },
    })
    const overloaded = await post(path, body)
    expect(overloaded.status).toBe(503)
    expect(await overloaded.json()).toEqual({ error: { type: 'SERVER_ERROR', code: 'SERVER_ERROR', message: 'x' } })
    expect(await sim.requests()).toHaveLength(2)
  })
})

describe('validation follows exa-js 2.23.0', () => {
  it.each([
    ['/search', { query: 'q', type: 'neural', additionalQueries: ['x'] }, 'additionalQueries'],
    ['/search', { query: 'q', type: 'sideways' }, 'type'],
    ['/search', { query: 'q', contents: { text: false } }, 'contents.text'],
    ['/search', { query: 'q', numResults: 2.5 }, 'numResults'],
    ['/search', { query: '' }, 'query'],
    ['/search', { query: 'q', type: 'deep', additionalQueries: ['1', '2', '3', '4', '5', '6'] }, 'additionalQueries'],
    ['/search', { query: 'q', outputSchema: { type: 'table' } }, 'outputSchema'],
    ['/contents', { urls: [] }, 'urls'],
    ['/contents', { ids: ['a'] }, 'ids'],
    ['/contents', { urls: ['https://a.example'], livecrawl: 'sometimes' }, 'livecrawl'],
    ['/answer', { query: 'q', model: 'exa-pro' }, 'model'],
    ['/answer', { query: 'q', stream: 'yes' }, 'stream'],
    ['/findSimilar', { url: 'https://a.example', additionalQueries: ['x'] }, 'additionalQueries'],
  ])('POST %s %j is refused naming %s', async (path, body, field) => {
    const refused = await expectError(await post(path, body), 400, 'INVALID_REQUEST_BODY')
    // The field is the issue's path, or named in its message (an unknown key).
    expect(JSON.stringify(refused.issues)).toContain(field)
    expect(await sim.requests()).toEqual([])
  })

  it('accepts what exa-js sends: deep search with additionalQueries, a streamed exa-pro answer', async () => {
    const deep = await post('/search', {
      query: 'q',
      type: 'deep',
      additionalQueries: ['a'],
      contents: { text: { maxCharacters: 10000 } },
    })
    expect(deep.status).toBe(200)
    const pro = await post('/answer', { query: 'q', stream: true, text: false, model: 'exa-pro' })
    expect(pro.status).toBe(200)
    await pro.body!.cancel()
  })

  it('refuses a body over the endpoint limit (64 KiB for search, 256 KiB for contents) unread', async () => {
    await expectError(await post('/search', { query: 'x'.repeat(70 * 1024) }), 413, 'PAYLOAD_TOO_LARGE')
    const url = (i: number) => `https://example.com/${'p'.repeat(200)}/${i}`
    const urls = Array.from({ length: 400 }, (_, i) => url(i))
    expect((await post('/contents', { urls, text: { maxCharacters: 1 } })).status).toBe(200)
    const more = Array.from({ length: 1300 }, (_, i) => url(i))
    await expectError(await post('/contents', { urls: more }), 413, 'PAYLOAD_TOO_LARGE')
    expect(await sim.requests()).toHaveLength(1)
  })
})

describe('exa-beta', () => {
  it('is forwarded on search and contents, and only there', async () => {
    const beta = 'dynamic-highlights-2026-08-28'
    expect(
      (await post('/search', { query: 'q', contents: { highlights: { dynamic: true } } }, { 'exa-beta': beta })).status
    ).toBe(200)
    expect((await post('/contents', { urls: ['https://a.example'] }, { 'exa-beta': beta })).status).toBe(200)
    expect((await post('/answer', { query: 'q' }, { 'exa-beta': beta })).status).toBe(200)
    const [search, contents, answer] = await sim.requests()
    expect(search!.headers['exa-beta']).toBe(beta)
    expect(contents!.headers['exa-beta']).toBe(beta)
    expect(answer!.headers['exa-beta']).toBeUndefined()
  })

  it('is refused when it is not a list of beta names', async () => {
    const refused = await expectError(
      await post('/search', { query: 'q' }, { 'exa-beta': 'x\ty; evil=1' }),
      400,
      'INVALID_PARAMS'
    )
    expect(refused.error).toContain('exa-beta')
    expect(await sim.requests()).toEqual([])
  })
})

describe('streams', () => {
  it('/answer with stream: true is relayed chunk by chunk as Exa sends it, the cost in its last chunk', async () => {
    await sim.streamInterval(60)
    const started = Date.now()
    const res = await post('/answer', { query: 'what is streaming', stream: true })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const chunks = await readChunks(res)
    const [stream] = await sim.streams()
    // Nothing merged: no read holds the end of one event and the start of the next (the transport
    // may cut an event in two, never join two), and each event arrived when Exa sent it, the
    // first long before Exa had sent the last.
    const text = chunks.map((chunk) => chunk.text).join('')
    expect(events(text)).toHaveLength(stream!.chunks)
    expect(chunks.every((chunk) => !chunk.text.slice(0, -2).includes('\n\n'))).toBe(true)
    expect(chunks[0]!.at - started).toBeLessThan(chunks.at(-1)!.at - started - 100)
    const payloads = events(text).map((data) => JSON.parse(data) as Record<string, unknown>)
    expect(payloads[0]).toMatchObject({ choices: [{ index: 0, delta: { role: 'assistant' } }] })
    expect(payloads.at(-1)).toMatchObject({ costDollars: { total: 0.005 } })
    expect(stream).toMatchObject({ path: '/answer', done: true, cancelled: false })
  })

  it('/search with stream and outputSchema is relayed as SSE ending in done and [DONE]', async () => {
    const res = await post('/search', { query: 'streamed search', stream: true, outputSchema: { type: 'text' } })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const data = events((await readChunks(res)).map((chunk) => chunk.text).join(''))
    expect(JSON.parse(data[0]!)).toMatchObject({ type: 'results' })
    expect(JSON.parse(data.at(-2)!)).toMatchObject({ type: 'done', costDollars: { total: expect.any(Number) } })
    expect(data.at(-1)).toBe('[DONE]')
  })

  it('/search with stream but no outputSchema answers JSON, as Exa does', async () => {
    const res = await post('/search', { query: 'q', stream: true })
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toMatchObject({ results: expect.any(Array), costDollars: { total: expect.any(Number) } })
  })
  // A client going away cancelling Exa's stream is checked end to end (test/e2e/exa-js-core.e2e.ts):
  // here miniflare's outbound service reads the simulator's stream to its end whatever happens.
})

describe('from a browser', () => {
  it('a browser key reads a streamed answer (CORS), and a preflight allows exa-beta', async () => {
    const origin = 'https://search.app.example'
    const browser = await issueKey(['answer', 'search'], { origins: [origin] })
    const res = await api('/answer', jsonInit('POST', browser.key, { query: 'q', stream: true }, { origin }))
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    await res.body!.cancel()
    const preflight = await api('/search', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'exa-beta' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toContain('exa-beta')
  })
})

describe('a paid call is made once', () => {
  it('Exa too slow: 504, dropped: 502, not JSON: 502; never retried', async () => {
    await sim.fault({ kind: 'latency', latencyMs: 1500 })
    await expectError(await post('/search', { query: 'slow' }), 504, 'UPSTREAM_TIMEOUT')
    await sim.fault({ kind: 'drop' })
    expect((await post('/answer', { query: 'dropped' })).status).toBeGreaterThanOrEqual(500)
    await sim.fault({ kind: 'notJson', status: 503 })
    await expectError(await post('/contents', { urls: ['https://a.example'] }), 503, 'UPSTREAM_ERROR')
    expect((await sim.requests()).map((r) => r.path)).toEqual(['/search', '/answer', '/contents'])
  })

  it('the timeout bounds the wait for the first byte only: a stream may outlast it', async () => {
    // UPSTREAM_TIMEOUT_MS is 1000 in the tests; this stream takes about 1.5 s.
    await sim.streamInterval(120)
    const res = await post('/answer', { query: 'a stream that lasts longer than the upstream timeout', stream: true })
    expect(res.status).toBe(200)
    const text = (await readChunks(res)).map((chunk) => chunk.text).join('')
    expect(JSON.parse(events(text).at(-1)!)).toMatchObject({ costDollars: { total: 0.005 } })
    expect((await sim.streams())[0]).toMatchObject({ done: true, cancelled: false })
  })
})

describe('research (retired upstream)', () => {
  it.each([
    ['POST', '/research/v1', { instructions: 'Summarise the gateway', model: 'exa-research-fast' }],
    ['GET', '/research/v1?limit=10', undefined],
    ['GET', '/research/v1/r_123?stream=true&events=true', undefined],
    ['GET', '/research/v1/r_123?stream=false', undefined],
  ])("%s %s reaches Exa, and Exa's 410 reaches the caller unchanged", async (method, path, body) => {
    const res = method === 'POST' ? await post(path, body) : await get(path)
    expect(res.status).toBe(410)
    expect(await res.json()).toMatchObject({ tag: 'RESEARCH_RETIRED', error: expect.stringContaining('retired') })
    const request = await forwarded()
    expect(request.path + request.query).toBe(path)
  })

  it('validates before forwarding: body, id and query', async () => {
    await expectError(await post('/research/v1', { instructions: 'x', model: 'gpt' }), 400, 'INVALID_REQUEST_BODY')
    await expectError(await get('/research/v1/a.b'), 400, 'INVALID_PARAMS')
    await expectError(await get('/research/v1/r_1?stream=maybe'), 400, 'INVALID_PARAMS')
    await expectError(await get('/research/v1?limit=0'), 400, 'INVALID_PARAMS')
    expect(await sim.requests()).toEqual([])
  })
})

it('a paid call leaves no audit row', async () => {
  await post('/search', { query: 'q' })
  const res = await api('/audit/events', { headers: { 'x-api-key': key.key } })
  const { data } = (await res.json()) as { data: { keyId: string }[] }
  expect(data.filter((row) => row.keyId === key.id)).toEqual([])
})
