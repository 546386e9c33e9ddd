// Runs the built `bpci` command line as a child process, collecting its output.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../bin/bpci.js', import.meta.url))
// bin/bpci.js loads the compiled command line
const BUILT_CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url))

/** A running `bpci`. */
export interface Spawned {
  child: ChildProcessWithoutNullStreams
  /** Everything written to stdout so far. */
  stdout(): string
  /** Everything written to stderr so far. */
  stderr(): string
  /** The exit code (null when killed by a signal); rejects when the process cannot start. */
  exited: Promise<number | null>
}

/** Starts `bpci args...` with `env` on top of this process's environment (debug output off). */
export function spawnBpci(args: readonly string[], env: NodeJS.ProcessEnv = {}): Spawned {
  if (!existsSync(BUILT_CLI)) {
    throw new Error(`${BUILT_CLI} is missing: run \`pnpm exec tsc -b examples/reference-node\``)
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, BPCI_DEBUG: '', ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Runs `bpci args...` to completion. */
export async function runBpci(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = spawnBpci(args, env)
  const code = await run.exited
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}
