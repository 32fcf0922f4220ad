import { and, asc, count, eq, gt, inArray, notExists } from 'drizzle-orm'
import type { Db } from '../db/client'
import { AUDIT_OUTCOMES, auditChain, auditEvents, type AuditEventRow } from '../db/schema'
import { chainHash, GENESIS, rowHash } from './seal'

/** Links read per D1 query while verifying. */
const VERIFY_PAGE = 500

export type Anchor = { seq: number; chainHash: string }

export type Verification = {
  ok: boolean
  /** Links checked (rows re-hashed and chained) before the walk ended. */
  checked: number
  /** The last link, to anchor elsewhere; null for an empty chain. */
  head: Anchor | null
  firstBrokenId?: string | null
  firstBrokenSeq?: number | null
  reason?: string
}

/**
 * The resource a row sealed before migration 0004 names (seal version 1): derived from columns its
 * seal covers, as the migration did, since its seal does not cover the resource columns.
 */
export function v1Resource(row: Pick<AuditEventRow, 'action' | 'importId' | 'subjectKeyId'>) {
  if (row.action.startsWith('import.')) return { resourceType: 'import', resourceId: row.importId, parentId: null }
  if (row.action.startsWith('key.')) return { resourceType: 'key', resourceId: row.subjectKeyId, parentId: null }
  return { resourceType: null, resourceId: null, parentId: null }
}

/**
 * Whether a version 1 row's resource columns are the ones derived from its sealed columns, or
 * none (a row an older worker wrote after the migration, before the new code was deployed).
 */
const sameResource = (row: AuditEventRow) => {
  const derived = v1Resource(row)
  const none = row.resourceType === null && row.resourceId === null && row.parentId === null
  return (
    none ||
    (row.resourceType === derived.resourceType &&
      row.resourceId === derived.resourceId &&
      row.parentId === derived.parentId)
  )
}

/** Every outcome but `pending`: a settled row is sealed. */
const SETTLED = AUDIT_OUTCOMES.filter((outcome) => outcome !== 'pending')

/**
 * Re-derives the whole chain from the rows: each link's row hash from its event as stored now,
 * each chain hash from the previous one, positions 1, 2, 3, … without gaps. Then checks that no
 * settled row is missing from the chain. With an `anchor` (a head recorded elsewhere earlier), the
 * chain must also pass through it: this catches a rewrite of the chain up to that point, or its
 * truncation, which hashes in the same database alone cannot show.
 */
export async function verifyChain(db: Db, anchor?: Anchor): Promise<Verification> {
  let previous: Anchor = { seq: 0, chainHash: GENESIS }
  let checked = 0
  const broken = (reason: string, seq: number | null, id: string | null): Verification => ({
    ok: false,
    checked,
    head: previous.seq ? previous : null,
    firstBrokenId: id,
    firstBrokenSeq: seq,
    reason,
  })
  for (;;) {
    const links = await db
      .select()
      .from(auditChain)
      .where(gt(auditChain.seq, previous.seq))
      .orderBy(asc(auditChain.seq))
      .limit(VERIFY_PAGE)
    if (links.length === 0) break
    // By id, not a join: a join would also match a row whose id was changed to a linked one.
    const ids = links.map((link) => link.eventId)
    const rows = new Map<string, typeof auditEvents.$inferSelect>()
    for (let i = 0; i < ids.length; i += 90) {
      for (const row of await db
        .select()
        .from(auditEvents)
        .where(inArray(auditEvents.id, ids.slice(i, i + 90))))
        rows.set(row.id, row)
    }
    for (const link of links) {
      if (link.seq !== previous.seq + 1) {
        return broken(
          `link ${previous.seq + 1} is missing: a sealed row was deleted with its link`,
          link.seq,
          link.eventId
        )
      }
      const row = rows.get(link.eventId)
      if (!row) return broken('the sealed row is missing: it was deleted or its id was changed', link.seq, link.eventId)
      if ((await rowHash(row)) !== link.rowHash)
        return broken('the row was changed after it was sealed', link.seq, link.eventId)
      if (row.sealVersion === 1 && !sameResource(row))
        return broken("the row's resource was changed after it was sealed", link.seq, link.eventId)
      const expected = await chainHash(previous.chainHash, link.rowHash)
      if (expected !== link.chainHash)
        return broken('the chain was rewritten or reordered here', link.seq, link.eventId)
      if (anchor && link.seq === anchor.seq && link.chainHash !== anchor.chainHash) {
        return broken('the chain no longer matches your anchor: it was rewritten up to here', link.seq, link.eventId)
      }
      previous = { seq: link.seq, chainHash: link.chainHash }
      checked++
    }
  }
  if (anchor && anchor.seq > previous.seq) {
    return broken(
      `the chain ends at ${previous.seq}, before your anchor ${anchor.seq}: links were removed`,
      anchor.seq,
      null
    )
  }
  const unsealed = await firstUnsealedRow(db, previous.seq)
  if (unsealed)
    return broken('a settled row has no link: it was inserted (or settled) outside the gateway', null, unsealed)
  return { ok: true, checked, head: previous.seq ? previous : null }
}

/**
 * A settled row without a link. Counting first (an index-only count) keeps the usual case to one
 * cheap query; the anti-join runs only when the counts differ.
 */
async function firstUnsealedRow(db: Db, links: number): Promise<string | undefined> {
  const [settled] = await db.select({ n: count() }).from(auditEvents).where(inArray(auditEvents.outcome, SETTLED))
  if ((settled?.n ?? 0) <= links) return undefined
  const [row] = await db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        inArray(auditEvents.outcome, SETTLED),
        notExists(db.select({ seq: auditChain.seq }).from(auditChain).where(eq(auditChain.eventId, auditEvents.id)))
      )
    )
    .limit(1)
  return row?.id
}
