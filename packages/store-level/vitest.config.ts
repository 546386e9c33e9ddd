import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'store-level',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
})
