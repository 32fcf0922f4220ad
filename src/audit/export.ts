import type { Db } from '../db/client'
import type { EventFilters, ExportFormat } from './filters'
import { queryEvents } from './query'
import { EVENT_FIELDS, toEventView, type EventView } from './view'

/** Rows per D1 query while exporting: small enough to keep memory flat, large enough to be quick. */
export const EXPORT_PAGE_ROWS = 500

/** One CSV cell (RFC 4180): null is empty, objects are JSON text, quoted when needed. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

const csvLine = (cells: unknown[]) => cells.map(csvCell).join(',') + '\r\n'

function render(format: ExportFormat, events: EventView[]): string {
  if (format === 'ndjson') return events.map((event) => JSON.stringify(event) + '\n').join('')
  return events.map((event) => csvLine(EVENT_FIELDS.map((field) => event[field]))).join('')
}

export const exportContentType = (format: ExportFormat) =>
  format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8'

/** `audit-20261129T120000Z.csv`: sortable, and safe in a content-disposition header. */
export const exportFileName = (format: ExportFormat, now = new Date()) =>
  `audit-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${format}`

/**
 * The matching events, newest first, as a stream that reads one page per pull: memory holds about
 * one page whatever the size of the log, and a slow client slows the reads instead of buffering.
 * The first page is read up front so that a D1 failure is still an error response, not a
 * truncated file. Pages follow the id cursor, so rows written during the export never shift it.
 */
export async function exportStream(
  db: Db,
  filters: EventFilters,
  format: ExportFormat
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder()
  let page = await queryEvents(db, { filters, limit: EXPORT_PAGE_ROWS })
  let first = true
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!first) {
          const last = page.rows[page.rows.length - 1]
          page = await queryEvents(db, { filters, limit: EXPORT_PAGE_ROWS, beforeId: last?.id })
        }
        const header = first && format === 'csv' ? csvLine(EVENT_FIELDS) : ''
        first = false
        const text = header + render(format, page.rows.map(toEventView))
        if (text) controller.enqueue(encoder.encode(text))
        if (!page.hasMore) controller.close()
      },
    },
    { highWaterMark: 0 }
  )
}
