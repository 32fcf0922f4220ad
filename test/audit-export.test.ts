import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { seedAuditStatements } from '../bench/seed-audit'
import { EXPORT_PAGE_ROWS } from '../src/audit/export'
import { type EventView, listAll, patchImport, wipeAudit } from './support/audit'
import { expect400 } from './support/errors'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey
let importId: string
const TRICKY = 'Q3, "big" leads\r\nline two'

beforeAll(async () => {
  await sim.reset()
  await wipeAudit()
  key = await issueKey()
  importId = (await sim.seed({ title: 'plain', metadata: { owner: 'ana, the "first"' } })).id
  expect((await patchImport(key.key, importId, { title: TRICKY })).status).toBe(200)
  expect((await patchImport(key.key, importId, { title: 'plain again', metadata: {} })).status).toBe(200)
})

const exportOf = (query: string) => api(`/audit/export?${query}`, { headers: { 'x-api-key': key.key } })

/** RFC 4180: quoted cells may hold commas, CRLF and doubled quotes; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(cell)
      cell = ''
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += ch
  }
  expect(row, 'the file ends with CRLF').toEqual([])
  return rows
}

const rowsOf = async (id: string) =>
  (await env.DB.prepare('SELECT count(*) AS n FROM audit_events WHERE import_id = ?').bind(id).first<{ n: number }>())!
    .n

const ndjson = (text: string) =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as EventView)

/** Seeds `count` synthetic rows for one import, after (in id order) everything so far. */
async function seedBulk(count: number, prefix: string, startMs = Date.now()) {
  for (const statement of seedAuditStatements({
    from: 0,
    to: count,
    startMs,
    stepMs: 1,
    imports: 1,
    importPrefix: prefix,
  })) {
    await env.DB.prepare(statement).run()
  }
  return `${prefix}0`
}

