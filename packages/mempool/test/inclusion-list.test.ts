import { DecodeError } from '@metanode/core'
import { ed25519 } from '@metanode/crypto/ed25519'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  checkInclusion,
  createInclusionList,
  decodeInclusionList,
  encodeInclusionList,
  INCLUSION_LIST_LIMITS,
  type InclusionBlock,
  type InclusionList,
  InclusionMonitor,
  signInclusionList,
  verifyInclusionList,
} from '../src/index.js'
import { newPool, tx } from './helpers.js'

const chainId = new TextEncoder().encode('devnet-1')
const keys = [1, 2, 3].map((n) => ed25519.keygen(new Uint8Array(32).fill(n)))
const id = (n: number) => new Uint8Array(32).fill(n)
const limits = { maxBytes: 1000, maxCost: 1_000_000n }

function list(signer: number, height: number, ids: number[]): InclusionList {
  return signInclusionList({ height, txIds: ids.map(id) }, keys[signer]!.secretKey, chainId)
}

describe('inclusion lists', () => {
  it('lists the pool’s best transactions, signed for the chain', () => {
    const { pool } = newPool()
    const txs = [tx(1, 0, 5), tx(2, 0, 50), tx(3, 0, 20), tx(3, 1, 1)]
    for (const t of txs) pool.add(t)
    const created = createInclusionList(pool, {
      height: 7,
      maxTxs: 2,
      secretKey: keys[0]!.secretKey,
      chainId,
    })
    expect(created.validator).toEqual(keys[0]!.publicKey)
    expect(created.txIds).toEqual([txs[1]!.id, txs[2]!.id])
    expect(verifyInclusionList(created, chainId)).toBe(true)
    expect(verifyInclusionList(created, new TextEncoder().encode('devnet-2'))).toBe(false)
    expect(verifyInclusionList({ ...created, height: 8 }, chainId)).toBe(false)
    expect(verifyInclusionList({ ...created, txIds: created.txIds.slice(1) }, chainId)).toBe(false)
    expect(verifyInclusionList({ ...created, signature: new Uint8Array(63) }, chainId)).toBe(false)
    expect(verifyInclusionList({ ...created, txIds: [id(1), id(1)] }, chainId)).toBe(false)
    expect(() => verifyInclusionList({ ...created, txIds: 'x' as never }, chainId)).toThrow(
      TypeError,
    )
  })

  it('rejects any single-byte change of a signed list (property)', () => {
    const signed = list(0, 3, [1, 2, 3])
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), (position, flip) => {
        const copy = {
          ...signed,
          txIds: signed.txIds.map((t) => t.slice()),
          signature: signed.signature.slice(),
        }
        const target = [...copy.txIds, copy.signature][position % 4]!
        target[position % target.length]! ^= flip
        expect(verifyInclusionList(copy, chainId)).toBe(false)
      }),
      { numRuns: 50 },
    )
  })

  it('round-trips through the canonical encoding and refuses oversized lists', () => {
    const signed = list(1, 9, [4, 5])
    const decoded = decodeInclusionList(encodeInclusionList(signed))
    expect(decoded).toEqual(signed)
    expect(verifyInclusionList(decoded, chainId)).toBe(true)
    expect(() => decodeInclusionList(new Uint8Array([1, 2]))).toThrow(DecodeError)
    const tooMany = Array.from({ length: INCLUSION_LIST_LIMITS.maxTxs + 1 }, (_, i) => i)
    expect(() =>
      signInclusionList(
        { height: 1, txIds: tooMany.map((n) => new Uint8Array([n >> 8, n & 255])) },
        keys[0]!.secretKey,
        chainId,
      ),
    ).toThrow(RangeError)
  })
})

