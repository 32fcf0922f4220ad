import { Hono } from 'hono/tiny'
import { ACTION_FILTERS, REVERTIBLE_ACTIONS } from '../audit/actions'
import { AUDIT_OUTCOMES } from '../db/schema'
import type { AppEnv } from '../env'
import { requireKey } from '../http/auth'
import { uiHeaders } from '../ui/headers'

/**
 * The audit viewer's worker part. Its page, stylesheet and script (public/ui/) are Workers Static
 * Assets, served before the worker runs and kept out of its bundle; only `/ui/session` needs the
 * worker: it tells the page who its key is, what it may do (to offer revert only when the key
 * has imports:write), and the lists the page offers (the filters' actions and outcomes, the
 * actions a revert accepts), so the page keeps no copy of them. The page itself needs no key:
 * only the APIs it calls do, with the key the user typed, kept in sessionStorage and sent in
 * x-api-key. Any other /ui path ends here as our 404.
 */
export const ui = new Hono<AppEnv>().use(uiHeaders()).get('/session', requireKey(), (c) => {
  const { keyId, actor, scopes } = c.var.principal
  return c.json(
    { keyId, actor, scopes, actions: ACTION_FILTERS, outcomes: AUDIT_OUTCOMES, revertibleActions: REVERTIBLE_ACTIONS },
    200,
    { 'cache-control': 'no-store' }
  )
})
