import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './harness.ts'

let gateway: Gateway

beforeAll(async () => {
  gateway = await startGateway({ seed: [{ id: 'import_walk', title: 'Q2 leads', metadata: { owner: 'ana' } }] })
})
afterAll(async () => {
  await gateway?.stop()
})

describe('the README walk-through against wrangler dev', () => {
  it('updates an import and shows one audit row with before and after', async () => {
    const { key } = await gateway.issueKey(['imports:read', 'imports:write', 'audit:read'])
    const res = await fetch(`${gateway.url}/websets/v0/imports/import_walk`, {
      method: 'PATCH',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Q3 leads' }),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: 'import_walk', title: 'Q3 leads', metadata: { owner: 'ana' } })

    await gateway.settled(key, 'import_walk')
    const audit = await fetch(`${gateway.url}/audit/events?importId=import_walk`, { headers: { 'x-api-key': key } })
    const { data } = (await audit.json()) as { data: Record<string, any>[] }
    expect(data).toHaveLength(1)
    expect(data[0]).toMatchObject({
      action: 'import.update',
      outcome: 'succeeded',
      before: { title: 'Q2 leads' },
      after: { title: 'Q3 leads' },
      changes: [{ path: 'title', from: 'Q2 leads', to: 'Q3 leads' }],
    })
    expect(gateway.simulator.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })
})
