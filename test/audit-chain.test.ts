import { env } from 'cloudflare:workers'
import { eq, getTableColumns } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { settlePending } from '../src/audit/chain'
import { reconcileRow } from '../src/operations/reconcile'
import { settledFields, writeAhead } from '../src/audit/recorder'
import { chainHash, GENESIS, rowHash, SEALED_COLUMNS } from '../src/audit/seal'
import { auditEvents, type AuditEventRow } from '../src/db/schema'
import { parseConfig, type Config } from '../src/env'
import { allSettled, getJson, links, patchImport, settles, startFor, wipeAudit } from './support/audit'
import { db } from './support/d1'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey()
})

const verify = async () => (await getJson('/audit/verify', key.key)).body
const row = async (id: string) => (await db().select().from(auditEvents).where(eq(auditEvents.id, id)))[0]!
const outcome = (status: number, title: string) =>
  settledFields(
    'import',
    { id: 'i', title: 'old', metadata: {} },
    { status, upstreamRequestId: 'req_up', after: { id: 'i', title, metadata: { owner: 'bo' } } }
  )

describe('every path that settles a row seals it', () => {
  it('links finalized updates, failed attempts, key events and reconciled rows, and verify re-derives them', async () => {
    const item = await sim.seed({ title: 'one' })
    expect((await patchImport(key.key, item.id, { title: 'two' })).status).toBe(200)
    expect((await patchImport(key.key, 'import_missing', { title: 'x' })).status).toBe(404)
    const pendingId = (await writeAhead(db(), startFor(item.id, { id: item.id, title: 'two', metadata: {} }))).id
    expect(await reconcileRow(db(), parseConfig(env) as Config, (await row(pendingId))!)).toBe(true)

    const settled = await env.DB.prepare(
      "SELECT id, action, outcome FROM audit_events WHERE outcome != 'pending' ORDER BY id"
    ).all()
    const chain = await links()
    expect(chain.map((l) => l.seq)).toEqual(settled.results.map((_, i) => i + 1))
    expect(new Set(chain.map((l) => l.event_id))).toEqual(new Set(settled.results.map((r: any) => r.id)))
    expect(settled.results.map((r: any) => r.action).sort()).toEqual([
      'import.update',
      'import.update',
      'import.update',
      'key.create',
    ])

    // The chain is exactly SHA-256 links over each row's canonical form.
    let previous = GENESIS
    for (const link of chain) {
      const event: AuditEventRow = await row(link.event_id)
      expect(link.row_hash).toBe(await rowHash(event))
      expect(link.chain_hash).toBe(await chainHash(previous, link.row_hash))
      previous = link.chain_hash
    }
    expect(await verify()).toEqual({ ok: true, checked: 4, head: { seq: 4, chainHash: previous } })
  })

  it('writes the changed fields of a finalized row in the same batch as its link', async () => {
    const id = (await writeAhead(db(), startFor('import_f'))).id
    expect(await settles(db(), id, outcome(200, 'new'))).toBe(true)
    const fields = await env.DB.prepare('SELECT field FROM audit_changed_fields WHERE event_id = ? ORDER BY field')
      .bind(id)
      .all()
    expect(fields.results.map((r: any) => r.field)).toEqual(['metadata', 'metadata.owner', 'title'])
  })

  it('seals nothing when the row was already settled elsewhere, and leaves that row as it was', async () => {
    const id = (await writeAhead(db(), startFor('import_twice'))).id
    expect(await settles(db(), id, outcome(200, 'first'))).toBe(true)
    const sealed = await row(id)
    expect(await settles(db(), id, outcome(500, 'late retry'))).toBe(false)
    expect(await row(id)).toEqual(sealed)
    expect((await links()).filter((l) => l.event_id === id)).toHaveLength(1)
  })
})

