import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { CHANGES } from '../src/routes/changes'
import { api as gateway } from './support/gateway'
import { type IssuedKey, issueKey } from './support/keys'
import { sim } from './support/simulator'

// Properties over every change's body (src/routes/changes.ts): whatever JSON arrives, the gateway
// never answers 5xx, refuses in its own shape what the route's schema refuses, and forwards to
// Exa exactly the body the schema let through, nothing else.
const RUNS = 40

let key: IssuedKey
let websetId: string

beforeAll(async () => {
  await sim.reset()
  key = await issueKey(['websets:write', 'monitors:write', 'agent:write', 'imports:write', 'webhooks:write'], {
    rateLimit: { requests: 1_000_000, periodSeconds: 60 },
  })
  websetId = (await sim.seedWebset()).webset.id
})

/** The route's path with its parameters filled: a real webset (so a create under it reaches Exa), other ids made up. */
const concrete = (path: string) => path.replace(':webset', websetId).replace(/:[A-Za-z]+/g, 'x0')

/** Bodies a client might send: any JSON, and objects with the fields these bodies have, of any type. */
const FIELDS = [
  'description',
  'format',
  'query',
  'count',
  'metadata',
  'search',
  'entities',
  'cadence',
  'webhook',
  'status',
]
const body = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom(...FIELDS), fc.jsonValue(), { maxKeys: 4 }))

describe('hostile bodies on every change (fast-check)', { timeout: 300_000 }, () => {
  for (const row of CHANGES.filter((change) => change.body)) {
    it(`${row.method} ${row.path}: refused in our shape, or forwarded exactly as validated`, async () => {
      const path = concrete(row.path)
      const headers = {
        'x-api-key': key.key,
        'content-type': 'application/json',
        'exa-beta': 'agent-monitors-2026-08-04',
      }
      await fc.assert(
        fc.asyncProperty(body, async (sent) => {
          const before = (await sim.requests({ method: row.method })).length
          const res = await gateway(
            path,
            { method: row.method, headers, body: JSON.stringify(sent) },
            { settle: false }
          )
          expect(res.status).toBeLessThan(500)
          const forwarded = (await sim.requests({ method: row.method })).slice(before)
          const valid = row.body!.safeParse(sent)
          if (!valid.success) {
            expect(res.status).toBe(400)
            expect(await res.json()).toMatchObject({ tag: 'INVALID_REQUEST_BODY' })
            expect(forwarded).toEqual([])
            return
          }
          expect(forwarded.length).toBeLessThanOrEqual(1)
          if (forwarded[0]) expect(JSON.parse(forwarded[0].body!)).toEqual(JSON.parse(JSON.stringify(valid.data)))
        }),
        { numRuns: RUNS }
      )
    })
  }
})
