import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import { patchImport, wipeAudit } from './support/audit'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, issueKey, type IssuedKey } from './support/keys'
import { sim } from './support/simulator'

// A key admitted on its last request in this isolate is warm: its lookup, its limiter call and
// its route's free read of Exa start together (http/auth.ts). These pin what that must never give
// up (issue 14, section 2): each test warms a key first, then checks a refusal on the next request.

let importId: string
let importPath: string

beforeEach(async () => {
  await sim.reset()
  await wipeAudit()
  importId = (await sim.seed({ title: 'original' })).id
  importPath = `/websets/v0/imports/${importId}`
})

const read = (key: string, headers: Record<string, string> = {}) => api(importPath, withKey(key, headers))

async function warm(key: IssuedKey, headers: Record<string, string> = {}) {
  for (let i = 0; i < 2; i++) expect((await read(key.key, headers)).status).toBe(200)
  await sim.reset()
  importId = (await sim.seed({ title: 'original' })).id
  importPath = `/websets/v0/imports/${importId}`
}

const auditRows = async () =>
  (await env.DB.prepare("SELECT action FROM audit_events WHERE action LIKE 'import.%'").all()).results

describe('a warm key', () => {
  it('is read once per request: the read started ahead is the one relayed', async () => {
    const key = await issueKey()
    await warm(key)
    const res = await read(key.key)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: importId, title: 'original' })
    expect(await sim.requests()).toHaveLength(1)
    expect((await patchImport(key.key, importId, { title: 'new' })).status).toBe(200)
    expect((await sim.requests()).map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH'])
  })

  it('reads a webset ahead too, once, with the headers the route forwards', async () => {
    const key = await issueKey(['websets:read'])
    const { webset } = await sim.seedWebset({ title: 'Dev tools' })
    const path = `/websets/v0/websets/${webset.id}?expand=items`
    for (let i = 0; i < 2; i++) expect((await api(path, withKey(key.key))).status).toBe(200)
    await sim.reset()
    const again = await sim.seedWebset({ title: 'Dev tools' })
    const res = await api(`/websets/v0/websets/${again.webset.id}?expand=items`, withKey(key.key))
    expect(res.status).toBe(200)
    expect(await sim.requests()).toHaveLength(1)
    expect((await admin('DELETE', `/admin/keys/${key.id}`)).status).toBe(200)
    await expectError(await api(`/websets/v0/websets/${again.webset.id}`, withKey(key.key)), 401, 'UNAUTHENTICATED')
  })

  it('revoked is refused on its very next request, and nothing of Exa reaches the caller', async () => {
    const key = await issueKey()
    await warm(key)
    expect((await admin('DELETE', `/admin/keys/${key.id}`)).status).toBe(200)
    const res = await read(key.key)
    const body = await expectError(res, 401, 'UNAUTHENTICATED', /revoked/)
    expect(JSON.stringify(body)).not.toContain(importId)
    await expectError(await patchImport(key.key, importId, { title: 'x' }), 401, 'UNAUTHENTICATED')
    // Refused once, it is no longer warm: the PATCH's before-read was not even started.
    expect((await sim.requests()).filter((r) => r.method !== 'GET')).toHaveLength(0)
    expect(await sim.requests()).toHaveLength(1)
    expect(await auditRows()).toHaveLength(0)
  })

  it('expired is refused on its very next request', async () => {
    const key = await issueKey(undefined, { expiresAt: new Date(Date.now() + 60_000).toISOString() })
    await warm(key)
    await env.DB.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?')
      .bind(Date.now() - 1, key.id)
      .run()
    await expectError(await read(key.key), 401, 'UNAUTHENTICATED')
  })

  it('that lost a scope gets 403 on its next request, and then reaches nothing at Exa', async () => {
    const key = await issueKey(['imports:read', 'imports:write'])
    await warm(key)
    expect((await admin('PATCH', `/admin/keys/${key.id}`, { scopes: ['imports:write'] })).status).toBe(200)
    const body = await expectError(await read(key.key), 403, 'FORBIDDEN', /imports:read/)
    expect(JSON.stringify(body)).not.toContain('original')
    const before = (await sim.requests()).length
    await expectError(await read(key.key), 403, 'FORBIDDEN')
    expect(await sim.requests()).toHaveLength(before)
  })

  it('starts no read for a route it lacks the scope of', async () => {
    const key = await issueKey(['imports:read'])
    await warm(key)
    await expectError(await patchImport(key.key, importId, { title: 'x' }), 403, 'FORBIDDEN', /imports:write/)
    expect(await sim.requests()).toHaveLength(0)
  })

  it('at its limit gets 429 and its request reaches nothing at Exa', async () => {
    const key = await issueKey(['imports:read'], { rateLimit: { requests: 3, periodSeconds: 60 } })
    await warm(key) // two of the three
    expect((await read(key.key)).status).toBe(200)
    await expectError(await read(key.key), 429, 'RATE_LIMITED')
    await expectError(await read(key.key), 429, 'RATE_LIMITED')
    expect(await sim.requests()).toHaveLength(1)
  })

  it('near its limit starts no more reads ahead than the limiter left room for, however many arrive together', async () => {
    const key = await issueKey(['imports:read'], { rateLimit: { requests: 5, periodSeconds: 60 } })
    await warm(key) // two of the five
    const answers = await Promise.all([...Array(6)].map(() => read(key.key)))
    expect(answers.map((res) => res.status).sort()).toEqual([200, 200, 200, 429, 429, 429])
    expect(await sim.requests()).toHaveLength(3)
  })

  it('is counted under a limit changed since its last request', async () => {
    const key = await issueKey(['imports:read'], { rateLimit: { requests: 100, periodSeconds: 60 } })
    await warm(key)
    const changed = await admin('PATCH', `/admin/keys/${key.id}`, { rateLimit: { requests: 1, periodSeconds: 60 } })
    expect(changed.status).toBe(200)
    expect((await read(key.key)).status).toBe(200) // the first under the new limit
    await expectError(await read(key.key), 429, 'RATE_LIMITED', /1 requests per 60 s/)
  })

  it('used from an origin its browser key does not list is refused and reaches nothing at Exa', async () => {
    const key = await issueKey(['imports:read'], { origins: ['https://app.example.com'] })
    await warm(key, { origin: 'https://app.example.com' })
    await expectError(await read(key.key, { origin: 'https://evil.example.com' }), 403, 'FORBIDDEN')
    expect(await sim.requests()).toHaveLength(0)
  })

  it('forwards no change whose write-ahead row could not be committed', async () => {
    const key = await issueKey()
    await warm(key)
    await env.DB.exec(
      "CREATE TRIGGER refuse_pending BEFORE INSERT ON audit_events WHEN NEW.outcome = 'pending' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    try {
      await expectError(await patchImport(key.key, importId, { title: 'new' }), 503, 'AUDIT_UNAVAILABLE')
    } finally {
      await env.DB.exec('DROP TRIGGER refuse_pending')
    }
    expect((await sim.requests()).map((r) => r.method)).toEqual(['GET'])
    expect((await sim.get(importId)).title).toBe('original')
  })

  it('starts no read for an invalid request', async () => {
    const key = await issueKey()
    await warm(key)
    await expectError(await patchImport(key.key, importId, { title: 7 }), 400, 'INVALID_REQUEST_BODY')
    await expectError(await api('/websets/v0/imports/bad%20id', withKey(key.key)), 400, 'INVALID_PARAMS')
    await expectError(await api('/websets/v0/imports?limit=0', withKey(key.key)), 400, 'INVALID_PARAMS')
    expect(await sim.requests()).toHaveLength(0)
  })
})
