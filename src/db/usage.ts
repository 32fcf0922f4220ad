import type { Db } from './client'
import { columnNames, encodeColumns, field } from './json-rows'
import { usageEvents, type UsageEventRow } from './schema'

const COLUMNS = columnNames(usageEvents)

/**
 * Usage rows from their JSON (db/json-rows.ts: one statement for any number of rows). A row already
 * written is left as it is, and the trigger that keeps `usage_daily` fires only for rows inserted,
 * so a flush retried after an answer that was lost counts each call once.
 */
const INSERT_SQL = `INSERT INTO usage_events (${COLUMNS.join(', ')})
  SELECT ${COLUMNS.map((name) => field('r', name)).join(', ')} FROM json_each(?) AS r WHERE true
  ON CONFLICT DO NOTHING`

/** The waits before a failed flush's 2nd, 3rd and 4th attempt; after the 4th its rows are logged. */
const RETRY_MS = [100, 400, 1600]
/** The most rows in one statement (D1 takes a bound value up to 2 MB; a row is ~300 bytes of JSON). */
const MAX_FLUSH_ROWS = 1000
/**
 * A flush takes no new round after this long, leaving what is buffered to the next row's flush:
 * waitUntil work is cancelled 30 s after its response. A flush older than that is gone.
 */
const MAX_FLUSH_MS = 20_000
const GONE_MS = 30_000

const buffer: UsageEventRow[] = []
/** The flush running in this isolate (when it started), if any. */
let flushing: { since: number } | undefined
const stats = { written: 0, retries: 0, unwritten: 0 }

/** What this isolate's usage writes have met: for tests and the error log. */
export const usageWriteStats = () => ({ ...stats, buffered: buffer.length })

/**
 * Buffers a usage row in this isolate; nothing waits for it. The first row finding no flush
 * running starts one, held by its own request's `waitUntil`: one D1 statement per round for every
 * row buffered, rows arriving during a round going in the next one. No request waits on another's
 * work (workerd refuses that), and there is no waiter per row.
 */
export function bufferUsage(db: Db, ctx: { waitUntil(work: Promise<unknown>): void }, row: UsageEventRow): void {
  buffer.push(row)
  if (flushing && Date.now() - flushing.since < GONE_MS) return
  const mine = (flushing = { since: Date.now() })
  ctx.waitUntil(
    (async () => {
      try {
        while (buffer.length && Date.now() - mine.since < MAX_FLUSH_MS)
          await write(db, buffer.splice(0, MAX_FLUSH_ROWS))
      } finally {
        if (flushing === mine) flushing = undefined
      }
    })()
  )
}

/** One round: retried RETRY_MS.length times, then counted and logged row by row (no secrets: no row holds one). */
async function write(db: Db, rows: UsageEventRow[]) {
  const statement = db.$client
    .prepare(INSERT_SQL)
    .bind(JSON.stringify(rows.map((row) => encodeColumns(usageEvents, row))))
  for (let attempt = 0; ; attempt++) {
    try {
      await statement.run()
      stats.written += rows.length
      return
    } catch (err) {
      if (attempt === RETRY_MS.length) {
        stats.unwritten += rows.length
        return console.error(
          JSON.stringify({
            level: 'error',
            msg: 'usage rows not written: D1 failed every attempt',
            error: err instanceof Error ? err.message.slice(0, 200) : typeof err,
            ...usageWriteStats(),
            rows,
          })
        )
      }
      stats.retries++
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS[attempt]))
    }
  }
}
