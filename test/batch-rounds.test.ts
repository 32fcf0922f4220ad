import { env } from 'cloudflare:workers'
import { drizzle } from 'drizzle-orm/d1'
import { beforeEach, describe, expect, it } from 'vitest'
import { settledFields, writeAhead } from '../src/audit/recorder'
import { createDb } from '../src/db/client'
import { inBackgroundRound, runPart, type BatchPart } from '../src/db/batch-rounds'
import { allSettled, links, patchImport, settles, startFor, wipeAudit } from './support/audit'
import { db } from './support/d1'
import { issueKey } from './support/keys'
import { sim } from './support/simulator'

/** The real D1 binding, counting the round trips made through it. */
function countingD1() {
  const calls = { batch: 0, other: 0 }
  const d1 = new Proxy(env.DB, {
    get(target, name) {
      const value = Reflect.get(target, name, target)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        if (name === 'batch') calls.batch++
        else if (name === 'exec') calls.other++
        return value.apply(target, args)
      }
    },
  })
  return { d1, calls }
}

const echoPart: BatchPart<number, number> = (handle, items) => ({
  statements: [handle.$client.prepare('SELECT value FROM json_each(?)').bind(JSON.stringify(items))],
  read: ([result]) => (result!.results as { value: number }[]).map((row) => row.value * 10),
})

const outcome = settledFields(
  'import',
  { id: 'i', title: 'old', metadata: {} },
  { status: 200, upstreamRequestId: 'req_up', after: { id: 'i', title: 'new', metadata: {} } }
)

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
})

describe('D1 rounds', () => {
  it('put the background work of a moment in one batch, each caller answered with its own result', async () => {
    const { d1, calls } = countingD1()
    const handle = createDb(d1)
    const echoes = await Promise.all([0, 1, 2, 3].map((n) => inBackgroundRound(handle, echoPart, n)))
    expect(echoes).toEqual([0, 10, 20, 30])
    expect(calls.batch).toBe(1)
  })

  it('run a part at once in a batch of its own', async () => {
    const { d1, calls } = countingD1()
    expect(await runPart(createDb(d1), echoPart, [4, 5])).toEqual([40, 50])
    expect(calls.batch).toBe(1)
  })

  it('answers every request and keeps every write-ahead row while seals fail', async () => {
    const key = await issueKey()
    const items = await Promise.all(Array.from({ length: 12 }, (_, i) => sim.seed({ title: `t${i}` })))
    await env.DB.exec(
      "CREATE TRIGGER refuse_fields BEFORE INSERT ON audit_changed_fields BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    try {
      const responses = await Promise.all(items.map((item) => patchImport(key.key, item.id, { title: 'new' })))
      expect(responses.map((res) => res.status)).toEqual(items.map(() => 200))
      const rows = await env.DB.prepare("SELECT outcome FROM audit_events WHERE action = 'import.update'").all<{
        outcome: string
      }>()
      // Every write-ahead row is there; no seal got through, so every row is still pending.
      expect(rows.results.map((r) => r.outcome)).toEqual(items.map(() => 'pending'))
    } finally {
      await env.DB.exec('DROP TRIGGER refuse_fields')
    }
  })
})

describe('seals from memory', () => {
  it('fall back to reading when another writer moved the head, and keep the chain gapless', async () => {
    const mine = db()
    const [a, b, c] = await Promise.all(
      ['import_1', 'import_2', 'import_3'].map((id) => writeAhead(mine, startFor(id)))
    )
    expect(await settles(mine, a!.id, outcome, a)).toBe(true) // this handle now knows the head
    expect(await settles(drizzle(env.DB), b!.id, outcome)).toBe(true) // another isolate links next
    expect(await settles(mine, c!.id, outcome, c)).toBe(true) // built on a stale head: must re-read
    const chain = await links()
    expect(chain.map((l) => l.seq)).toEqual([1, 2, 3])
    expect(chain.map((l) => l.event_id)).toEqual([a!.id, b!.id, c!.id])
    await allSettled()
  })

  it('seal nothing for a row settled elsewhere, even over a head they know, and leave that row as it was', async () => {
    const mine = db()
    const [a, b, c] = await Promise.all(
      ['import_1', 'import_2', 'import_3'].map((id) => writeAhead(mine, startFor(id)))
    )
    expect(await settles(mine, a!.id, outcome, a)).toBe(true)
    const elsewhere = settledFields('import', null, {
      status: 500,
      upstreamRequestId: null,
      after: null,
      error: 'elsewhere',
    })
    expect(await settles(drizzle(env.DB), b!.id, elsewhere)).toBe(true)
    expect(await settles(mine, c!.id, outcome, c)).toBe(true) // re-reads: this handle knows the head again
    expect(await settles(mine, b!.id, outcome, b)).toBe(false) // b, as written ahead, is no longer pending
    const row = await env.DB.prepare('SELECT outcome, error FROM audit_events WHERE id = ?').bind(b!.id).first()
    expect(row).toEqual({ outcome: 'failed', error: 'elsewhere' })
    expect((await links()).map((l) => l.event_id)).toEqual([a!.id, b!.id, c!.id])
  })
})
