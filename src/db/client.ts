import { drizzle } from 'drizzle-orm/d1'
import { perObject } from '../per-object'

/**
 * Drizzle over the D1 binding. Without `{ schema }`: we use the query builder only, never the
 * relational `db.query` API, and the schema option costs a pass over every table per handle
 * plus its code in the bundle. One handle per binding object, reused across requests (the group
 * commits and prepared statements hang off it).
 */
export const createDb = perObject((d1: D1Database) => drizzle(d1))

export type Db = ReturnType<typeof createDb>
