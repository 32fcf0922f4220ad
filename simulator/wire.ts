/**
 * An exa-js type as it travels in JSON: exa-js declares Exa's enums as TypeScript enums
 * (`WebsetStatus.idle`), which JSON carries as their plain strings ('idle'). The simulator's
 * objects are typed `Wire<exa-js type>`, so a field exa-js adds or renames fails the typecheck.
 */
export type Wire<T> = T extends string
  ? `${T}`
  : T extends readonly (infer E)[]
    ? Wire<E>[]
    : T extends object
      ? { [K in keyof T]: Wire<T[K]> }
      : T

/** A page of any list of Exa's: `{data, hasMore, nextCursor}`. */
export type Page<T> = { data: T[]; hasMore: boolean; nextCursor: string | null }

export const encodeCursor = (id: string) => btoa(`cursor:${id}`)
export const decodeCursor = (cursor: string) => {
  try {
    const text = atob(cursor)
    return text.startsWith('cursor:') ? text.slice(7) : undefined
  } catch {
    return undefined
  }
}

/**
 * One page of `all` (newest first), as Exa pages its lists: `limit` from 1 to `max` (default
 * `fallback`), the cursor naming the first object of the next page. A string is the 400's message.
 */
export function pageOf<T extends { id: string; createdAt: string }>(
  all: T[],
  query: { limit?: string; cursor?: string },
  fallback: number,
  max: number
): Page<T> | string {
  const n = query.limit === undefined ? fallback : Number(query.limit)
  if (!Number.isInteger(n) || n < 1 || n > max) return `limit must be between 1 and ${max}`
  const sorted = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
  const from = query.cursor === undefined ? undefined : decodeCursor(query.cursor)
  const start = from === undefined ? 0 : sorted.findIndex((item) => item.id === from)
  if ((query.cursor !== undefined && from === undefined) || start < 0) return 'Invalid cursor'
  const data = sorted.slice(start, start + n)
  const next = sorted[start + n]
  return { data: structuredClone(data), hasMore: next !== undefined, nextCursor: next ? encodeCursor(next.id) : null }
}
