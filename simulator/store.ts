/**
 * The simulator's in-memory Imports, shaped like Exa's (all 13 keys, explicit nulls), per
 * docs/architecture.md §7 (the Exa simulator). Nothing here knows about HTTP.
 */
export type Entity =
  { type: 'company' | 'person' | 'article' | 'research_paper' } | { type: 'custom'; description: string }

export type SimImport = {
  id: string
  object: 'import'
  status: 'pending' | 'processing' | 'completed' | 'failed' | 'canceled'
  format: 'csv' | 'webset'
  entity: Entity | null
  title: string
  count: number
  metadata: Record<string, string>
  failedReason: 'invalid_format' | 'invalid_file_content' | 'missing_identifier' | null
  failedAt: string | null
  failedMessage: string | null
  createdAt: string
  updatedAt: string
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

export function randomToken(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length))
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('')
}

export class ImportStore {
  private readonly imports = new Map<string, SimImport>()
  /** Every state a PATCH left, in the order they were applied (for tests: not part of Exa). */
  private readonly applied: SimImport[] = []
  /** Monotonic clock so that createdAt orders strictly, even within one millisecond. */
  private lastTime = 0

  private now(): string {
    this.lastTime = Math.max(Date.now(), this.lastTime + 1)
    return new Date(this.lastTime).toISOString()
  }

  create(fields: Partial<SimImport> = {}): SimImport {
    const now = this.now()
    const item: SimImport = {
      id: `import_${randomToken(24)}`,
      object: 'import',
      status: 'completed',
      format: 'csv',
      entity: { type: 'company' },
      title: 'Untitled import',
      count: 0,
      metadata: {},
      failedReason: null,
      failedAt: null,
      failedMessage: null,
      createdAt: now,
      updatedAt: now,
      ...fields,
    }
    this.imports.set(item.id, item)
    return structuredClone(item)
  }

  get(id: string): SimImport | undefined {
    const item = this.imports.get(id)
    return item && structuredClone(item)
  }

  /** Exa's PATCH: `title` replaces the title, `metadata` replaces the whole metadata object. */
  update(id: string, patch: { title?: string; metadata?: Record<string, string> }): SimImport | undefined {
    const item = this.imports.get(id)
    if (!item) return undefined
    if (patch.title !== undefined) item.title = patch.title
    if (patch.metadata !== undefined) item.metadata = { ...patch.metadata }
    item.updatedAt = this.now()
    this.applied.push(structuredClone(item))
    return structuredClone(item)
  }

  delete(id: string): SimImport | undefined {
    const item = this.imports.get(id)
    if (!item) return undefined
    this.imports.delete(id)
    return structuredClone(item)
  }

  /** Newest first; the cursor is the id of the first item of the next page. */
  list(limit: number, cursor?: string): { data: SimImport[]; nextCursor: string | null } | undefined {
    const all = [...this.imports.values()].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)
    )
    const start = cursor === undefined ? 0 : all.findIndex((i) => i.id === cursor)
    if (start < 0) return undefined
    const data = all.slice(start, start + limit)
    const next = all[start + limit]
    return { data: structuredClone(data), nextCursor: next ? next.id : null }
  }

  /** The states PATCHes left on one import, in the order Exa applied them. */
  appliedTo(id: string): SimImport[] {
    return structuredClone(this.applied.filter((state) => state.id === id))
  }

  clear() {
    this.imports.clear()
    this.applied.length = 0
  }

  /** Everything the store holds, as JSON-safe data (`npm start` keeps it across restarts). */
  snapshot(): StoreSnapshot {
    return { imports: structuredClone([...this.imports.values()]), lastTime: this.lastTime }
  }

  /** Replaces the store's contents with a snapshot taken earlier. */
  restore(snapshot: StoreSnapshot) {
    this.imports.clear()
    for (const item of snapshot.imports) this.imports.set(item.id, structuredClone(item))
    this.lastTime = snapshot.lastTime
  }
}

export type StoreSnapshot = { imports: SimImport[]; lastTime: number }
