import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { SPEND_KEY } from '../src/keys/rate-limiter'
import { expectError } from './support/errors'
import { api, jsonInit, withKey } from './support/gateway'
import { admin, getKey, type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

/**
 * Budgets per key: kept in the key's RateLimiter Durable Object (the spend) and D1 (the budget);
 * a paid call over the hard budget is refused before it reaches Exa, free calls still pass, the
 * soft threshold flags. The simulator prices a plain search at $0.007.
 */
const SEARCH_MICROS = 7_000

beforeEach(() => sim.reset())

const search = (k: IssuedKey, query = 'budgets') => api('/search', jsonInit('POST', k.key, { query }))
const paidRequests = async () => (await sim.requests({ pathIncludes: '/search' })).length

async function budgeted(budget: unknown) {
  return issueKey(['search', 'imports:read'], { budget })
}

describe('budgets through the admin API', () => {
  it('are set on create and update, shown, validated, and audited as key changes', async () => {
    const k = await budgeted({ usd: 25, period: 'month', soft: 20 })
    expect((await getKey(k.id)).budget).toEqual({ usd: 25, period: 'month', soft: 20 })
    const changed = await admin('PATCH', `/admin/keys/${k.id}`, { budget: { usd: 2.5, period: 'day' } })
    expect(changed.status).toBe(200)
    expect(((await changed.json()) as { budget: unknown }).budget).toEqual({ usd: 2.5, period: 'day' })
    const reader = await issueKey(['audit:read'])
    const events = (await (await api('/audit/events?action=key.update', withKey(reader.key))).json()) as {
      data: { subjectKeyId: string; before: { budget: unknown }; after: { budget: unknown } }[]
    }
    const update = events.data.find((event) => event.subjectKeyId === k.id)
    expect(update).toMatchObject({ before: { budget: { usd: 25 } }, after: { budget: { usd: 2.5, period: 'day' } } })
    expect((await admin('PATCH', `/admin/keys/${k.id}`, { budget: null })).status).toBe(200)
    expect((await getKey(k.id)).budget).toBeNull()

    for (const bad of [
      { usd: 0, period: 'day' },
      { usd: 5, period: 'week' },
      { usd: 5, period: 'day', soft: 5 },
      { usd: '5', period: 'day' },
      { usd: 5, period: 'day', hard: true },
      { usd: 0.0000001, period: 'day' },
    ]) {
      await expectError(await admin('PATCH', `/admin/keys/${k.id}`, { budget: bad }), 400, 'INVALID_REQUEST_BODY')
    }
  })
})

describe('a key over its budget', () => {
  it('is refused paid calls with 402 BUDGET_EXCEEDED before anything reaches Exa; free reads still pass', async () => {
    const k = await budgeted({ usd: 0.01, period: 'day' })
    expect((await search(k)).status).toBe(200) // 0 spent
    expect((await search(k)).status).toBe(200) // $0.007 spent, below $0.01
    const refused = await expectError(await search(k), 402, 'BUDGET_EXCEEDED')
    expect(refused.error).toContain('$0.01 per UTC day')
    expect(refused.error).toContain('$0.014 is spent')
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)
    expect(refused.error).toContain(`resets at ${tomorrow}T00:00:00.000Z`)
    expect(await paidRequests()).toBe(2)

    const imported = await sim.seed()
    expect((await api(`/websets/v0/imports/${imported.id}`, withKey(k.key))).status).toBe(200)
    expect((await getKey(k.id)).usage.day.costMicros).toBe(2 * SEARCH_MICROS)
  })

  it('is refused the changes that start paid work (an agent run), not the free ones (a cancel)', async () => {
    const k = await issueKey(['search', 'agent:write'], { budget: { usd: 0.005, period: 'day' } })
    expect((await search(k)).status).toBe(200) // $0.007 spent: over the budget
    const before = (await sim.requests({ pathIncludes: '/agent/runs' })).length
    const run = jsonInit('POST', k.key, { query: 'who founded Exa?' })
    await expectError(await api('/agent/runs', run), 402, 'BUDGET_EXCEEDED')
    expect((await sim.requests({ pathIncludes: '/agent/runs' })).length).toBe(before)
    // A cancel spends nothing: it reaches Exa (which answers 404 for a run it does not know).
    const cancel = await api('/agent/runs/agent_run_nope/cancel', jsonInit('POST', k.key))
    expect(cancel.status).toBe(404)
  })

  it('gets its calls again when the period turns (the time in the Durable Object, not a sleep)', async () => {
    const k = await budgeted({ usd: 0.005, period: 'month' })
    expect((await search(k)).status).toBe(200)
    await expectError(await search(k), 402, 'BUDGET_EXCEEDED')
    // The spend as the object would hold it had the call been made last month.
    await runInDurableObject(env.RATE_LIMITER.getByName(k.id), (_instance, ctx) => {
      const kept = ctx.storage.kv.get<{ monthMicros: number }>(SPEND_KEY)!
      ctx.storage.kv.put(SPEND_KEY, {
        day: '2020-01-31',
        dayMicros: kept.monthMicros,
        month: '2020-01',
        monthMicros: kept.monthMicros,
      })
    })
    expect((await search(k)).status).toBe(200)
    expect(await paidRequests()).toBe(2)
  })

  it('gets its calls again on the next request once its budget is raised (a warm key too)', async () => {
    const k = await budgeted({ usd: 0.001, period: 'day' })
    expect((await search(k)).status).toBe(200)
    await expectError(await search(k), 402, 'BUDGET_EXCEEDED')
    expect((await admin('PATCH', `/admin/keys/${k.id}`, { budget: { usd: 1, period: 'day' } })).status).toBe(200)
    expect((await search(k)).status).toBe(200)
    expect((await admin('PATCH', `/admin/keys/${k.id}`, { budget: { usd: 0.001, period: 'day' } })).status).toBe(200)
    await expectError(await search(k), 402, 'BUDGET_EXCEEDED')
  })

  it('may overshoot by the calls in flight when it crosses the budget: the next one is refused', async () => {
    const k = await budgeted({ usd: 0.001, period: 'day' })
    const concurrent = await Promise.all([search(k, 'a'), search(k, 'b'), search(k, 'c')])
    expect(concurrent.map((res) => res.status)).toEqual([200, 200, 200])
    await expectError(await search(k), 402, 'BUDGET_EXCEEDED')
    expect(await paidRequests()).toBe(3)
  })

  it('past its soft budget: answered, with x-budget-remaining-usd, and a log line', async () => {
    const k = await budgeted({ usd: 1, period: 'month', soft: 0.005 })
    const first = await search(k)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-budget-remaining-usd')).toBeNull()
    const second = await search(k)
    expect(second.status).toBe(200)
    expect(second.headers.get('x-budget-remaining-usd')).toBe('0.993')
  })

  it('a key without a budget is never refused for spending', async () => {
    const k = await issueKey(['search'])
    for (let i = 0; i < 3; i++) expect((await search(k)).status).toBe(200)
  })
})
