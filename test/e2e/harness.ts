import { randomBytes } from 'node:crypto'
import { ExaError } from 'exa-js'
import { expect } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, runWrangler, spawnWrangler, waitForHealth, writeEnvFile } from '../../scripts/wrangler.ts'
import { startSimulatorServer } from '../../simulator/server.ts'
import type { SimImport } from '../../simulator/store.ts'

export type Gateway = Awaited<ReturnType<typeof startGateway>>

/**
 * A real `wrangler dev` gateway on a free loopback port, with its own migrated D1 (in a temp
 * dir) and its own Exa simulator, as a user gets from `npm start`. Call `stop()` when done.
 */
export async function startGateway(options: { vars?: Record<string, string>; seed?: Partial<SimImport>[] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'egw-e2e-'))
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', dir], { quiet: true })
  const simulatorKey = `sim_${randomBytes(16).toString('base64url')}`
  const simulator = await startSimulatorServer({ apiKey: simulatorKey, seed: options.seed })
  const adminToken = `admin_${randomBytes(24).toString('base64url')}` // 38 characters: at least 32
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const url = `http://127.0.0.1:${port}`
  const logFile = join(dir, 'wrangler.log')
  const envFile = join(dir, 'gateway.env')
  writeEnvFile(envFile, {
    EXA_API_KEY: simulatorKey,
    EXA_BASE_URL: simulator.url,
    ADMIN_TOKEN: adminToken,
    ...options.vars,
  })
  const child = spawnWrangler(
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--persist-to',
      dir,
      '--show-interactive-dev-session=false',
    ],
    { envFiles: [envFile], logFile }
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    await waitForHealth(url, 90_000)
  } catch (err) {
    child.kill('SIGKILL')
    throw new Error(`${(err as Error).message}; see ${logFile}`, { cause: err })
  }

  /** Issues a client key through the admin API. */
  async function issueKey(scopes: string[], extra: Record<string, unknown> = {}) {
    const res = await fetch(`${url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `e2e-${randomBytes(4).toString('hex')}`, scopes, ...extra }),
    })
    if (res.status !== 201) throw new Error(`issueKey: ${res.status} ${await res.text()}`)
    return (await res.json()) as { id: string; key: string; name: string }
  }

  /** An audited call's row settles after its answer (waitUntil): wait until none of the import's is pending. */
  async function settled(key: string, importId: string) {
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${url}/audit/events?importId=${importId}`, { headers: { 'x-api-key': key } })
      const { data } = (await res.json()) as { data: { outcome: string }[] }
      if (data.every((event) => event.outcome !== 'pending')) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`audit rows of ${importId} stayed pending`)
  }

  return {
    url,
    adminToken,
    settled,
    simulator: simulator.simulator,
    simulatorUrl: simulator.url,
    logFile,
    issueKey,
    async stop() {
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))])
      child.kill('SIGKILL')
      await simulator.close()
      // The D1 state and the log go with the gateway, unless KEEP_E2E_STATE is set for debugging.
      if (!process.env.KEEP_E2E_STATE) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The ExaError a call rejects with (fails the test if it resolves). */
export async function exaError(call: Promise<unknown>): Promise<ExaError> {
  const error = await call.then(
    () => undefined,
    (err: unknown) => err
  )
  expect(error).toBeInstanceOf(ExaError)
  return error as ExaError
}

export type AuditRow = Record<string, any>

/** A resource's audit rows, newest first, once none is pending (they settle after the answer). */
export async function settledRows(gateway: Gateway, key: string, type: string, id: string): Promise<AuditRow[]> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${gateway.url}/audit/events?resourceType=${type}&resourceId=${id}`, {
      headers: { 'x-api-key': key },
    })
    const { data } = (await res.json()) as { data: AuditRow[] }
    if (data.every((row) => row.outcome !== 'pending')) return data
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`audit rows of ${type} ${id} stayed pending`)
}
