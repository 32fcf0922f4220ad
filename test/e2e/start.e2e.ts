import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { freePort } from '../../scripts/wrangler.ts'
import { ulid } from '../../src/lib/ids.ts'
import { runKeysCli } from './keys-cli.ts'
import { launchChromium } from './chromium.ts'

/**
 * `npm start` as a newcomer meets it: in a fresh copy of the repository (no .wrangler/, no
 * .dev.vars), started, used, stopped with Ctrl+C (SIGINT to its process group), started again,
 * and started with --reset. The runs share one clone on purpose: what carries over is the subject.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)
const TIMEOUT = 120_000

let clone: string
let port: number
let simulatorPort: number

/** The files of the work tree git knows or would add (not node_modules, not .wrangler), and a link to node_modules. */
async function freshClone(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'egw-clone-'))
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
  for (const file of stdout.split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    try {
      copyFileSync(join(ROOT, file), join(dir, file))
    } catch {
      // deleted in the work tree but not yet in git's index
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return dir
}

type NpmStart = { output: () => string; exports: Record<string, string>; stop: () => Promise<void> }

/** Runs `npm start -- …args` in the clone until it prints its ready message. */
async function npmStart(args: string[] = []): Promise<NpmStart> {
  const child: ChildProcess = spawn('npm', ['start', ...(args.length ? ['--', ...args] : [])], {
    cwd: clone,
    env: {
      ...process.env,
      PORT: String(port),
      SIMULATOR_PORT: String(simulatorPort),
      EXA_API_KEY: undefined,
      ADMIN_TOKEN: undefined,
    },
    detached: true, // its own process group, which Ctrl+C in a terminal would signal as a whole
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  /** Signals the whole process group (npm, tsx, start.ts, wrangler, workerd); false once none is left. */
  const signal = (name: NodeJS.Signals | 0) => {
    try {
      process.kill(-child.pid!, name)
      return true
    } catch {
      return false
    }
  }
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      signal('SIGINT')
      const deadline = Date.now() + 20_000
      while (signal(0) && Date.now() < deadline) await sleep(100)
      signal('SIGKILL')
      await exited
    })())
  // Stopped when the test ends, passed or failed, so that the next run finds the ports free.
  onTestFinished(stop)
  const started: NpmStart = { output: () => output, exports: {}, stop }
  const deadline = Date.now() + 90_000
  while (!output.includes('Press Ctrl+C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`npm start did not come up:\n${output}`)
    }
    await sleep(100)
  }
  started.exports = Object.fromEntries([...output.matchAll(/^ {2}export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]))
  return started
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function api(exports: Record<string, string>, path: string, init: RequestInit = {}) {
  const res = await fetch(exports.GATEWAY_URL + path, {
    ...init,
    headers: { 'x-api-key': exports.GATEWAY_KEY!, 'content-type': 'application/json' },
  })
  return { status: res.status, body: (await res.json()) as any }
}

/** A row as a worker that died after its write-ahead insert leaves it: pending since 10 minutes ago. */
async function insertAbandonedRow(before: object): Promise<string> {
  const startedAt = Date.now() - 10 * 60_000
  const id = ulid(startedAt)
  const quote = (value: string) => `'${value.replaceAll("'", "''")}'`
  const sql = `INSERT INTO audit_events (id, action, import_id, outcome, actor, request_id, request_body, before, started_at)
    VALUES (${quote(id)}, 'import.update', 'import_demo_papers', 'pending', 'dev', ${quote(`req_${id}`)},
    ${quote(JSON.stringify({ title: 'Papers, reviewed' }))}, ${quote(JSON.stringify(before))}, ${startedAt})`
  await run(
    process.execPath,
    ['node_modules/wrangler/bin/wrangler.js', 'd1', 'execute', 'DB', '--local', '--command', sql],
    {
      cwd: clone,
      env: { ...process.env, CI: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    }
  )
  return id
}

beforeAll(async () => {
  clone = await freshClone()
  ;[port, simulatorPort] = [await freePort(), await freePort()]
})
afterAll(async () => {
  if (clone && !process.env.KEEP_E2E_STATE) rmSync(clone, { recursive: true, force: true })
})

describe('npm start in a fresh clone, restarted, then reset', () => {
  let first: Record<string, string>
  let abandonedRowId: string

  it(
    'prints export lines that work with exa-js (examples/exa-js.mjs) and the keys CLI, and keeps secrets out of ps',
    async () => {
      const start = await npmStart()
      first = start.exports
      // Offline, wrangler's request.cf download used to print a getaddrinfo ENOTFOUND stack trace;
      // and its banner's cron trigger (/cdn-cgi/handler/scheduled) answers 500 here.
      expect(start.output()).not.toMatch(/ENOTFOUND|Request\.cf|cdn-cgi\/handler\/scheduled/)
      expect(first).toEqual({
        ADMIN_TOKEN: expect.stringMatching(/^dev_admin_[\w-]+$/),
        GATEWAY_KEY: expect.stringMatching(/^egw_[\w-]{43}$/),
        GATEWAY_URL: `http://127.0.0.1:${port}`,
      })
      // wrangler gets the secrets from an env file, not its command line.
      const { stdout: processes } = await run('ps', ['-eo', 'args'])
      expect(processes).not.toContain(first.ADMIN_TOKEN)
      expect(processes).not.toMatch(/--var (EXA_API_KEY|ADMIN_TOKEN)/)

      const example = await run(process.execPath, ['examples/exa-js.mjs'], {
        cwd: clone,
        env: { ...process.env, GATEWAY_KEY: first.GATEWAY_KEY, GATEWAY_URL: first.GATEWAY_URL },
      })
      expect(example.stdout).toMatch(
        /^get {5}import_demo_leads: "Q2 leads", metadata \{"owner":"ana","team":"sales"\}$/m
      )
      expect(example.stdout).toMatch(/^list {4}import_demo_\w+, import_demo_\w+, import_demo_\w+$/m)
      expect(example.stdout).toMatch(
        /^update {2}import_demo_leads: "Q3 leads", metadata \{"owner":"ana","team":"sales","reviewedAt":/m
      )
      expect(example.stdout).toMatch(/^audit {3}\w{26} import\.update succeeded by dev at /m)
      expect(example.stdout).toContain('title: "Q2 leads" -> "Q3 leads"')

      const cli = await runKeysCli(['list'], { ADMIN_TOKEN: first.ADMIN_TOKEN, GATEWAY_URL: first.GATEWAY_URL })
      expect(cli.code, cli.stderr).toBe(0)
      expect(cli.stdout).toMatch(/name {12}dev/)

      const papers = await api(first, '/websets/v0/imports/import_demo_papers')
      expect(papers.status).toBe(200)
      await start.stop()
      abandonedRowId = await insertAbandonedRow(papers.body)
    },
    TIMEOUT
  )

  it(
    'after a restart: the same export lines still work, the simulator agrees with the audit log (the last change reverts), npm run reconcile settles an old pending row',
    async () => {
      const start = await npmStart()
      expect(start.exports).toEqual(first)
      const cli = await runKeysCli(['list'], { ADMIN_TOKEN: first.ADMIN_TOKEN, GATEWAY_URL: first.GATEWAY_URL })
      expect(cli.code, cli.stderr).toBe(0)

      expect((await api(first, '/websets/v0/imports/import_demo_leads')).body).toMatchObject({ title: 'Q3 leads' })
      const events = await api(first, '/audit/events?importId=import_demo_leads&action=import.update&limit=1')
      const revert = await api(first, `/audit/events/${events.body.data[0].id}/revert`, { method: 'POST' })
      expect(revert.status, JSON.stringify(revert.body)).toBe(200)
      expect(revert.body).toMatchObject({ title: 'Q2 leads' })
      expect(revert.body.metadata).toEqual({ owner: 'ana', team: 'sales' })

      const reconcile = await run('npm', ['run', '--silent', 'reconcile'], {
        cwd: clone,
        env: { ...process.env, GATEWAY_KEY: first.GATEWAY_KEY, GATEWAY_URL: first.GATEWAY_URL },
      })
      expect(reconcile.stdout).toContain('Pending audit rows: 1 before, 0 after.')
      expect((await api(first, `/audit/events/${abandonedRowId}`)).body).toMatchObject({
        // The demo import was seeded after the row's made-up start: its updatedAt proves nothing.
        outcome: 'unknown',
        reconciled: true,
        error: expect.stringContaining('does not show the requested change'),
      })
      expect(start.output()).toContain('"msg":"reconciled pending audit rows","examined":1,"settled":1')
      await start.stop()
    },
    TIMEOUT
  )

  it(
    'with --reset: the demo imports and an empty audit log again, the same admin token, a new dev key; the viewer loads without a 404',
    async () => {
      const start = await npmStart(['--reset'])
      expect(start.exports.ADMIN_TOKEN).toBe(first.ADMIN_TOKEN)
      expect(start.exports.GATEWAY_KEY).not.toBe(first.GATEWAY_KEY)
      expect((await api(start.exports, '/websets/v0/imports/import_demo_leads')).body).toMatchObject({
        title: 'Q2 leads',
        metadata: { owner: 'ana', team: 'sales' },
      })
      expect((await api(start.exports, '/audit/events?importId=import_demo_leads')).body.data).toEqual([])

      // The viewer in a browser: its icon loads, nothing answers 404 (it used to be /favicon.ico).
      const browser = await launchChromium('this suite loads the viewer in it')
      try {
        const page = await browser.newPage()
        await page.goto(`${start.exports.GATEWAY_URL}/ui`)
        await page.waitForTimeout(1000)
      } finally {
        await browser.close()
      }
      expect(start.output()).toMatch(/GET \/ui\/favicon\.svg 200/)
      expect(start.output()).not.toMatch(/ 404 /)
      await start.stop()
    },
    TIMEOUT
  )
})
