import { env } from 'cloudflare:workers'
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { usageWriteStats } from '../src/db/usage'
import { ulid } from '../src/lib/ids'
import { eventually } from './support/eventually'
import { api, jsonInit, withKey } from './support/gateway'
import { getKey, type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

/**
 * Usage rows: one per call forwarded to Exa (paid or not, answered or failed), written after the
 * response, with Exa's costDollars.total when it gave one (null otherwise), read from a stream's
 * chunks as they pass.
 */
let key: IssuedKey

type Row = {
  id: string
  key_id: string | null
  actor: string
  family: string
  route: string
  status: number | null
  request_id: string
  upstream_request_id: string | null
  cost_micros: number | null
  duration_ms: number
  at: number
}

const rowsOf = async (keyId: string) =>
  (await env.DB.prepare('SELECT * FROM usage_events WHERE key_id = ? ORDER BY id').bind(keyId).all<Row>()).results

const rowsFor = (keyId: string, n: number) =>
  eventually(
    () => rowsOf(keyId),
    (rows) => rows.length >= n
  )

beforeAll(async () => {
  key = await issueKey(['search', 'contents', 'answer', 'imports:read', 'websets:read'])
})
beforeEach(async () => {
  await sim.reset()
  await env.DB.prepare('DELETE FROM usage_events WHERE key_id = ?').bind(key.id).run()
})

const post = (path: string, body: unknown) => api(path, jsonInit('POST', key.key, body))

describe('usage rows', () => {
  it("a paid call: key, actor, family, route, status, Exa's request id and costDollars.total", async () => {
    const res = await post('/search', { query: 'gateways', numResults: 3 })
    const answer = (await res.json()) as { costDollars: { total: number }; requestId: string }
    const [row] = await rowsFor(key.id, 1)
    expect(row).toMatchObject({
      key_id: key.id,
      actor: key.name,
      family: 'search',
      route: 'POST /search',
      status: 200,
      upstream_request_id: answer.requestId,
      request_id: res.headers.get('x-request-id'),
      cost_micros: Math.round(answer.costDollars.total * 1e6),
    })
    expect(row!.duration_ms).toBeGreaterThanOrEqual(0)
    expect(Math.abs(row!.at - Date.now())).toBeLessThan(10_000)
  })

  it('a free read: a row with no cost', async () => {
    const imported = await sim.seed()
    const res = await api(`/websets/v0/imports/${imported.id}`, withKey(key.key))
    expect(res.status).toBe(200)
    const [row] = await rowsFor(key.id, 1)
    expect(row).toMatchObject({
      family: 'imports',
      route: 'GET /websets/v0/imports/:id',
      status: 200,
      cost_micros: null,
    })
  })

  it("a streamed answer: the cost read from the stream's last chunks as they pass", async () => {
    const res = await post('/answer', { query: 'what is streaming', stream: true })
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const text = await res.text()
    const cost = [...text.matchAll(/"costDollars":\{"total":([0-9.]+)/g)].pop()![1]
    const [row] = await rowsFor(key.id, 1)
    expect(row).toMatchObject({ route: 'POST /answer', status: 200, cost_micros: Math.round(Number(cost) * 1e6) })
  })

  it("a failed call: Exa's error status and no cost; a network failure: no status", async () => {
    await sim.fault({
      kind: 'status',
      status: 402,
      body: { requestId: 'r1', error: 'no credits', tag: 'NO_MORE_CREDITS' },
    })
    expect((await post('/contents', { urls: ['https://example.com/a'] })).status).toBe(402)
    await sim.fault({ kind: 'drop' })
    expect((await post('/search', { query: 'q' })).status).toBeGreaterThanOrEqual(500)
    const rows = await rowsFor(key.id, 2)
    expect(rows.map((row) => [row.route, row.status, row.cost_micros])).toEqual([
      ['POST /contents', 402, null],
      ['POST /search', expect.any(Number), null],
    ])
  })

  it('nothing forwarded, no row: a call refused by validation', async () => {
    expect((await post('/search', { surprise: 1 })).status).toBe(400)
    await post('/search', { query: 'q' })
    const rows = await rowsFor(key.id, 1)
    expect(rows).toHaveLength(1)
  })

  it('concurrent calls: every row written, none waiting for another', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post('/search', { query: `c${i}` })))
    expect(answers.map((res) => res.status)).toEqual(Array(20).fill(200))
    expect(await rowsFor(key.id, 20)).toHaveLength(20)
    expect(usageWriteStats().buffered).toBe(0)
  })

  const hideTable = () => env.DB.prepare('ALTER TABLE usage_events RENAME TO usage_events_away').run()
  const restoreTable = () => env.DB.prepare('ALTER TABLE usage_events_away RENAME TO usage_events').run()

  it('a failed flush is retried: the row is written once D1 answers again', async () => {
    const before = usageWriteStats()
    await hideTable()
    try {
      const res = await api('/search', jsonInit('POST', key.key, { query: 'D1 away' }), { settle: false })
      expect(res.status).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 30)) // the first attempt fails, the retry is at 100 ms
    } finally {
      await restoreTable()
    }
    expect(await rowsFor(key.id, 1)).toHaveLength(1)
    expect(usageWriteStats().retries).toBeGreaterThan(before.retries)
    expect(usageWriteStats().unwritten).toBe(before.unwritten)
  })

  it('D1 down through every retry: the response is unaffected, the rows counted and logged (no secret)', async () => {
    const before = usageWriteStats()
    const errors = vi.spyOn(console, 'error')
    await hideTable()
    let res: Response
    try {
      res = await post('/search', { query: 'while D1 refuses' }) // waits for the flush and its retries
    } finally {
      await restoreTable()
    }
    expect(res.status).toBe(200)
    expect(usageWriteStats().unwritten).toBe(before.unwritten + 1)
    const lines = errors.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('usage rows not'))
    errors.mockRestore()
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!).rows).toEqual([
      expect.objectContaining({ keyId: key.id, route: 'POST /search', requestId: res.headers.get('x-request-id') }),
    ])
    expect(lines[0]).not.toContain(key.key)
    expect(await rowsOf(key.id)).toHaveLength(0)
  })
})

