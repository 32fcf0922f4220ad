import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changedFields, diffImports, type Change } from '../../src/audit/diff'
import type { Import } from '../../src/exa/schemas'

const imp = (title: string, metadata: Record<string, string> = {}, extra: Record<string, unknown> = {}): Import => ({
  id: 'import_1',
  title,
  metadata,
  ...extra,
})

/** Title and metadata as plain data, absent (null side) reading as no title and no keys. */
const editable = (i: Import | null) => ({
  title: i ? i.title : null,
  metadata: new Map(i ? Object.entries(i.metadata) : []),
})

/** Applies a change list to `before`'s editable fields, `to: null` meaning "absent". */
function apply(before: Import | null, changes: Change[], side: 'from' | 'to' = 'to') {
  const state = editable(before)
  for (const change of changes) {
    const value = change[side]
    if (change.path === 'title') state.title = value as string | null
    else if (change.path.startsWith('metadata.')) {
      const key = change.path.slice('metadata.'.length)
      if (value === null) state.metadata.delete(key)
      else state.metadata.set(key, value as string)
    } else throw new Error(`unexpected path ${change.path}`)
  }
  return state
}

// Keys from a small pool (so before and after share some), plus arbitrary ones and awkward ones.
const key = fc.oneof(fc.constantFrom('a', 'b', 'c', '', 'x.y', 'metadata', '__proto__', 'constructor'), fc.string())
const value = fc.oneof(fc.constantFrom('1', '2', ''), fc.string())
const metadata = fc.dictionary(key, value, { maxKeys: 6 })
const anImport: fc.Arbitrary<Import> = fc.record({
  id: fc.constant('import_1'),
  title: fc.oneof(fc.constantFrom('T', 'U', ''), fc.string()),
  metadata,
})
const maybeImport = fc.option(anImport, { nil: null, freq: 5 })
/** A pair where `after` is usually an edit of `before` (shared keys, same title) rather than unrelated. */
const pair = fc.oneof(
  fc.tuple(maybeImport, maybeImport),
  fc
    .tuple(anImport, fc.option(fc.oneof(fc.constantFrom('T', ''), fc.string())), metadata, fc.array(fc.nat()))
    .map(([before, title, added, dropIdx]): [Import, Import] => {
      const entries = Object.entries(before.metadata).filter((_, i) => !dropIdx.includes(i))
      const after = { ...before, metadata: Object.fromEntries([...entries, ...Object.entries(added)]) }
      if (title !== null) after.title = title
      return [before, after]
    })
)
/** A deep copy that keeps own `__proto__` keys as keys (JSON.parse does). */
const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

describe('diffImports: examples', () => {
  it('reports a title change', () => {
    expect(diffImports(imp('Old', { a: '1' }), imp('New', { a: '1' }))).toEqual([
      { path: 'title', from: 'Old', to: 'New' },
    ])
  })

  it('reports one metadata.<key> change per key added, removed or changed, sorted by key', () => {
    const before = imp('T', { keep: 'same', removed: 'r', changed: 'old', b: '1' })
    const after = imp('T', { changed: 'new', added: 'x', keep: 'same', a: '0', b: '1' })
    expect(diffImports(before, after)).toEqual([
      { path: 'metadata.a', from: null, to: '0' },
      { path: 'metadata.added', from: null, to: 'x' },
      { path: 'metadata.changed', from: 'old', to: 'new' },
      { path: 'metadata.removed', from: 'r', to: null },
    ])
  })

  it('puts the title first, then metadata keys in code-unit order', () => {
    const changes = diffImports(imp('A', {}), imp('B', { b: '1', B: '1', a: '1', 'a.b': '1', _: '1' }))
    expect(changes.map((c) => c.path)).toEqual([
      'title',
      'metadata.B',
      'metadata._',
      'metadata.a',
      'metadata.a.b',
      'metadata.b',
    ])
  })

  it('reads a null before (create) as absent: every value comes from null', () => {
    expect(diffImports(null, imp('New', { k: 'v', j: 'w' }))).toEqual([
      { path: 'title', from: null, to: 'New' },
      { path: 'metadata.j', from: null, to: 'w' },
      { path: 'metadata.k', from: null, to: 'v' },
    ])
  })

  it('reads a null after (delete) as absent: every value goes to null', () => {
    expect(diffImports(imp('Gone', { k: 'v' }), null)).toEqual([
      { path: 'title', from: 'Gone', to: null },
      { path: 'metadata.k', from: 'v', to: null },
    ])
  })

  it('counts an empty title and an empty metadata value as present, not as absent', () => {
    expect(diffImports(null, imp('', { e: '' }))).toEqual([
      { path: 'title', from: null, to: '' },
      { path: 'metadata.e', from: null, to: '' },
    ])
  })

  it('gives [] for identical imports, also as distinct objects, and ignores non-editable fields', () => {
    expect(diffImports(imp('T', { a: '1' }), imp('T', { a: '1' }))).toEqual([])
    expect(diffImports(null, null)).toEqual([])
    expect(
      diffImports(
        imp('T', { a: '1' }, { status: 'pending', count: 1 }),
        imp('T', { a: '1' }, { status: 'done', count: 9 })
      )
    ).toEqual([])
  })

  it('handles keys that are Object.prototype names as ordinary keys', () => {
    const after = JSON.parse('{"id":"i","title":"T","metadata":{"__proto__":"p","constructor":"c"}}') as Import
    expect(diffImports(imp('T'), after)).toEqual([
      { path: 'metadata.__proto__', from: null, to: 'p' },
      { path: 'metadata.constructor', from: null, to: 'c' },
    ])
    expect(diffImports(imp('T', { toString: 'x' }), imp('T'))).toEqual([
      { path: 'metadata.toString', from: 'x', to: null },
    ])
  })
})

