import { AUDIT_ACTIONS } from '../src/audit/actions'
import { describe, expect, it } from 'vitest'
import { expectError } from './support/errors'
import { api, withKey } from './support/gateway'
import { admin, issueKey } from './support/keys'
import { expectHardened } from './support/viewer-headers'

/** Listed in ALLOWED_ORIGINS by vitest.config.ts: the API answers it CORS, the viewer must not. */
const CONSOLE = 'https://console.example.com'

// The page, script and stylesheet are static assets (public/ui/), which the pool does not serve
// (exports.default.fetch is the worker alone): test/e2e/ui.e2e.ts checks them on `wrangler dev`.
describe('the worker under /ui', () => {
  it('answers paths that are no asset with our 404 body, under the viewer’s headers', async () => {
    const res = await api('/ui/admin')
    expectHardened(res)
    await expectError(res, 404, 'NOT_FOUND', /no route for GET \/ui\/admin/)
  })

  it('does not serve the viewer’s files itself: they come from Workers Static Assets', async () => {
    for (const path of ['/ui', '/ui/app.js', '/ui/app.css']) {
      await expectError(await api(path), 404, 'NOT_FOUND', /no route for GET/)
    }
  })
})

describe('GET /ui/session', () => {
  it('names the key’s actor, id and scopes, and never its secret; lists what the page offers', async () => {
    const issued = await issueKey(['audit:read', 'imports:write'], { name: 'auditor-ana' })
    const res = await api('/ui/session', withKey(issued.key))
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expectHardened(res)
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({
      keyId: issued.id,
      actor: 'auditor-ana',
      scopes: ['audit:read', 'imports:write'],
      // The page's choices come from the lists the API itself validates against.
      actions: [...AUDIT_ACTIONS, 'key.*'],
      outcomes: ['pending', 'succeeded', 'failed', 'unknown'],
      revertibleActions: [
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
      ],
    })
    expect(text).not.toContain(issued.key)
  })

  it('is 401 without a key, with an unknown one and once the key is revoked', async () => {
    await expectError(await api('/ui/session'), 401, 'UNAUTHENTICATED', /missing API key/)
    await expectError(
      await api('/ui/session', withKey(`egw_${'A'.repeat(43)}`)),
      401,
      'UNAUTHENTICATED',
      /unknown, revoked or expired/
    )
    const issued = await issueKey(['audit:read'])
    expect((await admin('DELETE', `/admin/keys/${issued.id}`)).status).toBe(200)
    await expectError(await api('/ui/session', withKey(issued.key)), 401, 'UNAUTHENTICATED')
  })

  it('is never readable from another origin, not even one CORS allows for the API', async () => {
    const issued = await issueKey(['audit:read'])
    const res = await api('/ui/session', withKey(issued.key, { origin: CONSOLE }))
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    // The API's own answers are readable by that origin: leaving them out here is the viewer's choice.
    const apiRes = await api('/audit/events', withKey(issued.key, { origin: CONSOLE }))
    expect(apiRes.headers.get('access-control-allow-origin')).toBe(CONSOLE)
  })
})
