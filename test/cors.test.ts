import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { createDb } from '../src/db/client'
import { activeKeyForOrigin } from '../src/keys/store'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, issueKey } from './support/keys'
import { sim } from './support/simulator'

const APP = 'https://app.example.com'
const EVIL = 'https://evil.example.net'
/** Listed in ALLOWED_ORIGINS by vitest.config.ts. */
const CONSOLE = 'https://console.example.com'

let importPath: string

beforeEach(async () => {
  await sim.reset()
  importPath = `/websets/v0/imports/${(await sim.seed({ title: 'for the browser' })).id}`
})

function preflight(origin: string, method = 'PATCH', path = importPath) {
  return api(path, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'x-api-key, content-type',
    },
  })
}

const corsHeaders = (res: Response) => [...res.headers.keys()].filter((name) => name.startsWith('access-control-'))

describe('browser keys', () => {
  it('work from their own origin, and the page may read the answer and its request id', async () => {
    const { key } = await issueKey(['imports:read'], { origins: [APP] })
    const res = await api(importPath, withKey(key, { origin: APP }))
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ title: 'for the browser' })
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-expose-headers')).toMatch(/x-request-id/)
    expect(res.headers.get('vary')).toMatch(/Origin/)
  })

  it('are refused from another origin with 403, no CORS headers, and nothing sent upstream', async () => {
    const { key } = await issueKey(['imports:read'], { origins: [APP] })
    await issueKey(['imports:read'], { origins: [EVIL] })
    const res = await api(importPath, withKey(key, { origin: EVIL }))
    expect(corsHeaders(res)).toEqual([])
    const body = await expectError(res, 403, 'FORBIDDEN', /origin/)
    expect(body.error).not.toContain(APP)
    expect(await sim.requests()).toEqual([])
  })

  it('are refused without an Origin header, even from an origin ALLOWED_ORIGINS lists', async () => {
    const { key } = await issueKey(['imports:read'], { origins: [APP] })
    await expectError(await api(importPath, withKey(key)), 403, 'FORBIDDEN', /Origin/)
    const fromConsole = await api(importPath, withKey(key, { origin: CONSOLE }))
    expect(corsHeaders(fromConsole)).toEqual([])
    await expectError(fromConsole, 403, 'FORBIDDEN')
  })

  it('follow their origins when an admin changes them', async () => {
    const { id, key } = await issueKey(['imports:read'], { origins: [APP] })
    await admin('PATCH', `/admin/keys/${id}`, { origins: ['https://new.example.com'] })
    await expectError(await api(importPath, withKey(key, { origin: APP })), 403, 'FORBIDDEN')
    expect((await api(importPath, withKey(key, { origin: 'https://new.example.com' }))).status).toBe(200)
  })

  it('let the page read a refusal that is not about its origin (missing scope, revoked key)', async () => {
    const { id, key } = await issueKey(['imports:read'], { origins: [APP] })
    await issueKey(['imports:read'], { origins: [APP] })
    const forbidden = await api(importPath, {
      method: 'PATCH',
      headers: { 'x-api-key': key, origin: APP, 'content-type': 'application/json' },
      body: '{}',
    })
    expect(forbidden.headers.get('access-control-allow-origin')).toBe(APP)
    await expectError(forbidden, 403, 'FORBIDDEN', /imports:write/)
    await admin('DELETE', `/admin/keys/${id}`)
    const revoked = await api(importPath, withKey(key, { origin: APP }))
    expect(revoked.headers.get('access-control-allow-origin')).toBe(APP)
    await expectError(revoked, 401, 'UNAUTHENTICATED')
  })

  it('do not make a server key readable from a browser', async () => {
    await issueKey(['imports:read'], { origins: [APP] })
    const { key } = await issueKey(['imports:read'])
    const res = await api(importPath, withKey(key, { origin: APP }))
    expect(res.status).toBe(200)
    expect(corsHeaders(res)).toEqual([])
  })
})

describe('CORS preflights', () => {
  it('are answered for an origin an active key allows, with exactly what the routes need', async () => {
    await issueKey(['imports:read'], { origins: [APP] })
    const res = await preflight(APP)
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PATCH, DELETE')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'x-api-key, authorization, content-type, idempotency-key, exa-beta, x-exa-websets-priority, last-event-id'
    )
    expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0)
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
    expect(res.headers.get('vary')).toMatch(/Origin/)
  })

  it('are answered for an origin in ALLOWED_ORIGINS without any key', async () => {
    const res = await preflight(CONSOLE, 'GET', '/audit/events')
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(CONSOLE)
  })

  it('give an unknown origin no CORS headers at all', async () => {
    await issueKey(['imports:read'], { origins: [APP] })
    // Unique to this test: storage is shared by the tests of a file, and others list EVIL.
    const res = await preflight('https://never-listed.example.org')
    expect(corsHeaders(res)).toEqual([])
    await expectError(res, 403, 'FORBIDDEN', /never-listed\.example\.org/)
  })

  it('stop for the origin of a revoked or expired key at once', async () => {
    const revoked = await issueKey(['imports:read'], { origins: ['https://revoked.example.com'] })
    const expired = await issueKey(['imports:read'], {
      origins: ['https://expired.example.com'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    })
    expect((await preflight('https://revoked.example.com')).status).toBe(204)
    expect((await preflight('https://expired.example.com')).status).toBe(204)
    await admin('DELETE', `/admin/keys/${revoked.id}`)
    await env.DB.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, expired.id)
      .run()
    expect(corsHeaders(await preflight('https://revoked.example.com'))).toEqual([])
    expect(corsHeaders(await preflight('https://expired.example.com'))).toEqual([])
  })

  it('look the origin up by index, not by scanning the keys', async () => {
    const query = activeKeyForOrigin(createDb(env.DB), APP, Date.now()).toSQL()
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.params)
      .all<{ detail: string }>()
    const details = plan.results.map((row) => row.detail)
    expect(details.join('\n')).toMatch(/api_key_origins/)
    expect(details.join('\n')).not.toMatch(/\bSCAN\b/)
  })
})