describe('changedFields: examples', () => {
  it('lists the paths, adding metadata only when a metadata key changed', () => {
    expect(changedFields([])).toEqual([])
    expect(changedFields([{ path: 'title', from: 'a', to: 'b' }])).toEqual(['title'])
    expect(
      new Set(
        changedFields([
          { path: 'title', from: 'a', to: 'b' },
          { path: 'metadata.x', from: null, to: '1' },
          { path: 'metadata.y', from: '1', to: null },
        ])
      )
    ).toEqual(new Set(['title', 'metadata.x', 'metadata.y', 'metadata']))
  })

  it('lists each field once', () => {
    const fields = changedFields([
      { path: 'metadata.x', from: null, to: '1' },
      { path: 'metadata.x', from: '1', to: '2' },
    ])
    expect(fields.sort()).toEqual(['metadata', 'metadata.x'])
  })
})

describe('diffImports: properties', () => {
  it('diff(x, x) and diff(x, copy of x) are []', () => {
    fc.assert(
      fc.property(maybeImport, (x) => {
        expect(diffImports(x, x)).toEqual([])
        expect(diffImports(x, copy(x))).toEqual([])
      })
    )
  })

  it("applying the changes to before gives after's title and metadata; applying them backwards gives before's", () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        const changes = diffImports(before, after)
        expect(apply(before, changes)).toEqual(editable(after))
        expect(apply(after, changes, 'from')).toEqual(editable(before))
      })
    )
  })

  it('every path is title or metadata.<key> of a key on either side, once, title first then keys sorted; no no-op change', () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        const changes = diffImports(before, after)
        const keys = new Set([...Object.keys(before?.metadata ?? {}), ...Object.keys(after?.metadata ?? {})])
        const metadataKeys: string[] = []
        changes.forEach((change, i) => {
          expect(change.from).not.toBe(change.to)
          if (change.path === 'title') {
            expect(i).toBe(0)
          } else {
            expect(change.path.startsWith('metadata.')).toBe(true)
            const k = change.path.slice('metadata.'.length)
            expect(keys.has(k)).toBe(true)
            metadataKeys.push(k)
          }
        })
        expect(metadataKeys).toEqual([...new Set(metadataKeys)].sort())
      })
    )
  })

  it('changedFields gives the paths plus metadata iff some metadata key changed', () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        const changes = diffImports(before, after)
        const fields = changedFields(changes)
        const paths = changes.map((c) => c.path)
        const metadataChanged = paths.some((p) => p.startsWith('metadata.'))
        expect(new Set(fields)).toEqual(new Set(metadataChanged ? [...paths, 'metadata'] : paths))
        expect(fields.includes('metadata')).toBe(metadataChanged)
        expect(new Set(fields).size).toBe(fields.length)
      })
    )
  })
})
