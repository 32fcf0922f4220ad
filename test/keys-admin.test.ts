import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { sha256Hex } from '../src/lib/hash'
import { keyNamed } from '../src/keys/store'
import { countRows, db } from './support/d1'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, getKey, issueKey } from './support/keys'
import { TEST_ADMIN_TOKEN } from './support/secrets'
import { sim } from './support/simulator'

beforeEach(async () => {
  await sim.reset()
})

const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString()

describe('POST /admin/keys', () => {
  it('answers 201 with every setting and the plaintext key, which GET never shows again', async () => {
    const expiresAt = inAnHour()
    const res = await admin('POST', '/admin/keys', {
      name: 'web',
      scopes: ['imports:read'],
      origins: ['https://app.example.com', 'http://localhost:5173'],
      expiresAt,
      rateLimit: { requests: 50, periodSeconds: 60 },
    })
    expect(res.status).toBe(201)
    const created = (await res.json()) as Record<string, any>
    expect(created).toMatchObject({
      name: 'web',
      status: 'active',
      scopes: ['imports:read'],
      origins: ['https://app.example.com', 'http://localhost:5173'],
      rateLimit: { requests: 50, periodSeconds: 60 },
      expiresAt,
      revokedAt: null,
      lastUsedAt: null,
    })
    expect(created.key).toMatch(/^egw_[A-Za-z0-9_-]{43}$/)
    expect(created.prefix).toBe(created.key.slice(0, 10))

    const shown = await admin('GET', `/admin/keys/${created.id}`)
    const text = await shown.text()
    const { key, ...view } = created
    // GET /admin/keys/{id} adds what the key spent this UTC day and month (docs/usage.md).
    const { usage, ...shownView } = JSON.parse(text)
    expect(shownView).toEqual(view)
    expect(usage).toMatchObject({ day: { calls: 0, costUsd: 0 }, month: { calls: 0, costUsd: 0 } })
    const listed = await (await admin('GET', '/admin/keys')).text()
    for (const output of [text, listed]) {
      expect(output).not.toContain(key)
      expect(output).not.toContain(await sha256Hex(key))
    }
  })

  const refused: [string, unknown, RegExp][] = [
    ['an unknown scope', { name: 'x', scopes: ['imports:delete'] }, /scopes/],
    ['no scope', { name: 'x', scopes: [] }, /scope/],
    ['a repeated scope', { name: 'x', scopes: ['imports:read', 'imports:read'] }, /repeat/],
    ['an empty name', { name: '   ', scopes: ['imports:read'] }, /name/],
    ['expiresAt in the past', { name: 'x', scopes: ['imports:read'], expiresAt: '2020-01-01T00:00:00Z' }, /future/],
    ['expiresAt that is not a date', { name: 'x', scopes: ['imports:read'], expiresAt: 'tomorrow' }, /ISO 8601/],
    [
      'an origin with a path',
      { name: 'x', scopes: ['imports:read'], origins: ['https://app.example.com/page'] },
      /origin/,
    ],
    [
      'an origin with a trailing slash',
      { name: 'x', scopes: ['imports:read'], origins: ['https://app.example.com/'] },
      /origin/,
    ],
    ['a wildcard origin', { name: 'x', scopes: ['imports:read'], origins: ['*'] }, /origin/],
    ['an upper-case origin', { name: 'x', scopes: ['imports:read'], origins: ['https://App.example.com'] }, /origin/],
    ['plain http off loopback', { name: 'x', scopes: ['imports:read'], origins: ['http://app.example.com'] }, /origin/],
    ['an empty origins list', { name: 'x', scopes: ['imports:read'], origins: [] }, /origins/],
    [
      'a rate limit of 0',
      { name: 'x', scopes: ['imports:read'], rateLimit: { requests: 0, periodSeconds: 60 } },
      /rateLimit/,
    ],
    ['an unknown field', { name: 'x', scopes: ['imports:read'], admin: true }, /admin/],
  ]
  for (const [what, body, message] of refused) {
    it(`refuses ${what} with 400 and creates nothing`, async () => {
      const before = await countRows('api_keys')
      await expectError(await admin('POST', '/admin/keys', body), 400, 'INVALID_REQUEST_BODY', message)
      expect(await countRows('api_keys')).toBe(before)
    })
  }
})

