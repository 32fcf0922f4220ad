import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { importPath, IMPORTS_PATH } from '../exa/client'
import type { CreateImport, UpdateImport } from '../exa/schemas'
import type { Snapshot } from '../audit/diff'
import { runAuditedCall } from './audited-call'
import { RESOURCES } from './resources'

/**
 * A presigned upload URL is a capability (anyone holding it can upload the CSV until it
 * expires), so it is answered to the client but never kept in the audit log.
 */
function withoutUploadCapability(created: Snapshot): Snapshot {
  const { uploadUrl: _url, uploadValidUntil: _until, ...rest } = created
  return rest
}

/**
 * A create's answer as an Idempotency-Key replay may give it at `now`. Its upload URL stays while
 * Exa says it is valid (`uploadValidUntil`: an hour after the create): a client that lost the
 * first answer needs it to upload the CSV, and Exa offers no way to get another. Once expired it
 * opens nothing, so it is dropped (from the replay and the stored record).
 */
export function withUnexpiredUpload(answer: unknown, now: number): unknown {
  if (typeof answer !== 'object' || answer === null || !('uploadValidUntil' in answer)) return answer
  if (!(Date.parse(String(answer.uploadValidUntil)) <= now)) return answer
  const { uploadUrl: _url, uploadValidUntil: _until, ...rest } = answer as Record<string, unknown>
  return rest
}

/**
 * The audited create: write-ahead row (no before; the import id is unknown until Exa answers),
 * POST, settle. Exa's 201 goes back unchanged, `uploadUrl` included: the client uploads the CSV
 * straight to Exa's storage, never through the gateway.
 */
export function auditedCreate(c: Context<AppEnv>, body: CreateImport): Promise<Response> {
  return runAuditedCall(c, {
    action: 'import.create',
    resource: RESOURCES.import,
    resourceId: null,
    requestBody: body,
    readsBefore: false,
    upstream: { method: 'POST', path: IMPORTS_PATH, body },
    afterOf: withoutUploadCapability,
  })
}

type UpdateOptions = {
  action: 'import.update' | 'import.revert'
  revertsEventId?: string
  check?: (before: Snapshot) => void
}

/**
 * The audited update (also used by revert): before snapshot, write-ahead row, PATCH, settle.
 * The row's `after` is the Import Exa answered with.
 */
export function auditedUpdate(
  c: Context<AppEnv>,
  importId: string,
  body: UpdateImport,
  options: UpdateOptions
): Promise<Response> {
  return runAuditedCall(c, {
    action: options.action,
    resource: RESOURCES.import,
    resourceId: importId,
    requestBody: body,
    revertsEventId: options.revertsEventId ?? null,
    readsBefore: true,
    upstream: { method: 'PATCH', path: importPath(importId), body },
    afterOf: (answer) => answer,
    check: options.check,
  })
}

/**
 * The audited delete: before snapshot, write-ahead row, DELETE, settle. The row's `after` is
 * null (the import is gone), so its changes run from the before state to nothing. Exa's 200 body
 * (the deleted Import) goes back unchanged.
 */
export function auditedDelete(c: Context<AppEnv>, importId: string): Promise<Response> {
  return runAuditedCall(c, {
    action: 'import.delete',
    resource: RESOURCES.import,
    resourceId: importId,
    readsBefore: true,
    upstream: { method: 'DELETE', path: importPath(importId) },
    afterOf: () => null,
  })
}
