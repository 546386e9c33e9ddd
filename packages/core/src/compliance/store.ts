/**
 * The compliance suite every {@link Store} implementation runs in its own tests.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { compareBytes, isKeyInRange } from '../bytes-order.js'
import type { RangeOptions, Store, StoreEntry } from '../store.js'
import { STORE_LIMITS } from '../store.js'

/** What the setup of {@link storeSuite} hands to each test. */
export interface StoreSuiteSetup {
  /** A fresh, empty store. The suite opens it (opening an open store is a no-op) and closes it after the test. */
  store: Store
  /**
   * Reopens the same data after the suite has closed `store`, as a process restart would, and
   * returns the store to use from then on (the suite opens and later closes it). Give it for
   * persistent stores; the persistence tests are skipped without it.
   */
  reopen?: () => Promise<Store>
  /** Releases what setup acquired (temporary directories, ...), after the stores are closed. */
  cleanup?: () => Promise<void>
}

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)

async function collect(iterable: AsyncIterable<StoreEntry>): Promise<StoreEntry[]> {
  const entries: StoreEntry[] = []
  for await (const entry of iterable) entries.push(entry)
  return entries
}

const keysOf = (entries: readonly StoreEntry[]): number[][] => entries.map((e) => Array.from(e.key))

async function expectNamedRejection(action: () => Promise<unknown>, name: string): Promise<void> {
  await expect(action()).rejects.toMatchObject({ name })
}

// `iterate` may throw when called or reject on the first `next()`; both are fine.
async function consume(store: Store, options: unknown): Promise<StoreEntry[]> {
  return collect(store.iterate(options as RangeOptions))
}

/**
 * Registers the store compliance tests under `describe(name)`. `setup` runs before every test
 * and must return a fresh, empty store; see {@link StoreSuiteSetup}.
 *
 * @example
 * ```ts
 * import { storeSuite } from '@metanode/core/compliance'
 * import { MemoryStore } from '@metanode/core'
 *
 * storeSuite('MemoryStore', async () => {
 *   const store = new MemoryStore()
 *   return { store, reopen: async () => store }
 * })
 * ```
 */
