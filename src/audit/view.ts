import { getTableColumns } from 'drizzle-orm'
import { auditEvents, type AuditEventRow } from '../db/schema'
import { isoOrNull } from '../lib/time'

/**
 * The fields of an event as the API shows it, in order: every column of `audit_events`, by its
 * camelCase name. The JSON view and the CSV export's columns both come from this list.
 * (The seal's column list is kept apart on purpose: see SEALED_COLUMNS in seal.ts.)
 */
export const EVENT_FIELDS = Object.keys(getTableColumns(auditEvents)) as (keyof AuditEventRow)[]

type Fields = { [K in keyof AuditEventRow]: AuditEventRow[K] }

/** An audit row as the API shows it: camelCase, JSON columns as objects, times in ISO 8601. */
export function toEventView(row: AuditEventRow) {
  const fields = Object.fromEntries(EVENT_FIELDS.map((field) => [field, row[field]])) as Fields
  return {
    ...fields,
    changes: row.changes ?? [],
    startedAt: isoOrNull(row.startedAt),
    finishedAt: isoOrNull(row.finishedAt),
  }
}

export type EventView = ReturnType<typeof toEventView>
