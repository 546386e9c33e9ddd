import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RangeOptions, StoreEntry } from '@metanode/core'
import { compareBytes, isKeyInRange, isMetanodeError, STORE_LIMITS } from '@metanode/core'
import { ClassicLevel } from 'classic-level'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { operationError } from '../src/errors.js'
import { LevelStore, levelStore } from '../src/index.js'

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)

async function collect(iterable: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = []
  for await (const entry of iterable) entries.push(entry)
  return entries
}

const keysOf = (entries: readonly StoreEntry[]): number[][] => entries.map((e) => Array.from(e.key))

let location: string
const opened: LevelStore[] = []

/** A store on the test's directory, closed again after the test. */
function storeAt(path = location, init: Partial<Parameters<typeof levelStore>[0]> = {}) {
  const store = levelStore({ location: path, ...init })()
  opened.push(store)
  return store
}

beforeEach(async () => {
  location = await mkdtemp(join(tmpdir(), 'metanode-store-level-'))
})

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close()
  await rm(location, { recursive: true, force: true })
})

describe('levelStore init', () => {
  it('rejects malformed configuration when created', () => {
    expect(() => levelStore(undefined as never)).toThrow(TypeError)
    expect(() => levelStore({ location: 5 as never })).toThrow(TypeError)
    expect(() => levelStore({ location: '' })).toThrow(RangeError)
    expect(() => levelStore({ location, sync: 'yes' as never })).toThrow(TypeError)
    expect(() => levelStore({ location, createIfMissing: 1 as never })).toThrow(TypeError)
    expect(() => levelStore({ location, cacheSize: 1.5 })).toThrow(TypeError)
    expect(() => levelStore({ location, cacheSize: -1 })).toThrow(RangeError)
    expect(() => levelStore({ location, writeBufferSize: 2 ** 32 })).toThrow(RangeError)
  })

  it('starts closed, at the given location', () => {
    const store = levelStore({ location })()
    expect(store).toBeInstanceOf(LevelStore)
    expect(store.status).toBe('closed')
    expect(store.location).toBe(location)
  })
})

