import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runExample } from './readme-example.js'

describe('README example', () => {
  it('is the file the tests run', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8')
    expect(block).toBe(example)
  })

  it('runs four validators over ibft, applies the transfer and follows the chain with a light client', async () => {
    expect(await runExample()).toEqual({ bobBalance: 250n, lightClientHeight: 3 })
  })
})
