import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { auditEventsFor, type EventView } from './support/audit'
import { api, jsonInit } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { SIMULATOR_ORIGIN } from './support/secrets'
import { sim } from './support/simulator'

let key: IssuedKey

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
})

const validBody = {
  size: 2048,
  count: 12,
  format: 'csv',
  entity: { type: 'custom', description: 'B2B SaaS companies' },
  title: 'Leads from the fair',
  metadata: { owner: 'ana' },
  csv: { identifier: 0 },
}

const create = (body: unknown, k = key.key) => api('/websets/v0/imports', jsonInit('POST', k, body))

async function createEvents(): Promise<EventView[]> {
  const res = await api('/audit/events?action=import.create&limit=200', { headers: { 'x-api-key': key.key } })
  return ((await res.json()) as { data: EventView[] }).data
}

const eventFor = async (res: Response) =>
  (await createEvents()).find((e) => e.requestId === res.headers.get('x-request-id'))

describe('POST /websets/v0/imports', () => {
  it("answers Exa's 201 unchanged, uploadUrl included, and forwards the body as sent", async () => {
    const res = await create(validBody)
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, any>
    const stored = await sim.get(body.id)
    expect(body).toEqual({ ...stored, uploadUrl: expect.any(String), uploadValidUntil: expect.any(String) })
    expect(body).toMatchObject({ object: 'import', status: 'pending', title: 'Leads from the fair', count: 12 })
    // The upload goes straight to Exa's storage: the URL is Exa's, not rewritten to the gateway.
    expect(body.uploadUrl).toMatch(new RegExp(`^${SIMULATOR_ORIGIN}/__storage/uploads/${body.id}\\?signature=`))
    expect(res.headers.get('x-upstream-request-id')).toMatch(/^req_/)
    const [post, ...more] = await sim.requests({ method: 'POST' })
    expect(more).toEqual([])
    expect(JSON.parse(post!.body!)).toEqual(validBody)

    const upload = await fetch(body.uploadUrl, { method: 'PUT', body: 'url\nhttps://a.example\n' })
    expect(upload.status).toBe(200)
    expect(await sim.uploads()).toEqual([
      expect.objectContaining({ importId: body.id, body: 'url\nhttps://a.example\n' }),
    ])
  })

  it('audits import.create with the created Import as after, minus the upload capability', async () => {
    const res = await create(validBody)
    const body = (await res.json()) as Record<string, any>
    const [event, ...rest] = await auditEventsFor(body.id, key.key)
    expect(rest).toEqual([])
    const { uploadUrl: _u, uploadValidUntil: _v, ...created } = body
    expect(event).toMatchObject({
      action: 'import.create',
      importId: body.id,
      outcome: 'succeeded',
      keyId: key.id,
      actor: key.name,
      before: null,
      after: created,
      requestBody: validBody,
      upstreamStatus: 201,
      requestId: res.headers.get('x-request-id'),
      upstreamRequestId: res.headers.get('x-upstream-request-id'),
      error: null,
    })
    expect(event!.changes).toEqual([
      { path: 'title', from: null, to: 'Leads from the fair' },
      { path: 'metadata.owner', from: null, to: 'ana' },
    ])
    const signature = new URL(body.uploadUrl).searchParams.get('signature')!
    const { results } = await env.DB.prepare('SELECT * FROM audit_events').all()
    expect(JSON.stringify(results)).not.toContain(signature)
    expect(JSON.stringify(results)).not.toContain('uploadUrl')
  })

  it('accepts every entity type and a body without the optional fields', async () => {
    for (const type of ['company', 'person', 'article', 'research_paper']) {
      const res = await create({ size: 1, count: 1, format: 'csv', entity: { type } })
      expect(res.status).toBe(201)
    }
  })
})

