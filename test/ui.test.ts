import { describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../src/ui/headers'
import { VIEWER_SCRIPT } from '../src/ui/script'
import { api, issueKey } from './helpers'
import { admin, expectError, withKey } from './key-helpers'

/** Listed in ALLOWED_ORIGINS by vitest.config.ts: the API answers it CORS, the viewer must not. */
const CONSOLE = 'https://console.example.com'

function expectHardened(res: Response) {
  expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY)
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expect(res.headers.get('x-frame-options')).toBe('DENY')
  expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
}

describe('GET /ui and its assets', () => {
  it('serve the page with no key, under a CSP that allows only this origin and no framing', async () => {
    const res = await api('/ui')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expectHardened(res)
    const policy = Object.fromEntries(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.slice(d.indexOf(' ') + 1)]))
    expect(policy).toMatchObject({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'form-action': "'none'",
      'require-trusted-types-for': "'script'",
    })
  })

  it('has no inline script, handler or style, and loads nothing from another origin', async () => {
    const html = await (await api('/ui')).text()
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => [m[1]!.trim(), m[2]])).toEqual([['type="module" src="/ui/app.js"', '']])
    expect(html).not.toMatch(/\son[a-z]+\s*=/i)
    expect(html).not.toMatch(/\sstyle\s*=|<style/i)
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['/ui/app.css', '/ui/app.js', '#main'])
  })

  it('serve the script and stylesheet with their types and the same headers', async () => {
    const js = await api('/ui/app.js')
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expectHardened(js)
    expect(await js.text()).toBe(VIEWER_SCRIPT)
    const css = await api('/ui/app.css')
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expectHardened(css)
  })

  it('answer other paths under /ui with our 404 body', async () => {
    await expectError(await api('/ui/admin'), 404, 'NOT_FOUND', /no route for GET \/ui\/admin/)
  })
})

describe('the viewer script', () => {
  it('writes data only as text, never as markup, and runs no strings as code', () => {
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'setAttribute(\'on', 'srcdoc']) {
      expect(VIEWER_SCRIPT, sink).not.toContain(sink)
    }
    expect(VIEWER_SCRIPT).toContain('.textContent = ')
  })

  it('keeps the key in sessionStorage and sends it only in x-api-key, to this origin', () => {
    expect(VIEWER_SCRIPT).not.toMatch(/localStorage|document\.cookie|indexedDB/)
    expect(VIEWER_SCRIPT).not.toMatch(/https?:\/\//)
    // Every fetch goes through one call() that puts the key in a header, with cookies omitted.
    expect(VIEWER_SCRIPT.match(/fetch\(/g)).toHaveLength(1)
    expect(VIEWER_SCRIPT).toMatch(/fetch\(path, \{[^}]*headers: \{ 'x-api-key': state\.key \}, credentials: 'omit'/)
    // …and that header is the only place the key is read.
    expect(VIEWER_SCRIPT.match(/state\.key\b(?!\s*=[^=])/g)).toEqual(['state.key'])
  })
})

describe('GET /ui/session', () => {
  it('names the key’s actor, id and scopes, and never its secret', async () => {
    const issued = await issueKey(['audit:read', 'imports:write'], { name: 'auditor-ana' })
    const res = await api('/ui/session', withKey(issued.key))
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const text = await res.text()
    expect(JSON.parse(text)).toEqual({ keyId: issued.id, actor: 'auditor-ana', scopes: ['audit:read', 'imports:write'] })
    expect(text).not.toContain(issued.key)
  })

  it('is 401 without a key, with an unknown one and once the key is revoked', async () => {
    await expectError(await api('/ui/session'), 401, 'UNAUTHENTICATED', /missing API key/)
    await expectError(await api('/ui/session', withKey(`egw_${'A'.repeat(43)}`)), 401, 'UNAUTHENTICATED', /unknown, revoked or expired/)
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
