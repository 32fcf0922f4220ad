import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, issueKey } from './support/keys'
import { sim } from './support/simulator'

let importPath: string

beforeEach(async () => {
  await sim.reset()
  importPath = `/websets/v0/imports/${(await sim.seed()).id}`
})

const read = (key: string, headers: Record<string, string> = {}) => api(importPath, withKey(key, headers))

describe('per-key rate limits', () => {
  it("answer 429 RATE_LIMITED with retry-after past the key's own limit, and forward nothing more", async () => {
    const { key } = await issueKey(['imports:read'], { rateLimit: { requests: 2, periodSeconds: 60 } })
    expect((await read(key)).status).toBe(200)
    expect((await read(key)).status).toBe(200)
    const limited = await read(key)
    const body = await expectError(limited, 429, 'RATE_LIMITED', /2 requests per 60 s/)
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(Number.isInteger(retryAfter)).toBe(true)
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(body.error).toContain(`retry in ${retryAfter} s`)
    expect(await sim.requests()).toHaveLength(2)
  })

  it('count requests that arrive together one by one: exactly the limit gets through', async () => {
    const limited = await issueKey(['imports:read'], { rateLimit: { requests: 5, periodSeconds: 60 } })
    const other = await issueKey(['imports:read'], { rateLimit: { requests: 3, periodSeconds: 60 } })
    // Requests that arrive together are each counted on their own: exactly the limit gets through.
    const answers = await Promise.all([...Array(20)].map((_, i) => read(i % 2 ? limited.key : other.key)))
    const statuses = (key: string) =>
      answers.filter((_, i) => (i % 2 ? limited.key : other.key) === key).map((r) => r.status)
    expect(statuses(limited.key).filter((s) => s === 200)).toHaveLength(5)
    expect(statuses(limited.key).filter((s) => s === 429)).toHaveLength(5)
    expect(statuses(other.key).filter((s) => s === 200)).toHaveLength(3)
    expect(statuses(other.key).filter((s) => s === 429)).toHaveLength(7)
    expect(await sim.requests()).toHaveLength(8)
  })

  it('count each key on its own', async () => {
    const first = await issueKey(['imports:read'], { rateLimit: { requests: 1, periodSeconds: 60 } })
    const second = await issueKey(['imports:read'], { rateLimit: { requests: 1, periodSeconds: 60 } })
    expect((await read(first.key)).status).toBe(200)
    expect((await read(first.key)).status).toBe(429)
    expect((await read(second.key)).status).toBe(200)
  })

  it('count a rotated key as the same key', async () => {
    const { id, key } = await issueKey(['imports:read'], { rateLimit: { requests: 1, periodSeconds: 60 } })
    expect((await read(key)).status).toBe(200)
    const rotated = (await (await admin('POST', `/admin/keys/${id}/rotate`, {})).json()) as { key: string }
    expect((await read(rotated.key)).status).toBe(429)
  })

  it('follow a limit an admin raises, on the next request', async () => {
    const { id, key } = await issueKey(['imports:read'], { rateLimit: { requests: 1, periodSeconds: 60 } })
    expect((await read(key)).status).toBe(200)
    expect((await read(key)).status).toBe(429)
    await admin('PATCH', `/admin/keys/${id}`, { rateLimit: { requests: 100, periodSeconds: 60 } })
    expect((await read(key)).status).toBe(200)
  })

  it('apply the configured default to a key without its own limit', async () => {
    const { id, key } = await issueKey(['imports:read'])
    expect((await read(key)).status).toBe(200)
    // Spending the default budget (hundreds of requests) would make this test slow and, since the
    // budget refills as time passes, timing-dependent. Instead: the limit the key's limiter
    // counted that request under, read from the Durable Object's own storage.
    const state = await runInDurableObject(env.RATE_LIMITER.getByName(id), (_instance, ctx) =>
      ctx.storage.kv.get('state')
    )
    expect(state).toMatchObject({
      requests: Number(env.RATE_LIMIT_REQUESTS),
      periodSeconds: Number(env.RATE_LIMIT_PERIOD_SECONDS),
    })
  })

  it('let a browser page read its 429 and when to retry', async () => {
    const origin = 'https://limited.example.com'
    const { key } = await issueKey(['imports:read'], {
      origins: [origin],
      rateLimit: { requests: 1, periodSeconds: 60 },
    })
    await read(key, { origin })
    const limited = await read(key, { origin })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('access-control-allow-origin')).toBe(origin)
    expect(limited.headers.get('access-control-expose-headers')).toMatch(/retry-after/)
  })
})
