import { and, desc, eq, gt, isNull, lt, or } from 'drizzle-orm'
import type { Db } from '../db/client'
import { apiKeyOrigins, apiKeys, apiKeySecrets, type ApiKeyRow } from '../db/schema'
import { sha256Hex } from './tokens'

export { toKeyView, type KeyView } from './view'

/** `last_used_at` is refreshed at most this often per key: a write per request would double D1 load. */
export const LAST_USED_RESOLUTION_MS = 60_000

export async function listKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt))
}

export async function findKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
}

/**
 * The key a presented secret belongs to, if that secret is still valid: one indexed lookup by
 * hash, checked against revocation and both expiries at `now`. Nothing is cached, so a revoked
 * or expired key is refused on the very next request.
 */
export async function findUsableKeyBySecret(db: Db, secret: string, now = Date.now()) {
  const hash = await sha256Hex(secret)
  const result = await db
    .select({ key: apiKeys })
    .from(apiKeySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeySecrets.keyId))
    .where(
      and(
        eq(apiKeySecrets.hash, hash),
        or(isNull(apiKeySecrets.expiresAt), gt(apiKeySecrets.expiresAt, now)),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))
      )
    )
    .get()
  return result?.key
}

/** The query behind someActiveKeyAllowsOrigin (exported so a test can check its query plan). */
export function activeKeyForOrigin(db: Db, origin: string, now: number) {
  return db
    .select({ keyId: apiKeyOrigins.keyId })
    .from(apiKeyOrigins)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeyOrigins.keyId))
    .where(and(eq(apiKeyOrigins.origin, origin), isNull(apiKeys.revokedAt), or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))))
    .limit(1)
}

/**
 * Whether some active key lists `origin` (for CORS preflights, which carry no key): one lookup
 * on the primary key of `api_key_origins`, joined to the key by its primary key.
 */
export async function someActiveKeyAllowsOrigin(db: Db, origin: string, now = Date.now()): Promise<boolean> {
  return (await activeKeyForOrigin(db, origin, now).get()) !== undefined
}

/** Whether the key's `last_used_at` (as read at authentication) is old enough to be refreshed. */
export function lastUsedIsStale(lastUsedAt: number | null, now = Date.now()): boolean {
  return lastUsedAt === null || lastUsedAt < now - LAST_USED_RESOLUTION_MS
}

/**
 * Records that a key was used. Conditional, so concurrent requests that all saw a stale value
 * write once per minute between them, not once each.
 */
export async function touchLastUsed(db: Db, keyId: string, now = Date.now()) {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - LAST_USED_RESOLUTION_MS))))
}
