import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../src/index'
import { ulid } from '../../src/lib/ids'

/** An audit row as D1 stores it (JSON columns as text, booleans as 0/1). */
export type StoredRow = {
  id: string
  outcome: string
  reconciled: number
  error: string | null
  after: string | null
  before: string | null
  changes: string | null
}

export const rowsFor = async (importId: string) =>
  (await env.DB.prepare('SELECT * FROM audit_events WHERE import_id = ? ORDER BY id').bind(importId).all<StoredRow>())
    .results

export const rowById = (id: string) =>
  env.DB.prepare('SELECT * FROM audit_events WHERE id = ?').bind(id).first<StoredRow>()

/** One run of the cron, as Cloudflare would start it `minutesOn` minutes from now. */
export async function runCron(minutesOn = 0) {
  const ctx = createExecutionContext()
  const controller = createScheduledController({ scheduledTime: Date.now() + minutesOn * 60_000, cron: '*/5 * * * *' })
  await worker.scheduled(controller, env, ctx)
  await waitOnExecutionContext(ctx)
}

/** A pending row as a worker that died after the write-ahead insert (or after forwarding) would have left it. */
export async function insertAbandonedRow(
  importId: string | null,
  requested: object | null,
  minutesAgo: number,
  { action = 'import.update', before = null }: { action?: string; before?: object | null } = {}
) {
  const startedAt = Date.now() - minutesAgo * 60_000
  const id = ulid(startedAt)
  await env.DB.prepare(
    `INSERT INTO audit_events (id, action, import_id, outcome, actor, request_id, request_body, before, started_at)
     VALUES (?, ?, ?, 'pending', 'ghost', ?, ?, ?, ?)`
  )
    .bind(
      id,
      action,
      importId,
      `req_${id}`,
      JSON.stringify(requested),
      before === null ? null : JSON.stringify(before),
      startedAt
    )
    .run()
  return id
}
