import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './harness.ts'

// Connection resets need real sockets: the simulator's `drop` fault destroys the TCP connection
// here, which the vitest pool cannot do.
let gateway: Gateway
let key: string

beforeAll(async () => {
  gateway = await startGateway()
  key = (await gateway.issueKey(['imports:read', 'imports:write', 'audit:read'])).key
})
afterAll(async () => {
  await gateway?.stop()
})

const patch = (id: string, title: string) =>
  fetch(`${gateway.url}/websets/v0/imports/${id}`, {
    method: 'PATCH',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ title }),
  })

const events = async (importId: string) =>
  (
    (await (
      await fetch(`${gateway.url}/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
    ).json()) as {
      data: Record<string, any>[]
    }
  ).data

const requestsTo = (id: string, method: string) =>
  gateway.simulator.requests.filter((r) => r.method === method && r.path.endsWith(id))

describe('connection resets', () => {
  it('retries the before read once after a reset, then updates', async () => {
    const item = gateway.simulator.store.create({ title: 'old' })
    gateway.simulator.faults.push({ kind: 'drop', method: 'GET', pathIncludes: item.id })
    const res = await patch(item.id, 'new')
    expect(res.status).toBe(200)
    expect(requestsTo(item.id, 'GET')).toHaveLength(2)
  })

  it('answers 502 after a second reset, records one failed attempt and forwards no PATCH', async () => {
    const item = gateway.simulator.store.create({ title: 'old' })
    gateway.simulator.faults.push({ kind: 'drop', method: 'GET', pathIncludes: item.id, times: 2 })
    const res = await patch(item.id, 'new')
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({
      tag: 'UPSTREAM_ERROR',
      error: expect.stringMatching(/could not reach Exa/),
    })
    expect(requestsTo(item.id, 'PATCH')).toHaveLength(0)
    const rows = await events(item.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ outcome: 'failed', before: null })
  })

  it('a reset PATCH is answered 502 and its row stays pending (outcome unknown) instead of being guessed', async () => {
    const item = gateway.simulator.store.create({ title: 'old' })
    gateway.simulator.faults.push({ kind: 'drop', method: 'PATCH', pathIncludes: item.id })
    const res = await patch(item.id, 'new')
    expect(res.status).toBe(502)
    expect(requestsTo(item.id, 'PATCH')).toHaveLength(1)
    const rows = await events(item.id)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ outcome: 'pending', before: { title: 'old' } })
  })
})
