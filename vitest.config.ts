import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*'],
    // Fail the run on any unhandled rejection or error, as a node would crash on one.
    dangerouslyIgnoreUnhandledErrors: false,
  },
})
