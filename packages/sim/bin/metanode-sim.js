#!/usr/bin/env node
// The `metanode-sim` command: a thin wrapper over the compiled CLI (run `pnpm build` first when
// working from a checkout).
import { main } from '../dist/src/cli.js'

process.exitCode = await main(process.argv.slice(2))
