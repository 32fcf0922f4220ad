/**
 * `wrangler check startup`: wrangler builds the worker as a deploy would, runs its global scope
 * in a local workerd under the V8 profiler and writes the profile. The command prints no figure,
 * so the profile is summed here: CPU time of the startup phase (samples that are not idle) and
 * the functions that take the most of it. Cloudflare refuses a deploy whose startup passes 1 s
 * (measured on its machines, not this one).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CpuProfile } from './inspector'

export type StartupCheck = { ok: boolean; cpuMs: number; spanMs: number; top: { name: string; ms: number }[] }

export function checkStartup(): StartupCheck {
  const outfile = join(tmpdir(), `worker-startup-${process.pid}.cpuprofile`)
  const run = spawnSync('npx', ['wrangler', 'check', 'startup', '--outfile', outfile], { encoding: 'utf8' })
  if (run.status !== 0) return { ok: false, cpuMs: 0, spanMs: 0, top: [] }
  const profile = JSON.parse(readFileSync(outfile, 'utf8')) as CpuProfile
  rmSync(outfile, { force: true })
  const names = new Map(profile.nodes.map((node) => [node.id, node.callFrame.functionName || '(anonymous)']))
  // As DevTools reads it: a sample lasts until the next one (the last one, until the end).
  const at: number[] = []
  profile.timeDeltas.reduce((t, delta, i) => (at[i] = t + delta), profile.startTime)
  const self = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const name = names.get(id)!
    const ms = ((at[i + 1] ?? profile.endTime) - at[i]!) / 1000
    if (name !== '(idle)') self.set(name, (self.get(name) ?? 0) + ms)
  })
  const cpuMs = [...self.values()].reduce((sum, ms) => sum + ms, 0)
  const top = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, ms]) => ({ name, ms }))
  return { ok: true, cpuMs, spanMs: (profile.endTime - profile.startTime) / 1000, top }
}
