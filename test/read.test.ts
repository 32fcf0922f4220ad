import { beforeEach, describe, expect, it } from 'vitest'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey(['imports:read'])
})

// exa-js sends content-type: application/json on every GET, with no body.
const get = (path: string, k = key.key) =>
  api(path, { headers: { 'x-api-key': k, 'content-type': 'application/json' } })

type Page = { data: { id: string }[]; hasMore: boolean; nextCursor: string | null }

describe('GET /websets/v0/imports/:id', () => {
  it("answers Exa's JSON byte for byte, with Exa's request id", async () => {
    const item = await sim.seed({ title: 'Q2 leads', entity: null })
    const res = await get(`/websets/v0/imports/${item.id}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(JSON.stringify(item))
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('x-request-id')).toMatch(/^req_/)
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    expect(res.headers.get('x-upstream-request-id')).not.toBe(res.headers.get('x-request-id'))
  })

  it('refuses a bad id (400), a missing key (401) and a key without imports:read (403), calling nobody', async () => {
    expect((await get('/websets/v0/imports/a%2Fb')).status).toBe(400)
    expect((await api('/websets/v0/imports/import_x')).status).toBe(401)
    const writer = await issueKey(['imports:write'])
    const forbidden = await get('/websets/v0/imports/import_x', writer.key)
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toMatchObject({ tag: 'FORBIDDEN', error: expect.stringContaining('imports:read') })
    expect(await sim.requests()).toEqual([])
  })

  it("passes Exa's 404 and 500 through with their bodies; a non-JSON answer becomes our 502 body", async () => {
    const missing = await get('/websets/v0/imports/import_missing')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ tag: 'NOT_FOUND', error: 'Import import_missing not found' })
    expect(missing.headers.get('x-upstream-request-id')).toMatch(/^req_/)

    await sim.fault({ kind: 'status', status: 500, body: { error: 'boom', tag: 'INTERNAL' } })
    const failing = await get('/websets/v0/imports/import_x')
    expect(failing.status).toBe(500)
    expect(await failing.json()).toEqual({ error: 'boom', tag: 'INTERNAL' })

    await sim.fault({ kind: 'notJson', status: 200 })
    const html = await get('/websets/v0/imports/import_x')
    expect(html.status).toBe(502)
    expect(await html.json()).toMatchObject({
      tag: 'UPSTREAM_ERROR',
      error: expect.stringContaining('without a JSON body'),
    })
  })
})

describe('GET /websets/v0/imports', () => {
  it('walks two pages with the cursor passed through, and nextCursor null on the last page', async () => {
    const seeded = await Promise.all([1, 2, 3].map(() => sim.seed()))
    const first = await get('/websets/v0/imports?limit=2')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    const page1 = (await first.json()) as Page
    expect(page1.data).toHaveLength(2)
    expect(page1.hasMore).toBe(true)
    expect(page1.nextCursor).toEqual(expect.any(String))

    const second = await get(`/websets/v0/imports?limit=2&cursor=${encodeURIComponent(page1.nextCursor!)}`)
    const text = await second.text()
    const page2 = JSON.parse(text) as Page
    expect(page2.data).toHaveLength(1)
    expect(page2.hasMore).toBe(false)
    expect(text).toContain('"nextCursor":null')
    expect([...page1.data, ...page2.data].map((i) => i.id).sort()).toEqual(seeded.map((i) => i.id).sort())

    const queries = (await sim.requests({ method: 'GET' })).map((r) => new URLSearchParams(r.query))
    expect(queries.map((q) => q.get('limit'))).toEqual(['2', '2'])
    expect(queries[1]!.get('cursor')).toBe(page1.nextCursor)
  })

  it('forwards no query when none is given', async () => {
    const res = await get('/websets/v0/imports')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ data: [], hasMore: false, nextCursor: null })
    expect((await sim.requests())[0]).toMatchObject({ path: '/websets/v0/imports', query: '' })
  })

  const badQueries: [string, string, string][] = [
    ['limit=0', 'limit', 'from 1 to 200'],
    ['limit=201', 'limit', 'from 1 to 200'],
    ['limit=abc', 'limit', 'from 1 to 200'],
    ['limit=1.5', 'limit', 'from 1 to 200'],
    ['limit=', 'limit', 'from 1 to 200'],
    ['limit=1&limit=2', 'limit', ''],
    ['cursor=', 'cursor', 'must not be empty'],
    ['webset_id=ws_1', '', 'webset_id'],
  ]
  for (const [query, path, message] of badQueries) {
    it(`refuses ?${query} with 400 INVALID_PARAMS, calling nobody`, async () => {
      const res = await get(`/websets/v0/imports?${query}`)
      expect(res.status).toBe(400)
      const body = (await res.json()) as { tag: string; error: string; issues: { path: string }[] }
      expect(body.tag).toBe('INVALID_PARAMS')
      expect(body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))
      expect(body.error).toContain(message)
      expect(await sim.requests()).toEqual([])
    })
  }

  it('refuses a missing key (401) and a key without imports:read (403)', async () => {
    expect((await api('/websets/v0/imports')).status).toBe(401)
    const writer = await issueKey(['imports:write'])
    expect((await get('/websets/v0/imports', writer.key)).status).toBe(403)
    expect(await sim.requests()).toEqual([])
  })

  it("passes Exa's errors through: a cursor it does not know, and a 429 with retry-after", async () => {
    const bad = await get('/websets/v0/imports?cursor=not-a-cursor')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'Invalid cursor', tag: 'INVALID_REQUEST' })

    await sim.fault({
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: 'slow down', tag: 'RATE_LIMITED' },
    })
    const limited = await get('/websets/v0/imports')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBe('7')
    expect(await limited.json()).toEqual({ error: 'slow down', tag: 'RATE_LIMITED' })
  })
})
