import type { Context } from 'hono'
import type { Snapshot } from '../audit/diff'
import type { AppEnv } from '../env'
import { websetChangePath, type UpdateWebset } from '../exa/webset-changes'
import { runAuditedCall } from './audited-call'
import { RESOURCES } from './resources'

const ids = (list: unknown) => (Array.isArray(list) ? list.map((x) => (x as { id?: unknown })?.id) : [])

/**
 * What a webset's delete destroyed, for its row (issue 15 §3): the webset as Exa answered it,
 * without the objects inside it, and what went with it as ids and counts. Items are never listed:
 * a webset may hold thousands; their number is what its searches found.
 */
export function destroyed(webset: Snapshot): Snapshot {
  const { searches, enrichments, monitors, imports, items: _items, ...rest } = webset
  const found = (Array.isArray(searches) ? searches : []).reduce<number>(
    (sum, search) => sum + (Number((search as { progress?: { found?: unknown } })?.progress?.found) || 0),
    0
  )
  return {
    ...rest,
    destroyed: {
      searches: ids(searches),
      enrichments: ids(enrichments),
      monitors: ids(monitors),
      imports: ids(imports),
      itemsFound: found,
    },
  }
}

type UpdateOptions = {
  action: 'webset.update' | 'webset.revert'
  revertsEventId?: string
  check?: (before: Snapshot) => void
}

/** The audited update (also used by revert): before snapshot, write-ahead row, POST (Exa's update), settle in Exa's order. */
export function auditedWebsetUpdate(
  c: Context<AppEnv>,
  ref: string,
  body: UpdateWebset,
  options: UpdateOptions
): Promise<Response> {
  return runAuditedCall(c, {
    action: options.action,
    resource: RESOURCES.webset,
    resourceId: ref,
    requestBody: body,
    revertsEventId: options.revertsEventId ?? null,
    readsBefore: true,
    upstream: { method: 'POST', path: websetChangePath(ref), body },
    afterOf: (answer) => answer,
    check: options.check,
  })
}

/** The audited delete: before snapshot, write-ahead row, DELETE; the row's after says what was destroyed. */
export function auditedWebsetDelete(c: Context<AppEnv>, ref: string): Promise<Response> {
  return runAuditedCall(c, {
    action: 'webset.delete',
    resource: RESOURCES.webset,
    resourceId: ref,
    readsBefore: true,
    upstream: { method: 'DELETE', path: websetChangePath(ref) },
    afterOf: destroyed,
  })
}

/** The audited cancel: before snapshot, write-ahead row, POST (no body), the canceled Webset as after. */
export function auditedWebsetCancel(c: Context<AppEnv>, ref: string): Promise<Response> {
  return runAuditedCall(c, {
    action: 'webset.cancel',
    resource: RESOURCES.webset,
    resourceId: ref,
    readsBefore: true,
    upstream: { method: 'POST', path: `${websetChangePath(ref)}/cancel` },
    afterOf: (answer) => answer,
  })
}
