import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './harness.ts'
import { printedSecret, runKeysCli } from './keys-cli.ts'

let gateway: Gateway
let cli: (...args: string[]) => ReturnType<typeof runKeysCli>

// A small default limit, to see the configured default (and the Durable Object) work in wrangler dev.
beforeAll(async () => {
  gateway = await startGateway({
    vars: { RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_PERIOD_SECONDS: '60' },
    seed: [{ id: 'import_cli', title: 'CLI import' }],
  })
  cli = (...args) => runKeysCli([...args, '--url', gateway.url], { ADMIN_TOKEN: gateway.adminToken })
})
afterAll(async () => {
  await gateway?.stop()
})

const read = (key: string) => fetch(`${gateway.url}/websets/v0/imports/import_cli`, { headers: { 'x-api-key': key } })

describe('npm run keys', () => {
  it('creates a key, printing its secret once, and the key works', async () => {
    const result = await cli(
      'create',
      '--name',
      'alice',
      '--scopes',
      'imports:read,imports:write',
      '--rate-limit',
      '100/60'
    )
    expect(result.code).toBe(0)
    const secret = printedSecret(result)
    expect(result.stdout).toMatch(/name\s+alice/)
    expect(result.stdout).toMatch(/scopes\s+imports:read, imports:write/)
    expect(result.stdout).toMatch(/shown this once/)
    expect((await read(secret)).status).toBe(200)

    const listed = await cli('list', '--json')
    expect(listed.code).toBe(0)
    const { data } = JSON.parse(listed.stdout) as { data: { name: string; prefix: string }[] }
    expect(data.find((key) => key.name === 'alice')).toMatchObject({ prefix: secret.slice(0, 10) })
    expect(listed.stdout).not.toContain(secret)
  })

  it('rotates a key: the new secret works and the old one stops (grace period 0)', async () => {
    const created = JSON.parse((await cli('create', '--name', 'bo', '--scopes', 'imports:read', '--json')).stdout) as {
      id: string
      key: string
    }
    const rotated = await cli('rotate', created.id)
    expect(rotated.code).toBe(0)
    const secret = printedSecret(rotated)
    expect(secret).not.toBe(created.key)
    expect((await read(created.key)).status).toBe(401)
    expect((await read(secret)).status).toBe(200)
  })

  it('revokes a key, refused on the next call', async () => {
    const created = JSON.parse((await cli('create', '--name', 'cy', '--scopes', 'imports:read', '--json')).stdout) as {
      id: string
      key: string
    }
    expect((await read(created.key)).status).toBe(200)
    const revoked = await cli('revoke', created.id)
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toMatch(/status\s+revoked/)
    expect((await read(created.key)).status).toBe(401)
  })

  it("reports the gateway's refusal and exits non-zero", async () => {
    const bad = await cli('create', '--name', 'dee', '--scopes', 'imports:delete')
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/400: scopes/)
    expect(bad.stderr).toMatch(/INVALID_REQUEST_BODY/)
    const unauthenticated = await runKeysCli(['list', '--url', gateway.url], { ADMIN_TOKEN: 'not-the-token' })
    expect(unauthenticated.code).toBe(1)
    expect(unauthenticated.stderr).toMatch(/401/)
    const noToken = await runKeysCli(['list', '--url', gateway.url], {})
    expect(noToken.code).not.toBe(0)
    expect(noToken.stderr).toMatch(/ADMIN_TOKEN/)
  })
})

describe('the default rate limit under wrangler dev', () => {
  it('answers 429 with retry-after past RATE_LIMIT_REQUESTS for a key without its own limit', async () => {
    const { key } = await gateway.issueKey(['imports:read'])
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await read(key)).status)
    expect(statuses).toEqual([200, 200, 200])
    const limited = await read(key)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await limited.json()).toMatchObject({
      tag: 'RATE_LIMITED',
      error: expect.stringMatching(/3 requests per 60 s/),
    })
  })
})
