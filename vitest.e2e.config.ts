import { defineConfig } from 'vitest/config'

// End-to-end suites in Node: real `wrangler dev` processes, real clients (curl-like fetch, exa-js,
// the keys CLI, headless Chromium). Each file starts what it needs on free loopback ports.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
