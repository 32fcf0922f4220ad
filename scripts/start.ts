/**
 * `npm start`: the gateway on http://127.0.0.1:8787 with a migrated local D1. Without a real
 * EXA_API_KEY (in .dev.vars or the environment) it also runs the Exa simulator with demo imports.
 * It then issues (or reuses) a dev client key and prints how to call the gateway.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { DEMO_IMPORTS, startSimulatorServer } from '../simulator/server.ts'
import { runWrangler, spawnWrangler, waitForHealth } from './wrangler.ts'

const PORT = Number(process.env.PORT ?? 8787)
const SIMULATOR_PORT = Number(process.env.SIMULATOR_PORT ?? PORT + 1)
const GATEWAY = `http://127.0.0.1:${PORT}`
const DEV_KEY_FILE = '.wrangler/dev-client-key.json'

function readDevVars(): Record<string, string> {
  if (!existsSync('.dev.vars')) return {}
  const vars: Record<string, string> = {}
  for (const line of readFileSync('.dev.vars', 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line)
    if (match?.[2]) vars[match[1]!] = match[2]
  }
  return vars
}

async function adminFetch(path: string, adminToken: string, init: RequestInit = {}) {
  return fetch(GATEWAY + path, {
    ...init,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', ...init.headers },
  })
}

/** Reuses the dev key from an earlier run while it still works; otherwise issues a new one. */
async function devClientKey(adminToken: string): Promise<string | undefined> {
  if (existsSync(DEV_KEY_FILE)) {
    const saved = JSON.parse(readFileSync(DEV_KEY_FILE, 'utf8')) as { key: string }
    const probe = await fetch(`${GATEWAY}/audit/events?limit=1`, { headers: { 'x-api-key': saved.key } })
    if (probe.status === 200) return saved.key
  }
  const issue = (name: string) =>
    adminFetch('/admin/keys', adminToken, {
      method: 'POST',
      body: JSON.stringify({ name, scopes: ['imports:read', 'imports:write', 'audit:read'] }),
    })
  let res = await issue('dev')
  // Key names are unique, revoked keys' included: an earlier dev key may hold `dev`.
  if (res.status === 409) res = await issue(`dev-${randomBytes(3).toString('hex')}`)
  if (res.status !== 201) {
    console.error(`Could not issue a dev key (${res.status}): ${await res.text()}`)
    return undefined
  }
  const created = (await res.json()) as { id: string; key: string }
  mkdirSync('.wrangler', { recursive: true })
  writeFileSync(DEV_KEY_FILE, JSON.stringify({ id: created.id, key: created.key }), { mode: 0o600 })
  return created.key
}

async function main() {
  const devVars = readDevVars()
  const realExaKey = process.env.EXA_API_KEY || devVars.EXA_API_KEY
  const configuredAdminToken = process.env.ADMIN_TOKEN || devVars.ADMIN_TOKEN
  const vars: Record<string, string> = {}
  if (process.env.EXA_API_KEY) vars.EXA_API_KEY = process.env.EXA_API_KEY
  if (process.env.ADMIN_TOKEN) vars.ADMIN_TOKEN = process.env.ADMIN_TOKEN
  const adminToken = configuredAdminToken ?? `dev_admin_${randomBytes(18).toString('base64url')}`
  if (!configuredAdminToken) vars.ADMIN_TOKEN = adminToken

  console.log('Applying D1 migrations to the local database…')
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local'])

  let simulator: Awaited<ReturnType<typeof startSimulatorServer>> | undefined
  if (!realExaKey) {
    const simulatorKey = `sim_${randomBytes(18).toString('base64url')}`
    simulator = await startSimulatorServer({ apiKey: simulatorKey, port: SIMULATOR_PORT, seed: DEMO_IMPORTS })
    vars.EXA_API_KEY = simulatorKey
    vars.EXA_BASE_URL = simulator.url
  }

  const wrangler = spawnWrangler(['dev', '--ip', '127.0.0.1', '--port', String(PORT)], vars)
  const stop = async () => {
    wrangler.kill('SIGTERM')
    await simulator?.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  wrangler.on('exit', async (code) => {
    await simulator?.close()
    process.exit(code ?? 1)
  })

  await waitForHealth(GATEWAY)
  const key = await devClientKey(adminToken)
  const demoId = DEMO_IMPORTS[0]!.id
  const lines = [
    '',
    `exa-imports-gateway is running at ${GATEWAY}`,
    simulator
      ? `Upstream: the Exa SIMULATOR at ${simulator.url} (no EXA_API_KEY configured), with demo imports ${DEMO_IMPORTS.map((i) => i.id).join(', ')}`
      : `Upstream: ${devVars.EXA_BASE_URL ?? 'https://api.exa.ai'} with your EXA_API_KEY`,
    configuredAdminToken
      ? 'Admin API: your ADMIN_TOKEN'
      : `Admin API: Authorization: Bearer ${adminToken}   (generated for this run)`,
    key ? `Dev client key (imports:read, imports:write, audit:read): ${key}` : '',
    '',
    'Try it:',
    `  curl -X PATCH ${GATEWAY}/websets/v0/imports/${simulator ? demoId : '<import id>'} \\`,
    `    -H 'x-api-key: ${key ?? 'egw_…'}' -H 'content-type: application/json' -d '{"title":"Q3 leads"}'`,
    `  curl '${GATEWAY}/audit/events?importId=${simulator ? demoId : '<import id>'}' -H 'x-api-key: ${key ?? 'egw_…'}'`,
    '',
    `Audit viewer: ${GATEWAY}/ui (paste the dev key)`,
    '',
    'Press Ctrl+C to stop.',
  ]
  console.log(lines.join('\n'))
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
