import { Hono } from 'hono/tiny'
import type { AppEnv } from '../env'
import { requireKey } from '../http/auth'
import { loadContext } from '../http/context'
import { uiHeaders } from './headers'
import { VIEWER_HTML } from './page'
import { VIEWER_SCRIPT } from './script'
import { VIEWER_STYLE } from './style'

/**
 * The audit viewer: a static page, its stylesheet and script (all same-origin, no CDN), and
 * `/ui/session`, which tells the page who its key is and what it may do (to offer revert only
 * when the key has imports:write). The page itself needs no key: only the APIs it calls do, with
 * the key the user typed, kept in sessionStorage and sent in x-api-key.
 */
export const ui = new Hono<AppEnv>()
  .use(uiHeaders())
  .get('/', (c) => c.html(VIEWER_HTML))
  .get('/app.js', (c) => c.body(VIEWER_SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8' }))
  .get('/app.css', (c) => c.body(VIEWER_STYLE, 200, { 'content-type': 'text/css; charset=utf-8' }))
  // Mounted before the app's own loadContext/CORS, so it opens its context here; no CORS on
  // purpose: only the page's own origin can read this.
  .get('/session', loadContext(), requireKey(), (c) => {
    const { keyId, actor, scopes } = c.var.principal
    return c.json({ keyId, actor, scopes }, 200, { 'cache-control': 'no-store' })
  })
