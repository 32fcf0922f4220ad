import type { Context, Hono } from 'hono'

/**
 * Exa's paid calls (/search, /findSimilar, /contents, /answer) and the retired Research API, as
 * exa-js 2.23.0 and the surface map (../shared/exa-api-surface.md §4, §5, §6, §10.2) describe
 * them: results made up from the request (so tests can check what was asked), `requestId`,
 * `searchTime` and `costDollars` on every paid call, Exa's SSE chunk formats for the streams,
 * and research's 410. Authentication, recording and fault injection are app.ts's, as for imports.
 */

/** A stream the simulator served, for tests: how far it got and whether the client went away. */
export type StreamRecord = { path: string; chunks: number; sent: number; cancelled: boolean; done: boolean }

type SimEnv = { Variables: { requestId: string } }
type Body = Record<string, unknown>

/** The paths this module serves, for app.ts to put its Exa middleware in front of. */
export const CORE_PATHS = ['/search', '/findSimilar', '/contents', '/answer', '/research/*', '/research']

const PRICE = { search: 0.007, extraResult: 0.001, deep: 0.012, page: 0.001, answer: 0.005 }
const round = (dollars: number) => Math.round(dollars * 1e6) / 1e6
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const exaError = (c: Context<SimEnv>, status: number, error: string, tag: string) =>
  c.json({ requestId: c.var.requestId, error, tag }, status as 400)

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40) || 'page'

/** Which content types a request asked for (search's `contents`, or /contents' own fields). */
function requestedContents(options: unknown): ('text' | 'highlights' | 'summary')[] {
  if (!isObject(options)) return []
  return (['text', 'highlights', 'summary'] as const).filter((kind) => options[kind] !== undefined)
}

/**
 * One made-up page, with the contents asked for, shaped like exa-js's SearchResult. No `author`:
 * exa-js types it an optional string where Exa's spec allows null, and exa-js wins.
 */
function page(url: string, title: string, kinds: string[], index: number) {
  return {
    id: url,
    url,
    title,
    publishedDate: new Date(Date.UTC(2026, 4, 1 + index)).toISOString(),
    favicon: `${new URL(url).origin}/favicon.ico`,
    ...(kinds.includes('text') ? { text: `${title}. The simulated text of ${url}.` } : {}),
    ...(kinds.includes('highlights') ? { highlights: [`A highlight of ${title}.`] } : {}),
    ...(kinds.includes('summary') ? { summary: `A summary of ${title}.` } : {}),
  }
}

/** `costDollars` as exa-js types it: the total, and the search and contents parts. */
function cost(searchDollars: number, pages: number, kinds: string[]) {
  const contents = Object.fromEntries(kinds.map((kind) => [kind, round(pages * PRICE.page)]))
  return {
    total: round(searchDollars + kinds.length * pages * PRICE.page),
    ...(searchDollars ? { search: { neural: round(searchDollars) } } : {}),
    ...(kinds.length ? { contents } : {}),
  }
}

const searchPrice = (numResults: number, deep: boolean) =>
  (deep ? PRICE.deep : PRICE.search) + Math.max(0, numResults - 10) * PRICE.extraResult

