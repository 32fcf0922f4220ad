import type { Context } from 'hono'
import type { AuditOrigin } from '../audit/recorder'
import type { AppEnv } from '../env'

/** Who made the call and from where, as an audit row records it (an authenticated request's). */
export function auditOrigin(c: Context<AppEnv>): AuditOrigin {
  return {
    keyId: c.var.principal.keyId,
    actor: c.var.principal.actor,
    origin: c.req.header('origin') ?? null,
    ip: c.req.header('cf-connecting-ip') ?? null,
    userAgent: c.req.header('user-agent')?.slice(0, 512) ?? null,
    requestId: c.var.requestId,
    idempotencyKey: c.req.header('idempotency-key') ?? null,
  }
}
