import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { canonicalJson, chainHash, GENESIS } from '../src/audit/seal'
import { sha256Hex } from '../src/lib/hash'
import { allSettled, getJson, listAll, patchImport } from './support/audit'
import { issueKey } from './support/keys'
import { sim } from './support/simulator'

/**
 * Migration 0004 on a database with rows sealed before it: the rows keep their hashes (their
 * seal_version is 1, sealed over the columns they were sealed with), get their resource from
 * columns their seal covers, and the chain goes on over them with version 2 rows.
 */

/** The columns and tag of the seal as it was before 0004, written out here on purpose (not imported). */
const V1_COLUMNS = [
  'id',
  'action',
  'import_id',
  'outcome',
  'key_id',
  'actor',
  'subject_key_id',
  'reverts_event_id',
  'origin',
  'ip',
  'user_agent',
  'request_id',
  'upstream_request_id',
  'idempotency_key',
  'request_body',
  'before',
  'after',
  'changes',
  'upstream_status',
  'error',
  'reconciled',
  'started_at',
  'finished_at',
] as const

type OldRow = {
  id: string
  action: string
  importId: string | null
  subjectKeyId: string | null
  before: unknown
  after: unknown
  changes: unknown
}

/** A settled row and its link, as the code before 0004 wrote them (v1 seal over its 23 columns). */
async function insertOld(row: OldRow, previous: { seq: number; chainHash: string }) {
  const values = {
    id: row.id,
    action: row.action,
    importId: row.importId,
    outcome: 'succeeded',
    keyId: 'key_old',
    actor: 'old-tester',
    subjectKeyId: row.subjectKeyId,
    revertsEventId: null,
    origin: null,
    ip: null,
    userAgent: 'old',
    requestId: `req_${row.id}`,
    upstreamRequestId: null,
    idempotencyKey: null,
    requestBody: { title: 'new' },
    before: row.before,
    after: row.after,
    changes: row.changes,
    upstreamStatus: 200,
    error: null,
    reconciled: false,
    startedAt: 1_780_000_000_000,
    finishedAt: 1_780_000_000_100,
  }
  const rowHash = await sha256Hex('audit-event/v1\n' + canonicalJson(Object.values(values)))
  const link = { seq: previous.seq + 1, chainHash: await chainHash(previous.chainHash, rowHash) }
  const json = (v: unknown) => (v === null ? null : JSON.stringify(v))
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO audit_events (${V1_COLUMNS.join(', ')}) VALUES (${V1_COLUMNS.map(() => '?').join(', ')})`
    ).bind(
      values.id,
      values.action,
      values.importId,
      values.outcome,
      values.keyId,
      values.actor,
      values.subjectKeyId,
      null,
      null,
      null,
      values.userAgent,
      values.requestId,
      null,
      null,
      json(values.requestBody),
      json(values.before),
      json(values.after),
      json(values.changes),
      values.upstreamStatus,
      null,
      0,
      values.startedAt,
      values.finishedAt
    ),
    env.DB.prepare(
      'INSERT INTO audit_chain (seq, event_id, row_hash, chain_hash, created_at) VALUES (?, ?, ?, ?, ?)'
    ).bind(link.seq, row.id, rowHash, link.chainHash, 1_780_000_000_100),
  ])
  return link
}

describe('migration 0004 on rows sealed before it', () => {
  it('keeps old rows verifiable, gives them their resource, and the chain goes on', async () => {
    // A database as it was before 0004: every table dropped, the migrations up to 0003 applied.
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'"
    ).all<{ name: string }>()
    await env.DB.batch(tables.results.map(({ name }) => env.DB.prepare(`DROP TABLE "${name}"`)))
    const migrations = env.TEST_MIGRATIONS
    await applyD1Migrations(
      env.DB,
      migrations.filter((m) => m.name < '0004')
    )
    const columns = await env.DB.prepare('PRAGMA table_info(audit_events)').all<{ name: string }>()
    expect(columns.results.map((c) => c.name)).not.toContain('resource_type')

    const imp = { id: 'import_old', title: 'old', metadata: {} }
    let head = { seq: 0, chainHash: GENESIS }
    head = await insertOld(
      {
        id: '01KQ0000000000000000000001',
        action: 'import.update',
        importId: 'import_old',
        subjectKeyId: null,
        before: imp,
        after: { ...imp, title: 'new' },
        changes: [{ path: 'title', from: 'old', to: 'new' }],
      },
      head
    )
    await insertOld(
      {
        id: '01KQ0000000000000000000002',
        action: 'key.create',
        importId: null,
        subjectKeyId: 'key_subject',
        before: null,
        after: { name: 'k' },
        changes: null,
      },
      head
    )

    await applyD1Migrations(env.DB, migrations)
    const { key } = await issueKey(['imports:write', 'audit:read'])
    expect((await getJson('/audit/verify', key)).body).toMatchObject({ ok: true, checked: 3 }) // and the key.create of the key asking
    const old = await listAll(key, { resourceType: 'import' })
    expect(old).toEqual([
      expect.objectContaining({ id: '01KQ0000000000000000000001', resourceId: 'import_old', sealVersion: 1 }),
    ])
    expect(await listAll(key, { resourceId: 'key_subject' })).toEqual([
      expect.objectContaining({ action: 'key.create', resourceType: 'key', sealVersion: 1 }),
    ])
    expect((await listAll(key, { importId: 'import_old' })).map((e) => e.id)).toEqual(['01KQ0000000000000000000001'])

    // New rows (version 2) chain on top of the old ones.
    await sim.reset()
    const item = await sim.seed({ title: 'a' })
    expect((await patchImport(key, item.id, { title: 'b' })).status).toBe(200)
    await allSettled()
    const verified = (await getJson('/audit/verify', key)).body
    expect(verified).toMatchObject({ ok: true })
    expect(verified.checked).toBeGreaterThanOrEqual(4)
    const [fresh] = await listAll(key, { resourceId: item.id })
    expect(fresh).toMatchObject({ sealVersion: 2, resourceType: 'import', importId: item.id })

    // A version 1 row's resource is not sealed by its hash, but verify checks it against what is.
    await env.DB.prepare("UPDATE audit_events SET resource_id = 'import_other' WHERE id = ?")
      .bind('01KQ0000000000000000000001')
      .run()
    expect((await getJson('/audit/verify', key)).body).toMatchObject({
      ok: false,
      firstBrokenId: '01KQ0000000000000000000001',
      reason: expect.stringMatching(/resource/),
    })
    await env.DB.prepare("UPDATE audit_events SET resource_id = 'import_old' WHERE id = ?")
      .bind('01KQ0000000000000000000001')
      .run()
    // Claiming version 2 for an old row breaks its hash.
    await env.DB.prepare('UPDATE audit_events SET seal_version = 2 WHERE id = ?')
      .bind('01KQ0000000000000000000001')
      .run()
    expect((await getJson('/audit/verify', key)).body).toMatchObject({
      ok: false,
      reason: /changed after it was sealed/,
    })
  })
})
