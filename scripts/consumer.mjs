// Installs a workspace package the way a user gets it: `npm pack` produces the tarball, which is
// unpacked into node_modules of a fresh project outside the workspace. The tarball's runtime
// dependencies are linked from the workspace's already-installed copies, because tests must not
// download anything. What is exercised is exactly what a user receives: the packed file list,
// the `exports` map and the published type declarations.
import { execFileSync } from 'node:child_process'
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * @param {string} packageDir absolute path of the workspace package
 * @returns {{ projectDir: string, tarball: string, files: string[] }}
 */
export function installPacked(packageDir) {
  const projectDir = mkdtempSync(join(tmpdir(), 'metanode-consumer-'))
  const packOut = execFileSync('npm', ['pack', '--json', '--pack-destination', projectDir], {
    cwd: packageDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const [packed] = JSON.parse(packOut)
  const tarball = join(projectDir, packed.filename)
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
  const target = join(projectDir, 'node_modules', ...manifest.name.split('/'))
  mkdirSync(target, { recursive: true })
  execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'])
  for (const dep of Object.keys(manifest.dependencies ?? {})) {
    const link = join(projectDir, 'node_modules', ...dep.split('/'))
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(realpathSync(join(packageDir, 'node_modules', dep)), link, 'dir')
  }
  writeFileSync(
    join(projectDir, 'package.json'),
    JSON.stringify(
      {
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: { [manifest.name]: `file:${packed.filename}` },
      },
      null,
      2,
    ),
  )
  return { projectDir, tarball, files: packed.files.map((f) => f.path) }
}

/** The first fenced ```ts block of a Markdown file. */
export function firstTsBlock(markdownPath) {
  const text = readFileSync(markdownPath, 'utf8')
  const match = /```ts\n([\s\S]*?)```/.exec(text)
  if (match === null) throw new Error(`no \`\`\`ts block in ${markdownPath}`)
  return match[1]
}