export function storeSuite(name: string, setup: () => Promise<StoreSuiteSetup>): void {
  describe(name, () => {
    let store: Store
    let context: StoreSuiteSetup

    beforeEach(async () => {
      context = await setup()
      store = context.store
      await store.open()
    })

    afterEach(async () => {
      await store.close()
      await context.cleanup?.()
    })

    async function reopen(): Promise<void> {
      if (context.reopen === undefined) throw new Error('setup gave no reopen')
      await store.close()
      store = await context.reopen()
      await store.open()
    }

    describe('basic operations', () => {
      it('is open after open()', () => {
        expect(store.status).toBe('open')
      })

      it('returns undefined and false for absent keys', async () => {
        expect(await store.get(bytes(1))).toBeUndefined()
        expect(await store.has(bytes(1))).toBe(false)
        await store.put(bytes(1, 0), bytes(9))
        expect(await store.get(bytes(1))).toBeUndefined()
        expect(await store.get(bytes(1, 0, 0))).toBeUndefined()
      })

      it('reads back what was put', async () => {
        await store.put(bytes(1), bytes(10, 11))
        expect(await store.get(bytes(1))).toEqual(bytes(10, 11))
        expect(await store.has(bytes(1))).toBe(true)
      })

      it('overwrites a value', async () => {
        await store.put(bytes(1), bytes(1))
        await store.put(bytes(1), bytes(2, 2))
        expect(await store.get(bytes(1))).toEqual(bytes(2, 2))
        expect(keysOf(await collect(store.iterate()))).toEqual([[1]])
      })

      it('deletes a key, and deleting an absent key is fine', async () => {
        await store.put(bytes(1), bytes(1))
        await store.del(bytes(1))
        expect(await store.get(bytes(1))).toBeUndefined()
        expect(await store.has(bytes(1))).toBe(false)
        await store.del(bytes(1))
        await store.del(bytes(2))
        expect(await collect(store.iterate())).toEqual([])
      })

      it('stores empty and large values', async () => {
        const large = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
        await store.put(bytes(1), new Uint8Array(0))
        await store.put(bytes(2), large)
        expect(await store.get(bytes(1))).toEqual(new Uint8Array(0))
        expect(await store.has(bytes(1))).toBe(true)
        const read = await store.get(bytes(2))
        // element-wise deep equality on a mebibyte is slow; compare the bytes directly
        expect(read?.length).toBe(large.length)
        expect(read?.every((byte, i) => byte === large[i])).toBe(true)
      })

      it('accepts keys of exactly the maximum length', async () => {
        const key = new Uint8Array(STORE_LIMITS.maxKeyBytes).fill(7)
        await store.put(key, bytes(1))
        expect(await store.get(key)).toEqual(bytes(1))
      })
    })

    describe('copies', () => {
      it('returns plain Uint8Array values (not Buffer)', async () => {
        await store.put(bytes(1), bytes(5))
        const value = await store.get(bytes(1))
        expect(Object.getPrototypeOf(value)).toBe(Uint8Array.prototype)
        const [entry] = await collect(store.iterate())
        expect(Object.getPrototypeOf(entry?.key)).toBe(Uint8Array.prototype)
        expect(Object.getPrototypeOf(entry?.value)).toBe(Uint8Array.prototype)
      })

      it('is unaffected by mutating inputs after put', async () => {
        const key = bytes(1)
        const value = bytes(5, 5)
        await store.put(key, value)
        key[0] = 2
        value[0] = 9
        expect(await store.get(bytes(1))).toEqual(bytes(5, 5))
        expect(await store.has(bytes(2))).toBe(false)
      })

      it('is unaffected by mutating returned values and entries', async () => {
        await store.put(bytes(1), bytes(5, 5))
        const value = await store.get(bytes(1))
        value?.fill(0)
        const [entry] = await collect(store.iterate())
        entry?.key.fill(9)
        entry?.value.fill(9)
        expect(await store.get(bytes(1))).toEqual(bytes(5, 5))
        expect(keysOf(await collect(store.iterate()))).toEqual([[1]])
      })

      it('is unaffected by mutating the inputs of a batch', async () => {
        const key = bytes(3)
        const value = bytes(4)
        await store.batch([{ type: 'put', key, value }])
        key[0] = 8
        value[0] = 8
        expect(await store.get(bytes(3))).toEqual(bytes(4))
      })
    })

    describe('key order', () => {
      // unsigned bytes (0x80 after 0x7f), proper prefixes first, 0x00 and 0xff at the edges
      const sorted = [
        [0x00],
        [0x00, 0x00],
        [0x00, 0xff],
        [0x01],
        [0x61],
        [0x61, 0x00],
        [0x61, 0x62],
        [0x61, 0x62, 0x63],
        [0x62],
        [0x7f, 0xff],
        [0x80],
        [0x80, 0x00],
        [0xfe, 0xff, 0xff],
        [0xff],
        [0xff, 0x00],
        [0xff, 0xff],
        [0xff, 0xff, 0xff],
      ]

      async function fillShuffled(): Promise<void> {
        // a fixed permutation, so failures reproduce
        const order = sorted.map((_, i) => (i * 7) % sorted.length)
        for (const index of order) {
          const key = sorted[index]!
          await store.put(Uint8Array.from(key), Uint8Array.of(index))
        }
      }

      it('iterates keys in unsigned lexicographic order, prefixes first', async () => {
        await fillShuffled()
        const entries = await collect(store.iterate())
        expect(keysOf(entries)).toEqual(sorted)
        expect(entries.map((entry) => Array.from(entry.value))).toEqual(sorted.map((_, i) => [i]))
      })

      it('iterates in reverse order', async () => {
        await fillShuffled()
        expect(keysOf(await collect(store.iterate({ reverse: true })))).toEqual(
          [...sorted].reverse(),
        )
      })

      it('orders big-endian encoded numbers numerically', async () => {
        const heights = [0, 1, 255, 256, 65_535, 65_536, 2 ** 32 - 1]
        const encode = (height: number) => {
          const key = new Uint8Array(8)
          new DataView(key.buffer).setBigUint64(0, BigInt(height))
          return key
        }
        for (const height of [...heights].reverse()) await store.put(encode(height), bytes(1))
        const entries = await collect(store.iterate())
        expect(entries.map((e) => Number(new DataView(e.key.buffer).getBigUint64(0)))).toEqual(
          heights,
        )
      })
    })

    describe('ranges', () => {
      const keys = [[0x01], [0x02], [0x02, 0x00], [0x02, 0xff], [0x03], [0x05], [0x80], [0xff]]
      // bounds at keys, between keys, prefixes of keys, and beyond both ends
      const bounds = [
        [0x00],
        [0x02],
        [0x02, 0x00],
        [0x02, 0x80],
        [0x04],
        [0x80],
        [0xff],
        [0xff, 0x01],
      ]

      beforeEach(async () => {
        await store.batch(
          keys.map((key, i) => ({ type: 'put', key: Uint8Array.from(key), value: bytes(i) })),
        )
      })

      function expected(options: RangeOptions): number[][] {
        const inRange = keys.filter((key) => isKeyInRange(Uint8Array.from(key), options))
        inRange.sort((a, b) => compareBytes(Uint8Array.from(a), Uint8Array.from(b)))
        if (options.reverse === true) inRange.reverse()
        return options.limit === undefined ? inRange : inRange.slice(0, options.limit)
      }

      it('honours every combination of gt/gte/lt/lte, forward and reverse', async () => {
        const lowers: RangeOptions[] = [{}]
        const uppers: RangeOptions[] = [{}]
        for (const bound of bounds) {
          lowers.push({ gt: Uint8Array.from(bound) }, { gte: Uint8Array.from(bound) })
          uppers.push({ lt: Uint8Array.from(bound) }, { lte: Uint8Array.from(bound) })
        }
        for (const lower of lowers) {
          for (const upper of uppers) {
            for (const reverse of [false, true]) {
              const options: RangeOptions = { ...lower, ...upper, reverse }
              const actual = keysOf(await collect(store.iterate(options)))
              expect(
                actual,
                JSON.stringify(options, (_, v) => v),
              ).toEqual(expected(options))
            }
          }
        }
      })

      it('returns nothing for an empty or inverted range', async () => {
        expect(await collect(store.iterate({ gt: bytes(3), lt: bytes(3) }))).toEqual([])
        expect(await collect(store.iterate({ gte: bytes(3), lt: bytes(3) }))).toEqual([])
        expect(await collect(store.iterate({ gte: bytes(5), lte: bytes(2) }))).toEqual([])
        expect(await collect(store.iterate({ gt: bytes(0xff) }))).toEqual([])
        expect(await collect(store.iterate({ lt: bytes(1), reverse: true }))).toEqual([])
      })

      it('includes a key equal to a gte or lte bound, excludes it for gt or lt', async () => {
        expect(keysOf(await collect(store.iterate({ gte: bytes(3), lte: bytes(3) })))).toEqual([
          [3],
        ])
        expect(keysOf(await collect(store.iterate({ gt: bytes(2), lt: bytes(3) })))).toEqual([
          [2, 0],
          [2, 0xff],
        ])
      })

      it('honours limit 0, 1, and beyond the size, forward and reverse', async () => {
        for (const reverse of [false, true]) {
          for (const limit of [0, 1, 3, keys.length, keys.length + 5]) {
            const options: RangeOptions = { reverse, limit }
            expect(keysOf(await collect(store.iterate(options)))).toEqual(expected(options))
          }
          const bounded: RangeOptions = { gte: bytes(2), lt: bytes(0x80), reverse, limit: 2 }
          expect(keysOf(await collect(store.iterate(bounded)))).toEqual(expected(bounded))
        }
      })

      it('iterates an empty store without error', async () => {
        await store.batch(keys.map((key) => ({ type: 'del', key: Uint8Array.from(key) })))
        expect(await collect(store.iterate())).toEqual([])
        expect(await collect(store.iterate({ reverse: true, limit: 3 }))).toEqual([])
      })

      it('keeps working after a scan is abandoned early', async () => {
        for await (const entry of store.iterate()) {
          expect(Array.from(entry.key)).toEqual([1])
          break
        }
        await store.put(bytes(9), bytes(9))
        expect(await store.get(bytes(9))).toEqual(bytes(9))
        expect(keysOf(await collect(store.iterate({ limit: 2 })))).toEqual([[1], [2]])
      })
    })

    describe('batch', () => {
      it('applies puts and deletes together', async () => {
        await store.put(bytes(1), bytes(1))
        await store.batch([
          { type: 'put', key: bytes(2), value: bytes(2) },
          { type: 'del', key: bytes(1) },
          { type: 'put', key: bytes(3), value: bytes(3) },
        ])
        expect(keysOf(await collect(store.iterate()))).toEqual([[2], [3]])
      })

      it('accepts an empty batch', async () => {
        await store.batch([])
        expect(await collect(store.iterate())).toEqual([])
      })

      it('lets the later operation on a key win', async () => {
        await store.put(bytes(4), bytes(0))
        await store.batch([
          { type: 'put', key: bytes(1), value: bytes(1) },
          { type: 'put', key: bytes(1), value: bytes(2) },
          { type: 'put', key: bytes(2), value: bytes(1) },
          { type: 'del', key: bytes(2) },
          { type: 'del', key: bytes(3) },
          { type: 'put', key: bytes(3), value: bytes(3) },
          { type: 'del', key: bytes(4) },
          { type: 'put', key: bytes(4), value: bytes(4) },
          { type: 'del', key: bytes(4) },
        ])
        expect(await store.get(bytes(1))).toEqual(bytes(2))
        expect(await store.has(bytes(2))).toBe(false)
        expect(await store.get(bytes(3))).toEqual(bytes(3))
        expect(await store.has(bytes(4))).toBe(false)
      })

      it('applies nothing when one operation is invalid', async () => {
        await store.put(bytes(1), bytes(1))
        const invalidTails: [unknown, typeof RangeError | typeof TypeError][] = [
          [{ type: 'put', key: new Uint8Array(0), value: bytes(1) }, RangeError],
          [{ type: 'del', key: new Uint8Array(0) }, RangeError],
          [{ type: 'put', key: bytes(5), value: 'not bytes' }, TypeError],
          [{ type: 'put', key: [5], value: bytes(5) }, TypeError],
          [{ type: 'merge', key: bytes(5), value: bytes(5) }, TypeError],
          [null, TypeError],
        ]
        for (const [invalid, errorClass] of invalidTails) {
          const operations = [
            { type: 'put', key: bytes(2), value: bytes(2) },
            { type: 'del', key: bytes(1) },
            { type: 'put', key: bytes(1), value: bytes(7) },
            invalid,
          ]
          await expect(store.batch(operations as never)).rejects.toThrow(errorClass)
          expect(keysOf(await collect(store.iterate()))).toEqual([[1]])
          expect(await store.get(bytes(1))).toEqual(bytes(1))
        }
      })

      it('rejects a batch that is not an array with TypeError', async () => {
        await expect(store.batch('put' as never)).rejects.toThrow(TypeError)
        await expect(store.batch(undefined as never)).rejects.toThrow(TypeError)
      })
    })

    describe('concurrency', () => {
      it('serves many parallel puts and gets', async () => {
        const count = 200
        const key = (i: number) => Uint8Array.of(i >> 8, i & 0xff)
        await Promise.all(
          Array.from({ length: count }, (_, i) => store.put(key(i), Uint8Array.of(i & 0xff, 1))),
        )
        const values = await Promise.all(Array.from({ length: count }, (_, i) => store.get(key(i))))
        values.forEach((value, i) => {
          expect(value).toEqual(Uint8Array.of(i & 0xff, 1))
        })
        expect((await collect(store.iterate())).length).toBe(count)
      })

      it('serves interleaved writes, reads, batches and scans', async () => {
        const work: Promise<unknown>[] = []
        for (let i = 0; i < 50; i++) {
          work.push(store.put(Uint8Array.of(1, i), Uint8Array.of(i)))
          work.push(store.get(Uint8Array.of(1, i)))
          work.push(
            store.batch([
              { type: 'put', key: Uint8Array.of(2, i), value: Uint8Array.of(i) },
              { type: 'del', key: Uint8Array.of(1, i) },
            ]),
          )
          work.push(collect(store.iterate({ gte: bytes(1), lt: bytes(2), limit: 5 })))
        }
        await Promise.all(work)
        expect((await collect(store.iterate({ gte: bytes(1), lt: bytes(2) }))).length).toBe(0)
        const second = await collect(store.iterate({ gte: bytes(2), lt: bytes(3) }))
        expect(second.map((entry) => entry.value[0])).toEqual(
          Array.from({ length: 50 }, (_, i) => i),
        )
      })

      it('isolates a scan from writes made while it runs', async () => {
        for (let i = 0; i < 10; i++) await store.put(bytes(i * 2), bytes(i))
        const before = await collect(store.iterate())
        const seen: StoreEntry[] = []
        let written = false
        for await (const entry of store.iterate()) {
          seen.push(entry)
          if (!written) {
            written = true
            await store.put(bytes(1), bytes(99)) // before the cursor
            await store.put(bytes(7), bytes(99)) // ahead of the cursor
            await store.put(bytes(8), bytes(99)) // overwrite ahead
            await store.del(bytes(10)) // delete ahead
            await store.batch([
              { type: 'put', key: bytes(0xff), value: bytes(99) },
              { type: 'del', key: bytes(18) },
            ])
          }
        }
        expect(seen).toEqual(before)
        const after = await collect(store.iterate())
        expect(keysOf(after)).toEqual([[0], [1], [2], [4], [6], [7], [8], [12], [14], [16], [0xff]])
      })

      it('isolates a reverse scan from writes made while it runs', async () => {
        for (let i = 0; i < 6; i++) await store.put(bytes(i), bytes(i))
        const seen: number[][] = []
        for await (const entry of store.iterate({ reverse: true })) {
          seen.push(Array.from(entry.key))
          // deletes the entry the scan would return next
          if (entry.key[0]! > 0) await store.del(bytes(entry.key[0]! - 1))
        }
        expect(seen).toEqual([[5], [4], [3], [2], [1], [0]])
      })
    })

    describe('closed store', () => {
      it('rejects every operation with StoreClosedError', async () => {
        await store.put(bytes(1), bytes(1))
        await store.close()
        expect(store.status).toBe('closed')
        await expectNamedRejection(() => store.get(bytes(1)), 'StoreClosedError')
        await expectNamedRejection(() => store.has(bytes(1)), 'StoreClosedError')
        await expectNamedRejection(() => store.put(bytes(1), bytes(2)), 'StoreClosedError')
        await expectNamedRejection(() => store.del(bytes(1)), 'StoreClosedError')
        await expectNamedRejection(
          () => store.batch([{ type: 'put', key: bytes(2), value: bytes(2) }]),
          'StoreClosedError',
        )
        await expectNamedRejection(async () => consume(store, undefined), 'StoreClosedError')
      })

      it('closes idempotently and opens again with its data', async () => {
        await store.put(bytes(1), bytes(1))
        await store.close()
        await store.close()
        await store.open()
        await store.open()
        expect(store.status).toBe('open')
        expect(await store.get(bytes(1))).toEqual(bytes(1))
      })

      it('ends a running scan with StoreClosedError when the store closes', async () => {
        for (let i = 0; i < 5; i++) await store.put(bytes(i), bytes(i))
        const iterator = store.iterate()[Symbol.asyncIterator]()
        const first = await iterator.next()
        expect(first.done).toBe(false)
        await store.close()
        await expectNamedRejection(() => iterator.next(), 'StoreClosedError')
      })
    })

    describe('input errors', () => {
      const badKeys: [string, unknown, typeof TypeError | typeof RangeError][] = [
        ['a string', 'key', TypeError],
        ['a number array', [1, 2], TypeError],
        ['undefined', undefined, TypeError],
        ['an ArrayBuffer', new ArrayBuffer(2), TypeError],
        ['empty', new Uint8Array(0), RangeError],
        ['too long', new Uint8Array(STORE_LIMITS.maxKeyBytes + 1), RangeError],
      ]

      for (const [label, key, errorClass] of badKeys) {
        it(`rejects a key that is ${label} with ${errorClass.name}`, async () => {
          const badKey = key as Uint8Array
          await expect(store.get(badKey)).rejects.toThrow(errorClass)
          await expect(store.has(badKey)).rejects.toThrow(errorClass)
          await expect(store.put(badKey, bytes(1))).rejects.toThrow(errorClass)
          await expect(store.del(badKey)).rejects.toThrow(errorClass)
          expect(await collect(store.iterate())).toEqual([])
        })
      }

      it('rejects a value that is not a Uint8Array with TypeError', async () => {
        await expect(store.put(bytes(1), 'value' as never)).rejects.toThrow(TypeError)
        await expect(store.put(bytes(1), undefined as never)).rejects.toThrow(TypeError)
        expect(await store.has(bytes(1))).toBe(false)
      })

      it('rejects malformed range options', async () => {
        await expect(consume(store, { gt: 'a' })).rejects.toThrow(TypeError)
        await expect(consume(store, { lte: [1] })).rejects.toThrow(TypeError)
        await expect(consume(store, { limit: -1 })).rejects.toThrow(RangeError)
        await expect(consume(store, { limit: '3' })).rejects.toThrow(TypeError)
        await expect(consume(store, { reverse: 'yes' })).rejects.toThrow(TypeError)
      })
    })

    describe('persistence', () => {
      it('keeps writes, batches and deletes across a reopen', async (test) => {
        if (context.reopen === undefined) {
          test.skip()
          return
        }
        await store.put(bytes(1), bytes(1))
        await store.put(bytes(2), bytes(2))
        await store.batch([
          { type: 'put', key: bytes(3), value: bytes(3) },
          { type: 'del', key: bytes(2) },
          { type: 'put', key: bytes(0xff, 0), value: new Uint8Array(0) },
        ])
        await store.put(bytes(1), bytes(11))
        await reopen()
        expect(await store.get(bytes(1))).toEqual(bytes(11))
        expect(await store.has(bytes(2))).toBe(false)
        expect(keysOf(await collect(store.iterate()))).toEqual([[1], [3], [0xff, 0]])
        expect(await store.get(bytes(0xff, 0))).toEqual(new Uint8Array(0))
      })

      it('accepts writes after a reopen', async (test) => {
        if (context.reopen === undefined) {
          test.skip()
          return
        }
        await store.put(bytes(1), bytes(1))
        await reopen()
        await store.put(bytes(2), bytes(2))
        expect(keysOf(await collect(store.iterate()))).toEqual([[1], [2]])
      })
    })
  })
}
