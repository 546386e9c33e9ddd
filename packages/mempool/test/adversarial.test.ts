import { describe, expect, it } from 'vitest'
import { MempoolRejectionError } from '../src/index.js'
import { BLOCK, newPool, nonces, type TestTx, tx } from './helpers.js'

function tryAdd(add: () => unknown): boolean {
  try {
    add()
    return true
  } catch (error) {
    if (error instanceof MempoolRejectionError) return false
    throw error
  }
}

const limits = {
  maxPending: 64,
  maxQueued: 32,
  maxPerSender: 16,
  maxQueuedPerSender: 8,
  maxTotalBytes: 100 * 96,
  maxTxBytes: 1000,
}

function honestPool() {
  const { pool, state } = newPool({ limits })
  const honest: TestTx[] = []
  for (let from = 100; from < 132; from++) {
    for (let nonce = 0; nonce < 2; nonce++) honest.push(tx(from, nonce, 20))
  }
  for (const t of honest) pool.add(t)
  expect(pool.stats().pending).toBe(64)
  return { pool, state, honest }
}

describe('adversarial', () => {
  it('one sender flooding future nonces with high fees displaces no executable transaction (DETER, CVE-2022-23327)', () => {
    const { pool, honest } = honestPool()
    let accepted = 0
    for (let nonce = 1; nonce < 10_000; nonce++) {
      if (tryAdd(() => pool.add(tx(1, nonce, 1_000_000)))) accepted++
    }
    expect(accepted).toBeLessThanOrEqual(limits.maxQueuedPerSender)
    for (const t of honest) expect(pool.status(t.id)).toBe('pending')
    expect(pool.selectForBlock(BLOCK).txs).toHaveLength(64)
  })

  it('many flooders of future nonces cannot evict pending transactions by filling the byte budget', () => {
    const { pool, honest } = honestPool()
    for (let from = 0; from < 200; from++) {
      tryAdd(() => pool.add(tx(from + 1000, 1, 1_000_000, { size: 1000 })))
    }
    for (const t of honest) expect(pool.status(t.id)).toBe('pending')
    expect(pool.stats().bytes).toBeLessThanOrEqual(limits.maxTotalBytes)
  })

  it('a replacement storm never grows the pool, opens a nonce gap or costs less than 10% per round', () => {
    const { pool } = newPool({ limits })
    const honest = Array.from({ length: 60 }, (_, i) => tx(100 + (i >> 1), i & 1, 20))
    for (const t of honest) pool.add(t)
    const fees = [20n, 20n, 20n]
    for (let nonce = 0; nonce < 3; nonce++) pool.add(tx(1, nonce, 20))
    for (let round = 0; round < 300; round++) {
      const nonce = round % 3
      const current = fees[nonce]!
      const bumped = (current * 110n + 99n) / 100n
      expect(tryAdd(() => pool.add(tx(1, nonce, bumped - 1n)))).toBe(false)
      expect(pool.add(tx(1, nonce, bumped)).replaced?.maxFee).toBe(current)
      fees[nonce] = bumped
      expect(pool.stats()).toMatchObject({ pending: 63, queued: 0 })
    }
    expect(nonces(pool, 1)).toEqual({ pending: [0, 1, 2], queued: [] })
    // after 100 rounds per nonce the attacker bids 1.1^100 ≈ 13,780 times its first fee
    expect(fees[0]! > 20n * 13_000n).toBe(true)
    for (const t of honest) expect(pool.status(t.id)).toBe('pending')
  })

  it('many senders at the price floor cannot displace better-paying executable transactions', () => {
    const { pool, honest } = honestPool()
    let accepted = 0
    for (let from = 0; from < 2000; from++) {
      if (tryAdd(() => pool.add(tx(from + 5000, 0, 20)))) accepted++
      if (tryAdd(() => pool.add(tx(from + 9000, 0, 1)))) accepted++
    }
    expect(accepted).toBe(0)
    for (const t of honest) expect(pool.status(t.id)).toBe('pending')
  })

  it('floor spam is displaced by an honest higher bid, biggest senders first', () => {
    const { pool } = newPool({ limits })
    for (let from = 0; from < 64; from++) pool.add(tx(from + 5000, 0, 1))
    const honest = tx(42, 0, 2)
    expect(pool.add(honest).evicted).toHaveLength(1)
    expect(pool.status(honest.id)).toBe('pending')
    expect(pool.stats().pending).toBe(64)
  })

  it('an executable flood from one sender is capped per sender', () => {
    const { pool } = newPool({ limits })
    let accepted = 0
    for (let nonce = 0; nonce < 1000; nonce++) {
      if (tryAdd(() => pool.add(tx(1, nonce, 50)))) accepted++
    }
    expect(accepted).toBe(limits.maxPerSender)
    expect(tryAdd(() => pool.add(tx(2, 0, 20)))).toBe(true)
  })
})
