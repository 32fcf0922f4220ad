import type { Context } from 'hono'
import { Hono } from 'hono/tiny'
import type { KeyAction } from '../audit/actions'
import { keyPeriodUsage } from '../audit/usage'
import { recordKeyEvent } from '../audit/recorder'
import type { ApiKeyRow } from '../db/schema'
import type { AppEnv } from '../env'
import { requireAdmin } from '../http/auth'
import { ApiError } from '../errors'
import { jsonBody } from '../http/json-body'
import { zv } from '../http/validator'
import { auditOrigin } from '../operations/origin'
import { prepareKey, prepareRevoke, prepareRotation, prepareUpdate, type PreparedChange } from '../keys/changes'
import { CreateKeyBody, KeyIdParam, RotateKeyBody, UpdateKeyBody } from '../keys/schemas'
import { findKey, findKeyNamed, isNameClash, listKeys } from '../keys/store'
import { toKeyView } from '../keys/view'

async function existingKey(c: Context<AppEnv>, id: string): Promise<ApiKeyRow> {
  const row = await findKey(c.var.db, id)
  if (!row) throw new ApiError('NOT_FOUND', `no key ${id}; GET /admin/keys lists them`)
  return row
}

function refuseIfRevoked(row: ApiKeyRow, what: string) {
  if (row.revokedAt !== null)
    throw new ApiError('CONFLICT', `key ${row.id} is revoked and cannot be ${what}; issue a new key instead`)
}

/**
 * The body as the client sent it, for the audit row: the schemas turn `expiresAt` into epoch ms
 * and trim names, but the row records what was asked. `jsonBody()` has already checked it.
 */
const sentBody = (c: Context<AppEnv>): Promise<unknown> => c.req.json()

/** A name clash (409), naming the key that holds the name, as it spells it. */
function nameTaken(name: string, holder: ApiKeyRow | undefined) {
  const by = holder
    ? `key ${holder.id} ("${holder.name}"${holder.revokedAt !== null ? ', revoked' : ''})`
    : 'another key'
  return new ApiError(
    'CONFLICT',
    `the name ${name} is taken by ${by}: key names are unique whatever their case, since a name is the actor of audit rows; choose another`
  )
}

/** Refuses a name another key holds (`self` may keep its own, in another case). */
async function refuseTakenName(c: Context<AppEnv>, name: string | undefined, self?: string) {
  if (name === undefined) return
  const holder = await findKeyNamed(c.var.db, name)
  if (holder && holder.id !== self) throw nameTaken(name, holder)
}

/** Runs a prepared change and its audit row in one batch; returns the key as it is now. */
async function applyAudited(
  c: Context<AppEnv>,
  action: KeyAction,
  before: ApiKeyRow | null,
  change: PreparedChange,
  requestBody?: unknown
) {
  const after = toKeyView(change.row)
  try {
    await recordKeyEvent(
      c.var.db,
      auditOrigin(c),
      { action, subjectKeyId: change.row.id, before: before && toKeyView(before), after, requestBody },
      change.statements
    )
  } catch (err) {
    // One batch: the change and its audit row failed together, so nothing changed. A change that
    // raced another for one name passed refuseTakenName, and D1's unique index refused it.
    if (isNameClash(err)) throw nameTaken(change.row.name, await findKeyNamed(c.var.db, change.row.name))
    throw new ApiError(
      'AUDIT_UNAVAILABLE',
      'the key change could not be written with its audit row, so nothing changed; try again'
    )
  }
  return after
}

/** Key management: ADMIN_TOKEN or a key with scope admin. Every change is audited. */
export const adminKeys = new Hono<AppEnv>()
  .use(requireAdmin())
  .post('/', jsonBody(), zv('json', CreateKeyBody), async (c) => {
    const input = c.req.valid('json')
    await refuseTakenName(c, input.name)
    const prepared = await prepareKey(c.var.db, input)
    const view = await applyAudited(c, 'key.create', null, prepared, await sentBody(c))
    // The only time the plaintext is shown: the gateway keeps nothing but its hash.
    return c.json({ ...view, key: prepared.secret }, 201)
  })
  .get('/', async (c) => {
    const rows = await listKeys(c.var.db)
    return c.json({ data: rows.map((row) => toKeyView(row)) })
  })
  .get('/:id', zv('param', KeyIdParam), async (c) => {
    const row = await existingKey(c, c.req.valid('param').id)
    // What the key spent this UTC day and month (its budget periods), from the usage totals.
    return c.json({ ...toKeyView(row), usage: await keyPeriodUsage(c.var.db, row.id) })
  })
  .patch('/:id', zv('param', KeyIdParam), jsonBody(), zv('json', UpdateKeyBody), async (c) => {
    const current = await existingKey(c, c.req.valid('param').id)
    refuseIfRevoked(current, 'changed')
    const update = c.req.valid('json')
    await refuseTakenName(c, update.name, current.id)
    const change = prepareUpdate(c.var.db, current, update)
    return c.json(await applyAudited(c, 'key.update', current, change, await sentBody(c)))
  })
  .delete('/:id', zv('param', KeyIdParam), async (c) => {
    const current = await existingKey(c, c.req.valid('param').id)
    // Revoking twice changes nothing, so it answers the same and writes no second audit row.
    if (current.revokedAt !== null) return c.json(toKeyView(current))
    return c.json(await applyAudited(c, 'key.revoke', current, prepareRevoke(c.var.db, current)))
  })
  .post('/:id/rotate', zv('param', KeyIdParam), jsonBody(), zv('json', RotateKeyBody), async (c) => {
    const current = await existingKey(c, c.req.valid('param').id)
    refuseIfRevoked(current, 'rotated')
    const body = c.req.valid('json')
    const gracePeriodSeconds = body.gracePeriodSeconds ?? 0
    const rotation = await prepareRotation(c.var.db, current, gracePeriodSeconds)
    const view = await applyAudited(c, 'key.rotate', current, rotation, { gracePeriodSeconds })
    return c.json({
      ...view,
      key: rotation.secret,
      previousSecretExpiresAt: new Date(rotation.previousSecretsExpireAt).toISOString(),
    })
  })
