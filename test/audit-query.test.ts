import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { seedAuditStatements } from '../bench/seed-audit'
import type { EventQuery } from '../src/audit/filters'
import { eventSelects } from '../src/audit/query'
import { type EventView, getJson, listAll, patchImport, wipeAudit } from './support/audit'
import { db } from './support/d1'
import { expect400, expectError } from './support/errors'
import { api } from './support/gateway'
import { admin, type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let alice: IssuedKey
let bob: IssuedKey
let A: string
let B: string
let all: EventView[]
const paths = (e: EventView) => (e.changes as { path: string }[]).map((c) => c.path)

/** A small log with a bit of everything: two actors, two imports, each kind of change, a failure. */
beforeAll(async () => {
  await sim.reset()
  await wipeAudit()
  alice = await issueKey(undefined, { name: 'alice' })
  bob = await issueKey(undefined, { name: 'bob' })
  A = (await sim.seed({ title: 'a0', metadata: { owner: 'ana' } })).id
  B = (await sim.seed({ title: 'b0' })).id
  expect((await patchImport(alice.key, A, { title: 'a1' })).status).toBe(200)
  expect((await patchImport(bob.key, A, { metadata: { owner: 'bo' } })).status).toBe(200)
  expect((await patchImport(alice.key, B, { title: 'b1', metadata: { team: 'x' } })).status).toBe(200)
  await sim.fault({ kind: 'status', status: 400, method: 'PATCH' })
  expect((await patchImport(bob.key, B, { title: 'refused' })).status).toBe(400)
  const [first] = await listAll(alice.key, { importId: A, actor: 'alice' })
  expect(
    (await api(`/audit/events/${first!.id}/revert?force=true`, { method: 'POST', headers: { 'x-api-key': alice.key } }))
      .status
  ).toBe(200)
  all = await listAll(alice.key)
})

/** Checks a query against the same predicate applied to the whole log, which it must narrow. */
async function expectFilter(query: Record<string, string>, predicate: (e: EventView) => boolean) {
  const expected = all.filter(predicate).map((e) => e.id)
  expect(expected.length, 'fixture must match something').toBeGreaterThan(0)
  expect(expected.length, 'fixture must leave something out').toBeLessThan(all.length)
  expect((await listAll(alice.key, query, 2)).map((e) => e.id)).toEqual(expected)
}

describe('GET /audit/events filters', () => {
  it('has newest first and a bit of everything in the fixture', () => {
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort().reverse())
    expect(new Set(all.map((e) => e.action))).toEqual(new Set(['key.create', 'import.update', 'import.revert']))
  })

  const at = (i: number) => all[i]!.startedAt as string
  const single: [string, () => Record<string, string>, (e: EventView) => boolean][] = [
    ['importId', () => ({ importId: A }), (e) => e.importId === A],
    ['keyId', () => ({ keyId: bob.id }), (e) => e.keyId === bob.id],
    ['actor', () => ({ actor: 'alice' }), (e) => e.actor === 'alice'],
    ['action', () => ({ action: 'import.update' }), (e) => e.action === 'import.update'],
    ['action=import.revert', () => ({ action: 'import.revert' }), (e) => e.action === 'import.revert'],
    ['action=key.*', () => ({ action: 'key.*' }), (e) => e.action.startsWith('key.')],
    ['outcome', () => ({ outcome: 'failed' }), (e) => e.outcome === 'failed'],
    ['field=title', () => ({ field: 'title' }), (e) => paths(e).includes('title')],
    ['field=metadata', () => ({ field: 'metadata' }), (e) => paths(e).some((p) => p.startsWith('metadata.'))],
    ['field=metadata.owner', () => ({ field: 'metadata.owner' }), (e) => paths(e).includes('metadata.owner')],
    ['since', () => ({ since: at(2) }), (e) => e.startedAt >= at(2)],
    ['until', () => ({ until: at(2) }), (e) => e.startedAt <= at(2)],
  ]
  for (const [name, query, predicate] of single) it(`filters by ${name}`, () => expectFilter(query(), predicate))

  const combined: [string, () => Record<string, string>, (e: EventView) => boolean][] = [
    [
      'importId + field',
      () => ({ importId: A, field: 'title' }),
      (e) => e.importId === A && paths(e).includes('title'),
    ],
    [
      'actor + action',
      () => ({ actor: 'bob', action: 'import.update' }),
      (e) => e.actor === 'bob' && e.action === 'import.update',
    ],
    [
      'field + outcome + action',
      () => ({ field: 'metadata', outcome: 'succeeded', action: 'import.update' }),
      (e) => paths(e).some((p) => p.startsWith('metadata.')) && e.action === 'import.update',
    ],
    [
      'keyId + since + until',
      () => ({ keyId: alice.id, since: at(all.length - 3), until: at(1) }),
      (e) => e.keyId === alice.id && e.startedAt >= at(all.length - 3) && e.startedAt <= at(1),
    ],
    [
      'importId + outcome',
      () => ({ importId: B, outcome: 'succeeded' }),
      (e) => e.importId === B && e.outcome === 'succeeded',
    ],
  ]
  for (const [name, query, predicate] of combined) it(`combines ${name}`, () => expectFilter(query(), predicate))
})

