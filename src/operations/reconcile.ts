import { and, asc, eq, gt, gte, isNull, lt, ne, or } from 'drizzle-orm'
import type { Context } from 'hono'
import { settlePending } from '../audit/chain'
import { diffResource, type Snapshot } from '../audit/diff'
import { editableFields, isOrdered, resourceOf, sealResource, settleInOrder } from '../audit/order'
import { canonicalJson } from '../audit/seal'
import { v1Resource } from '../audit/verify'
import type { Db } from '../db/client'
import { auditEvents, type AuditEventRow } from '../db/schema'
import type { AppEnv, Config } from '../env'
import { callExa } from '../exa/client'
import { ulidFloor } from '../lib/ids'
import { readOf, resourceNamed } from './resources'

/** A row still pending this long after it started is settled by the scheduled handler. */
export const RECONCILE_AFTER_MS = 2 * 60_000
/** Rows read per query; a cron run reads pages until none is left or its budget is spent. */
const BATCH = 50
/** How long one cron run keeps settling rows; what is left waits for the next run (5 minutes on). */
const RECONCILE_BUDGET_MS = 60_000
/** Exa's clock may differ from ours: an `updatedAt` this close to a row's start proves nothing. */
const CLOCK_SKEW_MS = 1_000
/** A row Exa has not answered for (5xx, no answer) this long after it started is settled `unknown`. */
const GIVE_UP_AFTER_MS = 60 * 60_000
/** Later events named in an unknown row's error, at most. */
const LATER_EVENTS_SHOWN = 5

type Settlement = { outcome: 'succeeded' | 'failed' | 'unknown'; after: Snapshot | null; error: string | null }

/** Whether the resource shows every field the update asked for. */
function showsRequestedChange(current: Snapshot, requested: Snapshot): boolean {
  return Object.entries(requested).every(([field, value]) => {
    if (value === undefined) return true
    // A subset check holds whether Exa merges or replaces metadata on PATCH.
    if (field === 'metadata') {
      const metadata = (current.metadata ?? {}) as Record<string, unknown>
      return Object.entries((value ?? {}) as Record<string, unknown>).every(([key, v]) => metadata[key] === v)
    }
    return canonicalJson(current[field] ?? null) === canonicalJson(value)
  })
}

/**
 * Other audited changes of the same resource (any outcome) that started after this row did, or
 * had not finished when it started: any of them may be what Exa's state shows.
 */
async function laterEvents(db: Db, row: AuditEventRow): Promise<string[]> {
  const rows = await db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.resourceId, row.resourceId!),
        eq(auditEvents.resourceType, row.resourceType!),
        ne(auditEvents.id, row.id),
        or(gt(auditEvents.id, row.id), isNull(auditEvents.finishedAt), gte(auditEvents.finishedAt, row.startedAt))
      )
    )
    .orderBy(asc(auditEvents.id))
    .limit(LATER_EVENTS_SHOWN)
  return rows.map((later) => later.id)
}

/** What Exa showed, for an unknown row's error: enough to check it by hand, nothing the row does not already hold. */
function observed(type: string, current: Snapshot, later: string[]): string {
  const fields = Object.fromEntries(editableFields(type).map((field) => [field, current[field]]))
  const seen = JSON.stringify(fields).slice(0, 300)
  const after = later.length ? `; later gateway events on this ${type}: ${later.join(', ')}` : ''
  return `Exa shows ${seen} (updatedAt ${String(current.updatedAt)})${after}`
}

/** Exa gave no usable answer: wait for a later run, unless the row has waited an hour already. */
function exaSilent(row: AuditEventRow): Settlement | undefined {
  if (Date.now() - row.startedAt < GIVE_UP_AFTER_MS) return undefined
  return {
    outcome: 'unknown',
    after: null,
    error: `outcome unknown: Exa has not answered for the ${row.resourceType ?? 'resource'} for over an hour after the call`,
  }
}

/**
 * Decides a pending row from the import's current state at Exa; undefined when Exa can't tell us.
 * `succeeded` only when proven: the import shows the requested change, Exa's `updatedAt` is at or
 * after the row's start, and no other change of the import went through the gateway since (nor
 * was in flight then: the gateway does not order concurrent changes, so one may be what Exa shows). `failed` only
 * when provably not applied. Anything else is `unknown`, with what was observed (docs/audit.md).
 */
