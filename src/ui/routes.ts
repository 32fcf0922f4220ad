import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { requireKey } from '../http/auth'
import { loadContext } from '../http/context'
import { uiHeaders } from './headers'

/**
 * The audit viewer's worker part. Its page, stylesheet and script (public/ui/) are Workers Static
 * Assets, served before the worker runs and kept out of its bundle; only `/ui/session` needs the
 * worker: it tells the page who its key is and what it may do (to offer revert only when the key
 * has imports:write). The page itself needs no key: only the APIs it calls do, with the key the
 * user typed, kept in sessionStorage and sent in x-api-key. Any other /ui path ends here as our 404.
 */
export const ui = new Hono<AppEnv>()
  .use(uiHeaders())
  // Mounted before the app's own loadContext/CORS, so it opens its context here; no CORS on
  // purpose: only the page's own origin can read this.
  .get('/session', loadContext(), requireKey(), (c) => {
    const { keyId, actor, scopes } = c.var.principal
    return c.json({ keyId, actor, scopes }, 200, { 'cache-control': 'no-store' })
  })
