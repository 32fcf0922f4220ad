import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, type Page } from 'playwright-core'
import { launchChromium } from './chromium.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src/ui/policy.ts'
import { expectHardened } from '../support/viewer-headers.ts'
import { startGateway, type Gateway } from './harness.ts'

// The README's picture is refreshed on purpose (UPDATE_SCREENSHOT=1 npm run test:e2e); an ordinary
// run writes to the git-ignored test/artifacts/, so tests leave the work tree clean.
const screenshot = (name: string) =>
  fileURLToPath(new URL(`${process.env.UPDATE_SCREENSHOT ? '../../docs' : '../artifacts'}/${name}`, import.meta.url))
/** A picture for looking at, never committed. */
const artifact = (name: string) => fileURLToPath(new URL(`../artifacts/${name}`, import.meta.url))
const PUBLIC_UI = (file: string) =>
  readFileSync(fileURLToPath(new URL(`../../public/ui/${file}`, import.meta.url)), 'utf8')
const VIEWER_SCRIPT = PUBLIC_UI('app.js')
const XSS_TITLE = '<img src=x onerror=alert(1)>'

let gateway: Gateway
let browser: Browser

beforeAll(async () => {
  gateway = await startGateway({
    seed: [
      { id: 'import_leads', title: 'Q2 leads', entity: { type: 'company' }, metadata: { owner: 'ana', team: 'sales' } },
      { id: 'import_speakers', title: 'Conference speakers', entity: { type: 'person' }, metadata: {} },
    ],
  })
  browser = await launchChromium('this suite drives /ui in it')
})
afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
})

async function patch(key: string, id: string, body: unknown) {
  const res = await fetch(`${gateway.url}/websets/v0/imports/${id}`, {
    method: 'PATCH',
    headers: { 'x-api-key': key, 'content-type': 'application/json', 'user-agent': 'ops-script/1.0' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(200)
}

/** A tab of the viewer that records dialogs (an XSS would open one) and script errors. */
async function openViewer() {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true })
  const page = await context.newPage()
  const dialogs: string[] = []
  const problems: string[] = []
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('pageerror', (err) => problems.push(err.message))
  page.on('console', (message) => {
    if (/Content Security Policy|Trusted Type/i.test(message.text())) problems.push(message.text())
  })
  await page.goto(`${gateway.url}/ui`)
  return { page, dialogs, problems }
}

/** Presses Tab until `selector` has the focus: proves the control is reachable by keyboard. */
async function tabTo(page: Page, selector: string, max = 40) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
    await page.keyboard.press('Tab')
  }
  throw new Error(`${selector} was not reached with Tab`)
}

const rowTexts = (page: Page, column: number) =>
  page.locator(`#events tbody tr td:nth-child(${column})`).allTextContents()

/** The values a filter's select offers, its "any" ('') first. */
const optionValues = (page: Page, select: string) =>
  page
    .locator(`${select} option`)
    .evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value))

type UiSession = {
  keyId: string
  actor: string
  scopes: string[]
  actions: string[]
  outcomes: string[]
  revertibleActions: string[]
}

async function uiSession(key: string): Promise<UiSession> {
  const res = await fetch(`${gateway.url}/ui/session`, { headers: { 'x-api-key': key } })
  expect(res.status).toBe(200)
  return (await res.json()) as UiSession
}

/** The headers public/_headers gives the static files, equal to the worker's own /ui answers. */
function expectStaticHardened(res: Response) {
  expectHardened(res)
  expect(res.headers.get('cache-control')).toBe('no-cache')
}

