import { canonicalJson } from './seal'

export type Change = { path: string; from: unknown; to: unknown }

/** A resource's state as Exa answers it: an object (its fields are compared by name). */
export type Snapshot = Record<string, unknown>

/**
 * The fields a user can change on each audited resource (a webhook's `status` by its delete),
 * and so the ones an audit diff speaks of. `metadata` is diffed per key. A key's rows carry no diff.
 */
export const EDITABLE_FIELDS = {
  import: ['title', 'metadata'],
  webhook: ['url', 'events', 'status', 'metadata'],
  webset: ['status', 'metadata'],
  item: ['properties'],
  search: ['status', 'query', 'count', 'criteria', 'behavior', 'metadata'],
  enrichment: ['description', 'format', 'options', 'status', 'metadata'],
  monitor: ['status', 'cadence', 'behavior', 'metadata'],
  search_monitor: ['name', 'status', 'search', 'trigger', 'outputSchema', 'webhook', 'metadata'],
  agent_run: ['status', 'stopReason', 'costDollars'],
  agent_monitor: ['status', 'cadence', 'entityCount'],
  backtest: ['status'],
  key: [],
} as const satisfies Record<string, readonly string[]>

export type ResourceType = keyof typeof EDITABLE_FIELDS
export const RESOURCE_TYPES = Object.keys(EDITABLE_FIELDS) as ResourceType[]

/** Every field any resource diffs: what the `field` filter accepts (besides `metadata.<key>`). */
export const DIFFED_FIELDS = [...new Set(Object.values(EDITABLE_FIELDS).flat())] as string[]

const fieldsOf = (type: string | null | undefined): readonly string[] =>
  (EDITABLE_FIELDS as Record<string, readonly string[]>)[type ?? 'import'] ?? []

const same = (a: unknown, b: unknown) => canonicalJson(a ?? null) === canonicalJson(b ?? null)

/**
 * Field-level changes of a resource from `before` to `after`: one per editable field that differs,
 * and one `metadata.<key>` per key added, removed or changed. A side that is null (create, delete)
 * reads as absent: its values are null.
 */
export function diffResource(type: string | null | undefined, before: unknown, after: unknown): Change[] {
  const a = (before ?? {}) as Snapshot
  const b = (after ?? {}) as Snapshot
  const changes: Change[] = []
  for (const field of fieldsOf(type)) {
    if (field !== 'metadata') {
      if (!same(a[field], b[field])) changes.push({ path: field, from: a[field] ?? null, to: b[field] ?? null })
      continue
    }
    const am = (a.metadata ?? {}) as Record<string, unknown>
    const bm = (b.metadata ?? {}) as Record<string, unknown>
    const keys = [...new Set([...Object.keys(am), ...Object.keys(bm)])].sort()
    for (const key of keys) {
      const from = Object.hasOwn(am, key) ? am[key] : null
      const to = Object.hasOwn(bm, key) ? bm[key] : null
      if (from !== to) changes.push({ path: `metadata.${key}`, from, to })
    }
  }
  return changes
}

/** An import's changes: `title`, and one `metadata.<key>` per key added, removed or changed. */
export const diffImports = (before: object | null, after: object | null): Change[] =>
  diffResource('import', before, after)

/** The paths a change list touches, plus `metadata` when any metadata key changed. */
export function changedFields(changes: Change[]): string[] {
  const fields = new Set(changes.map((c) => c.path))
  if (changes.some((c) => c.path.startsWith('metadata.'))) fields.add('metadata')
  return [...fields]
}
