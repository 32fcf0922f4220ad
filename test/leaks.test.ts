import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { api } from './support/gateway'
import { issueKey } from './support/keys'
import { TEST_ADMIN_TOKEN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

beforeEach(async () => {
  await sim.reset()
})

describe('credentials stay where they belong', () => {
  it('sends upstream only the Exa key and the gateway headers, never the client credentials', async () => {
    const item = await sim.seed()
    const { key } = await issueKey()
    const res = await api(`/websets/v0/imports/${item.id}`, {
      method: 'PATCH',
      headers: {
        'x-api-key': key,
        authorization: 'Bearer something-else',
        cookie: 'session=secret-cookie',
        'content-type': 'application/json',
        'x-forwarded-for': '10.0.0.1',
        'x-custom-header': 'smuggled',
      },
      body: JSON.stringify({ title: 'x' }),
    })
    expect(res.status).toBe(200)
    const recorded = await sim.requests()
    expect(recorded.map((r) => r.method)).toEqual(['GET', 'PATCH'])
    for (const request of recorded) {
      expect(request.headers['x-api-key']).toBe(TEST_EXA_API_KEY)
      expect(request.headers).not.toHaveProperty('authorization')
      expect(request.headers).not.toHaveProperty('cookie')
      expect(request.headers).not.toHaveProperty('x-custom-header')
      expect(request.headers).not.toHaveProperty('x-forwarded-for')
      expect(JSON.stringify(request)).not.toContain(key)
    }
  })

  it('puts no secret in responses or in any audit column', async () => {
    const item = await sim.seed()
    const { key } = await issueKey()
    const responses = [
      await api(`/websets/v0/imports/${item.id}`, {
        method: 'PATCH',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: '{"title":"y"}',
      }),
      await api(`/websets/v0/imports/${item.id}`, { headers: { 'x-api-key': key } }),
      await api('/audit/events', { headers: { 'x-api-key': key } }),
      await api('/admin/keys', { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } }),
      await api('/healthz'),
      await api('/nope', { headers: { 'x-api-key': TEST_EXA_API_KEY } }),
      await api(`/websets/v0/imports/${item.id}`, { headers: { 'x-api-key': TEST_EXA_API_KEY } }),
    ]
    for (const res of responses) {
      const text = (await res.text()) + JSON.stringify([...res.headers])
      for (const secret of [TEST_EXA_API_KEY, TEST_ADMIN_TOKEN, key]) expect(text).not.toContain(secret)
    }
    const { results } = await env.DB.prepare('SELECT * FROM audit_events').all()
    const { results: keys } = await env.DB.prepare('SELECT * FROM api_keys').all()
    const stored = JSON.stringify([results, keys])
    expect(results.length).toBeGreaterThan(0)
    for (const secret of [TEST_EXA_API_KEY, TEST_ADMIN_TOKEN, key]) expect(stored).not.toContain(secret)
  })
})
