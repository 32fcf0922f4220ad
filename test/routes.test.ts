import { describe, expect, it } from 'vitest'
import { api, issueKey, sim } from './helpers'

describe('not an open proxy', () => {
  const unserved: [string, string][] = [
    ['GET', '/websets/v0/websets'],
    ['POST', '/websets/v0/imports/abc/cancel'],
    ['PUT', '/websets/v0/imports/abc'],
    ['GET', '/websets/v0/searches/abc'],
    ['GET', '/search'],
    ['GET', '/'],
  ]
  for (const [method, path] of unserved) {
    it(`answers ${method} ${path} with 404 and forwards nothing`, async () => {
      await sim.reset()
      const { key } = await issueKey()
      const res = await api(path, { method, headers: { 'x-api-key': key } })
      expect(res.status).toBe(404)
      expect(res.headers.get('x-request-id')).toMatch(/^req_/)
      expect(await res.json()).toMatchObject({ tag: 'NOT_FOUND', error: expect.stringContaining(path) })
      expect(await sim.requests()).toEqual([])
    })
  }
})

describe('GET /healthz', () => {
  it('reports D1 and configuration without secrets or auth', async () => {
    const res = await api('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, d1: 'ok', config: 'ok', adminApi: 'on' })
  })
})
