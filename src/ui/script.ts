import { ACTIONS_PART } from './script-actions'
import { GATEWAY_PART } from './script-gateway'
import { LIST_PART } from './script-list'

/** /ui/app.js: one module script (the page loads it with type="module", so it runs deferred). */
export const VIEWER_SCRIPT = [GATEWAY_PART, LIST_PART, ACTIONS_PART].join('\n')
