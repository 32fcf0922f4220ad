import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * A key's budget: `usd` per UTC `period`; a paid call is refused once the period's spend has
 * reached it. `soft`, below `usd`, only flags (a response header and a log line).
 */
export type Budget = { usd: number; period: 'day' | 'month'; soft?: number }

/** The index that keeps key names unique, case-insensitively (its name is in D1's constraint errors). */
export const API_KEY_NAME_INDEX = 'api_keys_name_unique'

/**
 * Client keys issued by the gateway. The plaintext is shown once; only SHA-256 hashes are kept,
 * in `api_key_secrets`, so that a rotated key can keep its old secret for a grace period. A name
 * is the `actor` of the key's audit rows, so it is unique among all keys, revoked ones included,
 * whatever its case (`lower()`: ASCII letters; the code compares with the same SQL function).
 */
export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Display prefix of the current secret (`egw_AbCd`), never enough to use it. */
    prefix: text('prefix').notNull(),
    /** JSON array of scopes. */
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    /** JSON array of allowed browser origins; null for a server key. */
    origins: text('origins', { mode: 'json' }).$type<string[] | null>(),
    rateLimitRequests: integer('rate_limit_requests'),
    rateLimitPeriodSeconds: integer('rate_limit_period_seconds'),
    expiresAt: integer('expires_at'),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
    /** What the key may spend per UTC day or month (Exa's estimates); null: no budget. */
    budget: text('budget', { mode: 'json' }).$type<Budget | null>(),
  },
  (t) => [uniqueIndex(API_KEY_NAME_INDEX).on(sql`lower(${t.name})`)]
)

/**
 * One row per secret of a key. A fresh secret has no expiry; rotation gives the old one an
 * `expires_at` (now + grace period). Lookups go by hash, never by plaintext.
 */
export const apiKeySecrets = sqliteTable(
  'api_key_secrets',
  {
    hash: text('hash').primaryKey(),
    keyId: text('key_id').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
  },
  (t) => [index('api_key_secrets_key_id').on(t.keyId)]
)

/**
 * Which key allows which browser origin, kept in the same batch as the key's `origins` column.
 * CORS preflights carry no key, so "does some active key allow this origin?" must be one indexed
 * lookup by origin (the primary key), never a scan of `api_keys`.
 */
export const apiKeyOrigins = sqliteTable(
  'api_key_origins',
  {
    origin: text('origin').notNull(),
    keyId: text('key_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.origin, t.keyId] }), index('api_key_origins_key_id').on(t.keyId)]
)

/**
 * An audit row's outcome: `pending` from the write-ahead until it is settled as one of the others.
 * `unknown`: the call reached Exa (or may have), and Exa's state cannot prove whether it was applied
 * (docs/audit.md#outcomes). A plain text column: a new value needs no migration.
 */
export const AUDIT_OUTCOMES = ['pending', 'succeeded', 'failed', 'unknown'] as const
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number]

/**
 * The audit log: one row per audited call. Rows are written ahead (`pending`, with the before
 * snapshot) and finalized after upstream answers. No foreign keys: an event outlives the key that
 * made it. Ids are ULIDs, so `ORDER BY id DESC` is newest first and cursors are stable.
 */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    action: text('action').notNull(),
    /** Kept for imports (and their `importId` filter); the resource columns name every resource. */
    importId: text('import_id'),
    /** `import`, `webhook`, `webset`, `key` (audit/resources.ts); derived for rows sealed before 0004. */
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    /** The resource's parent: a webset, for its items, searches and enrichments. */
    parentId: text('parent_id'),
    /** Which columns the row's seal covers (audit/seal.ts): 1 for rows written before 0004, 2 since. */
    sealVersion: integer('seal_version').notNull().default(1),
    outcome: text('outcome', { enum: AUDIT_OUTCOMES }).notNull(),
    keyId: text('key_id'),
    actor: text('actor').notNull(),
    subjectKeyId: text('subject_key_id'),
    revertsEventId: text('reverts_event_id'),
    origin: text('origin'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    requestId: text('request_id').notNull(),
    upstreamRequestId: text('upstream_request_id'),
    idempotencyKey: text('idempotency_key'),
    requestBody: text('request_body', { mode: 'json' }),
    before: text('before', { mode: 'json' }),
    after: text('after', { mode: 'json' }),
    changes: text('changes', { mode: 'json' }),
    upstreamStatus: integer('upstream_status'),
    error: text('error'),
    reconciled: integer('reconciled', { mode: 'boolean' }).notNull().default(false),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    // `audit_events_<column>` on (column, id): each filter's index, newest first by id.
    ...[t.importId, t.keyId, t.resourceId, t.resourceType, t.actor, t.action, t.outcome].map((column) =>
      index(`audit_events_${column.name}`).on(column, t.id)
    ),
    // The write-ahead's guard "one revert per event that did not fail" is an indexed lookup.
    index('audit_events_reverts_event_id')
      .on(t.revertsEventId)
      .where(sql`${t.revertsEventId} IS NOT NULL`),
  ]
)

