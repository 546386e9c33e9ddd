// Keeps the README example compiled and run: the first ```ts block of README.md must be exactly
// test/readme-example.ts, which this test imports (running it against the built package).
import { readFile } from 'node:fs/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('README', () => {
  it('shows the example that test/readme-example.ts runs', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
    const example = await readFile(new URL('./readme-example.ts', import.meta.url), 'utf8')
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(snippet).toBe(example)
  })

  it('runs the example: two nodes connect, send and answer a request', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    await import('./readme-example.js')
    expect(log.mock.calls).toEqual([[true], ['direct: hello'], ['hello 12D3KooW']])
  })
})