describe('key names', () => {
  const create = (name: string) => admin('POST', '/admin/keys', { name, scopes: ['imports:read'] })

  it('are unique whatever their case: a clash is 409 naming the key that has the name, and creates nothing', async () => {
    const first = await issueKey(['imports:read'], { name: 'Ana Lopez' })
    const before = await countRows('api_keys')
    for (const name of ['Ana Lopez', 'ana lopez', ' ANA LOPEZ ']) {
      const body = await expectError(await create(name), 409, 'CONFLICT', /name/)
      expect(body.error).toContain(first.id)
    }
    expect(await countRows('api_keys')).toBe(before)
  })

  it('cannot be taken over by a rename; a key may change the case of its own name', async () => {
    const first = await issueKey(['imports:read'], { name: 'bruno' })
    const second = await issueKey(['imports:read'], { name: 'carla' })
    await expectError(await admin('PATCH', `/admin/keys/${second.id}`, { name: 'BRUNO' }), 409, 'CONFLICT', /bruno/)
    expect(await getKey(second.id)).toMatchObject({ name: 'carla' })
    expect((await admin('PATCH', `/admin/keys/${first.id}`, { name: 'Bruno' })).status).toBe(200)
    expect(await getKey(first.id)).toMatchObject({ name: 'Bruno' })
  })

  it('stay taken by a revoked key: its audit rows keep the name', async () => {
    const { id } = await issueKey(['imports:read'], { name: 'dora' })
    await admin('DELETE', `/admin/keys/${id}`)
    await expectError(await create('Dora'), 409, 'CONFLICT', /revoked/)
  })

  it('cannot be admin-token, in any case: it is the bootstrap token’s actor (400)', async () => {
    const { id } = await issueKey(['imports:read'])
    for (const name of ['admin-token', 'Admin-Token', ' ADMIN-TOKEN ']) {
      await expectError(await create(name), 400, 'INVALID_REQUEST_BODY', /admin-token.*reserved/)
      await expectError(await admin('PATCH', `/admin/keys/${id}`, { name }), 400, 'INVALID_REQUEST_BODY', /reserved/)
    }
  })

  it('clash at most once when two keys with one name are created at the same moment', async () => {
    const answers = await Promise.all([create('eve'), create('EVE'), create('Eve')])
    expect(answers.map((r) => r.status).sort()).toEqual([201, 409, 409])
    for (const res of answers.filter((r) => r.status === 409)) await expectError(res, 409, 'CONFLICT', /name/)
  })

  it('clash with 409, not 503, when another change takes the name between the check and the write', async () => {
    // The trigger stands for a change in another isolate that wins the race for the name.
    await env.DB.exec(
      "CREATE TRIGGER take_name BEFORE INSERT ON api_keys WHEN NEW.name = 'ivy' BEGIN INSERT INTO api_keys (id, name, prefix, scopes, created_at) VALUES ('key_thief', 'IVY', 'egw_x', '[]', 0); END"
    )
    try {
      const before = await countRows('api_keys')
      await expectError(await create('ivy'), 409, 'CONFLICT', /the name ivy is taken/)
      expect(await countRows('api_keys')).toBe(before)
    } finally {
      await env.DB.exec('DROP TRIGGER take_name')
    }
  })

  it('are looked up through their unique index, never by a scan', async () => {
    const query = keyNamed(db(), 'Ana Lopez').toSQL()
    const plan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
      .bind(...query.params)
      .all<{ detail: string }>()
    const details = plan.results.map((row) => row.detail).join('\n')
    expect(details).toMatch(/USING INDEX api_keys_name_unique/)
    expect(details).not.toMatch(/\bSCAN\b/)
  })

  it('are unique in D1 itself, not only in the code', async () => {
    const { id } = await issueKey(['imports:read'], { name: 'fay' })
    const insert = env.DB.prepare(
      "INSERT INTO api_keys (id, name, prefix, scopes, created_at) VALUES ('key_direct', 'FAY', 'egw_x', '[]', 0)"
    )
    await expect(insert.run()).rejects.toThrow(/UNIQUE constraint failed/)
    expect(await getKey(id)).toMatchObject({ name: 'fay' })
  })
})

