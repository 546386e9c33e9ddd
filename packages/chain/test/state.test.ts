import { encode } from '@metanode/core'
import { emptyMerkleRoot } from '@metanode/crypto/merkle'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeAccount, encodeAccount, StateOverlay, StateTree } from '../src/index.js'

const key = fc.uint8Array({ minLength: 1, maxLength: 6 })
const write = fc.record({
  key,
  value: fc.option(fc.uint8Array({ maxLength: 8 }), { nil: undefined }),
})

function fromScratch(contents: Map<string, { key: Uint8Array; value: Uint8Array }>): Uint8Array {
  const tree = new StateTree()
  tree.apply([...contents.values()])
  return tree.root
}

describe('StateTree', () => {
  it('starts at the root of empty buckets and returns to it when every key is deleted', () => {
    const tree = new StateTree()
    const empty = tree.root
    tree.apply([{ key: Uint8Array.of(1), value: Uint8Array.of(2) }])
    expect(tree.root).not.toEqual(empty)
    expect(tree.size).toBe(1)
    tree.apply([{ key: Uint8Array.of(1), value: undefined }])
    expect(tree.root).toEqual(empty)
    expect(tree.size).toBe(0)
    expect(empty).not.toEqual(emptyMerkleRoot())
  })

  it('updates its root incrementally to the root of the same contents built from scratch', () => {
    fc.assert(
      fc.property(fc.array(fc.array(write, { maxLength: 12 }), { maxLength: 6 }), (batches) => {
        const tree = new StateTree()
        const contents = new Map<string, { key: Uint8Array; value: Uint8Array }>()
        for (const batch of batches) {
          tree.apply(batch)
          for (const { key, value } of batch) {
            const hex = Buffer.from(key).toString('hex')
            if (value === undefined) contents.delete(hex)
            else contents.set(hex, { key, value })
          }
          expect(tree.root).toEqual(fromScratch(contents))
          expect(tree.size).toBe(contents.size)
          for (const { key, value } of contents.values()) expect(tree.get(key)).toEqual(value)
        }
      }),
      { numRuns: 60 },
    )
  })

  it('computes a prepared root without changing the tree, and refuses a stale update', () => {
    const tree = new StateTree()
    tree.apply([{ key: Uint8Array.of(1), value: Uint8Array.of(1) }])
    const before = tree.root
    const prepared = tree.prepare([{ key: Uint8Array.of(2), value: Uint8Array.of(2) }])
    expect(tree.root).toEqual(before)
    expect(tree.get(Uint8Array.of(2))).toBeUndefined()
    const other = tree.prepare([{ key: Uint8Array.of(3), value: Uint8Array.of(3) }])
    expect(tree.apply(prepared)).toEqual(prepared.root)
    expect(() => tree.apply(other)).toThrow(RangeError)
  })

  it('distinguishes how the same bytes are split between key and value', () => {
    const a = new StateTree()
    a.apply([{ key: Uint8Array.of(1, 2), value: Uint8Array.of(3) }])
    const b = new StateTree()
    b.apply([{ key: Uint8Array.of(1), value: Uint8Array.of(2, 3) }])
    expect(a.root).not.toEqual(b.root)
  })
})

describe('StateOverlay', () => {
  it('reverts to a checkpoint, keeping earlier writes', () => {
    const overlay = new StateOverlay(new StateTree())
    const alice = new Uint8Array(32).fill(1)
    overlay.setAccount(alice, { balance: 5n, nonce: 1, stake: 0n })
    const mark = overlay.checkpoint()
    overlay.setAccount(alice, { balance: 1n, nonce: 1, stake: 4n })
    overlay.set(Uint8Array.of(9), Uint8Array.of(9))
    overlay.revert(mark)
    expect(overlay.account(alice)).toEqual({ balance: 5n, nonce: 1, stake: 0n })
    expect(overlay.get(Uint8Array.of(9))).toBeUndefined()
    expect(overlay.writes()).toHaveLength(1)
  })

  it('deletes accounts that become empty', () => {
    const overlay = new StateOverlay(new StateTree())
    const alice = new Uint8Array(32).fill(1)
    overlay.setAccount(alice, { balance: 0n, nonce: 0, stake: 0n })
    expect(overlay.writes()[0]?.value).toBeUndefined()
  })
})

describe('account encoding', () => {
  it('writes exactly the codec bytes and reads them back, for every size of integer', () => {
    const uint = fc.oneof(
      fc.bigInt({ min: 0n, max: 30n }),
      fc.bigInt({ min: 0n, max: 2n ** 16n }),
      fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
    )
    fc.assert(
      fc.property(uint, fc.nat(), uint, (balance, nonce, stake) => {
        const account = { balance, nonce, stake }
        const bytes = encodeAccount(account)
        expect(bytes).toEqual(encode([balance, nonce, stake]))
        expect(decodeAccount(bytes)).toEqual(account)
      }),
      { numRuns: 300 },
    )
    expect(() => encodeAccount({ balance: 2n ** 63n, nonce: 0, stake: 0n })).toThrow(/64-bit/)
  })

  it('refuses non-canonical account bytes like the codec does', () => {
    // 5 written in two bytes instead of one
    expect(() => decodeAccount(new Uint8Array([0x83, 0x18, 0x05, 0x00, 0x00]))).toThrow()
    expect(() => decodeAccount(new Uint8Array([0x83, 0x00, 0x00]))).toThrow()
  })
})
