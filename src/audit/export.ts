import { d1Failure, STORAGE_DOWN } from '../db/failures'
import type { ErrorBody } from '../errors'
import type { ExportFormat } from './filters'

/** Rows per D1 query while exporting: small enough to keep memory flat, large enough to be quick. */
export const EXPORT_PAGE_ROWS = 500

/** What a spreadsheet takes for the start of a formula in a text cell (OWASP, CSV injection). */
export const FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r']

/**
 * One CSV cell (RFC 4180): null is empty, objects are JSON text, quoted when needed. Text that
 * starts like a formula gets a leading `'` (OWASP), so that a spreadsheet shows it instead of
 * running it: actors (key names), user agents and Idempotency-Keys come from clients. `raw`
 * writes text as it is. Numbers, booleans and JSON cells are ours and never neutralised.
 */
export function csvCell(value: unknown, raw = false): string {
  if (value === null || value === undefined) return ''
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value)
  if (!raw && typeof value === 'string' && FORMULA_TRIGGERS.includes(text.charAt(0))) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

const csvLine = (cells: unknown[], raw = false) => cells.map((cell) => csvCell(cell, raw)).join(',') + '\r\n'

/** How the events are written: the format, and for CSV whether text cells stay raw. */
export type ExportShape = { format: ExportFormat; raw: boolean }

/**
 * What an export writes: its rows a page at a time (newest first, the next page below the last
 * row's id), each row's view, the view's fields in CSV column order, and what the rows are called
 * in the failure record (`events`).
 */
export type ExportSource<R extends { id: string }> = {
  page: (beforeId: string | undefined) => Promise<{ rows: R[]; hasMore: boolean }>
  view: (row: R) => Record<string, unknown>
  fields: readonly string[]
  noun: string
}

/**
 * The headers of an export of `name`: its type, and a file name like `audit-20261129T120000Z.csv`
 * (sortable, and safe in a content-disposition header).
 */
export const exportHeaders = (name: string, format: ExportFormat, now = new Date()) => ({
  'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
  'content-disposition': `attachment; filename="${name}-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${format}"`,
  'cache-control': 'no-store',
})

/**
 * The last record of a file whose export failed part-way: the error body (docs/architecture.md §3)
 * as an NDJSON line, or a CSV record of one cell starting with `#`. Headers and status went out
 * with the first page, and over HTTP workerd ends even an errored body as if it were complete
 * (cloudflare/workerd#6818): in the file itself, the failure cannot be missed.
 */
function failureRecord(format: ExportFormat, body: ErrorBody): string {
  if (format === 'ndjson') return JSON.stringify(body) + '\n'
  return csvLine([`# ${body.tag} (${body.requestId}): ${body.error}`])
}

/** The error body for a page that could not be read after `sent` rows went out (logged here). */
function failureBody(err: unknown, sent: string, requestId: string): ErrorBody {
  const d1 = d1Failure(err)
  const logged = d1 ? d1.message.slice(0, 200) : err instanceof Error ? err.name : typeof err
  console.error(JSON.stringify({ level: 'error', requestId, msg: 'export failed part-way', sent, error: logged }))
  return {
    error: `the export stopped after ${sent}: ${d1 ? STORAGE_DOWN : 'internal error'}; this file is incomplete, export again`,
    tag: d1 ? 'STORAGE_UNAVAILABLE' : 'INTERNAL_ERROR',
    requestId,
  }
}

/**
 * The source's rows, newest first, as a stream that reads one page per pull: memory holds about
 * one page whatever the size of the log, and a slow client slows the reads instead of buffering.
 * The first page is read up front so that a D1 failure is still an error response, not a
 * truncated file. Pages follow the id cursor, so rows written during the export never shift it.
 * A later page that cannot be read ends the file with its failure record, then errors the stream
 * (controller.error), so that a reader that sees stream errors gets a failed transfer.
 */
export async function exportStream<R extends { id: string }>(
  source: ExportSource<R>,
  { format, raw }: ExportShape,
  requestId: string
): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder()
  let page = await source.page(undefined)
  let first = true
  let sent = 0
  let failure: unknown
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Errored one pull after the failure record, so that the record is read before the error.
        if (failure !== undefined) return controller.error(failure)
        if (!first) {
          const last = page.rows[page.rows.length - 1]
          try {
            page = await source.page(last?.id)
          } catch (err) {
            failure = err
            const body = failureBody(err, `${sent} ${source.noun}`, requestId)
            return controller.enqueue(encoder.encode(failureRecord(format, body)))
          }
        }
        let text = first && format === 'csv' ? csvLine([...source.fields]) : ''
        first = false
        for (const view of page.rows.map(source.view))
          text +=
            format === 'ndjson'
              ? JSON.stringify(view) + '\n'
              : csvLine(
                  source.fields.map((field) => view[field]),
                  raw
                )
        sent += page.rows.length
        if (text) controller.enqueue(encoder.encode(text))
        if (!page.hasMore) controller.close()
      },
    },
    { highWaterMark: 0 }
  )
}