describe('GET /audit/events paging', () => {
  it('walks more rows than a page without skipping or repeating one, while new rows arrive', async () => {
    const item = (await sim.seed({ title: 'p0' })).id
    for (let i = 1; i <= 30; i++) expect((await patchImport(alice.key, item, { title: `p${i}` })).status).toBe(200)
    const expected = (await listAll(alice.key, { importId: item })).map((e) => e.id)
    expect(expected).toHaveLength(30)
    const firstPage = await getJson(`/audit/events?importId=${item}`, alice.key)
    expect(firstPage.body).toMatchObject({ hasMore: true, nextCursor: expect.any(String) })
    expect(firstPage.body.data).toHaveLength(25)

    await new Promise((resolve) => setTimeout(resolve, 5)) // new rows get later ids than the existing ones
    const writers: Promise<Response>[] = []
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const { body }: { body: any } = await getJson(
        `/audit/events?importId=${item}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        alice.key
      )
      seen.push(...body.data.map((e: EventView) => e.id))
      writers.push(
        patchImport(alice.key, item, { title: `new ${seen.length}` }),
        patchImport(bob.key, item, { title: `new' ${seen.length}` })
      )
      cursor = body.nextCursor
    } while (cursor)
    expect(await Promise.all(writers).then((r) => r.map((x) => x.status))).toEqual(writers.map(() => 200))
    expect(seen).toEqual(expected)
    expect(await listAll(alice.key, { importId: item })).toHaveLength(30 + writers.length)
  })

  it('returns nextCursor null on the last page', async () => {
    const { body } = await getJson(`/audit/events?importId=${A}&limit=200`, alice.key)
    expect(body).toMatchObject({ hasMore: false, nextCursor: null })
  })
})

describe('GET /audit/events refuses bad filters, naming the field', () => {
  const refused: [string, string][] = [
    ['action=import.explode', 'action'],
    ['outcome=maybe', 'outcome'],
    ['since=yesterday', 'since'],
    ['until=2026-13-45T00:00:00Z', 'until'],
    ['since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'until'],
    ['limit=0', 'limit'],
    ['limit=500', 'limit'],
    ['limit=ten', 'limit'],
    ['field=owner', 'field'],
    ['cursor=not-a-cursor', 'cursor'],
    [`cursor=${btoa(JSON.stringify({ v: 1, before: '../../etc', q: 'x' }))}`, 'cursor'],
  ]
  for (const [query, field] of refused)
    it(`refuses ${query}`, async () =>
      expect400(await api(`/audit/events?${query}`, { headers: { 'x-api-key': alice.key } }), field))

  it('refuses a cursor used with other filters than it was issued for', async () => {
    const { body } = await getJson(`/audit/events?importId=${A}&limit=1`, alice.key)
    expect(body.nextCursor).toEqual(expect.any(String))
    expect((await getJson(`/audit/events?importId=${A}&limit=1&cursor=${body.nextCursor}`, alice.key)).status).toBe(200)
    await expect400(
      await api(`/audit/events?importId=${B}&limit=1&cursor=${body.nextCursor}`, {
        headers: { 'x-api-key': alice.key },
      }),
      'cursor'
    )
  })

  it("refuses a keyId that is not a key id, in the admin API's words, in the list and the export", async () => {
    const adminBody = await expectError(await admin('GET', '/admin/keys/dev'), 400, 'INVALID_PARAMS')
    const message = adminBody.issues![0]!.message
    for (const path of ['/audit/events?keyId=dev', '/audit/export?keyId=egw_not_a_key_id']) {
      const res = await api(path, { headers: { 'x-api-key': alice.key } })
      const body = await expectError(res, 400, 'INVALID_PARAMS')
      expect(body.issues).toEqual([{ path: 'keyId', message }])
    }
  })

  it('refuses unknown parameters', async () => {
    const { status, body } = await getJson('/audit/events?importid=x', alice.key)
    expect(status).toBe(400)
    expect(body.error).toContain('importid')
  })
})

describe('GET /audit/events/{id}', () => {
  it('shows one event with its changes per field', async () => {
    const [event] = await listAll(bob.key, { importId: A, actor: 'bob' })
    const { status, body } = await getJson(`/audit/events/${event!.id}`, bob.key)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      id: event!.id,
      action: 'import.update',
      before: { metadata: { owner: 'ana' } },
      after: { metadata: { owner: 'bo' } },
    })
    expect(body.changes).toEqual([{ path: 'metadata.owner', from: 'ana', to: 'bo' }])
  })

  it('answers 404 for an unknown id and 400 for a malformed one', async () => {
    expect((await getJson('/audit/events/01ARZ3NDEKTSV4RRFFQ69G5FAV', alice.key)).status).toBe(404)
    expect((await getJson('/audit/events/nope', alice.key)).body).toMatchObject({ tag: 'INVALID_PARAMS' })
  })
})