describe('migration 0001 (unique key names)', () => {
  it('renames the duplicates and admin-token keys of an existing database deterministically: the oldest keeps its name', async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0001_'))!
    expect(migration.name).toBe('0001_unique_key_names.sql')
    // A database from before the migration: no index, names that clash.
    await env.DB.exec('DROP INDEX api_keys_name_unique')
    const rows = [
      ['key_dup_b', 'Gus', 2],
      ['key_dup_a', 'gus', 2],
      ['key_dup_c', 'GUS', 1],
      ['key_dup_d', 'Admin-Token', 3],
      ['key_dup_e', 'hal', 4],
    ] as const
    await env.DB.batch(
      rows.map(([id, name, createdAt]) =>
        env.DB.prepare(
          "INSERT INTO api_keys (id, name, prefix, scopes, created_at) VALUES (?, ?, 'egw_x', '[]', ?)"
        ).bind(id, name, createdAt)
      )
    )
    for (const query of migration.queries) await env.DB.prepare(query).run()
    const { results } = await env.DB.prepare(
      "SELECT id, name FROM api_keys WHERE id LIKE 'key_dup_%' ORDER BY id"
    ).all<{ id: string; name: string }>()
    expect(results).toEqual([
      { id: 'key_dup_a', name: 'gus (key_dup_a)' },
      { id: 'key_dup_b', name: 'Gus (key_dup_b)' },
      { id: 'key_dup_c', name: 'GUS' },
      { id: 'key_dup_d', name: 'Admin-Token (key_dup_d)' },
      { id: 'key_dup_e', name: 'hal' },
    ])
    await expect(
      env.DB.prepare(
        "INSERT INTO api_keys (id, name, prefix, scopes, created_at) VALUES ('key_dup_f', 'Hal', 'egw_x', '[]', 5)"
      ).run()
    ).rejects.toThrow(/UNIQUE constraint failed/)
  })
})

describe('GET /admin/keys/{id}', () => {
  it('answers 404 for an unknown key and 400 for a malformed id', async () => {
    await expectError(await admin('GET', '/admin/keys/key_00000000000000000000000000'), 404, 'NOT_FOUND', /key_0/)
    await expectError(await admin('GET', '/admin/keys/alice'), 400, 'INVALID_PARAMS', /key id/)
  })
})