async function decide(db: Db, config: Config, row: AuditEventRow): Promise<Settlement | undefined> {
  const resource = resourceNamed(row.resourceType)
  const type = row.resourceType ?? 'resource'
  if (!resource || !row.resourceId) {
    return {
      outcome: 'unknown',
      after: null,
      error: `outcome unknown: Exa never answered the create, so it may or may not have made the ${type}; list ${type}s to check`,
    }
  }
  const response = await callExa(config, readOf(resource, row.resourceId, row.parentId)).catch(() => undefined)
  if (!response || (response.status >= 500 && response.status !== 501)) return exaSilent(row)
  const later = await laterEvents(db, row)
  const unproven = (what: string): Settlement => ({
    outcome: 'unknown',
    after: null,
    error: `outcome unknown: ${what}; later gateway events on this ${type}: ${later.join(', ')}`,
  })
  if (row.action.endsWith('.delete')) {
    if (!resource.gone(response.status, response.json))
      return { outcome: 'failed', after: null, error: `reconciled: the ${type} still exists at Exa` }
    return later.length
      ? unproven(`the ${type} is gone, but a later change may have deleted it`)
      : { outcome: 'succeeded', after: null, error: null }
  }
  if (response.status === 404)
    return { outcome: 'failed', after: null, error: `reconciled: the ${type} no longer exists at Exa` }
  if (!resource.snapshot.safeParse(response.json).success) return exaSilent(row)
  // Upstream's object as it came; the schema only vouched for it.
  const current = response.json as Snapshot
  // NaN when Exa gives none: then nothing is proven either way.
  const updatedAt = typeof current.updatedAt === 'string' ? Date.parse(current.updatedAt) : NaN
  // A trigger starts a run and leaves the monitor as it was: its updatedAt proves nothing.
  if (updatedAt < row.startedAt - CLOCK_SKEW_MS && !row.action.endsWith('.trigger')) {
    return {
      outcome: 'failed',
      after: null,
      error: `reconciled: Exa's ${type} has not changed since before the call (updatedAt), so the change was not applied`,
    }
  }
  const shows = showsRequestedChange(current, (row.requestBody ?? {}) as Snapshot)
  if (shows && updatedAt >= row.startedAt && later.length === 0)
    return { outcome: 'succeeded', after: current, error: null }
  const why = shows
    ? "Exa shows the requested change, but it cannot be proven to be this call's"
    : `Exa does not show the requested change, but the ${type} changed after the call started`
  return { outcome: 'unknown', after: null, error: `outcome unknown: ${why}. ${observed(type, current, later)}` }
}

/**
 * Settles (and seals) one pending row if Exa's state decides it; returns whether it did. With `onlyIfApplied`
 * a row is settled only as succeeded: "not applied yet" may still change while a request is in
 * flight, so only the cron (after RECONCILE_AFTER_MS) may conclude `failed` or `unknown`.
 */
/**
 * A pending row without resource columns (written by a worker older than migration 0004, after
 * it ran) gets them, derived from its sealed columns as the migration derives them, before it is
 * settled: the order and the filters go by them.
 */
/** The same for every pending row at once (in SQL, as the migration derives it): before a cron run. */
const FILL_RESOURCES_SQL = [
  `UPDATE audit_events SET resource_type = 'import', resource_id = import_id
    WHERE outcome = 'pending' AND resource_type IS NULL AND action LIKE 'import.%'`,
  `UPDATE audit_events SET resource_type = 'key', resource_id = subject_key_id
    WHERE outcome = 'pending' AND resource_type IS NULL AND action LIKE 'key.%'`,
]

async function withResource(db: Db, row: AuditEventRow): Promise<AuditEventRow> {
  if (row.resourceType !== null) return row
  const derived = v1Resource(row)
  if (derived.resourceType === null) return row
  await db
    .update(auditEvents)
    .set(derived)
    .where(and(eq(auditEvents.id, row.id), eq(auditEvents.outcome, 'pending')))
  return { ...row, ...derived }
}

export async function reconcileRow(
  db: Db,
  config: Config,
  row: AuditEventRow,
  note?: string,
  options: { onlyIfApplied?: boolean } = {}
): Promise<boolean> {
  row = await withResource(db, row)
  // Exa answered (or its state proved it) already: the row waits for its turn in the order.
  if (row.after !== null) return (await sealResource(db, resourceOf(row)!)).includes(row.id)
  const settlement = await decide(db, config, row)
  if (!settlement || (options.onlyIfApplied && settlement.outcome !== 'succeeded')) return false
  const fields = {
    outcome: settlement.outcome,
    after: settlement.after,
    changes: settlement.outcome === 'succeeded' ? diffResource(row.resourceType, row.before, settlement.after) : [],
    error: [note, settlement.error].filter(Boolean).join('; ') || null,
    reconciled: true,
    finishedAt: Date.now(),
  }
  if (settlement.outcome === 'succeeded' && isOrdered(row, settlement.after))
    return (await settleInOrder(db, row, fields)).includes(row.id)
  const result = await settlePending(db, row.id, fields)
  // Rows of the resource that waited on this one may be sealed now.
  const resource = resourceOf(row)
  if (result.settled && resource) await sealResource(db, resource)
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

/**
 * The cron's work: settle every row pending for longer than RECONCILE_AFTER_MS, oldest first, a
 * page at a time until none is left or RECONCILE_BUDGET_MS is spent. A row stays pending only
 * while Exa or D1 cannot answer for it; the next run tries it again.
 */
export async function reconcilePending(db: Db, config: Config, now = Date.now()) {
  await db.$client.batch(FILL_RESOURCES_SQL.map((statement) => db.$client.prepare(statement)))
  const floor = ulidFloor(now - RECONCILE_AFTER_MS)
  const deadline = Date.now() + RECONCILE_BUDGET_MS
  let examined = 0
  let settled = 0
  let after = ''
  while (Date.now() < deadline) {
    const rows = await db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.outcome, 'pending'), lt(auditEvents.id, floor), gt(auditEvents.id, after)))
      .orderBy(asc(auditEvents.id))
      .limit(BATCH)
    for (const row of rows) {
      const note = row.error ?? 'left pending (the worker stopped before settling it)'
      if (await reconcileRow(db, config, row, note).catch(() => false)) settled++
    }
    examined += rows.length
    if (rows.length < BATCH) break
    after = rows[rows.length - 1]!.id
  }
  return { examined, settled }
}