describe('open failures', () => {
  it('maps a lock held by another store to StoreLockedError, and opens once it is released', async () => {
    const first = storeAt()
    await first.open()
    await first.put(bytes(1), bytes(1))
    const second = storeAt()
    const error: unknown = await second.open().then(
      () => undefined,
      (reason: unknown) => reason,
    )
    expect(isMetanodeError(error, 'StoreLockedError')).toBe(true)
    expect(error).toMatchObject({
      details: { location, operation: 'open' },
      cause: { code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED' } },
    })
    expect(second.status).toBe('closed')
    await expect(second.get(bytes(1))).rejects.toMatchObject({ name: 'StoreClosedError' })
    await first.close()
    await second.open()
    expect(await second.get(bytes(1))).toEqual(bytes(1))
  })

  it('maps a missing database with createIfMissing: false to StoreNotFoundError', async () => {
    for (const path of [join(location, 'absent'), join(location, 'absent', 'nested'), location]) {
      const store = storeAt(path, { createIfMissing: false })
      await expect(store.open()).rejects.toMatchObject({ name: 'StoreNotFoundError' })
      expect(store.status).toBe('closed')
    }
    // nothing was created on the way
    expect(await readdir(location)).toEqual([])
  })

  it('opens an existing database with createIfMissing: false', async () => {
    const creator = storeAt()
    await creator.open()
    await creator.put(bytes(7), bytes(7))
    await creator.close()
    const store = storeAt(location, { createIfMissing: false })
    await store.open()
    expect(await store.get(bytes(7))).toEqual(bytes(7))
  })

  it('maps damaged files to StoreCorruptionError', async () => {
    const creator = storeAt()
    await creator.open()
    await creator.put(bytes(1), bytes(1))
    await creator.close()
    const manifest = (await readdir(location)).find((name) => name.startsWith('MANIFEST-'))
    expect(manifest).toBeDefined()
    await writeFile(join(location, manifest!), 'not a LevelDB manifest, just some bytes')
    const store = storeAt()
    await expect(store.open()).rejects.toMatchObject({
      name: 'StoreCorruptionError',
      cause: { cause: { code: 'LEVEL_CORRUPTION' } },
    })
    expect(store.status).toBe('closed')
  })
})

describe('operation errors', () => {
  it('maps classic-level codes to named errors that keep the original as cause', () => {
    const closed = Object.assign(new Error('Database is not open'), {
      code: 'LEVEL_DATABASE_NOT_OPEN',
    })
    const corrupt = Object.assign(new Error('Corruption: bad block'), { code: 'LEVEL_CORRUPTION' })
    const io = Object.assign(new Error('IO error: No space left'), { code: 'LEVEL_IO_ERROR' })
    const mapped = [closed, corrupt, io, new Error('no code')].map((cause) =>
      operationError(cause, 'put', '/db'),
    )
    expect(mapped.map((error) => error.name)).toEqual([
      'StoreClosedError',
      'StoreCorruptionError',
      'StoreIOError',
      'StoreIOError',
    ])
    expect(mapped[2]).toMatchObject({ cause: io, details: { location: '/db', operation: 'put' } })
  })
})

describe('lifecycle', () => {
  it('lets concurrent open() calls share one opening', async () => {
    const store = storeAt()
    await Promise.all([store.open(), store.open(), store.open()])
    expect(store.status).toBe('open')
  })

  it('settles open() and close() called together in call order', async () => {
    const store = storeAt()
    await Promise.all([store.open(), store.close()])
    expect(store.status).toBe('closed')
    await Promise.all([store.open(), store.close(), store.open()])
    expect(store.status).toBe('open')
  })

  it('completes writes called before close(), even unawaited', async () => {
    const store = storeAt()
    await store.open()
    const writes = Array.from({ length: 200 }, (_, i) =>
      store.put(Uint8Array.of(i >> 8, i & 0xff), Uint8Array.of(i & 0xff)),
    )
    writes.push(store.batch([{ type: 'put', key: bytes(0xff), value: bytes(1) }]))
    await store.close()
    await Promise.all(writes)
    await store.open()
    expect((await collect(store.iterate())).length).toBe(201)
  })
})

describe('returned bytes', () => {
  it('are plain Uint8Arrays owning exactly their bytes, across read-ahead chunks', async () => {
    const store = storeAt()
    await store.open()
    const count = 3000
    const operations = Array.from({ length: count }, (_, i) => ({
      type: 'put' as const,
      key: Uint8Array.of(i >> 8, i & 0xff),
      value: Uint8Array.of(i & 0xff, 1, 2),
    }))
    await store.batch(operations)
    let seen = 0
    for await (const { key, value } of store.iterate()) {
      for (const part of [key, value]) {
        expect(Object.getPrototypeOf(part)).toBe(Uint8Array.prototype)
        // no pooled memory: `.buffer` exposes nothing but this value
        expect(part.byteOffset).toBe(0)
        expect(part.buffer.byteLength).toBe(part.byteLength)
      }
      seen++
    }
    expect(seen).toBe(count)
    const value = await store.get(Uint8Array.of(0, 5))
    expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype)
    expect(value?.buffer.byteLength).toBe(3)
  })
})

describe('reused buffers', () => {
  it('read their bytes when called, so unawaited calls can share one scratch buffer', async () => {
    const store = storeAt()
    await store.open()
    const scratchKey = new Uint8Array(1)
    const scratchValue = new Uint8Array(1)
    const writes: Promise<void>[] = []
    for (let i = 0; i < 60; i++) {
      scratchKey[0] = i
      scratchValue[0] = i
      writes.push(
        i % 3 === 0
          ? store.batch([{ type: 'put', key: scratchKey, value: scratchValue }])
          : store.put(scratchKey, scratchValue),
      )
    }
    await Promise.all(writes)
    const reads: Promise<Uint8Array | undefined>[] = []
    const checks: Promise<boolean>[] = []
    for (let i = 0; i < 61; i++) {
      scratchKey[0] = i
      reads.push(store.get(scratchKey))
      checks.push(store.has(scratchKey))
    }
    const values = await Promise.all(reads)
    expect(values.map((value) => value?.[0])).toEqual([
      ...Array.from({ length: 60 }, (_, i) => i),
      undefined,
    ])
    expect(await Promise.all(checks)).toEqual([...Array(60).fill(true), false])
  })
})

