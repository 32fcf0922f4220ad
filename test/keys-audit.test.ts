import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../src/lib/hash'
import { type EventView } from './support/audit'
import { expectError } from './support/errors'
import { api } from './support/gateway'
import { admin, issueKey } from './support/keys'
import { TEST_ADMIN_TOKEN } from './support/secrets'

async function keyEvents(subjectKeyId: string): Promise<EventView[]> {
  const { key } = await issueKey(['audit:read'])
  const events: EventView[] = []
  for (const action of ['key.create', 'key.update', 'key.rotate', 'key.revoke']) {
    const res = await api(`/audit/events?action=${action}`, { headers: { 'x-api-key': key } })
    expect(res.status).toBe(200)
    const { data } = (await res.json()) as { data: EventView[] }
    events.push(...data.filter((event) => event.subjectKeyId === subjectKeyId))
  }
  return events
}

describe('key management is audited', () => {
  it('records create, update, rotate and revoke with the acting identity and key views, never a secret', async () => {
    const created = (await (
      await admin('POST', '/admin/keys', { name: 'carol', scopes: ['imports:read'] })
    ).json()) as Record<string, any>
    await admin('PATCH', `/admin/keys/${created.id}`, { name: 'carol-2' })
    const rotated = (await (
      await admin('POST', `/admin/keys/${created.id}/rotate`, { gracePeriodSeconds: 60 })
    ).json()) as Record<string, any>
    await admin('DELETE', `/admin/keys/${created.id}`)

    const events = await keyEvents(created.id)
    const byAction = Object.fromEntries(events.map((event) => [event.action, event]))
    expect(Object.keys(byAction).sort()).toEqual(['key.create', 'key.revoke', 'key.rotate', 'key.update'])
    for (const event of events) {
      expect(event).toMatchObject({ actor: 'admin-token', keyId: null, outcome: 'succeeded', subjectKeyId: created.id })
    }
    expect(byAction['key.create']).toMatchObject({
      before: null,
      after: { id: created.id, name: 'carol', prefix: created.prefix },
    })
    expect(byAction['key.update']).toMatchObject({
      before: { name: 'carol' },
      after: { name: 'carol-2' },
      requestBody: { name: 'carol-2' },
    })
    expect(byAction['key.rotate']).toMatchObject({
      before: { prefix: created.prefix },
      after: { prefix: rotated.prefix },
      requestBody: { gracePeriodSeconds: 60 },
    })
    expect(byAction['key.revoke']).toMatchObject({ before: { status: 'active' }, after: { status: 'revoked' } })

    // Not in the API's answer, not in any column of any row.
    const { results } = await env.DB.prepare('SELECT * FROM audit_events WHERE subject_key_id = ?')
      .bind(created.id)
      .all()
    const stored = JSON.stringify(results) + JSON.stringify(events)
    for (const secret of [created.key, rotated.key, TEST_ADMIN_TOKEN]) {
      expect(stored).not.toContain(secret)
      expect(stored).not.toContain(await sha256Hex(secret))
    }
  })

  it('records expiresAt in the request body as it was sent (ISO 8601), not as epoch milliseconds', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    const created = (await (
      await admin('POST', '/admin/keys', { name: 'erin', scopes: ['imports:read'], expiresAt })
    ).json()) as Record<string, any>
    const later = new Date(Date.now() + 7_200_000).toISOString()
    await admin('PATCH', `/admin/keys/${created.id}`, { expiresAt: later })
    const byAction = Object.fromEntries((await keyEvents(created.id)).map((event) => [event.action, event]))
    expect(byAction['key.create']?.requestBody).toEqual({ name: 'erin', scopes: ['imports:read'], expiresAt })
    expect(byAction['key.update']?.requestBody).toEqual({ expiresAt: later })
    expect(byAction['key.update']).toMatchObject({ before: { expiresAt }, after: { expiresAt: later } })
  })

  it('names an admin key as the actor when one acts', async () => {
    const boss = await issueKey(['admin'], { name: 'boss-key' })
    const res = await admin('POST', '/admin/keys', { name: 'dave', scopes: ['imports:read'] }, boss.key)
    const { id } = (await res.json()) as { id: string }
    const [event] = await keyEvents(id)
    expect(event).toMatchObject({ action: 'key.create', actor: 'boss-key', keyId: boss.id })
  })

  it('writes the change and its audit row together: no key when the audit row cannot be written', async () => {
    await env.DB.exec(
      "CREATE TRIGGER refuse_key_audit BEFORE INSERT ON audit_events WHEN NEW.action LIKE 'key.%' BEGIN SELECT RAISE(ABORT, 'audit down'); END"
    )
    try {
      const res = await admin('POST', '/admin/keys', { name: 'ghost', scopes: ['imports:read'] })
      await expectError(res, 503, 'AUDIT_UNAVAILABLE', /nothing changed/)
      const ghost = await env.DB.prepare("SELECT id FROM api_keys WHERE name = 'ghost'").first()
      expect(ghost).toBeNull()
    } finally {
      await env.DB.exec('DROP TRIGGER refuse_key_audit')
    }
  })
})
