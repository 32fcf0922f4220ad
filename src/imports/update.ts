import type { Context } from 'hono'
import type { AppEnv } from '../env'
import type { UpdateImport } from '../exa/schemas'
import { importPath } from '../exa/client'
import { runAuditedCall } from './audited-call'


type UpdateOptions = { action: 'import.update' | 'import.revert'; revertsEventId?: string }

/**
 * The audited update (also used by revert): before snapshot, write-ahead row, PATCH, settle.
 * The row's `after` is the Import Exa answered with.
 */
export function auditedUpdate(c: Context<AppEnv>, importId: string, body: UpdateImport, options: UpdateOptions): Promise<Response> {
  return runAuditedCall(c, {
    action: options.action,
    importId,
    requestBody: body,
    revertsEventId: options.revertsEventId ?? null,
    readsBefore: true,
    upstream: { method: 'PATCH', path: importPath(importId), body },
    afterOf: (answer) => answer,
  })
}
