import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { storeSuite } from '../src/compliance/index.js'
import { MemoryStore, memoryStore } from '../src/index.js'

storeSuite('MemoryStore', async () => {
  const store = new MemoryStore()
  return { store, reopen: async () => store }
})

storeSuite('memoryStore() factory', async () => ({ store: memoryStore()() }))

describe('MemoryStore', () => {
  it('starts closed and counts its entries', async () => {
    const store = new MemoryStore()
    expect(store.status).toBe('closed')
    await store.open()
    await store.put(Uint8Array.of(1), Uint8Array.of(1))
    await store.put(Uint8Array.of(2), Uint8Array.of(2))
    await store.put(Uint8Array.of(1), Uint8Array.of(3))
    expect(store.size).toBe(2)
  })

  it('copies the range bounds when iterate is called', async () => {
    const store = new MemoryStore()
    await store.open()
    for (let i = 0; i < 5; i++) await store.put(Uint8Array.of(i), Uint8Array.of(i))
    const bound = Uint8Array.of(3)
    const iterable = store.iterate({ gte: bound })
    bound[0] = 0
    const keys: number[] = []
    for await (const entry of iterable) keys.push(entry.key[0]!)
    expect(keys).toEqual([3, 4])
  })

  it('ends a scan that spans a close and reopen', async () => {
    const store = new MemoryStore()
    await store.open()
    for (let i = 0; i < 3; i++) await store.put(Uint8Array.of(i), Uint8Array.of(i))
    const iterator = store.iterate()[Symbol.asyncIterator]()
    await iterator.next()
    await store.close()
    await store.open()
    await expect(iterator.next()).rejects.toMatchObject({ name: 'StoreClosedError' })
  })

  it('keeps a scan consistent when several scans and writes interleave', async () => {
    const store = new MemoryStore()
    await store.open()
    for (let i = 0; i < 4; i++) await store.put(Uint8Array.of(i), Uint8Array.of(i))
    const first = store.iterate()[Symbol.asyncIterator]()
    await first.next()
    await store.put(Uint8Array.of(9), Uint8Array.of(9))
    const second = store.iterate()[Symbol.asyncIterator]()
    await second.next()
    await store.del(Uint8Array.of(3))
    const rest = async (iterator: AsyncIterator<{ key: Uint8Array }>) => {
      const keys: number[] = []
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        keys.push(next.value.key[0]!)
      }
      return keys
    }
    expect(await rest(first)).toEqual([1, 2, 3])
    expect(await rest(second)).toEqual([1, 2, 3, 9])
  })
})

describe('MemoryStore against a model', () => {
  type Operation =
    | { type: 'put'; key: number; value: number }
    | { type: 'del'; key: number }
    | { type: 'scan'; from: number; to: number; reverse: boolean; limit: number }

  const toKey = (key: number) => Uint8Array.of(key >> 8, key & 0xff)
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        type: fc.constant('put' as const),
        key: fc.nat(3000),
        value: fc.nat(255),
      }),
    },
    { weight: 3, arbitrary: fc.record({ type: fc.constant('del' as const), key: fc.nat(3000) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constant('scan' as const),
        from: fc.nat(3000),
        to: fc.nat(3000),
        reverse: fc.boolean(),
        limit: fc.nat(2000),
      }),
    },
  )

  it('matches a sorted map through puts, deletes, chunk splits and scans', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(operation, { minLength: 500, maxLength: 3000 }),
        async (operations) => {
          const store = new MemoryStore()
          await store.open()
          const model = new Map<number, number>()
          await store.put(toKey(0), Uint8Array.of(0))
          model.set(0, 0)
          // a scan started now keeps seeing this one-entry snapshot through everything below
          const early = store.iterate()[Symbol.asyncIterator]()
          expect((await early.next()).value?.key).toEqual(toKey(0))
          for (const op of operations) {
            if (op.type === 'put') {
              await store.put(toKey(op.key), Uint8Array.of(op.value))
              model.set(op.key, op.value)
            } else if (op.type === 'del') {
              await store.del(toKey(op.key))
              model.delete(op.key)
            } else {
              const options = {
                gte: toKey(op.from),
                lt: toKey(op.to),
                reverse: op.reverse,
                limit: op.limit,
              }
              const actual: number[] = []
              for await (const entry of store.iterate(options))
                actual.push((entry.key[0]! << 8) | entry.key[1]!)
              let expected = [...model.keys()]
                .filter((key) => key >= op.from && key < op.to)
                .sort((a, b) => a - b)
              if (op.reverse) expected.reverse()
              expected = expected.slice(0, op.limit)
              expect(actual).toEqual(expected)
            }
          }
          expect(store.size).toBe(model.size)
          const all: [number, number][] = []
          for await (const entry of store.iterate())
            all.push([(entry.key[0]! << 8) | entry.key[1]!, entry.value[0]!])
          expect(all).toEqual([...model.entries()].sort((a, b) => a[0] - b[0]))
          for (const key of [0, 1, 1500, 3000]) {
            expect(await store.has(toKey(key))).toBe(model.has(key))
          }
          // the early scan still walks its snapshot: only key 0 existed
          expect((await early.next()).done).toBe(true)
        },
      ),
      { numRuns: 15 },
    )
  })
})
