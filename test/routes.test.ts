import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'
import { api } from './support/gateway'
import { issueKey } from './support/keys'
import { sim } from './support/simulator'

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

  // The same worker with other configuration: the env object is the only thing that differs.
  const withEnv = (overrides: Record<string, string | undefined>, path: string, headers: Record<string, string> = {}) =>
    worker.fetch(
      new Request(`https://gateway.test${path}`, { headers }) as Parameters<typeof worker.fetch>[0],
      { ...env, ...overrides } as typeof env,
      createExecutionContext()
    )

  it('answers 503 and says what is wrong when the configuration is bad, never with a value', async () => {
    const res = await withEnv({ UPSTREAM_TIMEOUT_MS: 'soon', EXA_BASE_URL: 'ftp://exa' }, '/healthz')
    expect(res.status).toBe(503)
    const body = (await res.json()) as { ok: boolean; config: string }
    expect(body.ok).toBe(false)
    expect(body.config).toMatch(/UPSTREAM_TIMEOUT_MS must be a positive integer/)
    expect(body.config).toMatch(/EXA_BASE_URL must be an origin/)
    expect(JSON.stringify(body)).not.toContain('soon')
  })

  it('answers 503 when no Exa key is configured, and the import routes say how to fix it', async () => {
    const health = await withEnv({ EXA_API_KEY: undefined }, '/healthz')
    expect(health.status).toBe(503)
    expect(await health.json()).toMatchObject({ ok: false, config: 'EXA_API_KEY is not set' })
    const { key } = await issueKey(['imports:read'])
    const res = await withEnv({ EXA_API_KEY: undefined }, '/websets/v0/imports/import_x', { 'x-api-key': key })
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({
      tag: 'CONFIGURATION_ERROR',
      error: expect.stringMatching(/wrangler secret put EXA_API_KEY/),
    })
  })

  it('reports bad configuration on other routes as a clear 500, not a crash', async () => {
    const res = await withEnv({ UPSTREAM_TIMEOUT_MS: '-5' }, '/audit/events')
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({
      tag: 'CONFIGURATION_ERROR',
      error: expect.stringMatching(/UPSTREAM_TIMEOUT_MS/),
    })
  })
})
