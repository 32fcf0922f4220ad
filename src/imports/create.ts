import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { IMPORTS_PATH } from '../exa/client'
import type { CreateImport, Import } from '../exa/schemas'
import { runAuditedCall } from './audited-call'

/**
 * A presigned upload URL is a capability (anyone holding it can upload the CSV until it
 * expires), so it is answered to the client but never kept in the audit log.
 */
function withoutUploadCapability(created: Import): Import {
  const { uploadUrl: _url, uploadValidUntil: _until, ...rest } = created
  return rest as Import
}

/**
 * The audited create: write-ahead row (no before; the import id is unknown until Exa answers),
 * POST, settle. Exa's 201 goes back unchanged, `uploadUrl` included: the client uploads the CSV
 * straight to Exa's storage, never through the gateway.
 */
export function auditedCreate(c: Context<AppEnv>, body: CreateImport): Promise<Response> {
  return runAuditedCall(c, {
    action: 'import.create',
    importId: null,
    requestBody: body,
    readsBefore: false,
    upstream: { method: 'POST', path: IMPORTS_PATH, body },
    afterOf: withoutUploadCapability,
  })
}
