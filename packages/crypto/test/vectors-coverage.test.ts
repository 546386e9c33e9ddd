// Every committed vector file must be read by a test. A test "names" a file when its source
// contains the file's path relative to test/vectors, or a directory of it that the test lists
// with listVectors(). An unread vector is a conformance claim nobody checks, so it fails here.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { listVectors } from './helpers/vectors.js'

const testDir = new URL('.', import.meta.url).pathname

function testSources(): string {
  const sources: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) {
        if (entry.name !== 'vectors') walk(path)
      } else if (entry.name.endsWith('.test.ts') && entry.name !== 'vectors-coverage.test.ts') {
        sources.push(readFileSync(path, 'utf8'))
      }
    }
  }
  walk(testDir)
  return sources.join('\n')
}

describe('conformance vectors', () => {
  const sources = testSources()
  const files = listVectors('.').filter((f) => f !== 'SOURCES.md')

  it('are present', () => {
    expect(files.length).toBeGreaterThan(0)
  })

  it('are each read by some test', () => {
    const unread = files.filter((file) => {
      const parts = file.split('/')
      // the file itself, or any ancestor directory that a test lists wholesale
      for (let i = parts.length; i > 0; i--) {
        const prefix = parts.slice(0, i).join('/')
        const quoted = [`'${prefix}'`, `'${prefix}/'`, `"${prefix}"`, `\`${prefix}\``]
        if (i === parts.length ? sources.includes(prefix) : quoted.some((q) => sources.includes(q)))
          return false
      }
      return true
    })
    expect(unread).toEqual([])
  })
})
