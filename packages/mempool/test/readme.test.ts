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

  it('runs the example', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    await import('./readme-example.js')
    expect(log.mock.calls).toEqual([
      ['ReplacementUnderpricedError'],
      [['2:0', '1:0', '1:1']],
      [true],
      [false],
      [{ pending: 0, queued: 0, bytes: 0, senders: 0 }],
    ])
  })
})
