import { and, desc, eq, gt, isNull, lt, or, sql } from 'drizzle-orm'
import type { Db } from '../db/client'
import { causeWith } from '../db/failures'
import { decodeRow } from '../db/json-rows'
import { API_KEY_NAME_INDEX, apiKeyOrigins, apiKeys, type ApiKeyRow } from '../db/schema'

/** `last_used_at` is refreshed at most this often per key: a write per request would double D1 load. */
export const LAST_USED_RESOLUTION_MS = 60_000

export async function listKeys(db: Db): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt))
}

export async function findKey(db: Db, id: string): Promise<ApiKeyRow | undefined> {
  return db.select().from(apiKeys).where(eq(apiKeys.id, id)).get()
}

/** The query behind findKeyNamed (exported so a test can check its query plan). */
export const keyNamed = (db: Db, name: string) =>
  db
    .select()
    .from(apiKeys)
    .where(sql`lower(${apiKeys.name}) = lower(${name})`)

/**
 * The key that holds `name`, revoked or not, compared as D1's unique index compares names
 * (`lower()`), and answered by that index.
 */
export async function findKeyNamed(db: Db, name: string): Promise<ApiKeyRow | undefined> {
  return keyNamed(db, name).get()
}

/** Whether `err` is D1 refusing a second key of one name (a change that raced another for it). */
export const isNameClash = (err: unknown): boolean =>
  !!causeWith(err, (message) => message.includes(`UNIQUE constraint failed: index '${API_KEY_NAME_INDEX}'`))

/** The lookup behind every authenticated request (?1: the secret's hash, ?2: now). */
const USABLE_KEY_SQL = `SELECT k.* FROM api_key_secrets AS s JOIN api_keys AS k ON k.id = s.key_id
  WHERE s.hash = ?1 AND (s.expires_at IS NULL OR s.expires_at > ?2)
    AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?2)`

/**
 * The key whose secret hashes to `hash`, if that secret is still valid: one indexed query, checked
 * against revocation and both expiries when it runs. Nothing is cached, so a revoked or expired
 * key is refused on the very next request.
 */
export async function findUsableKeyByHash(db: Db, hash: string, now = Date.now()): Promise<ApiKeyRow | undefined> {
  const row = await db.$client.prepare(USABLE_KEY_SQL).bind(hash, now).first<Record<string, unknown>>()
  return row ? decodeRow(apiKeys, row) : undefined
}

/** The query behind someActiveKeyAllowsOrigin (exported so a test can check its query plan). */
export function activeKeyForOrigin(db: Db, origin: string, now: number) {
  return db
    .select({ keyId: apiKeyOrigins.keyId })
    .from(apiKeyOrigins)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeyOrigins.keyId))
    .where(
      and(
        eq(apiKeyOrigins.origin, origin),
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now))
      )
    )
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
    .where(
      and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, now - LAST_USED_RESOLUTION_MS)))
    )
}
