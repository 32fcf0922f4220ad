import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const WRANGLER = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * The environment of every wrangler we run. `CLOUDFLARE_CF_FETCH_ENABLED=false`: miniflare does not
 * fetch `request.cf` from workers.cloudflare.com (offline, that prints a getaddrinfo ENOTFOUND stack
 * trace at every start) and uses its placeholder, which the gateway never reads anyway.
 */
const wranglerEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_SEND_METRICS: 'false',
})

/** Runs a wrangler command to completion, showing its output; rejects on a non-zero exit. */
export function runWrangler(args: string[], options: { quiet?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'],
      env: { ...wranglerEnv(), CI: 'true' },
    })
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(' ')} exited with ${code}`))
    )
  })
}

/**
 * Writes vars and secrets as a dotenv file only its owner can read, for `wrangler dev --env-file`:
 * on wrangler's command line (`--var`) anyone on the machine would see them in `ps`.
 */
export function writeEnvFile(path: string, vars: Record<string, string>): void {
  const lines = Object.entries(vars).map(([name, value]) => {
    if (/['\r\n]/.test(value)) throw new Error(`${name} must not contain quotes or line breaks`)
    return `${name}='${value}'`
  })
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 })
  chmodSync(path, 0o600)
}

/**
 * Starts a long-running wrangler command (e.g. `dev`) with these env files (later ones override
 * earlier ones; wrangler then ignores `.dev.vars`, so pass it first when it should count). Its
 * output goes to the terminal, or to `logFile` when one is given.
 */
export function spawnWrangler(args: string[], options: { envFiles?: string[]; logFile?: string } = {}): ChildProcess {
  const envFileArgs = (options.envFiles ?? []).flatMap((file) => ['--env-file', file])
  const output = options.logFile ? openSync(options.logFile, 'a') : 'inherit'
  return spawn(process.execPath, [WRANGLER, ...args, ...envFileArgs], {
    cwd: ROOT,
    stdio: ['ignore', output, output],
    env: wranglerEnv(),
  })
}

/** A TCP port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Polls `/healthz` until the gateway answers (any status: a 503 still means it is up). */
export async function waitForHealth(origin: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      await fetch(`${origin}/healthz`)
      return
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  throw new Error(`the gateway did not come up at ${origin} within ${timeoutMs / 1000} s`)
}
