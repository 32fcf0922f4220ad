import type { Import } from '../exa/schemas'

export type Change = { path: string; from: unknown; to: unknown }

/** The fields a user can change on an import, and so the ones an audit diff speaks of. */
type Editable = { title?: unknown; metadata?: Record<string, unknown> }

const editable = (i: Import | null): Editable => (i ? { title: i.title, metadata: i.metadata } : {})

/**
 * Field-level changes from `before` to `after`: `title`, and one `metadata.<key>` per key added,
 * removed or changed. A side that is null (create, delete) reads as absent: its values are null.
 */
export function diffImports(before: Import | null, after: Import | null): Change[] {
  const a = editable(before)
  const b = editable(after)
  const changes: Change[] = []
  if (a.title !== b.title) changes.push({ path: 'title', from: a.title ?? null, to: b.title ?? null })
  const am = a.metadata ?? {}
  const bm = b.metadata ?? {}
  const keys = [...new Set([...Object.keys(am), ...Object.keys(bm)])].sort()
  for (const key of keys) {
    const from = Object.hasOwn(am, key) ? am[key] : null
    const to = Object.hasOwn(bm, key) ? bm[key] : null
    if (from !== to) changes.push({ path: `metadata.${key}`, from, to })
  }
  return changes
}

/** The paths a change list touches, plus `metadata` when any metadata key changed. */
export function changedFields(changes: Change[]): string[] {
  const fields = new Set(changes.map((c) => c.path))
  if (changes.some((c) => c.path.startsWith('metadata.'))) fields.add('metadata')
  return [...fields]
}
