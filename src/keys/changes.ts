import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import type { Db } from '../db/client'
import { apiKeyOrigins, apiKeys, apiKeySecrets, type ApiKeyRow, type Budget } from '../db/schema'
import { randomId } from '../lib/ids'
import type { Scope } from './principal'
import type { KeyUpdate } from './schemas'
import { sha256Hex } from '../lib/hash'
import { displayPrefix, generateKey } from './tokens'

/**
 * Every key change is prepared here as drizzle statements, not run: the admin route runs them in
 * one `db.batch` with the change's audit row (recordKeyEvent), so neither exists without the other.
 */
export type PreparedChange = { row: ApiKeyRow; statements: BatchItem<'sqlite'>[] }

export type NewKey = {
  name: string
  scopes: Scope[]
  origins?: string[] | null
  expiresAt?: number | null
  rateLimit?: { requests: number; periodSeconds: number } | null
  budget?: Budget | null
}

/** A rate limit as the key's columns (null for the default one). */
const rateLimitColumns = (rateLimit: NewKey['rateLimit']) => ({
  rateLimitRequests: rateLimit?.requests ?? null,
  rateLimitPeriodSeconds: rateLimit?.periodSeconds ?? null,
})

/** The origin index rows of a key: `api_key_origins` mirrors `api_keys.origins`. */
function originRows(db: Db, keyId: string, origins: readonly string[] | null): BatchItem<'sqlite'>[] {
  if (!origins?.length) return []
  return [db.insert(apiKeyOrigins).values(origins.map((origin) => ({ origin, keyId })))]
}

/** A new key and its first secret. The plaintext `secret` exists only in this return value. */
export async function prepareKey(
  db: Db,
  input: NewKey,
  now = Date.now()
): Promise<PreparedChange & { secret: string }> {
  const secret = generateKey()
  const row: ApiKeyRow = {
    id: randomId('key_'),
    name: input.name,
    prefix: displayPrefix(secret),
    scopes: input.scopes,
    origins: input.origins ?? null,
    ...rateLimitColumns(input.rateLimit),
    expiresAt: input.expiresAt ?? null,
    createdAt: now,
    revokedAt: null,
    lastUsedAt: null,
    budget: input.budget ?? null,
  }
  const statements = [
    db.insert(apiKeys).values(row),
    db.insert(apiKeySecrets).values({ hash: await sha256Hex(secret), keyId: row.id, createdAt: now }),
    ...originRows(db, row.id, row.origins),
  ]
  return { row, secret, statements }
}

/** Applies a validated PATCH body: absent fields stay, `null` clears. */
export function prepareUpdate(db: Db, current: ApiKeyRow, update: KeyUpdate): PreparedChange {
  const { rateLimit, ...plain } = update
  const fields: Partial<ApiKeyRow> = { ...plain }
  if (rateLimit !== undefined) Object.assign(fields, rateLimitColumns(rateLimit))
  const row = { ...current, ...fields }
  const statements: BatchItem<'sqlite'>[] = [db.update(apiKeys).set(fields).where(eq(apiKeys.id, current.id))]
  if (update.origins !== undefined) {
    statements.push(
      db.delete(apiKeyOrigins).where(eq(apiKeyOrigins.keyId, current.id)),
      ...originRows(db, current.id, row.origins)
    )
  }
  return { row, statements }
}

/** Revokes a key for good; its origins stop counting for CORS preflights in the same batch. */
export function prepareRevoke(db: Db, current: ApiKeyRow, now = Date.now()): PreparedChange {
  return {
    row: { ...current, revokedAt: now },
    statements: [
      db
        .update(apiKeys)
        .set({ revokedAt: now })
        .where(and(eq(apiKeys.id, current.id), isNull(apiKeys.revokedAt))),
      db.delete(apiKeyOrigins).where(eq(apiKeyOrigins.keyId, current.id)),
    ],
  }
}

/**
 * A new secret for the key; every older secret expires `gracePeriodSeconds` from now (at once for
 * 0), unless it was already due to expire sooner. The old secrets are cut before the new one is
 * inserted, so the new one never gets their expiry.
 */
export async function prepareRotation(
  db: Db,
  current: ApiKeyRow,
  gracePeriodSeconds: number,
  now = Date.now()
): Promise<PreparedChange & { secret: string; previousSecretsExpireAt: number }> {
  const secret = generateKey()
  const previousSecretsExpireAt = now + gracePeriodSeconds * 1000
  const statements = [
    db
      .update(apiKeySecrets)
      .set({ expiresAt: previousSecretsExpireAt })
      .where(
        and(
          eq(apiKeySecrets.keyId, current.id),
          or(isNull(apiKeySecrets.expiresAt), gt(apiKeySecrets.expiresAt, previousSecretsExpireAt))
        )
      ),
    db.insert(apiKeySecrets).values({ hash: await sha256Hex(secret), keyId: current.id, createdAt: now }),
    db
      .update(apiKeys)
      .set({ prefix: displayPrefix(secret) })
      .where(eq(apiKeys.id, current.id)),
  ]
  return { row: { ...current, prefix: displayPrefix(secret) }, secret, statements, previousSecretsExpireAt }
}
