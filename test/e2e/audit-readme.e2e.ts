import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type Gateway } from './harness.ts'

const run = promisify(execFile)
let gateway: Gateway

beforeAll(async () => {
  gateway = await startGateway({ seed: [{ id: 'import_demo_leads', title: 'Q2 leads', metadata: { owner: 'ana' } }] })
})
afterAll(async () => {
  await gateway?.stop()
})

/** The curl commands of docs/audit.md (querying, export, verify, revert), one string each. */
function auditDocCommands(): string[] {
  const doc = readFileSync(new URL('../../docs/audit.md', import.meta.url), 'utf8')
  const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/\\\n\s*/g, ''))
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line.startsWith('curl '))
    .map((line) => line.replace(/\s+#.*$/, ''))
}

describe('the commands of docs/audit.md against wrangler dev', () => {
  it('runs every curl command in it successfully', async () => {
    const { key, id: keyId } = await gateway.issueKey(['imports:read', 'imports:write', 'audit:read'], { name: 'dev' })
    const headers = { 'x-api-key': key, 'content-type': 'application/json' }
    for (const body of [
      { title: 'Q3 leads' },
      { title: 'Q3 leads', metadata: { owner: 'bo' } },
      { title: 'Q4 leads', metadata: { owner: 'bo' } },
    ]) {
      const res = await fetch(`${gateway.url}/websets/v0/imports/import_demo_leads`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(200)
    }
    await gateway.settled(key, 'import_demo_leads')
    const get = async (path: string) => (await fetch(gateway.url + path, { headers })).json() as Promise<any>
    const page = await get('/audit/events?importId=import_demo_leads&limit=2')
    const { head } = await get('/audit/verify')
    const env = {
      ...process.env,
      GW: gateway.url,
      KEY: key,
      KEY_ID: keyId,
      IMPORT: 'import_demo_leads',
      EVENT: page.data[0].id,
      OLDER: page.data[1].id,
      CURSOR: page.nextCursor,
      SEQ: String(head.seq),
      HASH: head.chainHash,
    }
    const dir = mkdtempSync(join(tmpdir(), 'egw-readme-'))
    const commands = auditDocCommands()
    expect(commands.length).toBeGreaterThanOrEqual(15)
    for (const command of commands) {
      // --fail-with-body: an HTTP error status makes curl exit non-zero.
      const result = await run('bash', ['-c', `${command} -sS --fail-with-body`], { env, cwd: dir }).catch((err) => err)
      expect(result.code ?? 0, `${command}\n${result.stdout ?? ''}${result.stderr ?? ''}`).toBe(0)
    }
    expect(readdirSync(dir).sort()).toEqual([
      expect.stringMatching(/^audit-\d{8}T\d{6}Z\.csv$/),
      expect.stringMatching(/^audit-\d{8}T\d{6}Z\.ndjson$/),
    ])
    const ndjson = readFileSync(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.ndjson'))!
      ),
      'utf8'
    )
      .trim()
      .split('\n')
    expect(ndjson.map((line) => JSON.parse(line).id)).toEqual(
      (await get('/audit/events?importId=import_demo_leads&action=import.update')).data.map((e: any) => e.id)
    )

    const verified = await get('/audit/verify')
    expect(verified).toMatchObject({ ok: true })
    expect(verified.checked).toBeGreaterThan(head.seq)
  })
})
