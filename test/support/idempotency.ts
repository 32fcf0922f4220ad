import { env } from 'cloudflare:workers'
import { sha256Hex } from '../../src/lib/hash'

/** A D1 trigger that refuses `event` on `table` (e.g. `INSERT ON audit_events`), as a failing D1 would. */
export async function refuse(name: string, event: string) {
  await env.DB.exec(`CREATE TRIGGER ${name} BEFORE ${event} BEGIN SELECT RAISE(ABORT, 'd1 down'); END`)
}

export const allow = (name: string) => env.DB.exec(`DROP TRIGGER IF EXISTS ${name}`)

/** Time travel: the claim of `idempotencyKey` was made `ms` earlier than it was. */
export async function ageClaim(idempotencyKey: string, ms: number) {
  await env.DB.prepare('UPDATE idempotency_records SET created_at = created_at - ? WHERE idempotency_key = ?')
    .bind(ms, idempotencyKey)
    .run()
}

export type ClaimRow = { state: string; request_id: string | null; event_id: string | null; created_at: number }

export const claimOf = (idempotencyKey: string) =>
  env.DB.prepare('SELECT state, request_id, event_id, created_at FROM idempotency_records WHERE idempotency_key = ?')
    .bind(idempotencyKey)
    .first<ClaimRow>()

/** The request hash the middleware computes, for claims a test writes itself. */
export const requestHash = (method: string, path: string, body = '') => sha256Hex(`${method} ${path}\n${body}`)

/** A claim as a worker that died right after claiming leaves it: `in_progress`, held by `requestId`. */
export async function deadClaim(keyId: string, idempotencyKey: string, hash: string, requestId: string, ageMs: number) {
  const at = Date.now() - ageMs
  await env.DB.prepare(
    `INSERT INTO idempotency_records (key_id, idempotency_key, request_hash, state, request_id, created_at, expires_at)
     VALUES (?, ?, ?, 'in_progress', ?, ?, ?)`
  )
    .bind(keyId, idempotencyKey, hash, requestId, at, at + 24 * 3600_000)
    .run()
}