// The page, script and stylesheet are Workers Static Assets, which only `wrangler dev` serves
// (the vitest pool calls the worker alone), so their checks live here.
describe('GET /ui and its assets (Workers Static Assets)', () => {
  it('serve the page with no key, under a CSP that allows only this origin and no framing', async () => {
    const res = await fetch(`${gateway.url}/ui`, { redirect: 'manual' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expectStaticHardened(res)
    expect(await res.text()).toBe(PUBLIC_UI('index.html'))
    const policy = Object.fromEntries(
      CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.slice(d.indexOf(' ') + 1)])
    )
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

  it('is the policy docs/viewer.md quotes', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../docs/viewer.md', import.meta.url)), 'utf8')
    const quoted = /```\n(default-src[\s\S]*?)\n```/.exec(doc)?.[1]
    expect(quoted?.replace(/\s*\n\s*/g, ' ')).toBe(CONTENT_SECURITY_POLICY)
  })

  it('redirect /ui/ and /ui/index.html to /ui, the one address of the page', async () => {
    for (const path of ['/ui/', '/ui/index.html']) {
      const res = await fetch(`${gateway.url}${path}`, { redirect: 'manual' })
      expect([res.status, res.headers.get('location')], path).toEqual([307, '/ui'])
    }
  })

  it('has no inline script, handler or style, loads nothing from another origin, and keeps no list of actions or outcomes', async () => {
    const html = await (await fetch(`${gateway.url}/ui`)).text()
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => [m[1]!.trim(), m[2]])).toEqual([['type="module" src="/ui/app.js"', '']])
    expect(html).not.toMatch(/\son[a-z]+\s*=/i)
    expect(html).not.toMatch(/\sstyle\s*=|<style/i)
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual([
      '/ui/favicon.svg',
      '/ui/app.css',
      '/ui/app.js',
      '#main',
    ])
    // The action and outcome filters offer only "any" here: the script fills in the server's lists
    // from /ui/session, so a new action needs no change to the page.
    for (const name of ['action', 'outcome']) {
      const select = new RegExp(`<select id="f-${name}" name="${name}">([\\s\\S]*?)</select>`).exec(html)
      expect(select?.[1]?.trim(), name).toBe('<option value="">any</option>')
    }
  })

  it('serve the script and stylesheet with their types and the same headers', async () => {
    const js = await fetch(`${gateway.url}/ui/app.js`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expectStaticHardened(js)
    expect(await js.text()).toBe(VIEWER_SCRIPT)
    const css = await fetch(`${gateway.url}/ui/app.css`)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expectStaticHardened(css)
    expect(await css.text()).toBe(PUBLIC_UI('app.css'))
  })

  it('leave the worker answering the API, /ui/session and other /ui paths, and never serve _headers', async () => {
    const session = await fetch(`${gateway.url}/ui/session`)
    expect([session.status, ((await session.json()) as { tag: string }).tag]).toEqual([401, 'UNAUTHENTICATED'])
    expectStaticHardened(session)
    for (const path of ['/ui/admin', '/_headers']) {
      const res = await fetch(`${gateway.url}${path}`)
      expect([res.status, ((await res.json()) as { tag: string }).tag], path).toEqual([404, 'NOT_FOUND'])
    }
  })
})

