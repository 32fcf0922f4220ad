import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { expectError } from './support/errors'
import { eventually } from './support/eventually'
import { api, jsonInit, withKey } from './support/gateway'
import { admin, getKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let importPath: string

beforeEach(async () => {
  await sim.reset()
  importPath = `/websets/v0/imports/${(await sim.seed()).id}`
})

const read = (key: string) => api(importPath, withKey(key))

describe('revocation and expiry act on the very next request', () => {
  it('refuses a revoked key on the next call', async () => {
    const { id, key } = await issueKey(['imports:read'])
    expect((await read(key)).status).toBe(200)
    expect((await admin('DELETE', `/admin/keys/${id}`)).status).toBe(200)
    await expectError(await read(key), 401, 'UNAUTHENTICATED', /revoked/)
  })

  it('refuses a key once its expiresAt has passed', async () => {
    const { id, key } = await issueKey(['imports:read'], { expiresAt: new Date(Date.now() + 3_600_000).toISOString() })
    expect((await read(key)).status).toBe(200)
    // Time travel: the expiry the gateway stored is now behind us.
    await env.DB.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, id)
      .run()
    await expectError(await read(key), 401, 'UNAUTHENTICATED', /expired/)
    expect(await getKey(id)).toMatchObject({ status: 'expired' })
  })

  it('refuses a key whose scopes were narrowed, on the next call', async () => {
    const { id, key } = await issueKey(['imports:read', 'imports:write'])
    await admin('PATCH', `/admin/keys/${id}`, { scopes: ['imports:read'] })
    await expectError(await api(importPath, jsonInit('PATCH', key, { title: 'x' })), 403, 'FORBIDDEN', /imports:write/)
    expect(await sim.requests({ method: 'PATCH' })).toEqual([])
  })
})

describe('rotation', () => {
  it('keeps the old secret working through the grace period, and not after it', async () => {
    const { id, key: oldKey } = await issueKey(['imports:read'])
    const t0 = Date.now()
    const res = await admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 3600 })
    expect(res.status).toBe(200)
    const rotated = (await res.json()) as Record<string, any>
    expect(rotated.key).toMatch(/^egw_/)
    expect(rotated.key).not.toBe(oldKey)
    expect(rotated.prefix).toBe(rotated.key.slice(0, 10))
    const graceEnd = Date.parse(rotated.previousSecretExpiresAt)
    expect(graceEnd).toBeGreaterThanOrEqual(t0 + 3_600_000)
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 3_600_000)

    expect((await read(oldKey)).status).toBe(200)
    expect((await read(rotated.key)).status).toBe(200)

    // Time travel to the end of the grace period the gateway stored for the old secret.
    const { meta } = await env.DB.prepare(
      'UPDATE api_key_secrets SET expires_at = ? WHERE key_id = ? AND expires_at = ?'
    )
      .bind(Date.now(), id, graceEnd)
      .run()
    expect(meta.changes).toBe(1)
    await expectError(await read(oldKey), 401, 'UNAUTHENTICATED')
    expect((await read(rotated.key)).status).toBe(200)
  })

  it('ends the old secret at once with a grace period of 0 (the default)', async () => {
    const { id, key: oldKey } = await issueKey(['imports:read'])
    const first = (await (await admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 0 })).json()) as {
      key: string
    }
    await expectError(await read(oldKey), 401, 'UNAUTHENTICATED')
    const second = (await (await admin('POST', `/admin/keys/${id}/rotate`, {})).json()) as { key: string }
    await expectError(await read(first.key), 401, 'UNAUTHENTICATED')
    expect((await read(second.key)).status).toBe(200)
  })

  it('never extends an old secret: a later rotation with a long grace leaves an ended one ended', async () => {
    const { id, key: original } = await issueKey(['imports:read'])
    await admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 0 })
    await admin('POST', `/admin/keys/${id}/rotate`, { gracePeriodSeconds: 86_400 })
    await expectError(await read(original), 401, 'UNAUTHENTICATED')
  })

  it('validates the body', async () => {
    const { id } = await issueKey(['imports:read'])
    for (const body of [
      { gracePeriodSeconds: -1 },
      { gracePeriodSeconds: 1.5 },
      { gracePeriodSeconds: '60' },
      { grace: 60 },
    ]) {
      await expectError(await admin('POST', `/admin/keys/${id}/rotate`, body), 400, 'INVALID_REQUEST_BODY')
    }
    await expectError(await admin('POST', '/admin/keys/key_00000000000000000000000000/rotate', {}), 404, 'NOT_FOUND')
  })
})

describe('lastUsedAt', () => {
  it('is set after a key is used, refreshed once it is a minute old, and left alone before', async () => {
    const { id, key } = await issueKey(['imports:read'])
    expect((await getKey(id)).lastUsedAt).toBeNull()
    const t0 = Date.now()
    await read(key)
    const used = await eventually(
      () => getKey(id),
      (k) => k.lastUsedAt !== null
    )
    expect(Date.parse(used.lastUsedAt)).toBeGreaterThanOrEqual(t0 - 5)

    // Recent: a second use writes nothing (checked after a stale key's write has landed).
    const recent = Date.now() - 30_000
    const stale = Date.now() - 61_000
    const other = await issueKey(['imports:read'])
    await env.DB.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').bind(recent, id).run()
    await env.DB.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?').bind(stale, other.id).run()
    await read(key)
    await read(other.key)
    const refreshed = await eventually(
      () => getKey(other.id),
      (k) => Date.parse(k.lastUsedAt) > stale
    )
    expect(Date.parse(refreshed.lastUsedAt)).toBeGreaterThan(stale)
    expect(Date.parse((await getKey(id)).lastUsedAt)).toBe(recent)
  })

  it('is written off the request path: a failing write does not fail the request', async () => {
    const { key } = await issueKey(['imports:read'])
    await env.DB.exec(
      "CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON api_keys BEGIN SELECT RAISE(ABORT, 'no'); END"
    )
    try {
      expect((await read(key)).status).toBe(200)
    } finally {
      await env.DB.exec('DROP TRIGGER refuse_last_used')
    }
  })
})
