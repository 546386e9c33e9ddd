import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'

const here = (path: string): URL => new URL(path, import.meta.url)

describe('README', () => {
  it('shows the example that this test compiles and runs', async () => {
    const readme = await readFile(here('../README.md'), 'utf8')
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    const example = await readFile(here('./readme-example.ts'), 'utf8')
    // The copy under test imports the sources; readers import the published package.
    expect(snippet).toBe(example.replace("from '../src/index.js'", "from '@metanode/sim'"))
  })

  it('runs the example cleanly and reproducibly', async () => {
    const { result } = await import('./readme-example.js')
    expect(result.violations).toEqual([])
    expect(result.stats).toMatchObject({ crashes: 1, restarts: 1, partitions: 1, heals: 1 })
    expect(result.stats.drops.partition).toBeGreaterThan(0)
    expect(result.trace.length).toBeGreaterThan(100)
  })
})
