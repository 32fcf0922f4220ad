import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import worker from '../src/index'
import { auditEventsFor } from './support/audit'
import { api, jsonInit, withKey } from './support/gateway'
import { expectError } from './support/errors'
import { admin, issueKey } from './support/keys'
import { TEST_ADMIN_TOKEN, TEST_EXA_API_KEY } from './support/secrets'
import { sim } from './support/simulator'

let importId: string

beforeEach(async () => {
  await sim.reset()
  importId = (await sim.seed({ title: 'original' })).id
})

describe('authentication', () => {
  it('tells concurrent requests of different keys apart, and refuses a key revoked before they came', async () => {
    const alice = await issueKey(['imports:read', 'imports:write', 'audit:read'], { name: 'alice' })
    const bob = await issueKey(['imports:read', 'imports:write'], { name: 'bob' })
    const gone = await issueKey(['imports:read', 'imports:write'], { name: 'gone' })
    expect((await admin('DELETE', `/admin/keys/${gone.id}`)).status).toBe(200)
    // Lookups that arrive together, warm and cold, must each get their own key.
    const keys = [...Array(24)].map((_, i) => [alice, bob, gone][i % 3]!)
    const answers = await Promise.all(
      keys.map((key, i) =>
        api(`/websets/v0/imports/${importId}`, jsonInit('PATCH', key.key, { title: `${key.name} ${i}` }))
      )
    )
    expect(answers.map((r) => r.status)).toEqual(keys.map((key) => (key === gone ? 401 : 200)))
    const events = await auditEventsFor(importId, alice.key)
    expect(events).toHaveLength(16)
    for (const event of events) expect(event.requestBody.title.startsWith(`${event.actor} `)).toBe(true)
  })

  it('refuses a request without a key', async () => {
    await expectError(
      await api(`/websets/v0/imports/${importId}`, {
        method: 'PATCH',
        body: '{"title":"x"}',
        headers: { 'content-type': 'application/json' },
      }),
      401,
      'UNAUTHENTICATED',
      /x-api-key/
    )
  })

  it('refuses an unknown key and a malformed key', async () => {
    const unknown = 'egw_' + 'A'.repeat(43)
    await expectError(
      await api(`/websets/v0/imports/${importId}`, jsonInit('PATCH', unknown, { title: 'x' })),
      401,
      'UNAUTHENTICATED'
    )
    await expectError(
      await api(`/websets/v0/imports/${importId}`, jsonInit('PATCH', 'hunter2', { title: 'x' })),
      401,
      'UNAUTHENTICATED'
    )
  })

  it('never accepts the Exa key itself as a client key, and answers it like any unknown key', async () => {
    const warn = vi.spyOn(console, 'warn')
    try {
      // A credential of the same length and alphabet: whatever the gateway says about it, it must
      // say about the Exa key too, or a 401 confirms a guessed Exa key.
      const lookalike = TEST_EXA_API_KEY.replace(/[a-z]/g, 'q')
      const answer = async (credential: string, headers: Record<string, string>) => {
        const body = await expectError(
          await api(`/websets/v0/imports/${importId}`, { headers }),
          401,
          'UNAUTHENTICATED'
        )
        return { error: body.error, tag: body.tag, credential }
      }
      for (const send of [(k: string) => ({ 'x-api-key': k }), (k: string) => ({ authorization: `Bearer ${k}` })]) {
        const exa = await answer(TEST_EXA_API_KEY, send(TEST_EXA_API_KEY))
        const other = await answer(lookalike, send(lookalike))
        expect(exa.error).toBe(other.error)
        expect(exa.error).not.toMatch(/exa/i)
      }
      const logged = warn.mock.calls.map(([line]) => JSON.parse(String(line)))
      expect(logged).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/Exa API key was presented/) })
      )
    } finally {
      warn.mockRestore()
    }
  })

  it('answers an Exa key shaped like a gateway key as an unknown gateway key', async () => {
    const exaKey = 'egw_' + 'E'.repeat(43)
    const withExaKey = (credential: string) =>
      worker.fetch(
        new Request(`https://gateway.test/websets/v0/imports/${importId}`, {
          headers: { 'x-api-key': credential },
        }) as Parameters<typeof worker.fetch>[0],
        { ...env, EXA_API_KEY: exaKey } as typeof env,
        createExecutionContext()
      )
    const exa = await expectError(await withExaKey(exaKey), 401, 'UNAUTHENTICATED')
    const unknown = await expectError(await withExaKey('egw_' + 'F'.repeat(43)), 401, 'UNAUTHENTICATED')
    expect(exa.error).toBe(unknown.error)
  })

  it('accepts the key as Authorization: Bearer too', async () => {
    const { key } = await issueKey(['imports:read'])
    const res = await api(`/websets/v0/imports/${importId}`, { headers: { authorization: `Bearer ${key}` } })
    expect(res.status).toBe(200)
  })

  it('does not let the admin token open the imports or audit routes', async () => {
    const bearer = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }
    await expectError(await api(`/websets/v0/imports/${importId}`, { headers: bearer }), 401, 'UNAUTHENTICATED')
    await expectError(await api('/audit/events', { headers: bearer }), 401, 'UNAUTHENTICATED')
  })
})

