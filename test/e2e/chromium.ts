import { existsSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it): playwright-core never downloads one. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Headless Chromium as these suites run it: no sandbox (root), and none of the background
 * connections that this machine's closed network would refuse.
 */
export function launchChromium(suite: string): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium is not installed at ${CHROMIUM}: ${suite} (apt-get install chromium)`)
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}
