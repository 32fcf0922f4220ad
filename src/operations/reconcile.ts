import { and, asc, eq, lt } from 'drizzle-orm'
import type { Context } from 'hono'
import { settlePending } from '../audit/chain'
import { diffImports } from '../audit/diff'
import type { Db } from '../db/client'
import { auditEvents, type AuditEventRow } from '../db/schema'
import type { AppEnv, Config } from '../env'
import { callExa, importPath } from '../exa/client'
import { ImportSnapshot, type Import, type UpdateImport } from '../exa/schemas'
import { ulidFloor } from '../lib/ids'

/** A row still pending this long after it started is settled by the scheduled handler. */
export const RECONCILE_AFTER_MS = 2 * 60_000
const BATCH = 50

type Settlement = { outcome: 'succeeded' | 'failed'; after: Import | null; error: string | null }

function showsRequestedChange(current: Import, requested: UpdateImport): boolean {
  if (requested.title !== undefined && current.title !== requested.title) return false
  // A subset check holds whether Exa merges or replaces metadata on PATCH.
  return Object.entries(requested.metadata ?? {}).every(([key, value]) => current.metadata[key] === value)
}

/** Decides a pending row from the import's current state at Exa; undefined when Exa can't tell us. */
async function decide(config: Config, row: AuditEventRow): Promise<Settlement | undefined> {
  if (!row.importId) {
    return {
      outcome: 'failed',
      after: null,
      error: 'outcome unknown: Exa never confirmed the call; list imports to check',
    }
  }
  const response = await callExa(config, { method: 'GET', path: importPath(row.importId) }).catch(() => undefined)
  if (!response || (response.status >= 500 && response.status !== 501)) return undefined
  if (row.action === 'import.delete') {
    return response.status === 404
      ? { outcome: 'succeeded', after: null, error: null }
      : { outcome: 'failed', after: null, error: 'reconciled: the import still exists at Exa' }
  }
  if (response.status === 404)
    return { outcome: 'failed', after: null, error: 'reconciled: the import no longer exists at Exa' }
  const current = ImportSnapshot.safeParse(response.json)
  if (!current.success) return undefined
  return showsRequestedChange(current.data, (row.requestBody ?? {}) as UpdateImport)
    ? { outcome: 'succeeded', after: current.data, error: null }
    : { outcome: 'failed', after: null, error: "reconciled: Exa's current state does not show the requested change" }
}

/**
 * Settles (and seals) one pending row if Exa's state decides it; returns whether it did. With `onlyIfApplied`
 * a row is settled only as succeeded: "not applied yet" may still change while a request is in
 * flight, so only the cron (after RECONCILE_AFTER_MS) may conclude `failed`.
 */
export async function reconcileRow(
  db: Db,
  config: Config,
  row: AuditEventRow,
  note?: string,
  options: { onlyIfApplied?: boolean } = {}
): Promise<boolean> {
  const settlement = await decide(config, row)
  if (!settlement || (options.onlyIfApplied && settlement.outcome !== 'succeeded')) return false
  const before = (row.before ?? null) as Import | null
  const result = await settlePending(db, row.id, {
    outcome: settlement.outcome,
    after: settlement.after,
    changes: settlement.outcome === 'succeeded' ? diffImports(before, settlement.after) : [],
    error: [note, settlement.error].filter(Boolean).join('; ') || null,
    reconciled: true,
    finishedAt: Date.now(),
  })
  return result.settled
}

/** When the background settle looks at Exa again after an unknown outcome (ms after the failure). */
const SETTLE_CHECKS_MS = [1_000, 4_000, 10_000]

/**
 * After a call whose outcome is unknown (timeout, dropped connection, malformed answer): records
 * why, then looks at Exa's state a few times off the request path and settles the row as soon as
 * the change shows. If it never shows, the cron settles the row after RECONCILE_AFTER_MS.
 */
export function settleInBackground(c: Context<AppEnv>, eventId: string, note: string) {
  const { db, config } = c.var
  c.executionCtx.waitUntil(
    (async () => {
      // Only while pending: a settled row is sealed, and changing it would break the chain.
      await db
        .update(auditEvents)
        .set({ error: note })
        .where(and(eq(auditEvents.id, eventId), eq(auditEvents.outcome, 'pending')))
      let waited = 0
      for (const at of SETTLE_CHECKS_MS) {
        await new Promise((resolve) => setTimeout(resolve, at - waited))
        waited = at
        const row = await db.select().from(auditEvents).where(eq(auditEvents.id, eventId)).get()
        if (row?.outcome !== 'pending') return
        if (await reconcileRow(db, config, row, note, { onlyIfApplied: true })) return
      }
    })().catch(() => undefined)
  )
}

/** The cron's work: settle rows pending for longer than RECONCILE_AFTER_MS, oldest first. */
export async function reconcilePending(db: Db, config: Config, now = Date.now()) {
  const rows = await db
    .select()
    .from(auditEvents)
    .where(and(eq(auditEvents.outcome, 'pending'), lt(auditEvents.id, ulidFloor(now - RECONCILE_AFTER_MS))))
    .orderBy(asc(auditEvents.id))
    .limit(BATCH)
  let settled = 0
  for (const row of rows) {
    const note = row.error ?? 'left pending (the worker stopped before settling it)'
    if (await reconcileRow(db, config, row, note).catch(() => false)) settled++
  }
  return { examined: rows.length, settled }
}
