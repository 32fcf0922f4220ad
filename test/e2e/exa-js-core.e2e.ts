import Exa, { DYNAMIC_HIGHLIGHTS_BETA } from 'exa-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exaError, startGateway, type Gateway } from './harness.ts'

/**
 * exa-js 2.23.0, unchanged, calling the paid endpoints and the retired Research API through a
 * real `wrangler dev` gateway whose upstream is the Exa simulator.
 */
let gateway: Gateway
let exa: Exa
let key: string

beforeAll(async () => {
  gateway = await startGateway()
  key = (await gateway.issueKey(['search', 'contents', 'answer', 'research:read', 'research:write'])).key
  exa = new Exa(key, gateway.url)
})
afterAll(async () => {
  await gateway?.stop()
})

/** The last request the simulator received, its body parsed. */
function lastRequest() {
  const request = gateway.simulator.requests.at(-1)!
  return { ...request, json: JSON.parse(request.body ?? 'null') as Record<string, unknown> }
}

const streamInterval = (intervalMs: number) =>
  fetch(`${gateway.simulatorUrl}/__sim/stream-interval`, { method: 'POST', body: JSON.stringify({ intervalMs }) })

describe('exa-js paid calls through the gateway', () => {
  it('search: results, requestId and costDollars as Exa answers them; betas go as exa-beta', async () => {
    const found = await exa.search('edge gateways', {
      numResults: 3,
      contents: { highlights: { dynamic: true } },
      betas: [DYNAMIC_HIGHLIGHTS_BETA],
    })
    expect(found.results).toHaveLength(3)
    expect(found.results[0]).toMatchObject({ url: expect.stringMatching(/^https:/), highlights: expect.any(Array) })
    expect(found.costDollars?.total).toBeGreaterThan(0)
    expect(found.requestId).toMatch(/^req_/)
    expect(found.searchTime).toEqual(expect.any(Number))
    const request = lastRequest()
    expect(request.json).toEqual({ query: 'edge gateways', numResults: 3, contents: { highlights: { dynamic: true } } })
    expect(request.headers['exa-beta']).toBe(DYNAMIC_HIGHLIGHTS_BETA)
    expect(request.headers['user-agent']).not.toContain('exa-node')
  })

  it('search with exa-js defaults (contents text 10,000 characters) and a deep search with outputSchema', async () => {
    const plain = await exa.search('defaults')
    expect(plain.results[0]!.text).toEqual(expect.any(String))
    expect(lastRequest().json).toEqual({ query: 'defaults', contents: { text: { maxCharacters: 10000 } } })
    const deep = await exa.search('deep', {
      type: 'deep',
      additionalQueries: ['deeper'],
      outputSchema: { type: 'object', properties: { name: { type: 'string' } } },
      contents: false as never,
    })
    expect(deep.output).toMatchObject({ content: { name: 'deep' }, grounding: expect.any(Array) })
  })

  it('findSimilar: scored results with costDollars', async () => {
    const similar = await exa.findSimilar('https://example.com/a', { numResults: 2, excludeSourceDomain: true })
    expect(similar.results).toHaveLength(2)
    expect(similar.results[0]!.score).toEqual(expect.any(Number))
    expect(similar.costDollars?.total).toBeGreaterThan(0)
  })

  it('getContents: results and per-URL statuses, a failed URL in statuses with 200', async () => {
    const pages = await exa.getContents(['https://example.com/a', 'https://unreachable.example/x'], {
      summary: { query: 'what' },
    })
    expect(pages.results).toHaveLength(1)
    expect(pages.results[0]!.summary).toEqual(expect.any(String))
    expect(pages.statuses).toEqual([
      { id: 'https://example.com/a', status: 'success', source: 'cached' },
      { id: 'https://unreachable.example/x', status: 'error', error: { tag: 'CRAWL_NOT_FOUND', httpStatusCode: 404 } },
    ])
    expect(pages.costDollars?.total).toBeGreaterThan(0)
  })

  it('answer: the answer, citations and costDollars', async () => {
    const answer = await exa.answer('what is a gateway', { text: true })
    expect(answer.answer).toEqual(expect.stringContaining('what is a gateway'))
    expect(answer.citations.length).toBeGreaterThan(0)
    expect(answer.costDollars?.total).toBe(0.005)
    expect(lastRequest().json).toEqual({ query: 'what is a gateway', stream: false, text: true, model: 'exa' })
  })

  it('streamAnswer: content chunks as they come, then the citations', async () => {
    await streamInterval(30)
    const chunks = []
    const started = Date.now()
    let firstAt = 0
    for await (const chunk of exa.streamAnswer('how do streams work', { model: 'exa-pro' })) {
      firstAt ||= Date.now() - started
      chunks.push(chunk)
    }
    const total = Date.now() - started
    const text = chunks.map((chunk) => chunk.content ?? '').join('')
    expect(text).toBe('The answer to how do streams work is in the sources.')
    expect(chunks.some((chunk) => chunk.citations?.length)).toBe(true)
    // Not buffered: the first chunk came long before the stream ended.
    expect(firstAt).toBeLessThan(total - 150)
  })

  it('streamSearch with an outputSchema: the synthesized text as it comes', async () => {
    await streamInterval(5)
    let text = ''
    for await (const chunk of exa.streamSearch('streamed', { outputSchema: { type: 'text' } }))
      text += chunk.content ?? ''
    expect(text).toBe('An answer to streamed.')
  })

  it('a client that goes away cancels the stream upstream', async () => {
    // exa-js's generator only releases its reader when left early (it never cancels the body), so
    // the client here is a plain fetch that reads one chunk and cancels.
    await streamInterval(100)
    const before = gateway.simulator.streams.length
    const res = await fetch(`${gateway.url}/answer`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'a long answer that the reader abandons after its first words', stream: true }),
    })
    const reader = res.body!.getReader()
    expect((await reader.read()).value).toBeDefined()
    await reader.cancel()
    await expect
      .poll(() => gateway.simulator.streams[before], { timeout: 5000 })
      .toMatchObject({ cancelled: true, done: false })
  })

  it("Exa's errors reach exa-js unchanged: a 402 with Exa's message and tag", async () => {
    gateway.simulator.faults.push({
      kind: 'status',
      status: 402,
      body: { requestId: 'r402', error: 'You have exceeded your credits', tag: 'NO_MORE_CREDITS' },
    })
    const error = await exaError(exa.search('out of credits'))
    expect(error).toMatchObject({ statusCode: 402, message: 'You have exceeded your credits', requestId: 'r402' })
  })

  it('our own refusal of an invalid body reads well in exa-js', async () => {
    const error = await exaError(exa.search('q', { numResults: 2.5 }))
    expect(error.statusCode).toBe(400)
    expect(error.message).toContain('numResults')
  })
})

describe('exa-js research (retired upstream) through the gateway', () => {
  it("create, get and list reach Exa, and Exa's 410 RESEARCH_RETIRED reaches exa-js", async () => {
    for (const call of [
      () => exa.research.create({ instructions: 'Summarise edge gateways' }),
      () => exa.research.get('r_123'),
      () => exa.research.list({ limit: 5 }),
    ]) {
      const error = await exaError(call())
      expect(error.statusCode).toBe(410)
      expect(error.message).toContain('retired')
    }
    const paths = gateway.simulator.requests.slice(-3).map((r) => r.path + r.query)
    expect(paths).toEqual(['/research/v1', '/research/v1/r_123?stream=false', '/research/v1?limit=5'])
  })

  it('get with stream: true relays the 410 to the stream reader', async () => {
    const events = await exa.research.get('r_123', { stream: true })
    const seen = []
    for await (const event of events) seen.push(event)
    expect(lastRequest().query).toBe('?stream=true')
    expect(seen).toEqual([])
  })
})
