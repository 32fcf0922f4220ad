import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

const patch = (id: string, body: unknown, idempotencyKey: string, clientKey = key.key) =>
  api(`/websets/v0/imports/${id}`, jsonInit('PATCH', clientKey, body, { 'idempotency-key': idempotencyKey }))

describe('Idempotency-Key on PATCH', () => {
  it('replays the stored answer without reaching Exa, and records the key on the audit row', async () => {
    const item = await sim.seed({ title: 'old' })
    const first = await patch(item.id, { title: 'once' }, 'idem-1')
    expect(first.status).toBe(200)
    const firstBody = await first.text()
    const again = await patch(item.id, { title: 'once' }, 'idem-1')
    expect(again.status).toBe(200)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(firstBody)
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
    const events = await auditEventsFor(item.id, key.key)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ idempotencyKey: 'idem-1', outcome: 'succeeded' })
  })

  it('replays a stored upstream 4xx too', async () => {
    const first = await patch('import_nowhere', { title: 'x' }, 'idem-404')
    expect(first.status).toBe(404)
    const again = await patch('import_nowhere', { title: 'x' }, 'idem-404')
    expect(again.status).toBe(404)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await sim.requests({ method: 'GET' })).toHaveLength(1)
  })

  it('refuses the same key with a different body (422) and forwards nothing', async () => {
    const item = await sim.seed()
    await patch(item.id, { title: 'a' }, 'idem-2')
    const res = await patch(item.id, { title: 'b' }, 'idem-2')
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ tag: 'IDEMPOTENCY_KEY_REUSED' })
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
  })

  it('keeps keys per client key: another client may use the same Idempotency-Key', async () => {
    const item = await sim.seed()
    const other = await issueKey()
    await patch(item.id, { title: 'a' }, 'shared')
    const res = await patch(item.id, { title: 'a' }, 'shared', other.key)
    expect(res.headers.get('idempotent-replayed')).toBeNull()
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(2)
  })

  it('lets two concurrent requests with one key make exactly one upstream call; the other gets 409', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'latency', latencyMs: 300, method: 'PATCH' })
    const [a, b] = await Promise.all([
      patch(item.id, { title: 'c' }, 'idem-3'),
      patch(item.id, { title: 'c' }, 'idem-3'),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 409])
    const conflict = a.status === 409 ? a : b
    expect(await conflict.json()).toMatchObject({ tag: 'CONFLICT', error: expect.stringMatching(/in progress/) })
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
  })

  it('does not keep 5xx answers; a retry after one that reached Exa is never forwarded again', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'status', status: 500, method: 'PATCH' })
    expect((await patch(item.id, { title: 'd' }, 'idem-4')).status).toBe(500)
    const retry = await patch(item.id, { title: 'd' }, 'idem-4')
    expect(retry.status).toBe(409)
    expect(await retry.json()).toMatchObject({ tag: 'CONFLICT', error: expect.stringMatching(/new Idempotency-Key/) })
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
  })

  it('runs a retry again after a 5xx that forwarded nothing (the before read failed)', async () => {
    const item = await sim.seed()
    await sim.fault({ kind: 'status', status: 500, method: 'GET' })
    expect((await patch(item.id, { title: 'd' }, 'idem-4b')).status).toBe(500)
    const retry = await patch(item.id, { title: 'd' }, 'idem-4b')
    expect(retry.status).toBe(200)
    expect(retry.headers.get('idempotent-replayed')).toBeNull()
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
  })

  it('forgets a key after 24 hours', async () => {
    const item = await sim.seed()
    await patch(item.id, { title: 'e' }, 'idem-5')
    await env.DB.prepare("UPDATE idempotency_records SET expires_at = ? WHERE idempotency_key = 'idem-5'")
      .bind(Date.now() - 1)
      .run()
    const res = await patch(item.id, { title: 'e' }, 'idem-5')
    expect(res.headers.get('idempotent-replayed')).toBeNull()
    expect(await sim.requests({ method: 'PATCH' })).toHaveLength(2)
  })

  describe('when the answer cannot be kept', () => {
    afterEach(async () => {
      await env.DB.exec('DROP TRIGGER IF EXISTS refuse_idempotency_save')
    })

    it("still answers with Exa's answer: the change was made, so the client must not be told to retry", async () => {
      const item = await sim.seed({ title: 'old' })
      await env.DB.exec(
        "CREATE TRIGGER refuse_idempotency_save BEFORE UPDATE OF state ON idempotency_records BEGIN SELECT RAISE(ABORT, 'd1 down'); END"
      )
      const res = await patch(item.id, { title: 'saved?' }, 'idem-unsaved')
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ title: 'saved?' })
      expect(await sim.requests({ method: 'PATCH' })).toHaveLength(1)
    })
  })

  it('refuses a malformed Idempotency-Key', async () => {
    const item = await sim.seed()
    const res = await patch(item.id, { title: 'f' }, 'x'.repeat(300))
    expect(res.status).toBe(400)
    expect(await sim.requests()).toEqual([])
  })
})

describe('Idempotency-Key on a create', () => {
  const body = { size: 10, count: 1, format: 'csv', entity: { type: 'company' }, title: 'replayed' }
  const create = (idempotencyKey: string) =>
    api('/websets/v0/imports', jsonInit('POST', key.key, body, { 'idempotency-key': idempotencyKey }))
  const stored = async (idempotencyKey: string) =>
    (await env.DB.prepare('SELECT response_body FROM idempotency_records WHERE idempotency_key = ?')
      .bind(idempotencyKey)
      .first<{ response_body: string }>())!.response_body

  it('replays the upload URL while it is valid: a client that lost the first answer needs it to upload', async () => {
    const first = await create('idem-create-1')
    expect(first.status).toBe(201)
    const created = (await first.json()) as Record<string, string>
    const again = await create('idem-create-1')
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    const replayed = (await again.json()) as Record<string, string>
    expect(replayed).toEqual(created)
    expect((await fetch(replayed.uploadUrl!, { method: 'PUT', body: 'name\nAcme\n' })).status).toBe(200)
    expect(await sim.requests({ method: 'POST' })).toHaveLength(1)
  })

  it('neither replays nor keeps the upload URL once it has expired', async () => {
    const first = await create('idem-create-2')
    const { uploadUrl, uploadValidUntil: _until, ...rest } = (await first.json()) as Record<string, string>
    // Exa's upload URLs are valid for an hour: the stored answer's own uploadValidUntil, passed.
    await env.DB.prepare(
      "UPDATE idempotency_records SET response_body = json_set(response_body, '$.uploadValidUntil', ?) WHERE idempotency_key = ?"
    )
      .bind(new Date(Date.now() - 1000).toISOString(), 'idem-create-2')
      .run()
    const again = await create('idem-create-2')
    expect(again.status).toBe(201)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.json()).toEqual(rest)
    expect(await stored('idem-create-2')).not.toContain(uploadUrl!.split('?')[0])
    expect(JSON.parse(await stored('idem-create-2'))).toEqual(rest)
    expect(await sim.requests({ method: 'POST' })).toHaveLength(1)
  })
})