describe('query plans', () => {
  const queries: EventQuery['filters'][] = [
    {},
    { importId: 'i' },
    { keyId: 'k' },
    { actor: 'a' },
    { action: 'import.update' },
    { action: 'key.*' },
    { outcome: 'failed' },
    { field: 'title' },
    { field: 'metadata.owner' },
    { since: '2026-01-01T00:00:00Z' },
    { until: '2026-01-01T00:00:00Z' },
    { importId: 'i', field: 'title' },
    { actor: 'a', action: 'import.update', outcome: 'succeeded' },
    {
      field: 'metadata',
      action: 'import.update',
      outcome: 'succeeded',
      since: '2026-01-01T00:00:00Z',
      until: '2026-12-01T00:00:00Z',
    },
    { keyId: 'k', field: 'title', since: '2026-01-01T00:00:00Z' },
    {
      importId: 'i',
      keyId: 'k',
      actor: 'a',
      action: 'key.*',
      outcome: 'pending',
      field: 'metadata',
      since: '2026-01-01T00:00:00Z',
      until: '2026-12-01T00:00:00Z',
    },
  ]
  for (const filters of queries) {
    it(`uses indexes, never scans, for ${JSON.stringify(filters)}`, async () => {
      const selects = [undefined, '01ARZ3NDEKTSV4RRFFQ69G5FAV'].flatMap((beforeId) =>
        eventSelects(db(), { filters, limit: 25, beforeId })
      )
      for (const select of selects) {
        const { sql, params } = select.toSQL()
        const plan = (
          await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
            .bind(...params)
            .all<{ detail: string }>()
        ).results.map((r) => r.detail)
        expect(
          plan.filter((step) => /^SCAN |TEMP B-TREE/.test(step)),
          plan.join('\n')
        ).toEqual([])
        expect(
          plan.some((step) => /^SEARCH (audit_events|audit_changed_fields) USING .*INDEX/.test(step)),
          plan.join('\n')
        ).toBe(true)
      }
    })
  }
})

describe('query cost', () => {
  it('reads about one page of rows per page, however deep the page', async () => {
    const seed = {
      from: 0,
      to: 3000,
      startMs: Date.UTC(2025, 0, 1),
      stepMs: 1000,
      imports: 3,
      importPrefix: 'import_cost_',
    }
    for (const statement of seedAuditStatements(seed)) await env.DB.prepare(statement).run()
    const cases: EventQuery['filters'][] = [
      {},
      { importId: 'import_cost_1' },
      { actor: 'actor-3' },
      { outcome: 'succeeded' },
      { field: 'title' },
      { action: 'key.*' },
      { since: '2025-01-01T00:00:00Z', until: '2025-01-01T00:40:00Z' },
      { importId: 'import_cost_0', field: 'metadata.owner' },
    ]
    const limit = 100
    for (const filters of cases) {
      let beforeId: string | undefined
      let pages = 0
      do {
        const selects = eventSelects(db(), { filters, limit, beforeId }, limit + 1)
        let read = 0
        const ids: string[] = []
        for (const select of selects) {
          const { sql, params } = select.toSQL()
          const result = await env.DB.prepare(sql)
            .bind(...params)
            .all<{ id: string }>()
          read += result.meta.rows_read
          ids.push(...result.results.map((r) => r.id))
        }
        // A range that restarted from the top (or a scan) would read every row above the page.
        expect(read, `${JSON.stringify(filters)} page ${pages}`).toBeLessThanOrEqual(3 * (limit + 1) * selects.length)
        ids.sort().reverse()
        beforeId = ids.length > limit ? ids[limit - 1] : undefined
        pages++
      } while (beforeId)
      expect(pages, JSON.stringify(filters)).toBeGreaterThan(filters.action ? 0 : 1)
    }
  })
})