describe('checkInclusion', () => {
  const block = (txIds: number[], extra: Partial<InclusionBlock> = {}): InclusionBlock => ({
    height: 5,
    txIds: txIds.map(id),
    limits,
    ...extra,
  })
  const allValid = () => 'valid' as const

  it('passes a block that includes every listed transaction', () => {
    const result = checkInclusion(block([1, 2, 3]), [list(0, 5, [1, 2]), list(1, 5, [3])], allValid)
    expect(result.ok).toBe(true)
    expect(result.missing.map((m) => m.missing)).toEqual([[], []])
  })

  it('flags a censored transaction, per list', () => {
    const result = checkInclusion(block([1]), [list(0, 5, [1, 2]), list(1, 5, [1])], allValid)
    expect(result.ok).toBe(false)
    expect(result.missing[0]).toMatchObject({ validator: keys[0]!.publicKey, missing: [id(2)] })
    expect(result.missing[1]!.missing).toEqual([])
  })

  it('excuses invalid and unknown transactions and those that would not fit', () => {
    const lists = [list(0, 5, [2, 3, 4])]
    const validity = (txId: Uint8Array) =>
      txId[0] === 2 ? 'invalid' : txId[0] === 3 ? 'unknown' : 'valid'
    const footprint = () => ({ bytes: 100, cost: 21_000n })
    const full = checkInclusion(
      block([1], { bytesUsed: 901, costUsed: 0n }),
      lists,
      validity,
      footprint,
    )
    expect(full.ok).toBe(true)
    expect(full.missing[0]!.unknown).toEqual([id(3)])
    const gasFull = checkInclusion(
      block([1], { bytesUsed: 0, costUsed: 979_001n }),
      lists,
      validity,
      footprint,
    )
    expect(gasFull.ok).toBe(true)
    const room = checkInclusion(
      block([1], { bytesUsed: 900, costUsed: 979_000n }),
      lists,
      validity,
      footprint,
    )
    expect(room.ok).toBe(false)
    expect(room.missing[0]!.missing).toEqual([id(4)])
    // without the block's usage, lack of space is no excuse
    expect(checkInclusion(block([1]), lists, validity, footprint).ok).toBe(false)
  })

  it('ignores lists for other heights and both lists of an equivocator', () => {
    const result = checkInclusion(
      block([]),
      [list(0, 4, [1]), list(1, 5, [2]), list(1, 5, [3]), list(2, 5, [4]), list(2, 5, [4])],
      allValid,
    )
    expect(result.equivocators).toEqual([keys[1]!.publicKey])
    expect(result.missing.map((m) => m.validator)).toEqual([keys[2]!.publicKey])
    expect(result.ok).toBe(false)
  })
})

describe('InclusionMonitor', () => {
  it('accepts, deduplicates, detects equivocation and ignores the equivocator thereafter', () => {
    const monitor = new InclusionMonitor({ chainId })
    expect(monitor.add(list(0, 5, [1]))).toBe('accepted')
    expect(monitor.add(list(0, 5, [1]))).toBe('duplicate')
    expect(monitor.add(list(1, 5, [2]))).toBe('accepted')
    expect(monitor.add(list(1, 5, [3]))).toBe('equivocation')
    expect(monitor.add(list(1, 5, [2]))).toBe('ignored')
    expect(monitor.add(list(1, 6, [2]))).toBe('accepted')
    expect(monitor.add({ ...list(2, 5, [1]), height: 4 })).toBe('invalid')
    expect(monitor.isEquivocator(keys[1]!.publicKey, 5)).toBe(true)
    expect(monitor.isEquivocator(keys[1]!.publicKey, 6)).toBe(false)
    expect(monitor.listsFor(5).map((l) => l.validator)).toEqual([keys[0]!.publicKey])
    const [evidence] = monitor.equivocations()
    expect(evidence!.lists.map((l) => verifyInclusionList(l, chainId))).toEqual([true, true])
    monitor.prune(6)
    expect(monitor.listsFor(5)).toEqual([])
    expect(monitor.add(list(2, 5, [1]))).toBe('stale')
  })

  it('records per proposer which lists its blocks honoured and violated', () => {
    const monitor = new InclusionMonitor({
      chainId,
      isValidator: (validator) => validator[0] !== keys[2]!.publicKey[0],
    })
    monitor.add(list(0, 5, [1]))
    monitor.add(list(1, 5, [2]))
    expect(monitor.add(list(2, 5, [3]))).toBe('ignored')
    const proposer = keys[2]!.publicKey
    const check = monitor.record({ height: 5, txIds: [id(1)], limits, proposer }, () => 'valid')
    expect(check.ok).toBe(false)
    monitor.record(
      { height: 5, txIds: [id(1), id(2)], limits, proposer: keys[0]!.publicKey },
      () => 'valid',
    )
    expect(monitor.compliance(proposer)).toMatchObject({
      honoured: 1,
      violated: 1,
      violations: [{ height: 5, list: keys[1]!.publicKey, missing: [id(2)] }],
    })
    expect(monitor.compliance(keys[0]!.publicKey)).toMatchObject({ honoured: 2, violated: 0 })
    expect(monitor.compliance(keys[1]!.publicKey)).toMatchObject({ honoured: 0, violated: 0 })
    expect(monitor.report()).toHaveLength(2)
  })
})
