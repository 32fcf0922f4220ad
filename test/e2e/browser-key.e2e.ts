import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser } from 'playwright-core'
import { launchChromium } from './chromium.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_IMPORTS } from '../../simulator/server.ts'
import { startGateway, type Gateway } from './harness.ts'
import { printedSecret, runKeysCli } from './keys-cli.ts'

/** The browser key example of docs/keys.md, as a reader copies it (the first ```html block). */
function readmePage(gatewayUrl: string, key: string): string {
  const readme = readFileSync(new URL('../../docs/keys.md', import.meta.url), 'utf8')
  const html = /```html\n([\s\S]*?)```/.exec(readme)?.[1]
  if (!html) throw new Error('docs/keys.md has no ```html example')
  // The two edits a reader makes: the gateway's address (npm start's, here another port) and the key.
  expect(html).toContain("'http://127.0.0.1:8787'")
  expect(html).toContain("'egw_PASTE_YOUR_BROWSER_KEY_HERE'")
  return html
    .replace("'http://127.0.0.1:8787'", `'${gatewayUrl}'`)
    .replace("'egw_PASTE_YOUR_BROWSER_KEY_HERE'", `'${key}'`)
}

/** A static server on a free loopback port, serving `html` at /demo.html: the page's origin. */
async function servePage(html: () => string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url !== '/demo.html') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

let gateway: Gateway
let browser: Browser
const servers: Server[] = []
let page: string

beforeAll(async () => {
  gateway = await startGateway({ seed: DEMO_IMPORTS })
  browser = await launchChromium('this suite drives the browser key example of docs/keys.md in it')
})
afterAll(async () => {
  await browser?.close()
  for (const server of servers) server.close()
  await gateway?.stop()
})

async function resultShownAt(url: string): Promise<string> {
  const tab = await browser.newPage()
  try {
    await tab.goto(url)
    await tab.waitForFunction(() => document.getElementById('result')?.textContent !== 'loading…')
    return (await tab.textContent('#result')) ?? ''
  } finally {
    await tab.close()
  }
}

describe('the browser key example of docs/keys.md in headless Chromium', () => {
  it('reads an import from the page at the key’s origin, and fails from any other origin', async () => {
    const own = await servePage(() => page)
    const other = await servePage(() => page)
    servers.push(own.server, other.server)

    // Issued as docs/keys.md says, with the CLI; the page's origin is the key's only origin.
    const created = await runKeysCli(
      [
        'create',
        '--name',
        'demo-page',
        '--scopes',
        'imports:read',
        '--origins',
        own.origin,
        '--rate-limit',
        '60/60',
        '--url',
        gateway.url,
      ],
      { ADMIN_TOKEN: gateway.adminToken }
    )
    expect(created.code).toBe(0)
    page = readmePage(gateway.url, printedSecret(created))

    expect(await resultShownAt(`${own.origin}/demo.html`)).toBe('import_demo_leads: Q2 leads')
    const gets = () => gateway.simulator.requests.filter((r) => r.method === 'GET').length
    const before = gets()
    expect(await resultShownAt(`${other.origin}/demo.html`)).toMatch(
      /^request failed .*is http:\/\/127\.0\.0\.1:\d+ one of the key's origins\?/
    )
    expect(gets()).toBe(before)
  })
})
