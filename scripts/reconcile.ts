/**
 * `npm run reconcile`: runs the reconciler (the worker's cron, docs/architecture.md §5) once, now,
 * on the local gateway of `npm start`, which serves wrangler dev's `/__scheduled` for it. It
 * settles the audit rows pending for more than 2 minutes. With GATEWAY_KEY (a key with audit:read)
 * it prints how many rows were pending before and after. A deployed gateway runs the cron itself.
 */
import { readFileSync } from 'node:fs'

const url = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '')
const key = process.env.GATEWAY_KEY?.trim()
/** The schedule in wrangler.toml, passed on as the run's `cron` (the handler does not depend on it). */
const cron = /^crons\s*=\s*\["([^"]+)"/m.exec(readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8'))?.[1]

async function pendingRows(): Promise<string | undefined> {
  if (!key) return undefined
  const res = await fetch(`${url}/audit/events?outcome=pending&limit=200`, { headers: { 'x-api-key': key } })
  if (res.status !== 200) throw new Error(`GATEWAY_KEY cannot read the audit log (${res.status}): ${await res.text()}`)
  const page = (await res.json()) as { data: unknown[]; hasMore: boolean }
  return `${page.data.length}${page.hasMore ? '+' : ''}`
}

async function main() {
  const before = await pendingRows()
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron ?? '')}`).catch((err: Error) => {
    throw new Error(`cannot reach the gateway at ${url}: is npm start running?`, { cause: err })
  })
  if (res.status === 404) {
    throw new Error(
      `${url} does not serve /__scheduled: only a gateway started by npm start (wrangler dev --test-scheduled) does; a deployed one runs its cron by itself`
    )
  }
  if (!res.ok) throw new Error(`the run failed (${res.status}); the gateway's log says why`)
  console.log(`Ran the reconciler on ${url}: it settles audit rows pending for more than 2 minutes.`)
  if (before === undefined) {
    console.log(
      'Set GATEWAY_KEY (a key with audit:read; npm start prints one) to see the pending rows before and after.'
    )
  } else {
    console.log(`Pending audit rows: ${before} before, ${await pendingRows()} after.`)
  }
}

main().catch((err: Error) => {
  const reason = err.cause instanceof Error ? ` (${err.cause.message})` : ''
  console.error(`reconcile: ${err.message}${reason}`)
  process.exitCode = 1
})
