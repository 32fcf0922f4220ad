import { getTableColumns, type Table } from 'drizzle-orm'

/**
 * Hot-path statements as SQL text over the drizzle schema's column names, bound per call: no query
 * building per request (drizzle's builder walks the whole query tree each time), and no prepared
 * statement kept across requests (workerd ties one to the request that made it).
 *
 * Many rows in one statement: the rows travel as one JSON array bound to a single parameter and
 * SQL reads them back with json_each. A statement costs a fixed overhead (and, locally, a round
 * of bookkeeping in the D1 simulator) however many rows it writes, and D1 caps bound parameters
 * at 100 per statement, which a multi-row VALUES of a 23-column row would reach at five rows.
 */

/** A row's values keyed by column name, encoded as drizzle stores them (JSON as text, booleans as 0/1); null stays null. */
export function encodeColumns<T extends Table>(table: T, values: Partial<T['$inferSelect']>): Record<string, unknown> {
  const columns = getTableColumns(table)
  const encoded: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(values)) {
    const column = columns[key]
    if (!column) throw new Error(`${key} is not a column`)
    if (value !== undefined) encoded[column.name] = value === null ? null : column.mapToDriverValue(value)
  }
  return encoded
}

/** A row as D1 returns it (keyed by column name) decoded into the table's shape, as drizzle would read it. */
export function decodeRow<T extends Table>(table: T, raw: Record<string, unknown>): T['$inferSelect'] {
  const row: Record<string, unknown> = {}
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name]
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return row as T['$inferSelect']
}

/** The column names of `table`, in schema order. */
export const columnNames = (table: Table): string[] =>
  Object.values(getTableColumns(table)).map((column) => column.name)

/** A value of the JSON object `alias.value` (a json_each row) by path. */
export const field = (alias: string, path: string) => `json_extract(${alias}.value, '$.${path}')`
