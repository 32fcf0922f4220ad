import { expect, it } from 'vitest'
import { OBSERVER_ORIGIN, TEST_ADMIN_TOKEN, TEST_EXA_API_KEY } from './support/secrets'

// Runs after every other file (see LogLeaksLastSequencer): by then the suite has exercised every
// route, error and fault, and everything the worker printed has been collected.
it('never logged a secret during the whole suite', async () => {
  const { lines, secrets } = (await (await fetch(`${OBSERVER_ORIGIN}/collected`)).json()) as {
    lines: string[]
    secrets: string[]
  }
  const requestLines = lines.flatMap((l) => l.split('\n')).filter((l) => l.includes('"msg":"request"'))
  expect(requestLines.length).toBeGreaterThan(20)
  expect(secrets.length).toBeGreaterThan(5)
  // Webhook secrets Exa returned once (test/webhooks.test.ts remembers each, as
  // test/changes-families.test.ts does search monitors' webhookSecret): never in a log line.
  expect(secrets.some((secret) => secret.startsWith('whsec_'))).toBe(true)
  for (const secret of [TEST_EXA_API_KEY, TEST_ADMIN_TOKEN, ...secrets]) {
    const leaking = lines.filter((line) => line.includes(secret))
    expect(leaking, `a log line contains a secret`).toEqual([])
  }
})

it('logs one structured line per request with the agreed fields and no bodies', async () => {
  const { lines } = (await (await fetch(`${OBSERVER_ORIGIN}/collected`)).json()) as { lines: string[] }
  const entries = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>)
  for (const entry of entries) {
    expect(Object.keys(entry).sort()).toEqual([
      'durationMs',
      'keyId',
      'level',
      'method',
      'msg',
      'requestId',
      'route',
      'status',
      'upstreamStatus',
    ])
  }
  expect(entries.some((e) => e.route === '/websets/v0/imports/:id' && e.upstreamStatus === 200)).toBe(true)
  expect(entries.some((e) => e.route === '/healthz' && e.status === 200)).toBe(true)
  expect(entries.some((e) => e.route === 'unmatched' && e.status === 404)).toBe(true)
  expect(entries.every((e) => e.route !== '/*' && e.route !== '*')).toBe(true)
})
