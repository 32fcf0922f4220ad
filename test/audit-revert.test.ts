import { beforeEach, describe, expect, it } from 'vitest'
import { writeAhead } from '../src/audit/recorder'
import { type EventView, getJson, listAll, patchImport, startFor } from './support/audit'
import { db } from './support/d1'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

const revert = (id: string, query = '', k = key.key) =>
  api(`/audit/events/${id}/revert${query}`, { method: 'POST', headers: { 'x-api-key': k } })

async function update(importId: string, body: unknown): Promise<EventView> {
  expect((await patchImport(key.key, importId, body)).status).toBe(200)
  return (await listAll(key.key, { importId }))[0]!
}

/** A refusal changes nothing: no PATCH reaches Exa and no audit row is added. */
async function expectRefused(request: () => Promise<Response>, status: number, message: RegExp, importId?: string) {
  const patchesBefore = (await sim.requests({ method: 'PATCH' })).length
  const res = await request()
  const body = (await res.json()) as { error: string; tag: string; changed?: string[]; forceable?: boolean }
  expect(res.status, JSON.stringify(body)).toBe(status)
  expect(body.error).toMatch(message)
  expect(await sim.requests({ method: 'PATCH' })).toHaveLength(patchesBefore)
  if (importId) expect((await listAll(key.key, { importId })).some((e) => e.action === 'import.revert')).toBe(false)
  return body
}

describe('POST /audit/events/{id}/revert', () => {
  it("PATCHes the import back to the event's before, audited as import.revert pointing at the event", async () => {
    const item = await sim.seed({ title: 'Q2 leads', metadata: { owner: 'ana' } })
    const event = await update(item.id, { title: 'Q3 leads', metadata: { owner: 'bo' } })

    const res = await revert(event.id)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      id: item.id,
      object: 'import',
      title: 'Q2 leads',
      metadata: { owner: 'ana' },
    })
    expect(await sim.get(item.id)).toMatchObject({ title: 'Q2 leads', metadata: { owner: 'ana' } })

    const [row] = await listAll(key.key, { importId: item.id, action: 'import.revert' })
    expect(row).toMatchObject({
      outcome: 'succeeded',
      revertsEventId: event.id,
      actor: key.name,
      requestBody: { title: 'Q2 leads', metadata: { owner: 'ana' } },
      before: { title: 'Q3 leads' },
      after: { title: 'Q2 leads' },
      requestId: res.headers.get('x-request-id'),
    })
    expect(row!.changes).toEqual([
      { path: 'title', from: 'Q3 leads', to: 'Q2 leads' },
      { path: 'metadata.owner', from: 'bo', to: 'ana' },
    ])
    expect((await getJson('/audit/verify', key.key)).body).toMatchObject({ ok: true })
  })

  it('refuses with 409 when the import changed since the event, and goes ahead with ?force=true', async () => {
    const item = await sim.seed({ title: 'one', metadata: { owner: 'ana' } })
    const first = await update(item.id, { title: 'two', metadata: { owner: 'ana' } })
    await update(item.id, { title: 'three', metadata: { owner: 'bo' } })

    const refused = await expectRefused(
      () => revert(first.id),
      409,
      /changed since event .*\(title, metadata.owner\).*force=true/,
      item.id
    )
    // Machine-readable, so a client (the viewer) need not parse the message.
    expect(refused).toMatchObject({ tag: 'CONFLICT', changed: ['title', 'metadata.owner'], forceable: true })
    expect((await sim.get(item.id)).title).toBe('three')

    const res = await revert(first.id, '?force=true')
    expect(res.status).toBe(200)
    expect(await sim.get(item.id)).toMatchObject({ title: 'one', metadata: { owner: 'ana' } })
    expect((await listAll(key.key, { importId: item.id, action: 'import.revert' }))[0]).toMatchObject({
      revertsEventId: first.id,
      before: { title: 'three' },
    })
  })

  it('reverts a revert (redo)', async () => {
    const item = await sim.seed({ title: 'a' })
    const event = await update(item.id, { title: 'b' })
    expect((await revert(event.id)).status).toBe(200)
    const [undo] = await listAll(key.key, { importId: item.id, action: 'import.revert' })
    expect((await revert(undo!.id)).status).toBe(200)
    expect((await sim.get(item.id)).title).toBe('b')
  })

  it('refuses events that did not succeed or have no before', async () => {
    const item = await sim.seed({ title: 'kept' })
    await sim.fault({ kind: 'status', status: 400, method: 'PATCH' })
    expect((await patchImport(key.key, item.id, { title: 'refused' })).status).toBe(400)
    const [failed] = await listAll(key.key, { importId: item.id })
    await expectRefused(() => revert(failed!.id), 409, /is failed, not succeeded/, item.id)

    const pending = (
      await writeAhead(db(), { ...startFor(item.id, { id: item.id, title: 'kept', metadata: {} }), keyId: key.id })
    ).id
    await expectRefused(() => revert(pending), 409, /is pending, not succeeded/, item.id)

    expect((await patchImport(key.key, 'import_gone', { title: 'x' })).status).toBe(404)
    const [noBefore] = await listAll(key.key, { importId: 'import_gone' })
    await expectRefused(() => revert(noBefore!.id), 409, /is failed/)

    const [keyEvent] = await listAll(key.key, { action: 'key.create' })
    const notRevertible = await expectRefused(
      () => revert(keyEvent!.id),
      409,
      /is key.create; only import.update, import.revert, webhook.update, webhook.revert, webset.update, webset.revert, enrichment.update, .* events/
    )
    expect(notRevertible.forceable).toBeUndefined()
    expect((await sim.get(item.id)).title).toBe('kept')
  })

  it('passes on Exa answering 404 for an import that no longer exists', async () => {
    const item = await sim.seed({ title: 'a' })
    const event = await update(item.id, { title: 'b' })
    await sim.fault({
      kind: 'status',
      status: 404,
      method: 'GET',
      pathIncludes: item.id,
      body: { error: 'Import not found', tag: 'NOT_FOUND' },
    })
    await expectRefused(() => revert(event.id), 404, /Import not found/, item.id)
  })

  it('answers 404 for an unknown event and 400 for a bad id or force value', async () => {
    await expectRefused(() => revert('01ARZ3NDEKTSV4RRFFQ69G5FAV'), 404, /no audit event/)
    await expectRefused(() => revert('not-an-id'), 400, /event id must be a ULID/)
    const item = await sim.seed({ title: 'a' })
    const event = await update(item.id, { title: 'b' })
    await expectRefused(() => revert(event.id, '?force=yes'), 400, /force/, item.id)
  })

  it('needs both imports:write and audit:read', async () => {
    const item = await sim.seed({ title: 'a' })
    const event = await update(item.id, { title: 'b' })
    for (const scopes of [['audit:read'], ['imports:write', 'imports:read']]) {
      const limited = await issueKey(scopes)
      await expectRefused(() => revert(event.id, '', limited.key), 403, /lacks the scope/, item.id)
    }
    expect((await sim.get(item.id)).title).toBe('b')
  })
})