describe('limits', () => {
  it('rejects a value above maxValueBytes and a batch above maxBatchOperations with RangeError', async () => {
    const store = storeAt()
    await store.open()
    await expect(
      store.put(bytes(1), new Uint8Array(STORE_LIMITS.maxValueBytes + 1)),
    ).rejects.toThrow(RangeError)
    const operation = { type: 'del' as const, key: bytes(1) }
    const tooMany = new Array(STORE_LIMITS.maxBatchOperations + 1).fill(operation)
    await expect(store.batch(tooMany)).rejects.toThrow(RangeError)
    expect(await store.has(bytes(1))).toBe(false)
  })
})

describe('call order', () => {
  type Step =
    | { kind: 'put'; key: number; value: number }
    | { kind: 'del'; key: number }
    | { kind: 'batch'; puts: [number, number][]; dels: number[] }
    | { kind: 'get'; key: number }

  const key = (k: number) => Uint8Array.of(k)
  const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), key: fc.nat(3), value: fc.nat(255) }),
    fc.record({ kind: fc.constant('del' as const), key: fc.nat(3) }),
    fc.record({
      kind: fc.constant('batch' as const),
      puts: fc.array(fc.tuple(fc.nat(3), fc.nat(255)), { maxLength: 4 }),
      dels: fc.array(fc.nat(3), { maxLength: 3 }),
    }),
    fc.record({ kind: fc.constant('get' as const), key: fc.nat(3) }),
  )

  it('leaves the value of the last unawaited write to a key', async () => {
    const store = storeAt()
    await store.open()
    for (let round = 0; round < 20; round++) {
      const writes: Promise<void>[] = []
      for (let i = 0; i < 50; i++) {
        writes.push(store.put(bytes(1), Uint8Array.of(i)))
        writes.push(
          i % 2 === 0
            ? store.del(bytes(2))
            : store.batch([{ type: 'put', key: bytes(2), value: Uint8Array.of(i) }]),
        )
      }
      await Promise.all(writes)
      expect(await store.get(bytes(1))).toEqual(Uint8Array.of(49))
      expect(await store.get(bytes(2))).toEqual(Uint8Array.of(49))
    }
  })

  it('applies unawaited writes in call order, and reads see every write called before them', async () => {
    const store = storeAt(location, { sync: true })
    await store.open()
    await fc.assert(
      fc.asyncProperty(fc.array(stepArbitrary, { minLength: 1, maxLength: 30 }), async (steps) => {
        await store.batch(Array.from({ length: 4 }, (_, k) => ({ type: 'del', key: key(k) })))
        const model = new Map<number, number>()
        // the model after each step: a read called at step i may see the state of any step >= i
        // (writes called after it but before it ran), never one before i
        const states: Map<number, number>[] = []
        const reads: { step: number; key: number; result: Promise<Uint8Array | undefined> }[] = []
        const writes: Promise<unknown>[] = []
        for (const step of steps) {
          if (step.kind === 'put') {
            model.set(step.key, step.value)
            writes.push(store.put(key(step.key), Uint8Array.of(step.value)))
          } else if (step.kind === 'del') {
            model.delete(step.key)
            writes.push(store.del(key(step.key)))
          } else if (step.kind === 'batch') {
            const operations = [
              ...step.puts.map(([k, v]) => ({
                type: 'put' as const,
                key: key(k),
                value: bytes(v),
              })),
              ...step.dels.map((k) => ({ type: 'del' as const, key: key(k) })),
            ]
            for (const [k, v] of step.puts) model.set(k, v)
            for (const k of step.dels) model.delete(k)
            writes.push(store.batch(operations))
          } else {
            reads.push({ step: states.length, key: step.key, result: store.get(key(step.key)) })
          }
          states.push(new Map(model))
        }
        await Promise.all(writes)
        for (const read of reads) {
          const value = await read.result
          const allowed = states.slice(read.step).map((state) => state.get(read.key))
          expect(allowed).toContain(value === undefined ? undefined : value[0])
        }
        const entries = await collect(store.iterate())
        const expected = [...model.entries()].sort(([a], [b]) => a - b)
        expect(entries.map((e) => [e.key[0], e.value[0]])).toEqual(expected)
      }),
      { numRuns: 40 },
    )
  })
})