describe('GET /audit/export', () => {
  it('streams NDJSON by default: the same events as the API, newest first, as a named attachment', async () => {
    const res = await exportOf(`importId=${importId}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="audit-\d{8}T\d{6}Z\.ndjson"$/)
    expect(ndjson(await res.text())).toEqual(await listAll(key.key, { importId }))
  })

  it('exports CSV with a header row, RFC 4180 quoting and JSON columns as JSON text', async () => {
    const res = await exportOf(`importId=${importId}&format=csv`)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/filename="audit-\d{8}T\d{6}Z\.csv"$/)
    const [header, ...rows] = parseCsv(await res.text())
    const events = await listAll(key.key, { importId })
    expect(header).toEqual(Object.keys(events[0]!))
    expect(rows).toHaveLength(events.length)
    const column = (name: string) => header!.indexOf(name)
    const tricky = rows.find((r) => JSON.parse(r[column('after')]!).title === TRICKY)!
    expect(tricky[column('id')]).toBe(events.find((e) => e.after.title === TRICKY)!.id)
    expect(JSON.parse(tricky[column('before')]!).metadata).toEqual({ owner: 'ana, the "first"' })
    expect(JSON.parse(tricky[column('changes')]!)).toEqual([{ path: 'title', from: 'plain', to: TRICKY }])
    expect(tricky[column('upstreamStatus')]).toBe('200')
    expect(tricky[column('error')]).toBe('')
  })

  it('neutralises cells a spreadsheet would run as formulas, unless raw=true', async () => {
    // Key names, user agents and Idempotency-Keys come from clients: a formula in one must not run.
    const formulas = await issueKey(undefined, { name: '=HYPERLINK("https://evil.example","x")' })
    const item = await sim.seed({ title: 'formulas' })
    const res = await api(
      `/websets/v0/imports/${item.id}`,
      jsonInit('PATCH', formulas.key, { title: 'x' }, { 'user-agent': '@SUM(1+1)', 'idempotency-key': '+cmd' })
    )
    expect(res.status).toBe(200)
    const cells = async (query: string) => {
      const [header, ...rows] = parseCsv(await (await exportOf(`importId=${item.id}&format=csv${query}`)).text())
      const row = rows[0]!
      return (name: string) => row[header!.indexOf(name)]
    }
    const safe = await cells('')
    expect(safe('actor')).toBe(`'=HYPERLINK("https://evil.example","x")`)
    expect(safe('userAgent')).toBe("'@SUM(1+1)")
    expect(safe('idempotencyKey')).toBe("'+cmd")
    expect(safe('upstreamStatus')).toBe('200')
    const raw = await cells('&raw=true')
    expect(raw('actor')).toBe('=HYPERLINK("https://evil.example","x")')
    expect(raw('userAgent')).toBe('@SUM(1+1)')
    expect(raw('idempotencyKey')).toBe('+cmd')
  })

  it('applies the filters', async () => {
    const res = await exportOf(`importId=${importId}&field=metadata.owner`)
    expect(ndjson(await res.text()).map((e) => e.id)).toEqual(
      (await listAll(key.key, { importId, field: 'metadata.owner' })).map((e) => e.id)
    )
  })

  it('reads page by page, skipping and repeating nothing while rows arrive', async () => {
    const bulk = await seedBulk(2 * EXPORT_PAGE_ROWS + 203, 'import_pages_')
    const expected = (await listAll(key.key, { importId: bulk })).map((e) => e.id)
    expect(expected.length).toBe(await rowsOf(bulk))
    expect(expected.length).toBeGreaterThan(2 * EXPORT_PAGE_ROWS)

    const res = await exportOf(`importId=${bulk}`)
    const reader = res.body!.getReader()
    const first = await reader.read()
    // New rows for the same import land while the export is half read.
    await seedBulk(50, 'import_pages_', Date.now() + 60_000)
    let text = new TextDecoder().decode(first.value)
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      text += new TextDecoder().decode(chunk.value)
    expect(ndjson(text).map((e) => e.id)).toEqual(expected)

    const csv = parseCsv(await (await exportOf(`importId=${bulk}&format=csv&outcome=succeeded`)).text())
    expect(csv.slice(1).map((r) => r[0])).toEqual(
      (await listAll(key.key, { importId: bulk, outcome: 'succeeded' })).map((e) => e.id)
    )
  })

  it('exports 100,000 rows as a stream', { timeout: 120_000 }, async () => {
    const bulk = await seedBulk(100_000, 'import_big_')
    const res = await exportOf(`importId=${bulk}&format=csv`)
    const reader = res.body!.getReader()
    let records = 0
    // Count line feeds: a CRLF may straddle two chunks, and these rows hold no line breaks.
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      for (const byte of chunk.value) if (byte === 10) records++
    }
    expect(await rowsOf(bulk)).toBeGreaterThan(99_000)
    expect(records).toBe(1 + (await rowsOf(bulk)))
  })

  describe('when a later page cannot be read', () => {
    /**
     * Reads an export while the audit table vanishes after its first chunk: the next page's query
     * fails. Returns what arrived and how the body ended.
     */
    async function exportCutShort(query: string) {
      const res = await exportOf(query)
      expect(res.status).toBe(200)
      const reader = res.body!.getReader()
      const decoder = new TextDecoder()
      let text = decoder.decode((await reader.read()).value, { stream: true })
      await env.DB.exec('ALTER TABLE audit_events RENAME TO audit_events_gone')
      try {
        for (;;) {
          const chunk = await reader.read()
          if (chunk.done) return { res, text, ended: 'cleanly' }
          text += decoder.decode(chunk.value, { stream: true })
        }
      } catch {
        return { res, text, ended: 'in error' }
      } finally {
        await env.DB.exec('ALTER TABLE audit_events_gone RENAME TO audit_events')
      }
    }

    it('fails the transfer, and the NDJSON file ends with the error, not as if it were complete', async () => {
      const bulk = await seedBulk(EXPORT_PAGE_ROWS + 20, 'import_vanish_')
      const { res, text, ended } = await exportCutShort(`importId=${bulk}`)
      expect(ended).toBe('in error')
      const lines = text.split('\n')
      expect(lines.pop(), 'the last line is whole').toBe('')
      const last = JSON.parse(lines.pop()!)
      expect(last).toEqual({
        error: expect.stringMatching(/^the export stopped after 500 events: .*storage \(D1\).*incomplete/),
        tag: 'STORAGE_UNAVAILABLE',
        requestId: res.headers.get('x-request-id'),
      })
      expect(lines.map((line) => (JSON.parse(line) as EventView).importId)).toEqual(Array(EXPORT_PAGE_ROWS).fill(bulk))
    })

    it('ends a CSV file with a one-cell record naming the failure', async () => {
      const bulk = await seedBulk(EXPORT_PAGE_ROWS + 20, 'import_vanish_csv_')
      const { res, text, ended } = await exportCutShort(`importId=${bulk}&format=csv`)
      expect(ended).toBe('in error')
      const records = parseCsv(text)
      expect(records).toHaveLength(1 + EXPORT_PAGE_ROWS + 1)
      expect(records.at(-1)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^# STORAGE_UNAVAILABLE \\(${res.headers.get('x-request-id')}\\): the export stopped after 500 events`
          )
        ),
      ])
    })
  })

  it('refuses a bad format or filter, naming it', async () => {
    await expect400(await exportOf('format=xml'), 'format')
    await expect400(await exportOf('since=last-week'), 'since')
    expect((await exportOf('limit=5')).status).toBe(400)
    await expect400(await exportOf('raw=yes&format=csv'), 'raw')
    await expect400(await exportOf('raw=true'), 'raw')
  })
})
