import { spawn, type ChildProcess } from 'node:child_process'
import { openSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'

const WRANGLER = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url))
const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Runs a wrangler command to completion, showing its output; rejects on a non-zero exit. */
export function runWrangler(args: string[], options: { quiet?: boolean } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], {
      cwd: ROOT,
      stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', 'inherit'],
      env: { ...process.env, CI: 'true' },
    })
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(' ')} exited with ${code}`))
    )
  })
}

/**
 * Starts a long-running wrangler command (e.g. `dev`) with `--var NAME:value` for each var. Its
 * output goes to the terminal, or to `logFile` when one is given.
 */
export function spawnWrangler(
  args: string[],
  vars: Record<string, string> = {},
  options: { logFile?: string } = {}
): ChildProcess {
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`])
  const output = options.logFile ? openSync(options.logFile, 'a') : 'inherit'
  return spawn(process.execPath, [WRANGLER, ...args, ...varArgs], {
    cwd: ROOT,
    stdio: ['ignore', output, output],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
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
