import { defineConfig } from 'vitest/config'

// Tests run against the TypeScript sources; worker threads load the compiled JS in dist/,
// which `npm test` builds first (see package.json).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
})
