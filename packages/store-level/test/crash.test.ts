import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { levelStore } from '../src/index.js'
import {
  entryValue,
  HEAD_KEY,
  KEY_KIND,
  KEYS_PER_BATCH,
  markerKey,
  readU32,
} from './fixtures/batches.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))

type WriteMode = 'sync' | 'nosync'

interface WriterRun {
  /** The batch number the child started from (read back from the store's head). */
  ready: number
  /** The last batch the child acknowledged before it died, or `ready - 1` if none. */
  lastAcked: number
  /** How the child ended. */
  signal: NodeJS.Signals | null
  /** Everything the child wrote to stderr. */
  stderr: string
}

const children = new Set<ChildProcess>()

afterEach(() => {
  // a failed assertion must not leave a writer running
  for (const child of children) child.kill('SIGKILL')
  children.clear()
})

/**
 * Runs the writer, waits for `killAfterAcks` acknowledged batches (running `whileRunning` then),
 * waits `killDelayMs` more while it keeps writing, and SIGKILLs it.
 */
async function runWriterUntilKilled(
  location: string,
  mode: WriteMode,
  killAfterAcks: number,
  killDelayMs: number,
  whileRunning: () => Promise<void> = async () => {},
): Promise<WriterRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, location, mode], {
    cwd: PACKAGE_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  let ready: number | undefined
  let lastAcked: number | undefined
  let acks = 0
  let pending = ''
  let stderr = ''
  let outOfOrder: string | undefined
  let reachedAcks: () => void = () => {}
  const enoughAcks = new Promise<void>((resolve) => {
    reachedAcks = resolve
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (line.startsWith('ready ')) {
        ready = Number(line.slice(6))
        lastAcked = ready - 1
        continue
      }
      const batch = Number(line)
      if (lastAcked === undefined || batch !== lastAcked + 1) outOfOrder ??= line
      lastAcked = batch
      if (++acks === killAfterAcks) reachedAcks()
    }
  })
  const ended = new Promise<NodeJS.Signals | null>((resolve) => {
    child.on('close', (_code, signal) => resolve(signal))
  })
  // a writer that dies on its own ends the wait too, and fails the checks below
  await Promise.race([enoughAcks, ended])
  await whileRunning()
  await new Promise((resolve) => setTimeout(resolve, killDelayMs))
  child.kill('SIGKILL')
  const signal = await ended
  children.delete(child)
  expect(outOfOrder, 'acknowledgements arrive in batch order').toBeUndefined()
  expect(ready, `writer never became ready; stderr:\n${stderr}`).toBeTypeOf('number')
  return { ready: ready!, lastAcked: lastAcked!, signal, stderr }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Reopens the store and checks every batch in it is whole, that the batches are 0..last without
 * gaps and that head and rolling key agree. Returns the last batch (-1 for an empty store).
 */
async function checkBatches(location: string): Promise<number> {
  const store = levelStore({ location })()
  await store.open()
  const entriesPerBatch = new Map<number, number>()
  const markers = new Set<number>()
  const rolling: number[] = []
  const problems: string[] = []
  let head: number | undefined
  try {
    for await (const { key, value } of store.iterate()) {
      if (equalBytes(key, HEAD_KEY)) {
        head = readU32(value)
        continue
      }
      const batch = readU32(key, 1)
      if (key[0] === KEY_KIND.entry && key.length === 6) {
        const index = key[5]!
        if (!equalBytes(value, entryValue(batch, index)))
          problems.push(`bad value ${batch}/${index}`)
        entriesPerBatch.set(batch, (entriesPerBatch.get(batch) ?? 0) + 1)
      } else if (key[0] === KEY_KIND.marker && equalBytes(key, markerKey(batch))) {
        if (readU32(value) !== batch) problems.push(`bad marker ${batch}`)
        markers.add(batch)
      } else if (key[0] === KEY_KIND.rolling && key.length === 5) {
        rolling.push(batch)
      } else {
        problems.push(`stray key ${Array.from(key).join(',')}`)
      }
    }
  } finally {
    await store.close()
  }
  const present = new Set([...entriesPerBatch.keys(), ...markers])
  for (const batch of present) {
    const entries = entriesPerBatch.get(batch) ?? 0
    if (entries !== KEYS_PER_BATCH || !markers.has(batch)) {
      problems.push(`batch ${batch} is partial: ${entries} entries, marker ${markers.has(batch)}`)
    }
  }
  const last = present.size - 1
  for (let batch = 0; batch <= last; batch++) {
    if (!present.has(batch)) problems.push(`gap: batch ${batch} missing below ${last}`)
  }
  if (last >= 0) {
    if (head !== last) problems.push(`head ${head} but last batch ${last}`)
    if (rolling.length !== 1 || rolling[0] !== last) problems.push(`rolling keys ${rolling}`)
  } else if (head !== undefined || rolling.length > 0) {
    problems.push('head or rolling key without batches')
  }
  expect(problems).toEqual([])
  return last
}

describe('crash safety', () => {
  it('after SIGKILL mid-stream every batch is wholly present or wholly absent, as a prefix', async () => {
    const location = await mkdtemp(join(tmpdir(), 'metanode-store-level-crash-'))
    const rounds: { mode: WriteMode; killAfterAcks: number; killDelayMs: number }[] = [
      { mode: 'nosync', killAfterAcks: 1, killDelayMs: 0 },
      { mode: 'nosync', killAfterAcks: 20, killDelayMs: 37 },
      { mode: 'sync', killAfterAcks: 5, killDelayMs: 23 },
      { mode: 'nosync', killAfterAcks: 60, killDelayMs: 150 },
      { mode: 'sync', killAfterAcks: 10, killDelayMs: 90 },
    ]
    try {
      let last = -1
      for (const [round, { mode, killAfterAcks, killDelayMs }] of rounds.entries()) {
        const run = await runWriterUntilKilled(
          location,
          mode,
          killAfterAcks,
          killDelayMs,
          round === 0
            ? async () => {
                // the live writer holds LevelDB's lock: another process cannot open the store
                const intruder = levelStore({ location })()
                await expect(intruder.open()).rejects.toMatchObject({
                  name: 'StoreLockedError',
                  cause: { cause: { code: 'LEVEL_LOCKED' } },
                })
                expect(intruder.status).toBe('closed')
              }
            : undefined,
        )
        expect(run.signal, `writer died before the kill; stderr:\n${run.stderr}`).toBe('SIGKILL')
        // the writer resumes after the last batch the previous recovery found
        expect(run.ready).toBe(last + 1)
        expect(run.lastAcked - run.ready + 1).toBeGreaterThanOrEqual(killAfterAcks)
        last = await checkBatches(location)
        // acknowledged batches survive a process kill even without fsync; at most the batch in
        // flight (written but not yet acknowledged) lands on top of them
        expect(last).toBeGreaterThanOrEqual(run.lastAcked)
        expect(last).toBeLessThanOrEqual(run.lastAcked + 1)
      }
    } finally {
      await rm(location, { recursive: true, force: true })
    }
  })
})
