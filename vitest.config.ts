import { readFile } from 'node:fs/promises'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'
import { createExaSimulator } from './simulator/app.ts'
import { OBSERVER_ORIGIN, SIMULATOR_ORIGIN, TEST_ADMIN_TOKEN, TEST_EXA_API_KEY } from './test/support/secrets.ts'
import { createLogObserver, LogLeaksLastSequencer } from './test/support/log-observer.ts'

export default defineConfig(async () => {
  // One simulator for the run: test files share it, so they run one at a time and each test
  // seeds its own imports (see test/helpers.ts).
  const simulator = createExaSimulator({ apiKey: TEST_EXA_API_KEY })
  const logObserver = createLogObserver()
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations('./migrations'),
            TEST_ROUTES: await readFile('./docs/routes.md', 'utf8'),
            EXA_API_KEY: TEST_EXA_API_KEY,
            ADMIN_TOKEN: TEST_ADMIN_TOKEN,
            EXA_BASE_URL: SIMULATOR_ORIGIN,
            UPSTREAM_TIMEOUT_MS: '1000',
            // An origin CORS allows without any key listing it (test/cors.test.ts).
            ALLOWED_ORIGINS: 'https://console.example.com',
          },
          // Every outbound fetch of the worker (and of the tests) lands here: the simulator for
          // Exa's origin, a failure for anything else, so nothing can leave the machine.
          outboundService: async (request: Request) => {
            const { origin } = new URL(request.url)
            if (origin === OBSERVER_ORIGIN) return logObserver.fetch(request)
            if (origin !== SIMULATOR_ORIGIN) {
              return new Response(`unexpected outbound request to ${request.url}`, { status: 599 })
            }
            // A `drop` fault throws here, which miniflare turns into a 500 with a text body: the
            // pool cannot reset a connection. test/e2e/faults.e2e.ts covers real resets.
            return simulator.fetch(request)
          },
        },
      }),
    ],
    test: {
      setupFiles: ['./test/support/apply-migrations.ts'],
      include: ['test/**/*.test.ts'],
      exclude: ['test/e2e/**', 'test/unit/**'],
      fileParallelism: false,
      onConsoleLog: logObserver.onConsoleLog,
      sequence: { sequencer: LogLeaksLastSequencer },
    },
  }
})
