import { defineProject } from 'vitest/config'

export default defineProject({
  test: {
    name: 'transport-libp2p',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
})
