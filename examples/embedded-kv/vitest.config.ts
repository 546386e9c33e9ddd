import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'embedded-kv',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
})
