import Exa from 'exa-js'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { exaError, startGateway, type Gateway } from './harness.ts'

/**
 * Issue 16's acceptance through exa-js 2.23.0, unchanged, against a real `wrangler dev` gateway
 * and the Exa simulator: `/usage` sums the `costDollars.total` exa-js saw, exactly, per key,
 * endpoint and day; a key over its hard budget gets 402 BUDGET_EXCEEDED and Exa sees nothing.
 */
let gateway: Gateway

beforeAll(async () => {
  gateway = await startGateway()
})
afterAll(async () => {
  await gateway?.stop()
})

const micros = (usd: number | undefined) => Math.round((usd ?? 0) * 1e6)

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const value = await read()
    if (done(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

it('sums exa-js paid calls exactly per key, endpoint and day; a key over budget gets 402 and Exa sees nothing', async () => {
  const alice = await gateway.issueKey(['search', 'contents', 'answer'])
  const bob = await gateway.issueKey(['search'], { budget: { usd: 0.015, period: 'day' } })
  const reader = await gateway.issueKey(['usage:read'])
  const a = new Exa(alice.key, gateway.url)
  const b = new Exa(bob.key, gateway.url)

  const spent: Record<string, number> = {}
  const add = (endpoint: string, usd: number | undefined) => (spent[endpoint] = (spent[endpoint] ?? 0) + micros(usd))
  add('POST /search', (await a.search('usage one', { numResults: 12 })).costDollars?.total)
  add('POST /search', (await a.search('usage two')).costDollars?.total)
  add('POST /contents', (await a.getContents(['https://example.com/a'], { text: true })).costDollars?.total)
  add('POST /answer', (await a.answer('what is a budget?')).costDollars?.total)
  const bobSpent = micros((await b.search('bob', { numResults: 3 })).costDollars?.total)
  expect(bobSpent).toBeGreaterThan(0)
  await b.search('bob again', { numResults: 3 }) // each $0.01 (search and text of 3 results): $0.02 > $0.015 once both are counted

  const today = new Date().toISOString().slice(0, 10)
  const read = async () => {
    const res = await fetch(`${gateway.url}/usage?groupBy=key,endpoint,day&keyId=${alice.id}`, {
      headers: { 'x-api-key': reader.key },
    })
    return (await res.json()) as {
      data: { day: string; keyId: string; endpoint: string; calls: number; costMicros: number }[]
    }
  }
  const usage = await until(read, (body) => body.data.reduce((n, row) => n + row.calls, 0) >= 4)
  expect(usage.data.map((row) => [row.day, row.keyId, row.endpoint, row.costMicros]).sort()).toEqual(
    Object.entries(spent)
      .map(([endpoint, costMicros]) => [today, alice.id, endpoint, costMicros])
      .sort()
  )

  // Bob's second call's cost reaches his limiter after its response (waitUntil, beside its usage row).
  await until(
    async () =>
      (await (
        await fetch(`${gateway.url}/usage?keyId=${bob.id}`, { headers: { 'x-api-key': reader.key } })
      ).json()) as { data: { calls: number }[] },
    (body) => body.data[0]?.calls === 2
  )
  await new Promise((resolve) => setTimeout(resolve, 200))
  const before = gateway.simulator.requests.length
  const refused = await exaError(b.search('over budget'))
  expect(refused.statusCode).toBe(402)
  expect(refused.message).toMatch(/budget is \$0\.015 per UTC day/)
  expect(gateway.simulator.requests.length).toBe(before)
})
