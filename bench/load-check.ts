/**
 * The audited PATCH under load must stay exact (issue #5): UPDATES updates over IMPORTS imports,
 * IN_FLIGHT at a time, through the running gateway. Then, once every row has settled (the
 * finalize runs after the response), it checks: one row per update, none pending or failed,
 * every row's after is what its request asked for and its before is a state the import really
 * had, the changes match before → after, Exa saw exactly one PATCH per update, and the
 * tamper-evidence chain verifies. Returns the counts; `ok` is false when any check fails.
 */
import type { BenchRig } from './workers'

/** What the check needs of a rig: the gateway's URL, a key, the simulator (local or deployed-like). */
export type CheckedRig = { gateway: { url: string }; key: string; sim: BenchRig['sim'] }

const UPDATES = 200
const IMPORTS = 20
const IN_FLIGHT = 20
const SETTLE_TIMEOUT_MS = 30_000

type Json = { id: string; title: string; metadata: Record<string, string> }
type Row = {
  importId: string
  outcome: string
  requestBody: { title: string }
  before: Json
  after: Json | null
  changes: { path: string }[] | null
}

/** Every update row of the check's imports, through the gateway's own audit API. */
async function auditRows(rig: CheckedRig, ids: string[]): Promise<Row[]> {
  const pages = await Promise.all(
    ids.map(async (id) => {
      const res = await fetch(`${rig.gateway.url}/audit/events?importId=${id}&limit=200`, {
        headers: { 'x-api-key': rig.key },
      })
      return ((await res.json()) as { data: Row[] }).data
    })
  )
  return pages.flat()
}

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
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await task(next++)
    })
  )
}

export async function runLoadCheck(rig: CheckedRig): Promise<LoadCheck> {
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
  let rows: Row[]
  for (;;) {
    rows = await auditRows(rig, [...initial.keys()])
    if (!rows.some((r) => r.outcome === 'pending') || Date.now() - started > SETTLE_TIMEOUT_MS) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const settleMs = Date.now() - started

  let consistent = 0
  for (const row of rows) {
    const [asked, before, after, changes] = [row.requestBody, row.before, row.after, row.changes ?? []]
    // A before is real if it is the initial state or what some update of this import asked for.
    const realBefore = before.title === initial.get(row.importId) || requested.get(row.importId)?.has(before.title)
    const titleChangeRecorded = changes.some((c) => c.path === 'title') === (before.title !== after?.title)
    if (after?.title === asked.title && before.id === row.importId && realBefore && titleChangeRecorded) consistent++
    else problems.push(`row for ${row.importId} (${asked.title}): before/after/changes inconsistent`)
  }
  const upstreamPatches = rig.sim.simulator.requests.filter(
    (r) => r.method === 'PATCH' && r.path.includes(prefix)
  ).length
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
    answered200 === UPDATES &&
    result.rows === UPDATES &&
    result.succeeded === UPDATES &&
    result.pending === 0 &&
    consistent === UPDATES &&
    upstreamPatches === UPDATES &&
    chainVerified
  return { ok, ...result }
}
