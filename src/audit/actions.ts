/**
 * Every action an audit row records, `<resource>.<verb>`, in the order the viewer lists them.
 * The one list: the recorder's type, the `action` filter, the viewer's choices (via /ui/session)
 * and the revert check all derive from it.
 */
export const AUDIT_ACTIONS = [
  'import.update',
  'import.create',
  'import.delete',
  'import.revert',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.revert',
  'webset.create',
  'webset.update',
  'webset.delete',
  'webset.cancel',
  'webset.revert',
  'item.delete',
  'search.create',
  'search.cancel',
  'enrichment.create',
  'enrichment.update',
  'enrichment.delete',
  'enrichment.cancel',
  'enrichment.revert',
  'monitor.create',
  'monitor.update',
  'monitor.delete',
  'monitor.revert',
  'search_monitor.create',
  'search_monitor.update',
  'search_monitor.delete',
  'search_monitor.trigger',
  'search_monitor.revert',
  'agent_run.create',
  'agent_run.cancel',
  'agent_run.stop',
  'agent_run.delete',
  'agent_monitor.create',
  'agent_monitor.delete',
  'agent_monitor.add_entities',
  'backtest.create',
  'key.create',
  'key.update',
  'key.revoke',
  'key.rotate',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]
export type ImportAction = Extract<AuditAction, `import.${string}`>
export type WebhookAction = Extract<AuditAction, `webhook.${string}`>
export type KeyAction = Extract<AuditAction, `key.${string}`>
/** The actions of a resource served at Exa (every one but a key's). */
export type ResourceAction = Exclude<AuditAction, KeyAction>

export const KEY_ACTIONS = AUDIT_ACTIONS.filter((action): action is KeyAction => action.startsWith('key.'))

/** What the `action` filter accepts: one action, or `key.*` for every key action. */
export const ACTION_FILTERS = [...AUDIT_ACTIONS, 'key.*'] as const
export type ActionFilter = (typeof ACTION_FILTERS)[number]

/**
 * The actions a revert accepts: an applied change of a resource whose before it can restore
 * (an update, or a revert, of an import, a webhook, a webset, an enrichment, a Websets monitor or a search monitor), and the revert action each one's undo is.
 */
export const REVERTIBLE_ACTIONS = [
  'import.update',
  'import.revert',
  'webhook.update',
  'webhook.revert',
  'webset.update',
  'webset.revert',
  'enrichment.update',
  'enrichment.revert',
  'monitor.update',
  'monitor.revert',
  'search_monitor.update',
  'search_monitor.revert',
] as const satisfies readonly ResourceAction[]

export const isRevertible = (action: string): action is (typeof REVERTIBLE_ACTIONS)[number] =>
  (REVERTIBLE_ACTIONS as readonly string[]).includes(action)

/** Whether an action is an update of a resource (a revert is one): such rows are sealed in Exa's order. */
export const isUpdate = (action: string) => action.endsWith('.update') || action.endsWith('.revert')
