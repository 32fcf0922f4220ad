import { drizzle } from 'drizzle-orm/d1'

/**
 * Drizzle over the D1 binding. Without `{ schema }`: we use the query builder only, never the
 * relational `db.query` API, and the schema option costs a pass over every table per handle
 * plus its code in the bundle. One handle per binding object, reused across requests.
 */
const handles = new WeakMap<D1Database, ReturnType<typeof drizzle>>()

export function createDb(d1: D1Database) {
  let db = handles.get(d1)
  if (!db) handles.set(d1, (db = drizzle(d1)))
  return db
}

export type Db = ReturnType<typeof createDb>
