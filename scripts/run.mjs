#!/usr/bin/env node
// The two newcomer commands, runnable with nothing but Node and npm:
//   npm start  -> install everything, build, start a 4-validator devnet (the main job)
//   npm test   -> install everything, build, run the whole test suite
// pnpm is used when present; otherwise the pinned version is fetched through npx.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('..', import.meta.url)
const { packageManager } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
const pinned = packageManager.split('@')[1]

function has(cmd) {
  const probe = spawnSync(cmd, ['--version'], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  })
  return probe.status === 0 ? probe.stdout.trim() : undefined
}

const local = has('pnpm')
const pnpm = local?.startsWith('10.') ? ['pnpm'] : ['npx', '--yes', `pnpm@${pinned}`]

function run(args) {
  const [cmd, ...rest] = [...pnpm, ...args]
  console.log(`\n> ${[cmd, ...rest].join(' ')}`)
  const result = spawnSync(cmd, rest, {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

const job = process.argv[2]
const frozen = process.env.CI ? ['--frozen-lockfile'] : []
run(['install', ...frozen])
run(['build'])
if (job === 'start') {
  // A 4-validator devnet on loopback: APIs on ports 8080-8083, data kept in .devnet (run it again
  // to resume the chain; delete .devnet to start over). Ctrl-C stops every validator.
  const passthrough = process.argv.slice(3)
  run([
    'bpci',
    'devnet',
    '--validators',
    '4',
    '--base-port',
    '8080',
    '--data-dir',
    '.devnet',
    ...passthrough,
  ])
} else if (job === 'test') {
  // vitest's own summary is for people; the JSON report gives the plain closing line CI reads
  const dir = mkdtempSync(join(tmpdir(), 'metanode-test-'))
  const report = join(dir, 'report.json')
  const status = run(
    ['test:unit', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`],
    {
      exitOnFailure: false,
    },
  )
  try {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests } = JSON.parse(
      readFileSync(report, 'utf8'),
    )
    console.log(
      `\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped`,
    )
  } catch {
    console.log('\ntests: no report was written')
  }
  rmSync(dir, { recursive: true, force: true })
  process.exit(status)
} else {
  console.error(`unknown job: ${job}`)
  process.exit(2)
}