/**
 * The fields each finalized event changed (`title`, `metadata`, `metadata.<key>`), so that the
 * `field` filter is an index lookup. Written in the same batch as the finalize it belongs to.
 */
export const auditChangedFields = sqliteTable(
  'audit_changed_fields',
  {
    field: text('field').notNull(),
    eventId: text('event_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.field, t.eventId] })]
)

/**
 * Tamper evidence: one link per finalized event, in finalize order. `row_hash` is SHA-256 of the
 * event's canonical form; `chain_hash` = SHA-256(previous chain_hash + row_hash). A link is
 * appended in the same batch as the finalize; `seq` is the primary key, so two finalizes racing
 * for the same position cannot both win (the loser re-reads the head and retries).
 */
export const auditChain = sqliteTable('audit_chain', {
  seq: integer('seq').primaryKey(),
  eventId: text('event_id').notNull().unique(),
  rowHash: text('row_hash').notNull(),
  chainHash: text('chain_hash').notNull(),
  createdAt: integer('created_at').notNull(),
})

/**
 * Idempotency-Key records, per client key, kept 24 h. `state` is `in_progress` while the first
 * request runs (a concurrent duplicate gets 409), then `done` with the stored answer to replay.
 * `request_id` is the claim's holder: only it may link, store or drop the record. `event_id` is
 * its write-ahead audit row, linked in the same D1 batch that commits the row, before anything is
 * forwarded: a linked claim may have reached Exa, so it is never taken over (api.md#idempotency-key).
 */
export const idempotencyRecords = sqliteTable(
  'idempotency_records',
  {
    keyId: text('key_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state', { enum: ['in_progress', 'done'] }).notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    requestId: text('request_id'),
    eventId: text('event_id'),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.idempotencyKey] }), index('idempotency_records_expires_at').on(t.expiresAt)]
)

/**
 * One row per call forwarded to Exa (migrations/0005_usage.sql), written after the response
 * (http/usage-meter.ts, db/usage.ts). `costMicros` is Exa's `costDollars.total` in millionths of a
 * dollar, null when Exa gave none. `keyId` is null for the admin token. Ids are ULIDs.
 */
export const usageEvents = sqliteTable(
  'usage_events',
  {
    id: text('id').primaryKey(),
    keyId: text('key_id'),
    actor: text('actor').notNull(),
    family: text('family').notNull(),
    route: text('route').notNull(),
    status: integer('status'),
    requestId: text('request_id').notNull(),
    upstreamRequestId: text('upstream_request_id'),
    costMicros: integer('cost_micros'),
    durationMs: integer('duration_ms').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('usage_events_key_id').on(t.keyId, t.id)]
)

/**
 * The totals per UTC day, key and route, kept by the trigger `usage_events_daily` on each usage
 * row inserted (`keyId` is '' for the admin token). GET /usage reads these, never the rows.
 */
export const usageDaily = sqliteTable(
  'usage_daily',
  {
    day: text('day').notNull(),
    keyId: text('key_id').notNull(),
    route: text('route').notNull(),
    family: text('family').notNull(),
    calls: integer('calls').notNull(),
    pricedCalls: integer('priced_calls').notNull(),
    costMicros: integer('cost_micros').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.keyId, t.route] }), index('usage_daily_key_id').on(t.keyId, t.day)]
)

export type UsageEventRow = typeof usageEvents.$inferSelect
export type ApiKeyRow = typeof apiKeys.$inferSelect
export type AuditEventRow = typeof auditEvents.$inferSelect
export type IdempotencyRecord = typeof idempotencyRecords.$inferSelect
export type NewAuditEvent = typeof auditEvents.$inferInsert
