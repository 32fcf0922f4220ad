import type { Context } from 'hono'
import type { AppEnv } from '../env'
import { importPath } from '../exa/client'
import { runAuditedCall } from './audited-call'

/**
 * The audited delete: before snapshot, write-ahead row, DELETE, settle. The row's `after` is
 * null (the import is gone), so its changes run from the before state to nothing. Exa's 200 body
 * (the deleted Import) goes back unchanged.
 */
export function auditedDelete(c: Context<AppEnv>, importId: string): Promise<Response> {
  return runAuditedCall(c, {
    action: 'import.delete',
    importId,
    readsBefore: true,
    upstream: { method: 'DELETE', path: importPath(importId) },
    afterOf: () => null,
  })
}