describe('PATCH /admin/keys/{id}', () => {
  it('changes the given settings, keeps the others, and null clears', async () => {
    const { id } = await issueKey(['imports:read'], {
      origins: ['https://a.example.com'],
      rateLimit: { requests: 5, periodSeconds: 10 },
    })
    const expiresAt = inAnHour()
    const res = await admin('PATCH', `/admin/keys/${id}`, {
      name: 'renamed',
      scopes: ['imports:read', 'audit:read'],
      expiresAt,
      rateLimit: null,
    })
    expect(res.status).toBe(200)
    const expected = {
      name: 'renamed',
      scopes: ['imports:read', 'audit:read'],
      origins: ['https://a.example.com'],
      expiresAt,
      rateLimit: null,
    }
    expect(await res.json()).toMatchObject(expected)
    expect(await getKey(id)).toMatchObject(expected)
    await admin('PATCH', `/admin/keys/${id}`, { origins: null, expiresAt: null })
    expect(await getKey(id)).toMatchObject({ origins: null, expiresAt: null, name: 'renamed' })
  })

  it('validates as strictly as creation, and changes nothing on a refusal', async () => {
    const { id } = await issueKey(['imports:read'])
    const before = await getKey(id)
    await expectError(await admin('PATCH', `/admin/keys/${id}`, {}), 400, 'INVALID_REQUEST_BODY', /nothing to change/)
    await expectError(
      await admin('PATCH', `/admin/keys/${id}`, { scopes: ['root'] }),
      400,
      'INVALID_REQUEST_BODY',
      /scopes/
    )
    await expectError(
      await admin('PATCH', `/admin/keys/${id}`, { expiresAt: '2001-01-01T00:00:00Z' }),
      400,
      'INVALID_REQUEST_BODY',
      /future/
    )
    await expectError(
      await admin('PATCH', `/admin/keys/${id}`, { origins: ['ftp://x.example.com'] }),
      400,
      'INVALID_REQUEST_BODY',
      /origin/
    )
    await expectError(
      await admin('PATCH', `/admin/keys/${id}`, { prefix: 'egw_mine' }),
      400,
      'INVALID_REQUEST_BODY',
      /prefix/
    )
    const notJson = await api(`/admin/keys/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'text/plain' },
      body: 'name=x',
    })
    await expectError(notJson, 415, 'UNSUPPORTED_MEDIA_TYPE')
    expect(await getKey(id)).toEqual(before)
  })

  it('refuses to change a revoked key with 409', async () => {
    const { id } = await issueKey(['imports:read'])
    await admin('DELETE', `/admin/keys/${id}`)
    await expectError(await admin('PATCH', `/admin/keys/${id}`, { name: 'again' }), 409, 'CONFLICT', /revoked/)
    await expectError(await admin('POST', `/admin/keys/${id}/rotate`, {}), 409, 'CONFLICT', /revoked/)
  })
})

describe('DELETE /admin/keys/{id}', () => {
  it('revokes the key, and a second DELETE changes nothing', async () => {
    const { id } = await issueKey(['imports:read'])
    const res = await admin('DELETE', `/admin/keys/${id}`)
    expect(res.status).toBe(200)
    const revoked = (await res.json()) as Record<string, any>
    expect(revoked).toMatchObject({ id, status: 'revoked', revokedAt: expect.any(String) })
    const again = await admin('DELETE', `/admin/keys/${id}`)
    expect(await again.json()).toEqual(revoked)
    const { results } = await env.DB.prepare(
      "SELECT id FROM audit_events WHERE action = 'key.revoke' AND subject_key_id = ?"
    )
      .bind(id)
      .all()
    expect(results).toHaveLength(1)
  })
})

describe('admin keys', () => {
  it('tells a bearer that is neither the ADMIN_TOKEN nor a gateway key that it is an unknown admin token', async () => {
    // e.g. the token an earlier `npm start` generated: not a malformed key, a wrong admin token.
    await expectError(
      await admin('GET', '/admin/keys', undefined, 'dev_admin_from_an_earlier_run'),
      401,
      'UNAUTHENTICATED',
      /^unknown admin token: /
    )
    const unknownKey = 'egw_' + 'A'.repeat(43)
    await expectError(
      await admin('GET', '/admin/keys', undefined, unknownKey),
      401,
      'UNAUTHENTICATED',
      /^unknown, revoked/
    )
  })

  it('let a key with scope admin manage keys, but not use the imports or audit routes', async () => {
    const boss = await issueKey(['admin'], { name: 'boss' })
    const res = await admin('POST', '/admin/keys', { name: 'made-by-boss', scopes: ['imports:read'] }, boss.key)
    expect(res.status).toBe(201)
    await expectError(await api('/websets/v0/imports', withKey(boss.key)), 403, 'FORBIDDEN', /imports:read/)
    await expectError(await api('/audit/events', withKey(boss.key)), 403, 'FORBIDDEN', /audit:read/)
  })
})