const sse = (data: unknown) => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`

export function createCoreSimulator() {
  const streams: StreamRecord[] = []
  let streamIntervalMs = 20

  /** An SSE answer sent one chunk every `streamIntervalMs`, recording whether the client cancelled it. */
  function eventStream(c: Context<SimEnv>, chunks: string[]): Response {
    const record: StreamRecord = { path: c.req.path, chunks: chunks.length, sent: 0, cancelled: false, done: false }
    streams.push(record)
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (record.sent > 0) await sleep(streamIntervalMs)
        if (record.cancelled) return
        const chunk = chunks[record.sent]
        if (chunk === undefined) {
          record.done = true
          controller.close()
          return
        }
        record.sent++
        controller.enqueue(encoder.encode(chunk))
      },
      cancel() {
        record.cancelled = true
      },
    })
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': c.var.requestId },
    })
  }

  async function readBody(c: Context<SimEnv>): Promise<Body | undefined> {
    const body: unknown = await c.req.json().catch(() => undefined)
    return isObject(body) ? body : undefined
  }

  function results(query: string, numResults: number, kinds: string[], score = false) {
    return Array.from({ length: numResults }, (_, i) => {
      const url = `https://example.com/${slug(query)}/${i + 1}`
      return { ...page(url, `${query} (${i + 1})`, kinds, i), ...(score ? { score: round(0.9 - i * 0.01) } : {}) }
    })
  }

  /** The synthesized `output` of a search with an outputSchema. */
  function output(query: string, schema: Body, first: { url: string; title: string } | undefined) {
    const content =
      schema.type === 'object'
        ? Object.fromEntries(Object.keys(isObject(schema.properties) ? schema.properties : {}).map((k) => [k, query]))
        : `An answer to ${query}.`
    const citations = first ? [{ url: first.url, title: first.title }] : []
    return { content, grounding: [{ field: 'content', citations, confidence: 'high' }] }
  }

  function search(c: Context<SimEnv>, body: Body, options: { similar: boolean }) {
    const numResults = typeof body.numResults === 'number' ? body.numResults : 10
    if (!Number.isInteger(numResults) || numResults < 1 || numResults > 100) {
      return exaError(c, 400, 'numResults must be between 1 and 100', 'INVALID_NUM_RESULTS')
    }
    const query = options.similar ? `similar to ${String(body.url)}` : String(body.query)
    const deep = typeof body.type === 'string' && body.type.startsWith('deep')
    const kinds = requestedContents(body.contents)
    const found = results(query, numResults, kinds, options.similar)
    const costDollars = cost(searchPrice(numResults, deep), numResults, kinds)
    const synthesized = isObject(body.outputSchema) ? output(query, body.outputSchema, found[0]) : undefined
    if (!options.similar && body.stream === true && synthesized) {
      return eventStream(c, searchStream(c.var.requestId, found, synthesized, costDollars))
    }
    if (options.similar) c.header('deprecation', 'true')
    return c.json({
      requestId: c.var.requestId,
      results: found,
      ...(synthesized ? { output: synthesized } : {}),
      searchTime: 812.4,
      costDollars,
    })
  }

  /** /search's stream (§6 #1): results, text deltas, grounding, done with the cost, [DONE]. */
  function searchStream(requestId: string, found: unknown[], out: ReturnType<typeof output>, costDollars: unknown) {
    const text = typeof out.content === 'string' ? out.content : JSON.stringify(out.content)
    const deltas = text.split(/(?<= )/).map((delta) => ({
      type: 'text-delta',
      delta,
      choices: [{ index: 0, delta: { role: 'assistant', content: delta }, finish_reason: null }],
    }))
    return [
      sse({ type: 'results', requestId, results: found }),
      ...deltas.map(sse),
      sse({ type: 'grounding', grounding: out.grounding }),
      sse({ type: 'done', requestId, output: out, searchTime: 2100, costDollars }),
      sse('[DONE]'),
    ]
  }

  /** /answer's stream (§6 #2): OpenAI-style deltas, then the citations, then the cost. */
  function answerStream(requestId: string, answer: string, citations: unknown[]) {
    return [
      ...answer
        .split(/(?<= )/)
        .map((content) => sse({ choices: [{ index: 0, delta: { role: 'assistant', content } }] })),
      sse({ citations }),
      sse({ costDollars: { total: PRICE.answer }, requestId }),
    ]
  }

  function mount(app: Hono<SimEnv>) {
    app.get('/__sim/streams', (c) => c.json(streams))
    app.post('/__sim/stream-interval', async (c) => {
      streamIntervalMs = Number(((await c.req.json()) as { intervalMs: number }).intervalMs) || 0
      return c.json({ ok: true })
    })

    app.post('/search', async (c) => {
      const body = await readBody(c)
      if (!body || typeof body.query !== 'string' || !body.query) {
        return exaError(c, 400, 'query is required', 'INVALID_REQUEST_BODY')
      }
      return search(c, body, { similar: false })
    })

    app.post('/findSimilar', async (c) => {
      const body = await readBody(c)
      if (!body || typeof body.url !== 'string' || !body.url) {
        return exaError(c, 400, 'url is required', 'INVALID_REQUEST_BODY')
      }
      return search(c, body, { similar: true })
    })

    app.post('/contents', async (c) => {
      const body = await readBody(c)
      const urls = body?.urls
      if (!body || !Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) {
        return exaError(c, 400, 'urls must be a non-empty list of URLs', 'INVALID_URLS')
      }
      const kinds = requestedContents(body)
      const statuses = urls.map((id: string) => {
        // A URL the simulator cannot crawl: any that says so, or is not a URL at all.
        const failed = id.includes('unreachable') || !URL.canParse(id)
        return failed
          ? { id, status: 'error', error: { tag: 'CRAWL_NOT_FOUND', httpStatusCode: 404 } }
          : { id, status: 'success', source: 'cached' }
      })
      const ok = urls.filter((_, i) => statuses[i]!.status === 'success') as string[]
      return c.json({
        requestId: c.var.requestId,
        results: ok.map((url, i) => page(url, `Page ${slug(url)}`, kinds.length ? kinds : ['text'], i)),
        statuses,
        costDollars: cost(0, ok.length, kinds.length ? kinds : ['text']),
        searchTime: 140.2,
      })
    })

    app.post('/answer', async (c) => {
      const body = await readBody(c)
      if (!body || typeof body.query !== 'string' || !body.query) {
        return exaError(c, 400, 'query is required', 'INVALID_REQUEST_BODY')
      }
      const citations = results(body.query, 2, body.text === true ? ['text'] : []).map(
        ({ favicon: _favicon, ...citation }) => citation
      )
      const text = `The answer to ${body.query} is in the sources.`
      if (body.stream === true) return eventStream(c, answerStream(c.var.requestId, text, citations))
      const answer = isObject(body.outputSchema) ? { answer: text } : text
      return c.json({ requestId: c.var.requestId, answer, citations, costDollars: { total: PRICE.answer } })
    })

    // Retired: every research path answers 410, as Exa does.
    const retired = (c: Context<SimEnv>) =>
      exaError(c, 410, 'The Research API has been retired; use the Agent API (/agent/runs) instead', 'RESEARCH_RETIRED')
    app.all('/research/v1', retired)
    app.all('/research/v1/*', retired)
  }

  return {
    mount,
    streams,
    reset() {
      streams.length = 0
      streamIntervalMs = 20
    },
  }
}
