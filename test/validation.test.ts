import { beforeEach, describe, expect, it } from 'vitest'
import { api } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

let key: IssuedKey
let importId: string

beforeEach(async () => {
  await sim.reset()
  key = await issueKey()
  importId = (await sim.seed({ title: 'original' })).id
})

async function patchRaw(path: string, body: BodyInit | undefined, contentType: string | null = 'application/json') {
  const headers: Record<string, string> = { 'x-api-key': key.key }
  if (contentType) headers['content-type'] = contentType
  return api(path, { method: 'PATCH', headers, body })
}

async function expectRefused(res: Response, status: number, tag: string) {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/application\/json/)
  const body = (await res.json()) as Record<string, unknown>
  expect(body).toMatchObject({ tag, requestId: res.headers.get('x-request-id') })
  expect(typeof body.error).toBe('string')
  expect(await sim.requests({ method: 'PATCH' })).toEqual([])
  return body
}

describe('PATCH body validation: refused before anything goes upstream', () => {
  const invalidBodies: [string, string, string][] = [
    ['an unknown field', '{"title":"x","name":"y"}', ''],
    ['a null title', '{"title":null}', 'title'],
    ['a numeric title', '{"title":42}', 'title'],
    ['null metadata', '{"metadata":null}', 'metadata'],
    ['a non-string metadata value', '{"metadata":{"owner":1}}', 'metadata.owner'],
    [
      'a metadata value over 1000 characters',
      JSON.stringify({ metadata: { note: 'x'.repeat(1001) } }),
      'metadata.note',
    ],
    ['an array', '[{"title":"x"}]', ''],
    ['a string', '"title"', ''],
    ['a duplicate key', '{"title":"ok","title":{"evil":true}}', ''],
    ['a duplicate key spelled with an escape', '{"title":"ok","\\u0074itle":"other"}', ''],
    ['a __proto__ key', '{"metadata":{"__proto__":{"admin":"1"}}}', ''],
    ['broken JSON', '{"title": "x"', ''],
  ]
  for (const [what, body, path] of invalidBodies) {
    it(`refuses ${what} with 400 INVALID_REQUEST_BODY`, async () => {
      const error = await expectRefused(
        await patchRaw(`/websets/v0/imports/${importId}`, body),
        400,
        'INVALID_REQUEST_BODY'
      )
      if (path) expect(error.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]))
      expect(await sim.requests()).toEqual([])
    })
  }

  it('refuses deeply nested JSON with a 400, not a crash', async () => {
    const depth = 15_000
    const nestedArrays = `{"metadata":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`
    const nestedObjects = `{"title":${'{"a":'.repeat(depth / 2)}1${'}'.repeat(depth / 2)}}`
    for (const body of [nestedArrays, nestedObjects]) {
      await expectRefused(await patchRaw(`/websets/v0/imports/${importId}`, body), 400, 'INVALID_REQUEST_BODY')
    }
  })

  it('names the field in the message', async () => {
    const error = await expectRefused(
      await patchRaw(`/websets/v0/imports/${importId}`, '{"title":42}'),
      400,
      'INVALID_REQUEST_BODY'
    )
    expect(error.error).toMatch(/^title: /)
  })

  it('refuses a body that is not JSON with 415', async () => {
    await expectRefused(
      await patchRaw(`/websets/v0/imports/${importId}`, 'title=x', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE'
    )
    await expectRefused(
      await patchRaw(`/websets/v0/imports/${importId}`, '{"title":"x"}', null),
      415,
      'UNSUPPORTED_MEDIA_TYPE'
    )
  })

  it('refuses a body over 64 KiB with 413, declared or not', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(70 * 1024) })
    await expectRefused(await patchRaw(`/websets/v0/imports/${importId}`, big), 413, 'PAYLOAD_TOO_LARGE')
    const stream = new Blob([big]).stream()
    await expectRefused(await patchRaw(`/websets/v0/imports/${importId}`, stream), 413, 'PAYLOAD_TOO_LARGE')
  })

  it('refuses bytes that are not UTF-8', async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
    await expectRefused(await patchRaw(`/websets/v0/imports/${importId}`, bytes), 400, 'INVALID_REQUEST_BODY')
  })

  it("treats an empty body as {} (exa-py's update(id, {}))", async () => {
    const res = await patchRaw(`/websets/v0/imports/${importId}`, undefined)
    expect(res.status).toBe(200)
    const [patch] = await sim.requests({ method: 'PATCH' })
    expect(patch?.body).toBe('{}')
  })
})

describe('import id validation', () => {
  const badIds = ['a%2Fb', '..%2Fadmin', 'a%2E%2E', 'a.b', 'x'.repeat(129), 'a%20b', 'a%0d%0aSet-Cookie:x', 'imp%3Fx=1']
  for (const id of badIds) {
    it(`refuses ${JSON.stringify(id)} with 400 INVALID_PARAMS`, async () => {
      const error = await expectRefused(
        await patchRaw(`/websets/v0/imports/${id}`, '{"title":"x"}'),
        400,
        'INVALID_PARAMS'
      )
      expect(error.issues).toEqual([expect.objectContaining({ path: 'id' })])
      expect(await sim.requests()).toEqual([])
    })
  }

  it('never forwards dot segments: URL parsing resolves them to another path, which is 404', async () => {
    for (const id of ['%2E%2E', '..', '.']) {
      const res = await patchRaw(`/websets/v0/imports/${id}`, '{"title":"x"}')
      expect(res.status).toBe(404)
    }
    expect(await sim.requests()).toEqual([])
  })

  it('refuses bad ids on GET too, without calling upstream', async () => {
    const res = await api('/websets/v0/imports/a%2Fb', { headers: { 'x-api-key': key.key } })
    expect(res.status).toBe(400)
    expect(await sim.requests()).toEqual([])
  })
})