describe('the viewer script', () => {
  it('writes data only as text, never as markup, and runs no strings as code', () => {
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
      "setAttribute('on",
      'srcdoc',
    ]) {
      expect(VIEWER_SCRIPT, sink).not.toContain(sink)
    }
    expect(VIEWER_SCRIPT).toContain('.textContent = ')
  })

  it('names no action: the action filter and the revert button take theirs from /ui/session', () => {
    expect(VIEWER_SCRIPT).not.toMatch(/'(?:import|key)\.[a-z*]+'/)
    expect(VIEWER_SCRIPT).toMatch(/^\/\/ @ts-check$/m)
  })

  it('keeps the key in sessionStorage and sends it only in x-api-key, to this origin', () => {
    expect(VIEWER_SCRIPT).not.toMatch(/localStorage|document\.cookie|indexedDB/)
    expect(VIEWER_SCRIPT).not.toMatch(/https?:\/\//)
    // Every fetch goes through one call() that puts the key in a header, with cookies omitted.
    expect(VIEWER_SCRIPT.match(/fetch\(/g)).toHaveLength(1)
    expect(VIEWER_SCRIPT).toMatch(
      /fetch\(path, \{[^}]*headers: \{ 'x-api-key': \/\*\* @type \{string\} \*\/ \(state\.key\) \},\s*credentials: 'omit'/
    )
    // …and that header is the only place the key is read.
    expect(VIEWER_SCRIPT.match(/state\.key\b(?!\s*=[^=])/g)).toEqual(['state.key'])
  })
})

describe('the audit viewer at /ui in headless Chromium', () => {
  it('signs in, filters by import, shows the change highlighted, renders a hostile title as text, exports, reverts', async () => {
    const { key } = await gateway.issueKey(['audit:read', 'imports:read', 'imports:write'], { name: 'ana' })
    await patch(key, 'import_leads', { title: 'Q3 leads', metadata: { owner: 'bo', team: 'sales' } })
    await patch(key, 'import_speakers', { title: 'Keynote speakers' })
    await patch(key, 'import_leads', { title: XSS_TITLE, metadata: { owner: 'bo', team: 'sales' } })
    await gateway.settled(key, 'import_leads')
    await gateway.settled(key, 'import_speakers')

    const { page, dialogs, problems } = await openViewer()
    // The page loads without a key and asks for one; the script puts the focus in the key field.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('key')
    await page.keyboard.type(key)
    await page.keyboard.press('Enter')
    await page.locator('#viewer').waitFor()
    expect(await page.textContent('#who')).toContain('ana')
    // The filters offer exactly the server's actions and outcomes, after "any".
    const session = await uiSession(key)
    expect(session.actions).toContain('key.*')
    expect(session.revertibleActions).toEqual(expect.arrayContaining(['import.update', 'import.revert']))
    expect(await optionValues(page, '#f-action')).toEqual(['', ...session.actions])
    expect(await page.locator('#f-action option').allTextContents()).toEqual(['any', ...session.actions])
    expect(await optionValues(page, '#f-outcome')).toEqual(['', ...session.outcomes])
    await expect.poll(() => page.textContent('#chain')).toMatch(/^Audit chain intact · \d+ sealed rows$/)
    // Every row: three updates and the key's own creation, newest first.
    await expect
      .poll(() => rowTexts(page, 2))
      .toEqual(['import.update', 'import.update', 'import.update', 'key.create'])
    // The key is in this tab's sessionStorage only: not in the URL, not in a cookie.
    expect(await page.evaluate(() => sessionStorage.getItem('egw-audit-viewer-key'))).toBe(key)
    expect(page.url()).toBe(`${gateway.url}/ui`)
    expect(await page.evaluate(() => document.cookie)).toBe('')

    // Filter by import with the keyboard: the field has the focus after signing in; Enter applies.
    await tabTo(page, '#f-importId')
    await page.keyboard.type('import_leads')
    await page.keyboard.press('Enter')
    await expect.poll(() => rowTexts(page, 3)).toEqual(['import_leads', 'import_leads'])
    expect(await page.textContent('#count')).toBe('2 events match, newest first')

    // Export the filtered view as CSV: the file holds exactly those two events.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')])
    expect(download.suggestedFilename()).toMatch(/^audit-\d{8}T\d{6}Z\.csv$/)
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n')
    expect(csv[0]).toMatch(/^id,action,importId,/)
    expect(csv.slice(1).map((line) => line.split(',')[2])).toEqual(['import_leads', 'import_leads'])

    // Open the newest event with Tab + Enter: the hostile title is shown as text, nothing runs.
    await tabTo(page, '#events tbody tr:nth-child(1) button')
    await page.keyboard.press('Enter')
    await page.locator('#detail').waitFor()
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('detail')
    const changed = page.locator('#detail table.diff tr.changed')
    expect(await changed.count()).toBe(1)
    expect(await changed.locator('th').textContent()).toBe('titlechanged')
    expect(await changed.locator('td.old').textContent()).toBe('Q3 leads')
    expect(await changed.locator('td.new').textContent()).toBe(XSS_TITLE)
    expect(await page.locator('img').count()).toBe(0)
    expect(await page.textContent('#detail dl')).toContain('ops-script/1.0')

    // The older event changed the title and one metadata key; the other key stays unhighlighted.
    await page.click('#events tbody tr:nth-child(2) button')
    await expect.poll(() => changed.locator('th').allTextContents()).toEqual(['titlechanged', 'metadata.ownerchanged'])
    expect(await changed.locator('td.old').allTextContents()).toEqual(['Q2 leads', 'ana'])
    expect(await changed.locator('td.new').allTextContents()).toEqual(['Q3 leads', 'bo'])
    expect(await page.locator('#detail tr:not(.changed) th', { hasText: 'metadata.team' }).count()).toBe(1)

    // Reverting it would undo the later change: the confirmation names the fields, the API says 409.
    await tabTo(page, '#detail .revert button')
    await page.keyboard.press('Enter')
    await page.locator('#confirm[open]').waitFor()
    // "Now" is the import as it is now (read before asking), not the event's after: the title has
    // changed since (to the hostile one), and is tagged so.
    await expect.poll(() => page.locator('#confirm-changes td.old').allTextContents()).toEqual([XSS_TITLE, 'bo'])
    expect(await page.locator('#confirm-changes th').allTextContents()).toEqual([
      'titlechanged since',
      'metadata.owner',
    ])
    expect(await page.locator('#confirm-changes td.new').allTextContents()).toEqual(['Q2 leads', 'ana'])
    await page.click('#confirm-ok')
    // The 409 is forceable and names the fields changed since (the newest event changed the title
    // only): the page says which, and offers force.
    await expect
      .poll(() => page.textContent('#confirm-error'))
      .toBe(
        'Not reverted: title changed since this event. Overwrite the later changes, or cancel and revert the later events first.'
      )
    expect(await page.isVisible('#confirm-force')).toBe(true)
    expect(await page.isVisible('#confirm-ok')).toBe(false)
    expect(gateway.simulator.store.get('import_leads')?.title).toBe(XSS_TITLE)
    await page.keyboard.press('Escape')
    await expect.poll(() => page.locator('#confirm[open]').count()).toBe(0)

    // Another 409 (no forceable in its body) offers no force, whatever its message says.
    await page.route('**/audit/events/*/revert', (route) =>
      route.fulfill({
        status: 409,
        json: { error: 'event x is pending; add ?force=true', tag: 'CONFLICT', requestId: 'req_1' },
      })
    )
    await page.click('#detail .revert button')
    await page.click('#confirm-ok')
    await expect
      .poll(() => page.textContent('#confirm-error'))
      .toBe('Not reverted. event x is pending; add ?force=true (request req_1)')
    expect(await page.isVisible('#confirm-force')).toBe(false)
    expect(await page.isVisible('#confirm-ok')).toBe(true)
    await page.unroute('**/audit/events/*/revert')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.locator('#confirm[open]').count()).toBe(0)

    // Reverting the newest event goes through and shows up as the newest row.
    await page.click('#events tbody tr:nth-child(1) button')
    await page.click('#detail .revert button')
    await page.click('#confirm-ok')
    await expect
      .poll(() => page.textContent('#notice'))
      .toBe('Reverted import_leads: title back to “Q3 leads”. The revert is the newest event.')
    expect(gateway.simulator.store.get('import_leads')?.title).toBe('Q3 leads')
    await expect.poll(() => rowTexts(page, 2)).toEqual(['import.revert', 'import.update', 'import.update'])
    // The pane moved on to the revert itself; the reverted event offers no second revert.
    await expect.poll(() => page.textContent('#detail h2')).toMatch(/^import\.revert · import_leads$/)
    await page.click('#events tbody tr:nth-child(2) button')
    await expect
      .poll(() => page.textContent('#detail .revert'))
      .toMatch(/^Already reverted, by the revert of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/)
    expect(await page.locator('#detail .revert button').count()).toBe(0)

    expect(dialogs).toEqual([])
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('shows clear errors: a bad key, a key without audit:read, no revert without imports:write, an unreachable gateway', async () => {
    const { page } = await openViewer()
    await page.fill('#key', `egw_${randomBytes(32).toString('base64url')}`)
    await page.press('#key', 'Enter')
    await expect
      .poll(() => page.textContent('#key-error'))
      .toBe('The gateway did not accept this key: unknown, revoked or expired API key.')
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    // A key without audit:read is refused at the door, saying which scope it lacks.
    const readOnly = await gateway.issueKey(['imports:read'], { name: 'reader' })
    await page.fill('#key', readOnly.key)
    await page.press('#key', 'Enter')
    await expect
      .poll(() => page.textContent('#key-error'))
      .toBe(
        'This key (reader) lacks the scope audit:read, which the audit log needs. Ask an admin for a key with audit:read.'
      )
    expect(await page.isVisible('#viewer')).toBe(false)
    expect(await page.isVisible('#session')).toBe(false)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)

    // A browser key is refused for what it is, not for a scope it has.
    const browserKey = await gateway.issueKey(['audit:read'], { origins: ['https://app.example.com'] })
    await page.fill('#key', browserKey.key)
    await page.press('#key', 'Enter')
    await expect.poll(() => page.textContent('#key-error')).toMatch(/^Not allowed: this is a browser key/)
    const refusal = (await page.textContent('#key-error'))!
    expect(refusal).toMatch(/The viewer needs a server key \(one without origins\): ask an admin for one\.$/)
    expect(refusal).not.toMatch(/that scope/)
    expect(await page.isVisible('#viewer')).toBe(false)

    const auditor = await gateway.issueKey(['audit:read'])
    await page.fill('#key', auditor.key)
    await page.press('#key', 'Enter')
    await page.locator('#events tbody tr').first().waitFor()
    await page.selectOption('#f-action', 'import.update')
    await page.click('#filters button[type=submit]')
    await expect.poll(() => rowTexts(page, 2)).toEqual(['import.update', 'import.update', 'import.update'])
    await page.click('#events tbody tr button >> nth=0')
    expect(await page.textContent('#detail .revert')).toBe('Reverting needs a key that also has imports:write.')
    expect(await page.locator('#detail .revert button').count()).toBe(0)

    await page.route('**/audit/events?*', (route) => route.abort('connectionrefused'))
    await page.click('#filters button[type=submit]')
    await expect.poll(() => page.textContent('#list-error')).toMatch(/^The gateway could not be reached\./)
    await page.context().close()
  })
})

describe('the detail pane follows the list', () => {
  it('closes when its event leaves the list (other filters, an empty result, an error) and on Escape', async () => {
    const { key } = await gateway.issueKey(['audit:read'])
    const { page, problems } = await openViewer()
    await signIn(page, key)
    const openFirst = async () => {
      await page.click('#events tbody tr:nth-child(1) button')
      await page.locator('#detail').waitFor()
    }
    // Another filter: the open event is not among the new rows.
    await openFirst()
    expect(await rowTexts(page, 2)).toContain('key.create')
    await page.selectOption('#f-action', 'import.update')
    await page.click('#filters button[type=submit]')
    await expect.poll(() => rowTexts(page, 2)).not.toContain('key.create')
    expect(await page.isVisible('#detail')).toBe(false)
    // An empty result.
    await openFirst()
    await page.selectOption('#f-action', '')
    await page.fill('#f-importId', 'import_nothing_here')
    await page.click('#filters button[type=submit]')
    await page.locator('#empty').waitFor()
    expect(await page.isVisible('#detail')).toBe(false)
    // Clear lists the event again; it stays open while it is listed.
    await page.click('#clear')
    await expect.poll(() => page.locator('#events tbody tr').count()).toBeGreaterThan(3)
    await openFirst()
    await page.click('#clear')
    await expect.poll(() => page.locator('#events tbody tr.selected').count()).toBe(1)
    expect(await page.isVisible('#detail')).toBe(true)
    // An error.
    await page.route('**/audit/events?*', (route) => route.abort('connectionrefused'))
    await page.click('#filters button[type=submit]')
    await expect.poll(() => page.textContent('#list-error')).toMatch(/^The gateway could not be reached\./)
    expect(await page.isVisible('#detail')).toBe(false)
    await page.unroute('**/audit/events?*')
    // Escape closes it and gives the focus back to its row.
    await page.click('#filters button[type=submit]')
    await openFirst()
    await page.keyboard.press('Escape')
    expect(await page.isVisible('#detail')).toBe(false)
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.rowIndex)).toBe(1)
    expect(problems).toEqual([])
    await page.context().close()
  })
})