describe('POST validation: refused before anything goes upstream or into the log', () => {
  const { csv: _csv, ...withoutCsv } = validBody
  const invalid: [string, unknown, string, RegExp?][] = [
    ['a size over 50,000,000 bytes', { ...validBody, size: 50_000_001 }, 'size', /at most 50,000,000/],
    ['a size of 0', { ...validBody, size: 0 }, 'size'],
    ['a fractional size', { ...validBody, size: 1.5 }, 'size', /whole number/],
    ['a size sent as a string', { ...validBody, size: '2048' }, 'size'],
    ['a missing count', { ...validBody, count: undefined }, 'count'],
    ['a count of 0', { ...validBody, count: 0 }, 'count'],
    ['the webset format', { ...validBody, format: 'webset' }, 'format', /csv/],
    ['a missing entity', { ...validBody, entity: undefined }, 'entity'],
    [
      'an unknown entity type',
      { ...validBody, entity: { type: 'planet' } },
      'entity.type',
      /^entity.type: must be one of company, person/,
    ],
    ['a custom entity without description', { ...validBody, entity: { type: 'custom' } }, 'entity.description'],
    [
      'a custom description of 1 character',
      { ...validBody, entity: { type: 'custom', description: 'x' } },
      'entity.description',
      /at least 2/,
    ],
    [
      'a custom description over 200 characters',
      { ...validBody, entity: { type: 'custom', description: 'x'.repeat(201) } },
      'entity.description',
      /at most 200/,
    ],
    ['a description on a company entity', { ...validBody, entity: { type: 'company', description: 'xx' } }, 'entity'],
    ['a numeric title', { ...validBody, title: 42 }, 'title'],
    ['a null title', { ...validBody, title: null }, 'title'],
    ['a metadata value over 1000 characters', { ...validBody, metadata: { note: 'x'.repeat(1001) } }, 'metadata.note'],
    ['a negative csv.identifier', { ...validBody, csv: { identifier: -1 } }, 'csv.identifier'],
    ['a fractional csv.identifier', { ...validBody, csv: { identifier: 1.5 } }, 'csv.identifier'],
    ['an unknown csv option', { ...withoutCsv, csv: { delimiter: ';' } }, 'csv'],
    ['an unknown field', { ...validBody, source: { type: 'url', url: 'https://x' } }, ''],
    ['an empty body', undefined, 'size'],
  ]
  for (const [what, body, path, message] of invalid) {
    it(`refuses ${what} with 400 naming ${path || 'the problem'}`, async () => {
      const before = (await createEvents()).length
      const res = await api('/websets/v0/imports', {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      expect(res.status).toBe(400)
      const error = (await res.json()) as { error: string; tag: string; issues: { path: string }[] }
      expect(error.tag).toBe('INVALID_REQUEST_BODY')
      expect(error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))
      if (path) expect(error.error.startsWith(`${path}: `) || error.issues.length > 1).toBe(true)
      if (message) expect(error.error).toMatch(message)
      expect(await sim.requests()).toEqual([])
      expect(await createEvents()).toHaveLength(before)
    })
  }
})

describe('POST auth', () => {
  it('refuses a missing key with 401 and a read-only key with 403, forwarding nothing', async () => {
    const logged = (await createEvents()).length
    const anonymous = await api('/websets/v0/imports', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validBody),
    })
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ tag: 'UNAUTHENTICATED' })
    const reader = await issueKey(['imports:read'])
    const forbidden = await create(validBody, reader.key)
    expect(forbidden.status).toBe(403)
    expect(await forbidden.json()).toMatchObject({ tag: 'FORBIDDEN', error: expect.stringContaining('imports:write') })
    expect(await sim.requests()).toEqual([])
    expect(await createEvents()).toHaveLength(logged)
  })
})

describe('POST upstream errors', () => {
  afterEach(async () => {
    await env.DB.exec('DROP TRIGGER IF EXISTS refuse_audit_insert')
  })

  it("passes Exa's 400 through verbatim and settles the row as failed, with Exa's request id", async () => {
    await sim.fault({
      kind: 'status',
      status: 400,
      method: 'POST',
      body: { error: 'CSV too large for plan', tag: 'INVALID_REQUEST_BODY' },
      headers: { 'x-request-id': 'req_exa_fault' },
    })
    const res = await create(validBody)
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'CSV too large for plan', tag: 'INVALID_REQUEST_BODY' })
    expect(res.headers.get('x-upstream-request-id')).toBe('req_exa_fault')
    expect(await eventFor(res)).toMatchObject({
      action: 'import.create',
      importId: null,
      outcome: 'failed',
      upstreamStatus: 400,
      upstreamRequestId: 'req_exa_fault',
      after: null,
      changes: [],
    })
  })

  it('never retries the POST (a retry could create the import twice)', async () => {
    await sim.fault({ kind: 'status', status: 503, method: 'POST' })
    const res = await create(validBody)
    expect(res.status).toBe(503)
    expect(await sim.requests({ method: 'POST' })).toHaveLength(1)
    expect(await eventFor(res)).toMatchObject({ outcome: 'failed', upstreamStatus: 503 })
  })

  it('answers 502 when Exa answers 201 with something that is not an Import', async () => {
    await sim.fault({ kind: 'malformed', method: 'POST' })
    // The row's settle looks at Exa again on timers: the answer is what this test is about.
    const res = await api('/websets/v0/imports', jsonInit('POST', key.key, validBody), { settle: false })
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ tag: 'UPSTREAM_ERROR' })
    expect(await sim.requests({ method: 'POST' })).toHaveLength(1)
    // Exa may have created it: the row is never marked succeeded without an Import to show.
    const event = await eventFor(res)
    expect(event).toMatchObject({ action: 'import.create', importId: null, after: null })
    expect(['pending', 'failed']).toContain(event!.outcome)
  })

  it("keeps Exa's status for an error page that is not JSON, in our error shape, and fails the row", async () => {
    await sim.fault({ kind: 'notJson', status: 502, method: 'POST' })
    const res = await create(validBody)
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({
      tag: 'UPSTREAM_ERROR',
      error: 'Exa answered 502 (with a body that is not JSON)',
    })
    expect(await sim.requests({ method: 'POST' })).toHaveLength(1)
    expect(await eventFor(res)).toMatchObject({
      outcome: 'failed',
      importId: null,
      upstreamStatus: 502,
      requestBody: validBody,
    })
  })

  it('answers 503 AUDIT_UNAVAILABLE and creates nothing when the pending row cannot be written', async () => {
    await env.DB.exec(
      "CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    const res = await create(validBody)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({
      tag: 'AUDIT_UNAVAILABLE',
      error: expect.stringMatching(/nothing was sent/),
    })
    expect(await sim.requests()).toEqual([])
  })
})