describe('concurrency', () => {
  it('gives racing finalizes distinct, gapless positions: losers re-read the head and retry', async () => {
    const ids = await Promise.all(
      Array.from({ length: 8 }, (_, i) => writeAhead(db(), startFor(`import_race_${i}`)).then((row) => row.id))
    )
    // A handle each, as if each settle ran in its own isolate (one isolate's settles take turns).
    const results = await Promise.all(ids.map((id) => settlePending(drizzle(env.DB), id, outcome(200, 'raced'))))
    expect(results.every((r) => r.settled)).toBe(true)
    expect(Math.max(...results.map((r) => r.attempts))).toBeGreaterThan(1)
    const chain = await links()
    expect(chain.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(new Set(chain.map((l) => l.event_id)).size).toBe(9)
    expect(await verify()).toMatchObject({ ok: true, checked: 9 })
  })

  it('groups the finalizes one isolate makes concurrently: one batch for many rows, each settled and linked once', async () => {
    const items = await Promise.all(Array.from({ length: 24 }, (_, i) => sim.seed({ title: `group ${i}` })))
    const responses = await Promise.all(
      items.map((item) =>
        api(`/websets/v0/imports/${item.id}`, jsonInit('PATCH', key.key, { title: `${item.title} ✓` }), {
          settle: false,
        })
      )
    )
    expect(responses.map((res) => res.status)).toEqual(items.map(() => 200))
    await allSettled()

    const updates = await env.DB.prepare("SELECT id, outcome FROM audit_events WHERE action = 'import.update'").all<{
      id: string
      outcome: string
    }>()
    expect(updates.results.map((r) => r.outcome)).toEqual(items.map(() => 'succeeded'))
    const chain = await env.DB.prepare('SELECT seq, event_id, created_at FROM audit_chain ORDER BY seq').all<{
      seq: number
      event_id: string
      created_at: number
    }>()
    expect(chain.results.map((l) => l.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1))
    const linked = chain.results.map((l) => l.event_id)
    expect(new Set(linked).size).toBe(25)
    for (const update of updates.results) expect(linked).toContain(update.id)
    // A group's links carry the time of its one batch: fewer distinct times than rows means rows
    // shared batches (sealed one at a time, each batch follows the previous one's round trips).
    const batches = new Set(chain.results.slice(1).map((l) => l.created_at)).size
    expect(batches).toBeLessThan(updates.results.length)
    expect(await verify()).toMatchObject({ ok: true, checked: 25 })
  })

  it('settles the others of a group when one of its rows was already settled', async () => {
    const ids = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => writeAhead(db(), startFor(`import_group_${name}`)).then((row) => row.id))
    )
    expect(await settles(drizzle(env.DB), ids[1]!, outcome(200, 'elsewhere'))).toBe(true)
    const results = await Promise.all(ids.map((id) => settlePending(db(), id, outcome(200, 'grouped'))))
    expect(results.map((r) => r.settled)).toEqual([true, false, true, true])
    expect((await row(ids[1]!)).after).toMatchObject({ title: 'elsewhere' })
    expect(
      (await links())
        .map((l) => l.event_id)
        .filter((id) => ids.includes(id))
        .sort()
    ).toEqual([...ids].sort())
    expect(await verify()).toMatchObject({ ok: true, checked: 5 })
  })

  it('lets exactly one of two settles of the same row win', async () => {
    const id = (await writeAhead(db(), startFor('import_same'))).id
    const results = await Promise.all([
      settlePending(db(), id, outcome(200, 'a')),
      settlePending(db(), id, outcome(200, 'b')),
    ])
    expect(results.filter((r) => r.settled)).toHaveLength(1)
    expect((await links()).filter((l) => l.event_id === id)).toHaveLength(1)
    expect(await verify()).toMatchObject({ ok: true })
  })
})

describe('atomicity', () => {
  afterEach(async () => {
    await env.DB.exec('DROP TRIGGER IF EXISTS refuse_changed_fields')
  })

  it('leaves the row pending and unlinked when any part of the settle batch fails', async () => {
    const id = (await writeAhead(db(), startFor('import_atomic'))).id
    await env.DB.exec(
      "CREATE TRIGGER refuse_changed_fields BEFORE INSERT ON audit_changed_fields BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    await expect(settles(db(), id, outcome(200, 'new'))).rejects.toThrow()
    expect((await row(id)).outcome).toBe('pending')
    expect((await links()).filter((l) => l.event_id === id)).toEqual([])
    await env.DB.exec('DROP TRIGGER refuse_changed_fields')
    expect(await settles(db(), id, outcome(200, 'new'))).toBe(true)
    expect(await verify()).toMatchObject({ ok: true })
  })
})

describe('the sealed form', () => {
  it('covers every column of audit_events (a new column must be sealed on purpose)', () => {
    expect([...SEALED_COLUMNS].sort()).toEqual(Object.keys(getTableColumns(auditEvents)).sort())
  })
})