/** Signs a viewer tab in with a key and waits for the first rows. */
async function signIn(page: Page, key: string) {
  await page.fill('#key', key)
  await page.press('#key', 'Enter')
  await page.locator('#events tbody tr').first().waitFor()
}

// A gateway of its own, with data as a team would have it (generated import ids, people's and
// scripts' names, key changes, a failed and a pending attempt): the answers at a glance, the layout
// at three widths, and the docs' screenshots.
describe('the viewer at a glance, at 390, 820 and 1400 px', () => {
  let team: Gateway
  let viewerKey: string
  let readerKey: string
  let leads: string
  let speakers: string
  let syncKeyId: string

  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${team.url}/admin/keys${path}`, {
      method,
      headers: { authorization: `Bearer ${team.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status, `${method} ${path}`).toBeLessThan(300)
  }
  const teamPatch = (key: string, id: string, body: unknown) =>
    fetch(`${team.url}/websets/v0/imports/${id}`, {
      method: 'PATCH',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'user-agent': 'crm-sync/2.4 (node 20)' },
      body: JSON.stringify(body),
    })

  beforeAll(async () => {
    team = await startGateway()
    const store = team.simulator.store
    leads = store.create({
      title: 'Q3 enterprise leads (EMEA)',
      metadata: { owner: 'ana.silva', region: 'emea', source: 'hubspot' },
    }).id
    speakers = store.create({ title: 'Conference speakers 2026', entity: { type: 'person' }, metadata: {} }).id
    readerKey = (await team.issueKey(['imports:read'], { name: 'dashboard' })).key
    viewerKey = (await team.issueKey(['audit:read', 'imports:read', 'imports:write'], { name: 'ana.silva' })).key
    const sync = await team.issueKey(['imports:read', 'imports:write'], {
      name: 'crm-sync',
      expiresAt: '2027-06-30T00:00:00Z',
    })
    syncKeyId = sync.id
    const ok = async (res: Promise<Response>) => expect((await res).status).toBe(200)
    await ok(teamPatch(sync.key, leads, { metadata: { owner: 'bruno.costa', region: 'emea', source: 'hubspot' } }))
    await ok(teamPatch(sync.key, speakers, { title: 'Keynote speakers 2026' }))
    await ok(teamPatch(sync.key, speakers, { title: 'Keynote speakers 2026' }))
    await ok(teamPatch(viewerKey, leads, { title: 'Q4 enterprise leads (EMEA)' }))
    await team.settled(viewerKey, leads)
    await team.settled(viewerKey, speakers)
    // A failed attempt (Exa unreachable before the change) and a pending one (the PATCH's answer lost).
    team.simulator.faults.push({ kind: 'drop', method: 'GET', pathIncludes: speakers, times: 2 })
    expect((await teamPatch(sync.key, speakers, { title: 'Speakers: shortlist' })).status).toBe(502)
    team.simulator.faults.push({ kind: 'drop', method: 'PATCH', pathIncludes: speakers })
    expect((await teamPatch(sync.key, speakers, { metadata: { track: 'data' } })).status).toBe(502)
    // Key changes: scopes, expiry, rate limit; a rotation with a grace period; expiry cleared.
    await admin('PATCH', `/${sync.id}`, {
      scopes: ['imports:read', 'imports:write', 'audit:read'],
      rateLimit: { requests: 120, periodSeconds: 60 },
    })
    await admin('POST', `/${sync.id}/rotate`, { gracePeriodSeconds: 3600 })
    await admin('PATCH', `/${sync.id}`, { expiresAt: null })
  })
  afterAll(async () => {
    await team?.stop()
  })

  /** A signed-in tab of the team's viewer at a width. */
  async function teamViewer(width: number, options: { colorScheme?: 'light' | 'dark'; path?: string } = {}) {
    const context = await browser.newContext({
      viewport: { width, height: width < 500 ? 844 : 900 },
      timezoneId: 'Europe/Berlin',
      colorScheme: options.colorScheme ?? 'light',
    })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(err.message))
    page.on('console', (message) => {
      if (/Content Security Policy|Trusted Type/i.test(message.text())) problems.push(message.text())
    })
    await page.goto(`${team.url}${options.path ?? '/ui'}`)
    await signIn(page, viewerKey)
    return { page, problems }
  }

  /** The page is no wider than the window: nothing sticks out sideways. */
  const expectNoOverflow = async (page: Page, where: string) => {
    const [scroll, client] = await page.evaluate(() => [
      document.documentElement.scrollWidth,
      document.documentElement.clientWidth,
    ])
    expect(scroll, `${where}: page ${scroll} px wide in a ${client} px window`).toBeLessThanOrEqual(client)
  }

  /** Elements whose text wraps inside a word: a pill, an action, an id on two lines. */
  const brokenTokens = (page: Page) =>
    page.evaluate(() =>
      [...document.querySelectorAll('.pill, #events .mono.nowrap, .id, .filter-by, .badge')]
        .filter((node) => {
          const rects = node.getClientRects()
          return rects.length > 1 || (rects.length === 1 && rects[0]!.height > 30)
        })
        .map((node) => node.textContent)
    )

  const row = (page: Page, action: string, n = 0) =>
    page.locator('#events tbody tr', { has: page.locator('td:nth-child(2)', { hasText: action }) }).nth(n)

  it('shows who changed what, from what to what: inline values, key changes, what failed rows asked for, no change', async () => {
    const { page, problems } = await teamViewer(1400)
    // The time column names the time zone; each time says how long ago it was.
    expect(await page.textContent('#zone')).toBe('Europe/Berlin, UTC+01:00')
    expect(await page.locator('#events .ago').first().textContent()).toMatch(/^(just now|\d+ (sec|min)\. ago)$/)
    // Changed fields inline, from → to.
    const leadsRows = page.locator('#events tbody tr', { hasText: 'Q4 enterprise leads' })
    expect(await leadsRows.locator('.change').allTextContents()).toEqual([
      'titleQ3 enterprise leads (EMEA)→Q4 enterprise leads (EMEA)',
    ])
    expect(await page.locator('#events .change', { hasText: 'metadata.owner' }).textContent()).toBe(
      'metadata.ownerana.silva→bruno.costa'
    )
    // An update that changed nothing says so.
    expect(await page.locator('#events .no-change').allTextContents()).toEqual(['no change'])
    // The failed and the pending attempt show what they asked for.
    expect(await row(page, 'import.update', 0).locator('.what').textContent()).toBe(
      'asked: metadata = {"track":"data"}'
    )
    expect(await row(page, 'import.update', 1).locator('.what').textContent()).toBe(
      'asked: title = Speakers: shortlist'
    )
    expect(await row(page, 'import.update', 0).locator('.pill').textContent()).toBe('pending')
    expect(await row(page, 'import.update', 1).locator('.pill').textContent()).toBe('failed')
    // Key events name their subject key and say what changed; a cleared expiry reads "never".
    const keyText = async (action: string, n = 0) =>
      (await row(page, action, n).locator('.what').textContent())!.replace(/\s+/g, ' ')
    expect(await keyText('key.update', 0)).toBe(`key crm-sync ${syncKeyId}expiry 2027-06-30 02:00:00 → never`)
    expect(await keyText('key.rotate')).toMatch(
      new RegExp(
        `^key crm-sync ${syncKeyId}new secret egw_\\S+…; the old one works until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$`
      )
    )
    expect(await keyText('key.update', 1)).toBe(
      `key crm-sync ${syncKeyId}scopes +audit:read; rate limit none → 120 per minute`
    )
    expect(await row(page, 'key.create', 0).locator('.what').textContent()).toContain(
      'scopes imports:read, imports:write; expires 2027-06-30 02:00:00; rate limit none'
    )
    await page.screenshot({ path: screenshot('viewer-list.png'), fullPage: true })

    // A key event's detail says the same, and what the admin sent.
    await row(page, 'key.update', 1).locator('button.time').click()
    await expect
      .poll(() => page.textContent('#detail .facts'))
      .toContain('Key changescopes +audit:read; rate limit none → 120 per minute')
    expect(await page.textContent('#detail .facts')).toContain(
      'Asked forscopes = ["imports:read","imports:write","audit:read"]; rateLimit = {"requests":120,"periodSeconds":60}'
    )
    await page.screenshot({ path: screenshot('viewer-key-event.png') })
    // A failed row's detail shows its request body.
    await row(page, 'import.update', 1).locator('button.time').click()
    await expect.poll(() => page.textContent('#detail .facts')).toContain('Asked fortitle = Speakers: shortlist')
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('filters by a clicked import or actor, keeps the filters in the address, and restores them on reload or from a shared link', async () => {
    const { page, problems } = await teamViewer(1400)
    // Clicking an import id gives its timeline.
    await page.locator('#events tbody tr', { hasText: 'Q4 enterprise leads' }).locator('td:nth-child(3) button').click()
    await expect.poll(() => rowTexts(page, 3)).toEqual([leads, leads])
    expect(new URL(page.url()).search).toBe(`?importId=${leads}`)
    expect(await page.inputValue('#f-importId')).toBe(leads)
    // The id is cut short on screen but whole in the DOM and its tooltip.
    const id = page.locator('#events tbody tr:first-child td:nth-child(3) .id')
    expect([await id.textContent(), await id.getAttribute('title')]).toEqual([leads, leads])
    // Clicking an actor adds it.
    await page.locator('#events tbody tr:first-child td:nth-child(4) button').click()
    await expect.poll(() => rowTexts(page, 4)).toEqual(['ana.silva'])
    expect(new URL(page.url()).searchParams.get('actor')).toBe('ana.silva')
    // The newest update of this import opened: the README's picture.
    await page.click('#events tbody tr:first-child button.time')
    await page.locator('#detail tr.changed').first().waitFor()
    await page.screenshot({ path: screenshot('audit-viewer.png') })
    // A reload keeps the filters (and this tab's key).
    await page.reload()
    await page.locator('#events tbody tr').first().waitFor()
    expect(await rowTexts(page, 4)).toEqual(['ana.silva'])
    expect(await page.inputValue('#f-actor')).toBe('ana.silva')
    // Back goes to the import's whole timeline.
    await page.goBack()
    await expect.poll(() => rowTexts(page, 3)).toEqual([leads, leads])
    expect(await page.inputValue('#f-actor')).toBe('')
    // A shared link opens in another tab on the same filters once signed in there.
    const shared = await teamViewer(1400, { path: `/ui?importId=${leads}&field=metadata.owner` })
    expect(await rowTexts(shared.page, 3)).toEqual([leads])
    expect(await shared.page.inputValue('#f-field')).toBe('metadata.owner')
    // The metadata change of that import opened: the docs' detail picture.
    await shared.page.click('#events tbody tr:first-child button.time')
    await shared.page.locator('#detail tr.changed').first().waitFor()
    await shared.page.screenshot({ path: screenshot('viewer-detail.png') })
    expect([...problems, ...shared.problems]).toEqual([])
    await page.context().close()
    await shared.page.context().close()
  })

  // The three widths the issue names, and the ends of the range the layout holds for.
  for (const width of [390, 820, 1400, 360, 1600]) {
    it(`holds its layout at ${width} px: no sideways overflow, a short header, whole words, the detail in view`, async () => {
      const { page, problems } = await teamViewer(width)
      await expectNoOverflow(page, 'the list')
      // The header stays one or two lines.
      expect((await page.locator('header.bar').boundingBox())!.height).toBeLessThanOrEqual(width < 500 ? 110 : 64)
      // Export stays inside the filters' card.
      const card = (await page.locator('#filters').boundingBox())!
      for (const button of ['#export-ndjson', '#export-csv']) {
        const box = (await page.locator(button).boundingBox())!
        expect(box.x + box.width, button).toBeLessThanOrEqual(card.x + card.width)
      }
      // Below ~700 px each event is a card: no table header, cells stacked.
      expect(await page.isVisible('#events thead')).toBe(width >= 700)
      expect(await brokenTokens(page)).toEqual([])
      await page.screenshot({
        path: width === 390 ? screenshot('viewer-390.png') : artifact(`viewer-${width}.png`),
        fullPage: width === 390,
      })

      // The detail of an update with metadata: in view at once, not below the whole list.
      await page
        .locator('#events tbody tr', { has: page.locator('.change', { hasText: 'metadata.owner' }) })
        .locator('button.time')
        .click()
      const detail = page.locator('#detail')
      await detail.waitFor()
      const box = (await detail.boundingBox())!
      expect(box.y).toBeLessThan(width < 1280 ? 1 : 450)
      expect(box.x + box.width).toBeLessThanOrEqual(width)
      await expectNoOverflow(page, 'the detail')
      const [paneScroll, paneClient] = await detail.evaluate((pane) => [pane.scrollWidth, pane.clientWidth])
      expect(paneScroll, 'the detail pane is no wider than itself').toBeLessThanOrEqual(paneClient)
      expect(await brokenTokens(page)).toEqual([])
      // Diff labels never run into their values (below 700 px they sit on a line of their own).
      const overlaps = await page.evaluate(
        () =>
          [...document.querySelectorAll('#detail .diff tbody tr')].filter((tr) => {
            const [th, before] = [tr.children[0]!.getBoundingClientRect(), tr.children[1]?.getBoundingClientRect()]
            return before && th.right > before.left + 1 && th.bottom > before.top + 1
          }).length
      )
      expect(overlaps).toBe(0)
      await page.screenshot({ path: artifact(`viewer-${width}-detail.png`) })

      // The revert dialog reads the import as it is now, and fits the window.
      await page.click('#detail .revert button')
      await expect.poll(() => page.locator('#confirm-changes td.old').allTextContents()).toEqual(['bruno.costa'])
      expect(await page.locator('#confirm-changes td.new').allTextContents()).toEqual(['ana.silva'])
      const dialog = (await page.locator('#confirm').boundingBox())!
      expect([dialog.x >= 0, dialog.x + dialog.width <= width]).toEqual([true, true])
      await expectNoOverflow(page, 'the revert dialog')
      // Escape closes the dialog first, then the detail.
      await page.keyboard.press('Escape')
      await expect.poll(() => page.locator('#confirm[open]').count()).toBe(0)
      expect(await detail.isVisible()).toBe(true)
      await page.keyboard.press('Escape')
      expect(await detail.isVisible()).toBe(false)

      // What changed is there at a glance at this width, and an import id filters into the address.
      const metadataRow = page.locator('#events tbody tr', {
        has: page.locator('.change', { hasText: 'metadata.owner' }),
      })
      expect(await metadataRow.locator('.change').isVisible()).toBe(true)
      expect(await row(page, 'key.update', 0).locator('.what').isVisible()).toBe(true)
      await metadataRow.locator('td:nth-child(3) button').click()
      await expect.poll(() => rowTexts(page, 3)).toEqual([leads, leads])
      expect(new URL(page.url()).searchParams.get('importId')).toBe(leads)
      await expectNoOverflow(page, "an import's timeline")

      // A key without audit:read is refused at sign-in, in a message that fits.
      await page.click('#forget')
      await page.fill('#key', readerKey)
      await page.press('#key', 'Enter')
      await expect
        .poll(() => page.textContent('#key-error'))
        .toMatch(/^This key \(dashboard\) lacks the scope audit:read/)
      await expectNoOverflow(page, 'the refusal')
      expect(problems).toEqual([])
      await page.context().close()
    })
  }

  it('reads the import before a revert and says which fields a metadata-only revert put back', async () => {
    const partners = team.simulator.store.create({ title: 'Channel partners', metadata: { owner: 'ana.silva' } }).id
    expect((await teamPatch(viewerKey, partners, { metadata: { owner: 'joana.reis' } })).status).toBe(200)
    await team.settled(viewerKey, partners)
    const { page, problems } = await teamViewer(1400, { path: `/ui?importId=${partners}` })
    await page.click('#events tbody tr:first-child button.time')
    await page.click('#detail .revert button')
    await expect.poll(() => page.locator('#confirm-changes td.old').allTextContents()).toEqual(['joana.reis'])
    expect(await page.locator('#confirm-changes th').allTextContents()).toEqual(['metadata.owner'])
    expect(await page.locator('#confirm-changes td.new').allTextContents()).toEqual(['ana.silva'])
    await page.click('#confirm-ok')
    await expect
      .poll(() => page.textContent('#notice'))
      .toBe(`Reverted ${partners}: metadata.owner back to “ana.silva”. The revert is the newest event.`)
    expect(team.simulator.store.get(partners)?.metadata).toEqual({ owner: 'ana.silva' })
    await expect.poll(() => page.textContent('#detail h2')).toBe(`import.revert · ${partners}`)
    expect(problems).toEqual([])
    await page.context().close()
  })

  it('honours the dark-mode preference', async () => {
    const { page } = await teamViewer(1400, { colorScheme: 'dark' })
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const [r, g, b] = background.match(/\d+/g)!.map(Number)
    expect(r! + g! + b!).toBeLessThan(120)
    await page.locator('#events tbody tr', { hasText: 'metadata.owner' }).first().locator('button.time').click()
    await page.screenshot({ path: artifact('viewer-dark.png') })
    await page.context().close()
  })
})

