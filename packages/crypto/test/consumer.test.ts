// The package as a user receives it: packed, installed into a fresh project outside the workspace,
// its README example type-checked against the published declarations and run.
import { execFileSync } from 'node:child_process'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error plain .mjs helper without declarations
import { firstTsBlock, installPacked } from '../../../scripts/consumer.mjs'

const packageDir = new URL('..', import.meta.url).pathname
const require = createRequire(import.meta.url)

describe('packed @metanode/crypto', () => {
  if (!existsSync(join(packageDir, 'dist/src/hash.js'))) {
    throw new Error('build the package first (pnpm build): the consumer test packs dist/')
  }
  const { projectDir, files } = installPacked(packageDir) as { projectDir: string; files: string[] }
  afterAll(() => rmSync(projectDir, { recursive: true, force: true }))

  it('ships the compiled modules and sources, not tests or vectors', () => {
    for (const module of [
      'hash',
      'ed25519',
      'bls',
      'aead',
      'kex',
      'merkle',
      'cid',
      'keystore',
      'bytes',
    ]) {
      expect(files).toContain(`dist/src/${module}.js`)
      expect(files).toContain(`dist/src/${module}.d.ts`)
    }
    expect(files.some((f) => f.startsWith('test/'))).toBe(false)
  })

  it('runs the README example, type-checked against the published types', () => {
    const example = firstTsBlock(join(packageDir, 'README.md')) as string
    writeFileSync(join(projectDir, 'example.ts'), example)
    writeFileSync(
      join(projectDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          exactOptionalPropertyTypes: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ['example.ts'],
      }),
    )
    const tsc = require.resolve('typescript/bin/tsc', { paths: [join(packageDir, '../..')] })
    execFileSync(process.execPath, [tsc, '-p', projectDir], { cwd: projectDir, stdio: 'pipe' })
    const tsx = require.resolve('tsx/cli')
    const output = execFileSync(process.execPath, [tsx, 'example.ts'], {
      cwd: projectDir,
      encoding: 'utf8',
    })
    expect(output).toContain('ok')
  })
})
