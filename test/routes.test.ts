import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, issueKey } from './support/keys'
import { sim } from './support/simulator'

describe('not an open proxy', () => {
  const unserved: [string, string][] = [
    ['PUT', '/websets/v0/websets'],
    ['PATCH', '/websets/v0/websets/abc/items/x'],
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

  it('takes an ADMIN_TOKEN shorter than 32 characters for a configuration error: the admin API is off, the rest works', async () => {
    const short = 'guessable-admin-token-31-chars!' // 31 characters
    expect(short).toHaveLength(31)
    const health = await withEnv({ ADMIN_TOKEN: short }, '/healthz')
    expect(health.status).toBe(503)
    const body = await health.text()
    expect(JSON.parse(body)).toMatchObject({
      ok: false,
      d1: 'ok',
      config: expect.stringMatching(/ADMIN_TOKEN must be at least 32 characters/),
      adminApi: 'off',
    })
    expect(body).not.toContain(short)
    const refused = await withEnv({ ADMIN_TOKEN: short }, '/admin/keys', { authorization: `Bearer ${short}` })
    const error = await expectError(refused, 500, 'CONFIGURATION_ERROR', /ADMIN_TOKEN must be at least 32 characters/)
    expect(JSON.stringify(error)).not.toContain(short)
    await sim.reset()
    const { key } = await issueKey(['imports:read'])
    const item = await sim.seed()
    const read = await withEnv({ ADMIN_TOKEN: short }, `/websets/v0/imports/${item.id}`, { 'x-api-key': key })
    expect(read.status).toBe(200)
  })

  it('accepts an ADMIN_TOKEN of 32 characters', async () => {
    const token = 'a'.repeat(32)
    expect((await withEnv({ ADMIN_TOKEN: token }, '/healthz')).status).toBe(200)
    expect((await withEnv({ ADMIN_TOKEN: token }, '/admin/keys', { authorization: `Bearer ${token}` })).status).toBe(
      200
    )
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

describe('when D1 is down', () => {
  /** Runs `during` while `table` is gone: D1 then fails every query on it, as it reports any failure. */
  async function without(table: string, during: () => Promise<void>) {
    await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_gone`)
    try {
      await during()
    } finally {
      await env.DB.exec(`ALTER TABLE ${table}_gone RENAME TO ${table}`)
    }
  }

  /** The answer a client can retry on: 503, its own tag, a message saying what to do, and when. */
  async function expectUnavailable(res: Response) {
    await expectError(res, 503, 'STORAGE_UNAVAILABLE', /storage \(D1\).*retry/)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  }

  it('answers 503 STORAGE_UNAVAILABLE with retry-after when keys cannot be looked up, and forwards nothing', async () => {
    await sim.reset()
    const { key } = await issueKey(['imports:read'])
    await without('api_key_secrets', async () => {
      await expectUnavailable(await api('/websets/v0/imports/import_x', withKey(key)))
      await expectUnavailable(await api('/ui/session', withKey(key)))
    })
    expect(await sim.requests()).toEqual([])
  })

  it('answers 503 STORAGE_UNAVAILABLE on the audit log and the admin API', async () => {
    const { key } = await issueKey(['audit:read'])
    await without('audit_events', async () => {
      await expectUnavailable(await api('/audit/events', withKey(key)))
      await expectUnavailable(await api('/audit/export', withKey(key)))
    })
    await without('api_keys', async () => {
      await expectUnavailable(await admin('GET', '/admin/keys'))
    })
  })

  it('answers 503 STORAGE_UNAVAILABLE to a CORS preflight it cannot check', async () => {
    await without('api_key_origins', async () => {
      await expectUnavailable(
        await api('/websets/v0/imports', {
          method: 'OPTIONS',
          headers: { origin: 'https://unlisted.example.com', 'access-control-request-method': 'GET' },
        })
      )
    })
  })
})
