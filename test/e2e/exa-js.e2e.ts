import Exa, { CreateImportParametersFormat } from 'exa-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exaError, startGateway, type Gateway } from './harness.ts'

/**
 * exa-js 2.23.0, unchanged, against a real `wrangler dev` gateway whose upstream is the Exa
 * simulator. The only change a user makes: the gateway's origin as base URL, a gateway key.
 */
let gateway: Gateway
let key: string
let exa: Exa

const SEED = ['a', 'b', 'c'].map((s) => ({ id: `import_e2e_${s}`, title: `List ${s}`, metadata: { owner: 'ana' } }))

beforeAll(async () => {
  gateway = await startGateway({ seed: SEED })
  key = (await gateway.issueKey(['imports:read', 'imports:write', 'audit:read'])).key
  exa = new Exa(key, gateway.url)
})
afterAll(async () => {
  await gateway?.stop()
})

/** The audit rows of one import, through the gateway's own API. */
async function auditOf(importId: string): Promise<Record<string, any>[]> {
  await gateway.settled(key, importId)
  const res = await fetch(`${gateway.url}/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
  return ((await res.json()) as { data: Record<string, any>[] }).data
}

describe('exa-js websets.imports through the gateway', () => {
  it('get: answers the Import exactly as Exa has it', async () => {
    const item = await exa.websets.imports.get('import_e2e_a')
    expect(item).toEqual(gateway.simulator.store.get('import_e2e_a'))
  })

  it('list: two pages, the last with nextCursor null', async () => {
    const total = gateway.simulator.store.list(200)!.data.length
    const first = await exa.websets.imports.list({ limit: total - 1 })
    expect(first.data).toHaveLength(total - 1)
    expect(first.hasMore).toBe(true)
    const second = await exa.websets.imports.list({ limit: total - 1, cursor: first.nextCursor! })
    expect(second).toMatchObject({ hasMore: false, nextCursor: null })
    expect(second.data).toHaveLength(1)
    const ids = [...first.data, ...second.data].map((i) => i.id)
    expect(new Set(ids).size).toBe(total)
  })

  it('update: changes the import and leaves one audit row with before and after', async () => {
    const updated = await exa.websets.imports.update('import_e2e_b', { title: 'Renamed', metadata: { owner: 'bo' } })
    expect(updated).toEqual(gateway.simulator.store.get('import_e2e_b'))
    expect(updated).toMatchObject({ title: 'Renamed', metadata: { owner: 'bo' } })
    const [event] = await auditOf('import_e2e_b')
    expect(event).toMatchObject({
      action: 'import.update',
      outcome: 'succeeded',
      before: { title: 'List b' },
      after: { title: 'Renamed' },
      userAgent: expect.stringContaining('exa-node'),
    })
  })

  it('create (no CSV): answers 201 with Exa’s uploadUrl untouched, audited without it', async () => {
    const created = await exa.websets.imports.create({
      size: 2048,
      count: 10,
      format: CreateImportParametersFormat.csv,
      entity: { type: 'company' },
      title: 'From the fair',
    })
    expect(created).toMatchObject({ object: 'import', title: 'From the fair', count: 10 })
    expect(created.uploadUrl.startsWith(`${gateway.simulatorUrl}/__storage/uploads/${created.id}?signature=`)).toBe(
      true
    )
    const [event] = await auditOf(created.id)
    expect(event).toMatchObject({
      action: 'import.create',
      outcome: 'succeeded',
      before: null,
      after: { id: created.id },
    })
    expect(JSON.stringify(event)).not.toContain(created.uploadUrl)
  })

  it('create (with CSV): exa-js uploads the CSV straight to Exa’s storage, not through the gateway', async () => {
    const csv = 'name,url\nAcme,https://acme.example\nGlobex,https://globex.example\n'
    const created = await exa.websets.imports.create({ title: 'Two companies', entity: { type: 'company' } }, csv)
    expect(created).toMatchObject({ title: 'Two companies', count: 2 })
    expect(gateway.simulator.uploads).toEqual([expect.objectContaining({ importId: created.id, body: csv })])
    // What reached Exa's API from the gateway: the POST with size and count, never the CSV.
    const forwarded = gateway.simulator.requests.filter((r) => r.method === 'POST')
    expect(JSON.parse(forwarded.at(-1)!.body!)).toMatchObject({ size: Buffer.byteLength(csv), count: 2, format: 'csv' })
    expect(gateway.simulator.requests.some((r) => r.body?.includes('acme.example'))).toBe(false)
  })

  it('delete: answers the deleted Import; a get afterwards is a 404 ExaError', async () => {
    const before = gateway.simulator.store.get('import_e2e_c')
    const deleted = await exa.websets.imports.delete('import_e2e_c')
    expect(deleted).toEqual(before)
    const gone = await exaError(exa.websets.imports.get('import_e2e_c'))
    expect(gone.statusCode).toBe(404)
    const [event] = await auditOf('import_e2e_c')
    expect(event).toMatchObject({
      action: 'import.delete',
      outcome: 'succeeded',
      before: { title: 'List c' },
      after: null,
    })
  })
})

describe('exa-js errors from the gateway', () => {
  it('shows a validation error with the field in its message, not [object Object]', async () => {
    const badTitle = await exaError(exa.websets.imports.update('import_e2e_a', { title: 42 as unknown as string }))
    expect(badTitle.statusCode).toBe(400)
    expect(badTitle.message).toBe('title: Invalid input: expected string, received number')

    const tooBig = await exaError(
      exa.websets.imports.create({
        size: 60_000_000,
        count: 1,
        format: CreateImportParametersFormat.csv,
        entity: { type: 'company' },
      })
    )
    expect(tooBig.statusCode).toBe(400)
    expect(tooBig.message).toBe('size: must be at most 50,000,000')
    expect(tooBig.requestId).toMatch(/^req_/)
  })

  it('answers a bad key with 401', async () => {
    const stranger = new Exa(`egw_${'x'.repeat(43)}`, gateway.url)
    const error = await exaError(stranger.websets.imports.get('import_e2e_a'))
    expect(error.statusCode).toBe(401)
    expect(error.message).toMatch(/API key/)
  })
})

describe('a base URL with a trailing slash', () => {
  it('works: the gateway serves the //websets/… paths exa-js then builds', async () => {
    const slashed = new Exa(key, `${gateway.url}/`)
    expect(await slashed.websets.imports.get('import_e2e_a')).toMatchObject({ id: 'import_e2e_a' })
    const page = await slashed.websets.imports.list({ limit: 1 })
    expect(page.data).toHaveLength(1)
  })
})
