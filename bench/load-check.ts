/**
 * The audited PATCH under load must stay exact (issue #5): UPDATES updates over IMPORTS imports,
 * IN_FLIGHT at a time, through the running gateway. Then, once every row has settled (the
 * finalize runs after the response), it checks: one row per update, none pending or failed,
 * every row's after is what its request asked for and its before is a state the import really
 * had, the changes match before → after, Exa saw exactly one PATCH per update, and the
 * tamper-evidence chain verifies. Returns the counts; `ok` is false when any check fails.
 */
import type { BenchRig } from './workers'

const UPDATES = 200
const IMPORTS = 20
const IN_FLIGHT = 20
const SETTLE_TIMEOUT_MS = 30_000

type Row = { import_id: string; outcome: string; request_body: string; before: string; after: string | null; changes: string | null }
type Json = { id: string; title: string; metadata: Record<string, string> }

export type LoadCheck = {
  ok: boolean
  updates: number
  answered200: number
  rows: number
  succeeded: number
  pending: number
  consistent: number
  upstreamPatches: number
  chainVerified: boolean
  settleMs: number
  problems: string[]
}

async function runPool(count: number, inFlight: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < count) await task(next++)
  }))
}

export async function runLoadCheck(rig: BenchRig): Promise<LoadCheck> {
  const prefix = `import_check_${Date.now()}_`
  const initial = new Map<string, string>()
  for (let i = 0; i < IMPORTS; i++) {
    const created = rig.sim.simulator.store.create({ id: prefix + i, title: `initial ${i}`, metadata: {} })
    initial.set(created.id, created.title ?? '')
  }
  const requested = new Map<string, Set<string>>()
  let answered200 = 0
  const problems: string[] = []
  await runPool(UPDATES, IN_FLIGHT, async (j) => {
    const id = prefix + (j % IMPORTS)
    const title = `check ${j}`
    if (!requested.has(id)) requested.set(id, new Set())
    requested.get(id)!.add(title)
    const res = await fetch(`${rig.gateway.url}/websets/v0/imports/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': rig.key, 'content-type': 'application/json' },
      body: JSON.stringify({ title, metadata: { update: String(j) } }),
    })
    const body = (await res.json()) as Json
    if (res.status === 200 && body.title === title) answered200++
    else problems.push(`update ${j}: ${res.status} ${JSON.stringify(body).slice(0, 120)}`)
  })

  const started = Date.now()
  const select = `SELECT import_id, outcome, request_body, before, after, changes FROM audit_events WHERE import_id LIKE ?`
  let rows: Row[] = []
  for (;;) {
    rows = (await rig.gateway.d1.prepare(select).bind(`${prefix}%`).all<Row>()).results
    if (!rows.some((r) => r.outcome === 'pending') || Date.now() - started > SETTLE_TIMEOUT_MS) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const settleMs = Date.now() - started

  let consistent = 0
  for (const row of rows) {
    const asked = JSON.parse(row.request_body) as { title: string }
    const before = JSON.parse(row.before) as Json
    const after = row.after ? (JSON.parse(row.after) as Json) : null
    const changes = row.changes ? (JSON.parse(row.changes) as { path: string }[]) : []
    // A before is real if it is the initial state or what some update of this import asked for.
    const realBefore = before.title === initial.get(row.import_id) || requested.get(row.import_id)?.has(before.title)
    const titleChangeRecorded = changes.some((c) => c.path === 'title') === (before.title !== after?.title)
    if (after?.title === asked.title && before.id === row.import_id && realBefore && titleChangeRecorded) consistent++
    else problems.push(`row for ${row.import_id} (${asked.title}): before/after/changes inconsistent`)
  }
  const upstreamPatches = rig.sim.simulator.requests.filter((r) => r.method === 'PATCH' && r.path.includes(prefix)).length
  const verify = await fetch(`${rig.gateway.url}/audit/verify`, { headers: { 'x-api-key': rig.key } })
  const chainVerified = verify.status === 200 && ((await verify.json()) as { ok: boolean }).ok === true

  const result = {
    updates: UPDATES,
    answered200,
    rows: rows.length,
    succeeded: rows.filter((r) => r.outcome === 'succeeded').length,
    pending: rows.filter((r) => r.outcome === 'pending').length,
    consistent,
    upstreamPatches,
    chainVerified,
    settleMs,
    problems: problems.slice(0, 10),
  }
  const ok =
    answered200 === UPDATES && result.rows === UPDATES && result.succeeded === UPDATES && result.pending === 0 &&
    consistent === UPDATES && upstreamPatches === UPDATES && chainVerified
  return { ok, ...result }
}