describe('the usage view', () => {
  it('charts each key’s Exa-estimated dollars per day with its daily budget, a table beneath, names as text', async () => {
    const hostile = await gateway.issueKey(['search'], { name: '<img src=x onerror=alert(2)>' })
    const budgeted = await gateway.issueKey(['search', 'answer'], {
      name: 'research-team',
      budget: { usd: 0.05, period: 'day' },
    })
    const spend = async (key: string, path: string, body: unknown) => {
      const res = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      expect(res.status).toBe(200)
      await res.text()
    }
    await spend(hostile.key, '/search', { query: 'one', numResults: 12 })
    await spend(budgeted.key, '/search', { query: 'two' })
    await spend(budgeted.key, '/answer', { query: 'three' })
    const viewer = await gateway.issueKey(['audit:read', 'usage:read'], { name: 'finance' })
    const { page, dialogs, problems } = await openViewer()
    await signIn(page, viewer.key)
    await page.locator('#usage-table tbody tr').first().waitFor()
    expect(await page.locator('#usage').isVisible()).toBe(true)
    // Each (day, key) a bar with its title; the budgeted key's daily budget a dashed line.
    expect(await page.locator('#usage-chart svg rect.bar').count()).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#usage-chart svg line.budget').count()).toBe(1)
    const table = await page.locator('#usage-table tbody').innerText()
    expect(table).toContain('research-team')
    expect(table).toContain('$0.012') // search $0.007 + answer $0.005
    expect(table).toContain('<img src=x onerror=alert(2)>')
    expect(await page.locator('#usage img').count()).toBe(0)
    expect(dialogs).toEqual([])
    expect(problems).toEqual([])
    await page.locator('#usage').screenshot({ path: screenshot('usage-chart.png') })
    await page.context().close()
  })

  it('stays hidden for a key without usage:read', async () => {
    const auditor = await gateway.issueKey(['audit:read'])
    const { page } = await openViewer()
    await signIn(page, auditor.key)
    expect(await page.locator('#usage').isVisible()).toBe(false)
    await page.context().close()
  })
})
