export const SCOPES = ['imports:read', 'imports:write', 'audit:read', 'admin'] as const
export type Scope = (typeof SCOPES)[number]

/** Who is calling: a client key, or the bootstrap admin token (admin routes only). */
export type Principal = {
  /** null for the admin token. */
  keyId: string | null
  /** Shown as `actor` in audit rows. */
  actor: string
  scopes: readonly Scope[]
  origins: readonly string[] | null
  rateLimit: { requests: number; periodSeconds: number } | null
}

export const ADMIN_TOKEN_ACTOR = 'admin-token'