describe('GET /usage', () => {
  let reader: IssuedKey
  let a: IssuedKey
  let b: IssuedKey
  beforeAll(async () => {
    reader = await issueKey(['usage:read'])
    a = await issueKey(['search', 'answer'])
    b = await issueKey(['search'])
  })

  const usage = async (query: string, credential = reader.key) => {
    const res = await api(`/usage?${query}`, withKey(credential))
    return { status: res.status, body: (await res.json()) as { data: Record<string, unknown>[]; [k: string]: unknown } }
  }
  const spend = async (k: IssuedKey, path: string, body: unknown) => {
    const res = await api(path, jsonInit('POST', k.key, body))
    const json = (await res.json()) as { costDollars: { total: number } }
    return Math.round(json.costDollars.total * 1e6)
  }

  it('sums calls and costDollars.total exactly per key, endpoint and day', async () => {
    const costs = {
      a: [
        await spend(a, '/search', { query: 'one', numResults: 12 }),
        await spend(a, '/search', { query: 'two' }),
        await spend(a, '/answer', { query: 'three' }),
      ],
      b: [await spend(b, '/search', { query: 'four', numResults: 3 })],
    }
    await rowsFor(a.id, 3)
    await rowsFor(b.id, 1)
    const today = new Date().toISOString().slice(0, 10)
    const byKey = await usage(`groupBy=key&since=${today}`)
    expect(byKey.status).toBe(200)
    const of = (id: string) => byKey.body.data.find((row) => row.keyId === id)
    const sum = (list: number[]) => list.reduce((x, y) => x + y, 0)
    expect(of(a.id)).toMatchObject({ actor: a.name, calls: 3, pricedCalls: 3, costMicros: sum(costs.a) })
    expect(of(a.id)!.costUsd).toBe(sum(costs.a) / 1e6)
    expect(of(b.id)).toMatchObject({ calls: 1, costMicros: sum(costs.b) })

    const detailed = await usage(`groupBy=key,endpoint,day&keyId=${a.id}`)
    expect(detailed.body.data).toEqual([
      expect.objectContaining({
        day: today,
        keyId: a.id,
        endpoint: 'POST /answer',
        family: 'answer',
        calls: 1,
        costMicros: costs.a[2],
      }),
      expect.objectContaining({
        day: today,
        keyId: a.id,
        endpoint: 'POST /search',
        family: 'search',
        calls: 2,
        costMicros: costs.a[0]! + costs.a[1]!,
      }),
    ])
    const total = await usage(`keyId=${b.id}`)
    expect(total.body.data).toEqual([{ calls: 1, pricedCalls: 1, costMicros: costs.b[0], costUsd: costs.b[0]! / 1e6 }])
  })

  it('filters by UTC day, since and until included', async () => {
    const k = await issueKey(['search'])
    const at = (day: string, hour: number) => Date.parse(`${day}T${String(hour).padStart(2, '0')}:30:00Z`)
    const insert = env.DB.prepare(
      'INSERT INTO usage_events (id, key_id, actor, family, route, status, request_id, cost_micros, duration_ms, at) VALUES (?, ?, ?, ?, ?, 200, ?, ?, 5, ?)'
    )
    const rows = [
      ['2026-01-30', 23, 1000],
      ['2026-01-31', 0, 2000],
      ['2026-01-31', 23, null],
      ['2026-02-01', 0, 4000],
    ] as const
    await env.DB.batch(
      rows.map(([day, hour, cost], i) =>
        insert.bind(ulid(at(day, hour)), k.id, k.name, 'search', 'POST /search', `req_${i}`, cost, at(day, hour))
      )
    )
    const days = await usage(`groupBy=day&keyId=${k.id}&since=2026-01-31&until=2026-02-01`)
    expect(days.body.data).toEqual([
      { day: '2026-01-31', calls: 2, pricedCalls: 1, costMicros: 2000, costUsd: 0.002 },
      { day: '2026-02-01', calls: 1, pricedCalls: 1, costMicros: 4000, costUsd: 0.004 },
    ])
    const exported = await api(
      `/usage/export?keyId=${k.id}&since=2026-01-30&until=2026-01-31&format=csv`,
      withKey(reader.key)
    )
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/)
    const lines = (await exported.text()).trim().split('\r\n')
    expect(lines[0]).toBe('id,at,keyId,actor,family,endpoint,status,costUsd,durationMs,requestId,upstreamRequestId')
    expect(lines.slice(1).map((line) => line.split(',')[7])).toEqual(['', '0.002', '0.001'])
  })

  it('exports NDJSON, newest first, across pages', async () => {
    const k = await issueKey(['search'])
    const insert = env.DB.prepare(
      'INSERT INTO usage_events (id, key_id, actor, family, route, status, request_id, cost_micros, duration_ms, at) VALUES (?, ?, ?, ?, ?, 200, ?, 1, 5, ?)'
    )
    const now = Date.now()
    await env.DB.batch(
      Array.from({ length: 1203 }, (_, i) =>
        insert.bind(ulid(now - i), k.id, k.name, 'search', 'POST /search', `r${i}`, now - i)
      )
    )
    const res = await api(`/usage/export?keyId=${k.id}`, withKey(reader.key))
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
    const records = (await res.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; costUsd: number })
    expect(records).toHaveLength(1203)
    expect(records.map((r) => r.id)).toEqual(
      records
        .map((r) => r.id)
        .sort()
        .reverse()
    )
    expect(records[0]).toMatchObject({ keyId: k.id, actor: k.name, endpoint: 'POST /search', costUsd: 0.000001 })
  })

  it('is open to admin keys, and validates its query', async () => {
    const adminKey = await issueKey(['admin'])
    expect((await usage('', adminKey.key)).status).toBe(200)
    expect((await usage('groupBy=week')).status).toBe(400)
    expect((await usage('since=2026-02-30')).status).toBe(400)
    expect((await usage('since=2026-02-02&until=2026-02-01')).status).toBe(400)
    expect((await usage('since=2020-01-01&until=2026-02-01')).status).toBe(400)
  })

  it("GET /admin/keys/{id} shows the key's spend this UTC day and month", async () => {
    const cost = await spend(a, '/search', { query: 'admin view' })
    await eventually(
      () => rowsOf(a.id),
      (rows) => rows.length >= 4
    )
    const view = await getKey(a.id)
    expect(view.usage.day.start).toBe(new Date().toISOString().slice(0, 10))
    expect(view.usage.day.calls).toBeGreaterThanOrEqual(1)
    expect(view.usage.month.costMicros).toBeGreaterThanOrEqual(cost)
  })
})
