/**
 * `npm start`: the gateway on http://127.0.0.1:8787 with a migrated local D1. Without a real
 * EXA_API_KEY (in .dev.vars or the environment) it also runs the Exa simulator with demo imports.
 * It then issues (or reuses) a dev client key and prints how to call the gateway.
 *
 * What it keeps between runs, all under .wrangler/ (git-ignored): the local D1 and Durable Objects
 * and, beside them, the simulator's imports (.wrangler/state), so that the audit log and the
 * imports it describes stay in step; the dev client key; the generated admin token.
 * `npm start -- --reset` deletes .wrangler/state first: audit log, keys and imports start clean.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { DEMO_IMPORTS, startSimulatorServer } from '../simulator/server.ts'
import { DEMO_WEBSETS } from '../simulator/websets-seed.ts'
import { runWrangler, spawnWrangler, waitForHealth, writeEnvFile } from './wrangler.ts'

const PORT = Number(process.env.PORT ?? 8787)
const SIMULATOR_PORT = Number(process.env.SIMULATOR_PORT ?? PORT + 1)
const GATEWAY = `http://127.0.0.1:${PORT}`
/** wrangler's default persistence folder: the local D1 and the rate limiter's Durable Objects. */
const STATE_DIR = '.wrangler/state'
const SIMULATOR_STATE = `${STATE_DIR}/exa-simulator.json`
const DEV_KEY_FILE = '.wrangler/dev-client-key.json'
const ADMIN_TOKEN_FILE = '.wrangler/dev-admin-token'
/** The dev key: the imports (read and change), the audit log, and every read of the other families served. */
const DEV_KEY_SCOPES = [
  'imports:read',
  'imports:write',
  'audit:read',
  'websets:read',
  'monitors:read',
  'webhooks:read',
  'events:read',
  'agent:read',
]
/** The vars and secrets `wrangler dev` gets from us (never on its command line, where `ps` shows them). */
const ENV_FILE = '.wrangler/dev.env'

const USAGE = `Usage: npm start [-- --reset]

  --reset   start clean: delete the local D1 (audit log, keys) and the simulator's imports

Environment: PORT (default 8787), SIMULATOR_PORT (default PORT + 1), EXA_API_KEY, ADMIN_TOKEN`

function readDevVars(): Record<string, string> {
  if (!existsSync('.dev.vars')) return {}
  const vars: Record<string, string> = {}
  for (const line of readFileSync('.dev.vars', 'utf8').split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/.exec(line)
    if (match?.[2]) vars[match[1]!] = match[2]
  }
  return vars
}

function writeSecretFile(path: string, content: string) {
  mkdirSync('.wrangler', { recursive: true })
  writeFileSync(path, content, { mode: 0o600 })
}

/** The admin token of earlier runs, or a new one kept for the next runs. */
function devAdminToken(): string {
  if (existsSync(ADMIN_TOKEN_FILE)) {
    const saved = readFileSync(ADMIN_TOKEN_FILE, 'utf8').trim()
    if (saved) return saved
  }
  const token = `dev_admin_${randomBytes(18).toString('base64url')}`
  writeSecretFile(ADMIN_TOKEN_FILE, token + '\n')
  return token
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
      body: JSON.stringify({ name, scopes: DEV_KEY_SCOPES }),
    })
  let res = await issue('dev')
  // Key names are unique, revoked keys' included: an earlier dev key may hold `dev`.
  if (res.status === 409) res = await issue(`dev-${randomBytes(3).toString('hex')}`)
  if (res.status !== 201) {
    console.error(`Could not issue a dev key (${res.status}): ${await res.text()}`)
    return undefined
  }
  const created = (await res.json()) as { id: string; key: string }
  writeSecretFile(DEV_KEY_FILE, JSON.stringify({ id: created.id, key: created.key }))
  return created.key
}

/** Whether the audit log already describes imports (used when the simulator had no saved state). */
async function auditHasImportRows(key: string): Promise<boolean> {
  const res = await fetch(`${GATEWAY}/audit/events?limit=200`, { headers: { 'x-api-key': key } })
  if (res.status !== 200) return false
  const { data } = (await res.json()) as { data: { action: string }[] }
  return data.some((event) => event.action.startsWith('import.'))
}