describe('scopes', () => {
  it('refuses an update from a read-only key with 403 naming the scope, and forwards nothing', async () => {
    const { key } = await issueKey(['imports:read'])
    await expectError(
      await api(`/websets/v0/imports/${importId}`, jsonInit('PATCH', key, { title: 'x' })),
      403,
      'FORBIDDEN',
      /imports:write/
    )
    expect(await sim.requests()).toEqual([])
  })

  it('refuses reads without imports:read and the audit log without audit:read', async () => {
    const { key } = await issueKey(['imports:write'])
    await expectError(
      await api(`/websets/v0/imports/${importId}`, { headers: { 'x-api-key': key } }),
      403,
      'FORBIDDEN',
      /imports:read/
    )
    await expectError(await api('/audit/events', { headers: { 'x-api-key': key } }), 403, 'FORBIDDEN', /audit:read/)
  })
})

describe('admin API', () => {
  it('issues a key whose plaintext appears only in the creation answer', async () => {
    const created = await issueKey(['imports:read'], { name: 'alice-reader' })
    expect(created.key).toMatch(/^egw_[A-Za-z0-9_-]{43}$/)
    const list = await api('/admin/keys', { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })
    expect(list.status).toBe(200)
    const text = await list.text()
    expect(text).toContain(created.id)
    expect(text).toContain('alice-reader')
    expect(text).not.toContain(created.key)
    expect(text).not.toContain(created.key.slice(4, 20))
  })

  it('refuses the admin API without the token, and with a non-admin key', async () => {
    await expectError(await api('/admin/keys'), 401, 'UNAUTHENTICATED')
    await expectError(
      await api('/admin/keys', { headers: { authorization: 'Bearer wrong-token' } }),
      401,
      'UNAUTHENTICATED'
    )
    const { key } = await issueKey(['imports:read', 'imports:write', 'audit:read'])
    await expectError(await api('/admin/keys', { headers: { 'x-api-key': key } }), 403, 'FORBIDDEN', /admin/)
  })

  describe('failed admin credentials', () => {
    const attempt = (credential: string | undefined, ip: string) =>
      api('/admin/keys', {
        headers: { 'cf-connecting-ip': ip, ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
      })

    it('are limited per client address: 429 with retry-after past 10, then even for the right token', async () => {
      const ip = '203.0.113.7'
      for (let i = 0; i < 10; i++) await expectError(await attempt(`wrong-token-${i}`, ip), 401, 'UNAUTHENTICATED')
      const limited = await attempt('wrong-again', ip)
      await expectError(limited, 429, 'RATE_LIMITED', /failed admin credentials from this address/)
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      // The same 429 for the right token: otherwise a locked-out guesser would still learn when it guessed right.
      await expectError(await attempt(TEST_ADMIN_TOKEN, ip), 429, 'RATE_LIMITED')
      expect((await attempt(TEST_ADMIN_TOKEN, '198.51.100.9')).status).toBe(200)
    })

    it('count an IPv6 /64 as one address', async () => {
      for (let i = 1; i <= 10; i++) await attempt('wrong', `2001:db8:1:2::${i.toString(16)}`)
      expect((await attempt('wrong', '2001:db8:1:2:ffff:ffff:ffff:ffff')).status).toBe(429)
      expect((await attempt('wrong', '2001:db8:1:3::1')).status).toBe(401)
    })

    it('do not include a missing credential or a key without the admin scope', async () => {
      const ip = '192.0.2.44'
      const { key } = await issueKey(['imports:read'])
      for (let i = 0; i < 12; i++) {
        await expectError(await attempt(undefined, ip), 401, 'UNAUTHENTICATED')
        await expectError(await api('/admin/keys', withKey(key, { 'cf-connecting-ip': ip })), 403, 'FORBIDDEN')
      }
      expect((await attempt(TEST_ADMIN_TOKEN, ip)).status).toBe(200)
    })
  })

  it('validates the new key: unknown scope, empty name', async () => {
    const post = (body: unknown) =>
      api('/admin/keys', {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    await expectError(await post({ name: 'x', scopes: ['imports:delete'] }), 400, 'INVALID_REQUEST_BODY', /scopes/)
    await expectError(await post({ name: '  ', scopes: ['imports:read'] }), 400, 'INVALID_REQUEST_BODY', /name/)
  })
})
