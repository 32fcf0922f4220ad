import type { Budget } from '../db/schema'

/**
 * Every scope a key can hold: the one list behind key validation, the admin API, the CLI and the
 * viewer. One scope per family of Exa's API, reads and changes apart; the paid calls (`search`,
 * `contents`, `answer`) each have their own, since each spends money. docs/keys.md says what each
 * one allows and which families are served yet.
 */
export const SCOPES = [
  'search',
  'contents',
  'answer',
  'websets:read',
  'websets:write',
  'monitors:read',
  'monitors:write',
  'webhooks:read',
  'webhooks:write',
  'events:read',
  'imports:read',
  'imports:write',
  'agent:read',
  'agent:write',
  'research:read',
  'research:write',
  'audit:read',
  'usage:read',
  'admin',
] as const
export type Scope = (typeof SCOPES)[number]

/** The scopes of Exa's paid calls: a key over its budget is refused these (docs/usage.md). */
export const PAID_SCOPES: readonly Scope[] = ['search', 'contents', 'answer']

/** The scopes a key with scope `admin` has without listing them: it can see what every key spends. */
export const ADMIN_IMPLIES: readonly Scope[] = ['usage:read']

/** Whether `scopes` (a key's) allow `scope`: listed, or implied by `admin`. */
export const allows = (scopes: readonly Scope[], scope: Scope) =>
  scopes.includes(scope) || (ADMIN_IMPLIES.includes(scope) && scopes.includes('admin'))

/** Who is calling: a client key, or the bootstrap admin token (admin routes only). */
export type Principal = {
  /** null for the admin token. */
  keyId: string | null
  /** Shown as `actor` in audit rows. */
  actor: string
  scopes: readonly Scope[]
  origins: readonly string[] | null
  rateLimit: { requests: number; periodSeconds: number } | null
  /** What the key may spend per period (keys/budget.ts); null: no budget (and for the admin token). */
  budget?: Budget | null
}

export const ADMIN_TOKEN_ACTOR = 'admin-token'
