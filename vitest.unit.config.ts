import { defineConfig } from 'vitest/config'

// Unit tests of the pure pieces (diff, seal, GCRA, JSON-body checks, ids, origins, CSV) in Node:
// no workerd to start per file, so the whole folder runs in a couple of seconds.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
  },
})
