// Keeps the README example compiled and run: the first ```ts block of README.md must equal
// test/readme-example.ts, which this test imports (running it). The one difference allowed is the
// package's own import specifier: inside the package the example imports the sources, since the
// published entry (dist/) exists only after a build.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const PACKAGE_SPECIFIER = "'@metanode/store-level'"
const SOURCE_SPECIFIER = "'../src/index.js'"

function firstTsBlock(markdown: string): string {
  const match = /```ts\n([\s\S]*?)```/.exec(markdown)
  if (match?.[1] === undefined) throw new Error('README.md has no ```ts block')
  return match[1]
}

describe('README example', () => {
  it('is the code of test/readme-example.ts', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
    const snippet = firstTsBlock(readme)
    expect(snippet).toContain(PACKAGE_SPECIFIER)
    expect(example).toBe(snippet.replaceAll(PACKAGE_SPECIFIER, SOURCE_SPECIFIER))
  })

  it('runs: writes, reads, scans and is refused a second lock', async () => {
    const { first, newest, refused } = await import('./readme-example.js')
    expect(new TextDecoder().decode(first)).toBe('block 1')
    expect(newest).toEqual([2, 1])
    expect(refused).toBe(true)
  })
})
