import { DrizzleD1Database, SQLiteD1Session } from 'drizzle-orm/d1'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import { perObject } from '../lib/per-object'

/**
 * Drizzle over the D1 binding, for the query builder only (never the relational `db.query` API).
 * Built from drizzle-orm/d1's own exported parts, as `drizzle(d1)` builds it when given no
 * options: `drizzle()` itself brings the relational schema extraction (relations.js and pg-core
 * modules it imports), about 0.5 KiB gzip of the bundle, for a `schema` option we never pass.
 * One handle per binding object, reused across requests (the group commits hang off it).
 */
export const createDb = perObject((d1: D1Database) => {
  const dialect = new SQLiteAsyncDialect()
  const db = new DrizzleD1Database(
    'async',
    dialect,
    new SQLiteD1Session(d1, dialect, undefined),
    undefined
  ) as DrizzleD1Database & {
    $client: D1Database
  }
  db.$client = d1
  return db
})

export type Db = ReturnType<typeof createDb>