async function main() {
  const { values } = parseArgs({ options: { reset: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
  if (values.help) return console.log(USAGE)
  if (values.reset) {
    rmSync(STATE_DIR, { recursive: true, force: true })
    rmSync(DEV_KEY_FILE, { force: true })
    console.log(`--reset: deleted ${STATE_DIR} (the local D1 and the simulator's imports); starting clean.`)
  }

  const devVars = readDevVars()
  const realExaKey = process.env.EXA_API_KEY || devVars.EXA_API_KEY
  const configuredAdminToken = process.env.ADMIN_TOKEN || devVars.ADMIN_TOKEN
  // Later env files override earlier ones: .dev.vars first, then what this run decides.
  const vars: Record<string, string> = {}
  if (process.env.EXA_API_KEY) vars.EXA_API_KEY = process.env.EXA_API_KEY
  if (process.env.ADMIN_TOKEN) vars.ADMIN_TOKEN = process.env.ADMIN_TOKEN
  const adminToken = configuredAdminToken ?? devAdminToken()
  if (!configuredAdminToken) vars.ADMIN_TOKEN = adminToken

  const hadState = existsSync(STATE_DIR)
  console.log('Applying D1 migrations to the local database…')
  await runWrangler(['d1', 'migrations', 'apply', 'DB', '--local'])

  let simulator: Awaited<ReturnType<typeof startSimulatorServer>> | undefined
  let stateMismatch = false
  if (!realExaKey) {
    const simulatorKey = `sim_${randomBytes(18).toString('base64url')}`
    // A local D1 from before the simulator kept its imports: the audit log may describe changes it lost.
    stateMismatch = hadState && !existsSync(SIMULATOR_STATE)
    simulator = await startSimulatorServer({
      apiKey: simulatorKey,
      port: SIMULATOR_PORT,
      seed: DEMO_IMPORTS,
      demoWebsets: true,
      stateFile: SIMULATOR_STATE,
    })
    vars.EXA_API_KEY = simulatorKey
    vars.EXA_BASE_URL = simulator.url
  }

  writeEnvFile(ENV_FILE, vars)
  // --test-scheduled: /__scheduled runs the cron handler (npm run reconcile). wrangler's own
  // /cdn-cgi/handler/scheduled answers 500 for a worker with static assets.
  const wrangler = spawnWrangler(['dev', '--ip', '127.0.0.1', '--port', String(PORT), '--test-scheduled'], {
    envFiles: [...(existsSync('.dev.vars') ? ['.dev.vars'] : []), ENV_FILE],
  })
  const exited = new Promise<number | null>((resolve) => wrangler.once('exit', resolve))
  const stop = async () => {
    wrangler.kill('SIGTERM')
    // Wait for wrangler (and its workerd) to let go of the port and the database: a restart right
    // after this must find both free.
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
    await simulator?.close()
    process.exit(0)
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  void exited.then(async (code) => {
    await simulator?.close()
    process.exit(code ?? 1)
  })

  await waitForHealth(GATEWAY)
  const key = await devClientKey(adminToken)
  const demoId = DEMO_IMPORTS[0]!.id
  const importId = simulator ? demoId : '<import id>'
  const exports = [
    configuredAdminToken
      ? '  # ADMIN_TOKEN: yours, from .dev.vars or the environment'
      : `  export ADMIN_TOKEN=${adminToken}`,
    key ? `  export GATEWAY_KEY=${key}` : '',
    `  export GATEWAY_URL=${GATEWAY}`,
  ].filter(Boolean)
  const lines = [
    '',
    `exa-imports-gateway is running at ${GATEWAY}`,
    simulator
      ? `Upstream: the Exa SIMULATOR at ${simulator.url} (no EXA_API_KEY configured), with demo imports ${DEMO_IMPORTS.map((i) => i.id).join(', ')} and websets ${DEMO_WEBSETS.map((w) => w.id).join(', ')}`
      : `Upstream: ${devVars.EXA_BASE_URL ?? 'https://api.exa.ai'} with your EXA_API_KEY`,
    simulator
      ? `State: the audit log, keys and the simulator's imports are kept in ${STATE_DIR} across restarts; npm start -- --reset starts clean.`
      : `State: the audit log and keys are kept in ${STATE_DIR} across restarts; npm start -- --reset starts clean.`,
    '',
    `In another terminal (the admin token${key ? ` and dev key (${DEV_KEY_SCOPES.join(', ')})` : ''} stay the same across restarts):`,
    '',
    ...exports,
    '',
    'Try it:',
    `  curl -X PATCH "$GATEWAY_URL/websets/v0/imports/${importId}" \\`,
    `    -H "x-api-key: $GATEWAY_KEY" -H 'content-type: application/json' -d '{"title":"Q3 leads"}'`,
    `  curl "$GATEWAY_URL/audit/events?importId=${importId}" -H "x-api-key: $GATEWAY_KEY"`,
    ...(simulator
      ? [`  curl "$GATEWAY_URL/websets/v0/websets/${DEMO_WEBSETS[0]!.id}?expand=items" -H "x-api-key: $GATEWAY_KEY"`]
      : []),
    '  node examples/exa-js.mjs     # the same through exa-js',
    '  npm run keys -- list         # the admin API (ADMIN_TOKEN)',
    '  npm run reconcile            # run the cron now: settles audit rows pending for over 2 minutes',
    '',
    `Audit viewer: ${GATEWAY}/ui (paste the dev key)`,
    '',
    'Press Ctrl+C to stop.',
  ]
  console.log(lines.join('\n'))
  if (stateMismatch && key && (await auditHasImportRows(key))) {
    console.warn(
      `\nWarning: the simulator started from its demo imports, but the audit log holds changes from earlier runs,\nso reverts of those will be refused. npm start -- --reset starts both clean.`
    )
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err)
  process.exit(1)
})
