/**
 * Clients that disconnect (issue 14, section 4): CLIENTS clients send audited updates back to
 * back for `seconds`; in the aborting runs every fifth request is abandoned ABORT_AFTER_MS after it
 * was sent (AbortController), as a browser navigating away or an SDK timing out does. Runs with
 * and without aborts alternate, side by side. It reports the p50 and p99 of the requests that were
 * not abandoned, with and without aborts, and then checks every abandoned update's audit row:
 * settled (not pending) once the gateway's background work is done, `succeeded` exactly when Exa
 * received its PATCH, with that PATCH's title as its after.
 */
import type { DeployedRig } from './deployed'

const CLIENTS = 10
const ABORT_EVERY = 5
const ABORT_AFTER_MS = 30
const SETTLE_TIMEOUT_MS = 30_000

type Timed = { ms: number; status: number | 'aborted' }

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN

async function runClients(rig: DeployedRig, seconds: number, label: string, aborting: boolean, imports: number) {
  const until = Date.now() + seconds * 1000
  const timings: Timed[] = []
  const abandoned: string[] = []
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; Date.now() < until; n++) {
        const title = `${label} c${client} n${n}`
        const abort = aborting && n % ABORT_EVERY === ABORT_EVERY - 1
        const controller = new AbortController()
        const timer = abort ? setTimeout(() => controller.abort(), ABORT_AFTER_MS) : undefined
        // Each client its own imports: the disconnects, not one import's queue, are what is measured.
        const id = `import_bench_${(client + CLIENTS * n) % imports}`
        const started = performance.now()
        try {
          const res = await fetch(`${rig.gatewayUrl}/websets/v0/imports/${id}`, {
            method: 'PATCH',
            headers: { 'x-api-key': rig.key, 'content-type': 'application/json' },
            body: JSON.stringify({ title }),
            signal: controller.signal,
          })
          await res.arrayBuffer()
          timings.push({ ms: performance.now() - started, status: res.status })
        } catch {
          timings.push({ ms: performance.now() - started, status: 'aborted' })
          abandoned.push(title)
        } finally {
          clearTimeout(timer)
        }
      }
    })
  )
  const answered = timings.filter((t) => t.status !== 'aborted')
  const sorted = answered.map((t) => t.ms).sort((a, b) => a - b)
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    answered: answered.length,
    not200: answered.filter((t) => t.status !== 200).length,
    abandoned,
  }
}

type Row = { outcome: string; title: string; afterTitle: string | null }

export type AbortCheck = {
  ok: boolean
  rounds: { without: { p50: number; p99: number }; with: { p50: number; p99: number } }[]
  p99Ratio: number
  abandoned: number
  settled: number
  correct: number
  pending: number
  not200: number
  problems: string[]
}

export async function runAbortCheck(rig: DeployedRig, seconds: number, rounds: number, imports: number) {
  const results: AbortCheck['rounds'] = []
  const abandoned: string[] = []
  let not200 = 0
  for (let round = 0; round < rounds; round++) {
    const without = await runClients(rig, seconds, `steady ${round}`, false, imports)
    const aborting = await runClients(rig, seconds, `aborting ${round}`, true, imports)
    abandoned.push(...aborting.abandoned)
    not200 += without.not200 + aborting.not200
    results.push({ without: { p50: without.p50, p99: without.p99 }, with: { p50: aborting.p50, p99: aborting.p99 } })
  }
  const db = (await rig.mf.getD1Database('DB', 'setup')) as unknown as D1Database
  const rowsOf = async () =>
    (
      await db
        .prepare(
          `SELECT outcome, json_extract(request_body, '$.title') AS title, json_extract("after", '$.title') AS afterTitle
           FROM audit_events WHERE json_extract(request_body, '$.title') LIKE 'aborting %'`
        )
        .all<Row>()
    ).results
  const started = Date.now()
  let rows = await rowsOf()
  while (rows.some((r) => r.outcome === 'pending') && Date.now() - started < SETTLE_TIMEOUT_MS) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    rows = await rowsOf()
  }
  const byTitle = new Map(rows.map((row) => [row.title, row]))
  const patched = new Set(
    rig.sim.simulator.requests
      .filter((r) => r.method === 'PATCH' && r.body?.includes('"aborting '))
      .map((r) => (JSON.parse(r.body!) as { title: string }).title)
  )
  const problems: string[] = []
  let settled = 0
  let correct = 0
  for (const title of abandoned) {
    const row = byTitle.get(title)
    if (row && row.outcome !== 'pending') settled++
    const sent = patched.has(title)
    // Sent: its row succeeded with what it asked for. Not sent: no row, or one that claims no change.
    const right = sent
      ? row?.outcome === 'succeeded' && row.afterTitle === title
      : !row || (row.outcome !== 'succeeded' && row.outcome !== 'pending')
    if (right) correct++
    else problems.push(`${title}: ${sent ? 'sent' : 'not sent'}, row ${row ? row.outcome : 'missing'}`)
  }
  const ratios = results.map((r) => r.with.p99 / r.without.p99).sort((a, b) => a - b)
  const p99Ratio = ratios[Math.floor(ratios.length / 2)]!
  const pending = rows.filter((r) => r.outcome === 'pending').length
  return {
    ok: correct === abandoned.length && pending === 0 && not200 === 0,
    rounds: results,
    p99Ratio,
    abandoned: abandoned.length,
    settled,
    correct,
    pending,
    not200,
    problems: problems.slice(0, 10),
  } satisfies AbortCheck
}
