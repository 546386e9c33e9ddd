#!/usr/bin/env node
// The `bpci` command. Build first: `pnpm exec tsc -b examples/reference-node`.
import { main } from '../dist/src/cli.js'

// A reader that went away (`bpci consensus monitor | head`) ends the command quietly.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const exitCode = await main(process.argv)
// Long-running commands may leave sockets or timers of libraries behind once they are done.
process.exit(exitCode)
