import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { chainHash, rowHash } from '../src/audit/seal'
import { auditEvents } from '../src/db/schema'
import { ulid } from '../src/lib/ids'
import { allSettled, getJson, type Link, links, patchImport, wipeAudit } from './support/audit'
import { db } from './support/d1'
import { expect400 } from './support/errors'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey
let chain: Link[]

/** Five sealed rows: key.create, then four updates of one import. */
beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey()
  const item = await sim.seed({ title: 't0' })
  for (const title of ['t1', 't2', 't3', 't4'])
    expect((await patchImport(key.key, item.id, { title })).status).toBe(200)
  await allSettled()
  chain = await links()
  expect(chain).toHaveLength(5)
})

const verify = async (query = '') => {
  const { status, body } = await getJson(`/audit/verify${query}`, key.key)
  expect(status).toBe(200)
  return body
}
const sql = (statement: string, ...params: unknown[]) =>
  env.DB.prepare(statement)
    .bind(...params)
    .run()
const link = (seq: number) => chain[seq - 1]!
const eventRow = async (id: string) => (await db().select().from(auditEvents).where(eq(auditEvents.id, id)))[0]!

describe('GET /audit/verify', () => {
  it('passes an untouched log and reports its head for anchoring', async () => {
    expect(await verify()).toEqual({ ok: true, checked: 5, head: { seq: 5, chainHash: link(5).chain_hash } })
    expect(await verify(`?seq=3&chainHash=${link(3).chain_hash}`)).toMatchObject({ ok: true, checked: 5 })
  })

  it('detects an edited row', async () => {
    await sql("UPDATE audit_events SET after = json_set(after, '$.title', 'forged') WHERE id = ?", link(3).event_id)
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBrokenId: link(3).event_id,
      firstBrokenSeq: 3,
      reason: expect.stringMatching(/changed/),
    })
  })

  it('detects an edit of a column that is not JSON (the actor)', async () => {
    await sql("UPDATE audit_events SET actor = 'someone-else' WHERE id = ?", link(4).event_id)
    expect(await verify()).toMatchObject({ ok: false, firstBrokenId: link(4).event_id })
  })

  it('detects a settled row turned back to pending', async () => {
    await sql("UPDATE audit_events SET outcome = 'pending' WHERE id = ?", link(2).event_id)
    expect(await verify()).toMatchObject({ ok: false, firstBrokenId: link(2).event_id })
  })

  it('detects an edit whose link was re-hashed to match, at the next chain hash', async () => {
    await sql("UPDATE audit_events SET actor = 'someone-else' WHERE id = ?", link(2).event_id)
    await sql('UPDATE audit_chain SET row_hash = ? WHERE seq = 2', await rowHash(await eventRow(link(2).event_id)))
    expect(await verify()).toMatchObject({
      ok: false,
      firstBrokenSeq: 2,
      reason: expect.stringMatching(/rewritten or reordered/),
    })
  })

  it('detects a deleted row', async () => {
    await sql('DELETE FROM audit_events WHERE id = ?', link(2).event_id)
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 1,
      firstBrokenId: link(2).event_id,
      reason: expect.stringMatching(/missing/),
    })
  })

  it('detects a row deleted together with its link (a gap), and a gap closed by renumbering', async () => {
    await sql('DELETE FROM audit_events WHERE id = ?', link(3).event_id)
    await sql('DELETE FROM audit_chain WHERE seq = 3')
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBrokenSeq: 4,
      reason: expect.stringMatching(/link 3 is missing/),
    })
    await sql('UPDATE audit_chain SET seq = seq - 1 WHERE seq > 3')
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 2,
      firstBrokenId: link(4).event_id,
      reason: expect.stringMatching(/rewritten or reordered/),
    })
  })

  it('detects an inserted settled row (no link)', async () => {
    const forged = ulid()
    await sql(
      "INSERT INTO audit_events (id, action, import_id, outcome, actor, request_id, started_at, finished_at) VALUES (?, 'import.update', 'import_x', 'succeeded', 'ghost', 'req_x', 1, 2)",
      forged
    )
    expect(await verify()).toMatchObject({
      ok: false,
      checked: 5,
      firstBrokenId: forged,
      reason: expect.stringMatching(/no link/),
    })
  })

  it('detects reordered links', async () => {
    await sql('UPDATE audit_chain SET seq = -seq WHERE seq IN (2, 3)')
    await sql('UPDATE audit_chain SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq < 0')
    expect(await verify()).toMatchObject({ ok: false, checked: 1, firstBrokenSeq: 2, firstBrokenId: link(3).event_id })
  })

  it('detects reordered rows (two rows swapping their ids)', async () => {
    const [a, b] = [link(2).event_id, link(3).event_id]
    await sql("UPDATE audit_events SET id = 'swap' WHERE id = ?", a)
    await sql('UPDATE audit_events SET id = ? WHERE id = ?', a, b)
    await sql("UPDATE audit_events SET id = ? WHERE id = 'swap'", b)
    expect(await verify()).toMatchObject({ ok: false, firstBrokenSeq: 2, reason: expect.stringMatching(/changed/) })
  })

  it('needs an anchor to see a truncated tail, and catches it with one', async () => {
    await sql('DELETE FROM audit_events WHERE id = ?', link(5).event_id)
    await sql('DELETE FROM audit_chain WHERE seq = 5')
    // Within the database the shorter chain is consistent: that is what anchoring is for.
    expect(await verify()).toMatchObject({ ok: true, checked: 4 })
    expect(await verify(`?seq=5&chainHash=${link(5).chain_hash}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/before your anchor/),
    })
  })

  it('needs an anchor to see a consistently rewritten chain, and catches it with one', async () => {
    // Someone with D1 write access edits row 2 and recomputes every hash from there on.
    await sql("UPDATE audit_events SET actor = 'someone-else' WHERE id = ?", link(2).event_id)
    let previous = link(1).chain_hash
    for (const seq of [2, 3, 4, 5]) {
      const ofRow = await rowHash(await eventRow(link(seq).event_id))
      previous = await chainHash(previous, ofRow)
      await sql('UPDATE audit_chain SET row_hash = ?, chain_hash = ? WHERE seq = ?', ofRow, previous, seq)
    }
    expect(await verify()).toMatchObject({ ok: true, checked: 5 })
    expect(await verify(`?seq=4&chainHash=${link(4).chain_hash}`)).toMatchObject({
      ok: false,
      firstBrokenSeq: 4,
      reason: expect.stringMatching(/no longer matches your anchor/),
    })
  })

  it('refuses a half anchor or a malformed one', async () => {
    await expect400(await api('/audit/verify?seq=3', { headers: { 'x-api-key': key.key } }), 'chainHash')
    await expect400(
      await api(`/audit/verify?seq=0&chainHash=${link(1).chain_hash}`, { headers: { 'x-api-key': key.key } }),
      'seq'
    )
    await expect400(await api('/audit/verify?seq=1&chainHash=abc', { headers: { 'x-api-key': key.key } }), 'chainHash')
  })

  it('needs scope audit:read', async () => {
    const writer = await issueKey(['imports:write'])
    expect((await api('/audit/verify', { headers: { 'x-api-key': writer.key } })).status).toBe(403)
  })
})
