import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export type CliResult = { code: number | null; stdout: string; stderr: string }

/** Runs `npm run keys -- …args` as an operator would, with `env` added to the environment. */
export function runKeysCli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'keys', '--', ...args], {
      cwd: ROOT,
      env: { ...process.env, ADMIN_TOKEN: undefined, GATEWAY_URL: undefined, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The secret a human-readable `create` or `rotate` printed (the only egw_ key in its output). */
export function printedSecret(result: CliResult): string {
  const secrets = result.stdout.match(/egw_[A-Za-z0-9_-]{43}/g) ?? []
  if (secrets.length !== 1)
    throw new Error(`expected one secret in the CLI output, got ${secrets.length}:\n${result.stdout}${result.stderr}`)
  return secrets[0]!
}