describe('iterate', () => {
  const boundArbitrary = fc.option(fc.uint8Array({ minLength: 0, maxLength: 3 }), {
    nil: undefined,
  })

  it('matches the contract for any mix of bounds, including gt with gte and lt with lte', async () => {
    const store = storeAt()
    await store.open()
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 3 }), {
          maxLength: 25,
          selector: (k) => Array.from(k).join(','),
        }),
        fc.record({
          gt: boundArbitrary,
          gte: boundArbitrary,
          lt: boundArbitrary,
          lte: boundArbitrary,
          reverse: fc.boolean(),
          limit: fc.option(fc.nat(30), { nil: undefined }),
        }),
        async (keys, generated) => {
          const existing = await collect(store.iterate())
          await store.batch([
            ...existing.map((e) => ({ type: 'del' as const, key: e.key })),
            ...keys.map((k) => ({ type: 'put' as const, key: k, value: bytes(k.length) })),
          ])
          const options = Object.fromEntries(
            Object.entries(generated).filter(([, v]) => v !== undefined),
          ) as RangeOptions
          const expected = keys.filter((k) => isKeyInRange(k, options)).sort(compareBytes)
          if (options.reverse === true) expected.reverse()
          const limited = options.limit === undefined ? expected : expected.slice(0, options.limit)
          expect(keysOf(await collect(store.iterate(options)))).toEqual(
            limited.map((k) => Array.from(k)),
          )
        },
      ),
      { numRuns: 60 },
    )
  })

  it('reads the snapshot of its first next(), past the first read-ahead chunk', async () => {
    const store = storeAt()
    await store.open()
    const count = 300
    const key = (i: number) => Uint8Array.of(1, i >> 8, i & 0xff)
    await store.batch(
      Array.from({ length: count }, (_, i) => ({
        type: 'put' as const,
        key: key(i),
        value: bytes(1),
      })),
    )
    const seen: number[] = []
    for await (const entry of store.iterate()) {
      if (seen.length === 0) {
        await store.batch([
          ...Array.from({ length: count }, (_, i) => ({ type: 'del' as const, key: key(i) })),
          { type: 'put', key: bytes(0xff), value: bytes(2) },
        ])
      }
      expect(entry.value).toEqual(bytes(1))
      seen.push((entry.key[1]! << 8) | entry.key[2]!)
    }
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i))
    expect(keysOf(await collect(store.iterate()))).toEqual([[0xff]])
  })

  it('takes its bounds when iterate() is called, not when the scan starts', async () => {
    const store = storeAt()
    await store.open()
    await store.batch(
      [1, 2, 3, 4].map((k) => ({ type: 'put' as const, key: bytes(k), value: bytes(k) })),
    )
    const lower = bytes(3)
    const scan = store.iterate({ gte: lower })
    lower[0] = 1
    expect(keysOf(await collect(scan))).toEqual([[3], [4]])
  })

  it('releases the LevelDB iterator when the consumer breaks early', async () => {
    const store = storeAt()
    await store.open()
    await store.batch(
      [1, 2, 3].map((k) => ({ type: 'put' as const, key: bytes(k), value: bytes(k) })),
    )
    const spy = vi.spyOn(ClassicLevel.prototype, 'iterator')
    try {
      for await (const entry of store.iterate()) {
        expect(entry.key).toEqual(bytes(1))
        break
      }
      expect(spy).toHaveBeenCalledTimes(1)
      const iterator = spy.mock.results[0]?.value as { next(): Promise<unknown> }
      // the store is still open: only the scan's own cleanup can have closed the iterator
      expect(store.status).toBe('open')
      await expect(iterator.next()).rejects.toMatchObject({ code: 'LEVEL_ITERATOR_NOT_OPEN' })
    } finally {
      spy.mockRestore()
    }
  })

  it('ends a paused scan with StoreClosedError after a close and reopen', async () => {
    const store = storeAt()
    await store.open()
    await store.batch(
      [1, 2, 3].map((k) => ({ type: 'put' as const, key: bytes(k), value: bytes(k) })),
    )
    const iterator = store.iterate()[Symbol.asyncIterator]()
    expect((await iterator.next()).done).toBe(false)
    await store.close()
    await store.open()
    await expect(iterator.next()).rejects.toMatchObject({ name: 'StoreClosedError' })
    expect(keysOf(await collect(store.iterate()))).toEqual([[1], [2], [3]])
  })
})
