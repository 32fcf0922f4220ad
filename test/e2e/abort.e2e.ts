import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './harness.ts'

// Browsers navigate away and SDKs time out: a client that goes away in the middle of an audited
// update must not leave its row unsettled, nor a change at Exa the log does not show. Real
// sockets (wrangler dev), since only they carry a disconnect to the worker.
let gateway: Gateway
let key: string

beforeAll(async () => {
  gateway = await startGateway()
  key = (await gateway.issueKey(['imports:read', 'imports:write', 'audit:read'])).key
})
afterAll(async () => {
  await gateway?.stop()
})

type Row = { id: string; outcome: string; before: any; after: any; requestBody: any }

const eventsOf = async (importId: string): Promise<Row[]> =>
  (
    (await (
      await fetch(`${gateway.url}/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
    ).json()) as { data: Row[] }
  ).data

/** A PATCH the client abandons after `abortAfterMs` (or waits for, when undefined). */
async function patch(id: string, title: string, abortAfterMs?: number): Promise<number | 'aborted'> {
  const controller = new AbortController()
  const timer = abortAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), abortAfterMs)
  try {
    const res = await fetch(`${gateway.url}/websets/v0/imports/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
      signal: controller.signal,
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 'aborted'
  } finally {
    clearTimeout(timer)
  }
}

describe('clients that go away', () => {
  it('every update abandoned while in flight settles as what Exa did, and the others are answered', async () => {
    const items = Array.from({ length: 10 }, (_, i) => gateway.simulator.store.create({ title: `t${i}` }))
    // Exa takes 150 ms per PATCH here, so a client gone after 30 ms (before) or 200 ms (mid-PATCH) leaves
    // the gateway with work in flight.
    gateway.simulator.faults.push({ kind: 'latency', method: 'PATCH', latencyMs: 150, times: 100 })
    const results = await Promise.all(
      items.map((item, i) => patch(item.id, `new ${i}`, i % 5 === 0 ? 30 : i % 5 === 1 ? 200 : undefined))
    )
    expect(results.filter((r) => r === 'aborted')).toHaveLength(4)
    expect(results.filter((r) => r === 200)).toHaveLength(6)

    // Every row settles (no row is left pending for the reconciler), and each says what Exa did.
    await expect
      .poll(async () => (await Promise.all(items.map((item) => eventsOf(item.id)))).flat().map((row) => row.outcome), {
        timeout: 10_000,
        interval: 200,
      })
      .not.toContain('pending')
    for (const [i, item] of items.entries()) {
      const rows = await eventsOf(item.id)
      const atExa = gateway.simulator.store.get(item.id)!.title
      const patched = gateway.simulator.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(item.id))
      if (patched.length === 0) {
        // Gone before anything was forwarded: Exa unchanged, and no row claims a change.
        expect(atExa).toBe(`t${i}`)
        expect(rows.filter((row) => row.outcome === 'succeeded')).toHaveLength(0)
      } else {
        expect(patched).toHaveLength(1)
        expect(atExa).toBe(`new ${i}`)
        expect(rows).toHaveLength(1)
        expect(rows[0]).toMatchObject({
          outcome: 'succeeded',
          before: { title: `t${i}` },
          after: { title: `new ${i}` },
        })
      }
    }
  })
})
