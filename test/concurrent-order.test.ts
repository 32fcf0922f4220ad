import { beforeEach, describe, expect, it } from 'vitest'
import { allSettled, type EventView, getJson, listAll, patchImport } from './support/audit'
import { eventually } from './support/eventually'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// docs/architecture.md §5 (Order): concurrent changes of one import are not serialized on the
// request path; the settle orders them by Exa's `updatedAt` and seals each row with the state
// Exa held just before its own change.

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

type State = { title: unknown; metadata: unknown }
const editable = (i: Record<string, any> | null): State | null => i && { title: i.title, metadata: i.metadata }

const revert = (id: string, query = '') =>
  api(`/audit/events/${id}/revert${query}`, { method: 'POST', headers: { 'x-api-key': key.key } })

/** The import's changes in Exa's order (the answer's `updatedAt`, strictly increasing per PATCH at Exa). */
async function inExaOrder(importId: string): Promise<EventView[]> {
  await allSettled()
  const rows = (await listAll(key.key, { importId })).filter((row) => row.outcome === 'succeeded')
  return rows.sort((a, b) => Date.parse(a.after.updatedAt) - Date.parse(b.after.updatedAt))
}

async function expectChainVerifies() {
  const { body } = await getJson('/audit/verify', key.key)
  expect(body).toMatchObject({ ok: true })
}

describe('concurrent changes of one import', () => {
  it("30 concurrent PATCHes: each row's before is Exa's state just before its own PATCH, and a revert restores exactly that", async () => {
    const item = await sim.seed({ title: 'c0', metadata: { n: '0' } })
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        patchImport(key.key, item.id, { title: `c${i + 1}`, metadata: { n: String(i + 1) } })
      )
    )
    expect(answers.map((res) => res.status)).toEqual(Array(30).fill(200))

    const rows = await inExaOrder(item.id)
    expect(rows).toHaveLength(30)
    // The simulator's own log of the states its PATCHes left, in the order it applied them.
    const applied = await sim.applied(item.id)
    expect(rows.map((row) => row.after)).toEqual(applied)
    let previous: Record<string, any> = item
    for (const row of rows) {
      expect(row.before.updatedAt, row.id).toBe(previous.updatedAt)
      expect(editable(row.before), row.id).toEqual(editable(previous))
      expect(row.changes, row.id).toEqual([
        { path: 'title', from: previous.title, to: row.after.title },
        { path: 'metadata.n', from: previous.metadata.n, to: row.after.metadata.n },
      ])
      previous = row.after
    }
    expect(editable(await sim.get(item.id))).toEqual(editable(previous))
    await expectChainVerifies()

    // Only the last applied change can be reverted without force, and it restores the state before it.
    const last = rows[29]!
    const earlier = rows[10]!
    expect((await revert(earlier.id)).status).toBe(409)
    expect((await revert(last.id)).status).toBe(200)
    expect(editable(await sim.get(item.id))).toEqual(editable(rows[28]!.after))
    await expectChainVerifies()
  })

  it('a row whose concurrent neighbour is still unanswered waits for it, then is sealed in order', async () => {
    const item = await sim.seed({ title: 'a' })
    await sim.fault({ kind: 'latency', latencyMs: 300, method: 'PATCH', pathIncludes: item.id })
    const slow = patchImport(key.key, item.id, { title: 'slow' })
    await eventually(
      () => sim.requests({ method: 'PATCH', pathIncludes: item.id }),
      (requests) => requests.length === 1
    )
    const fastRes = await api(
      `/websets/v0/imports/${item.id}`,
      {
        method: 'PATCH',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'fast' }),
      },
      { settle: false }
    )
    expect(fastRes.status).toBe(200)
    expect((await slow).status).toBe(200)

    const [fast, slowRow] = await inExaOrder(item.id)
    expect(fast).toMatchObject({ requestBody: { title: 'fast' }, before: { title: 'a' } })
    expect(slowRow).toMatchObject({ requestBody: { title: 'slow' }, before: { title: 'fast' } })
    expect(slowRow!.changes).toEqual([{ path: 'title', from: 'fast', to: 'slow' }])
    await expectChainVerifies()
  })
})

describe('reverts under concurrency', () => {
  it('two concurrent reverts of one event: one runs, the other is refused with 409 and sends nothing', async () => {
    const item = await sim.seed({ title: 'one' })
    expect((await patchImport(key.key, item.id, { title: 'two' })).status).toBe(200)
    const [event] = await inExaOrder(item.id)
    const patchesBefore = (await sim.requests({ method: 'PATCH' })).length

    const answers = await Promise.all([revert(event!.id), revert(event!.id), revert(event!.id, '?force=true')])
    expect(answers.map((res) => res.status).sort()).toEqual([200, 409, 409])
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(patchesBefore + 1)
    await allSettled()
    const reverts = (await listAll(key.key, { importId: item.id, action: 'import.revert' })).filter(
      (row) => row.outcome !== 'failed'
    )
    expect(reverts).toHaveLength(1)
    // Refused by the write-ahead's guard, or (had the winner finished first) by the check.
    for (const refused of answers.filter((res) => res.status === 409))
      expect(((await refused.json()) as { error: string }).error).toMatch(/already reverted|has changed since/)
    expect((await sim.get(item.id)).title).toBe('one')

    // Sequential: the event was reverted; a second revert of it is refused, even with force.
    const again = await revert(event!.id, '?force=true')
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: string }).error).toMatch(
      new RegExp(`event ${event!.id} is already reverted, or being reverted`)
    )
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(patchesBefore + 1)
    await expectChainVerifies()
  })

  it("a PATCH landing between a revert's check and its PATCH: the revert's row says it overwrote it", async () => {
    const item = await sim.seed({ title: 'one' })
    expect((await patchImport(key.key, item.id, { title: 'two' })).status).toBe(200)
    const [event] = await inExaOrder(item.id)

    // The revert's PATCH is held at Exa while another key's PATCH is applied.
    await sim.fault({ kind: 'latency', latencyMs: 300, method: 'PATCH', pathIncludes: item.id })
    const reverting = revert(event!.id)
    await eventually(
      () => sim.requests({ method: 'PATCH', pathIncludes: item.id }),
      (requests) => requests.length === 2
    )
    const other = await issueKey()
    expect((await patchImport(other.key, item.id, { title: 'three' })).status).toBe(200)
    expect((await reverting).status).toBe(200)

    const [, overwritten, reverted] = await inExaOrder(item.id)
    expect(overwritten).toMatchObject({ action: 'import.update', after: { title: 'three' } })
    expect(reverted).toMatchObject({ action: 'import.revert', before: { title: 'three' }, after: { title: 'one' } })
    expect(reverted!.changes).toEqual([{ path: 'title', from: 'three', to: 'one' }])
    expect(reverted!.error).toMatch(new RegExp(`overwrote.*${overwritten!.id}`))
    // The overwritten change is no longer what Exa shows: reverting it needs force.
    expect((await revert(overwritten!.id)).status).toBe(409)
    await expectChainVerifies()
  })
})
