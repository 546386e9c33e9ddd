import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchAuction, fifo, type OrderingPolicy, priorityFee } from '../src/index.js'
import { BLOCK, newPool, type TestTx, tx } from './helpers.js'

const label = (t: TestTx) => `${t.from[19]}:${t.nonce}`

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items]
  let state = seed >>> 0 || 1
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) >>> 0
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

const txSet = fc
  .array(
    fc.record({
      from: fc.nat(6),
      count: fc.integer({ min: 1, max: 4 }),
      fees: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 4, maxLength: 4 }),
      tips: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 4, maxLength: 4 }),
    }),
    { maxLength: 12 },
  )
  .map((senders) => {
    const seen = new Set<number>()
    const txs: TestTx[] = []
    for (const s of senders) {
      if (seen.has(s.from)) continue
      seen.add(s.from)
      for (let nonce = 0; nonce < s.count; nonce++) {
        const fee = BigInt(s.fees[nonce]!)
        const tip = BigInt(Math.min(s.tips[nonce]!, s.fees[nonce]!))
        txs.push(tx(s.from, nonce, fee, { tip, size: 50 + 10 * nonce }))
      }
    }
    return txs
  })

function select(
  policy: OrderingPolicy,
  txs: TestTx[],
  options: { baseFee?: bigint; maxBytes?: number; seed?: Uint8Array } = {},
): TestTx[] {
  const { pool } = newPool({ ordering: policy })
  for (const t of txs) pool.add(t)
  pool.startWindow(options.seed ?? new Uint8Array([9]))
  return pool.selectForBlock({ ...BLOCK, ...options }).txs
}

describe('priorityFee', () => {
  it('orders by effective tip, keeping each sender in nonce order and skipping fee caps under the base fee', () => {
    const txs = [
      tx(1, 0, 10, { tip: 2n }),
      tx(1, 1, 100, { tip: 90n }),
      tx(2, 0, 20, { tip: 20n }),
      tx(3, 0, 4, { tip: 4n }),
      tx(4, 0, 8, { tip: 1n }),
    ]
    // base fee 5: tips are 2, 90 (behind its sender's 2), min(20, 15) = 15, excluded, 1
    expect(select(priorityFee(), txs, { baseFee: 5n }).map(label)).toEqual([
      '2:0',
      '1:0',
      '1:1',
      '4:0',
    ])
  })

  it('produces the same block for any insertion order (property)', () => {
    fc.assert(
      fc.property(
        txSet,
        fc.nat(),
        fc.nat(3),
        fc.integer({ min: 0, max: 2000 }),
        (txs, seed, baseFee, maxBytes) => {
          const options = { baseFee: BigInt(baseFee), maxBytes }
          const reference = select(priorityFee(), txs, options).map(label)
          expect(select(priorityFee(), shuffled(txs, seed), options).map(label)).toEqual(reference)
        },
      ),
      { numRuns: 150 },
    )
  })

  it('matches a naive greedy reference: the best available sender head, repeatedly (property)', () => {
    const idKey = (t: TestTx) => Array.from(t.id, (b) => b.toString(16).padStart(2, '0')).join('')
    fc.assert(
      fc.property(txSet, fc.nat(3), (txs, baseFee) => {
        const fee = BigInt(baseFee)
        const tipAt = (t: TestTx) => (t.tip < t.maxFee - fee ? t.tip : t.maxFee - fee)
        const next = new Map<string, number>()
        const expected: string[] = []
        for (;;) {
          const heads = txs.filter(
            (t) => t.nonce === (next.get(t.from.join()) ?? 0) && t.maxFee >= fee,
          )
          if (heads.length === 0) break
          heads.sort((a, b) => {
            const diff = tipAt(b) - tipAt(a)
            if (diff !== 0n) return diff > 0n ? 1 : -1
            return idKey(a) < idKey(b) ? -1 : 1
          })
          const best = heads[0]!
          expected.push(label(best))
          next.set(best.from.join(), best.nonce + 1)
        }
        expect(select(priorityFee(), txs, { baseFee: fee }).map(label)).toEqual(expected)
      }),
      { numRuns: 100 },
    )
  })

  it('respects the byte, cost and count limits, skipping a sender whose next transaction does not fit', () => {
    const txs = [
      tx(1, 0, 50, { size: 400 }),
      tx(1, 1, 49, { size: 100 }),
      tx(2, 0, 40, { size: 300 }),
      tx(3, 0, 30, { size: 200 }),
    ]
    const { pool } = newPool()
    for (const t of txs) pool.add(t)
    const byBytes = pool.selectForBlock({ maxBytes: 700, maxCost: 10n ** 9n })
    expect(byBytes.txs.map(label)).toEqual(['1:0', '1:1', '3:0'])
    expect(byBytes.bytes).toBe(700)
    expect(byBytes.cost).toBe(63_000n)
    expect(pool.selectForBlock({ maxBytes: 10_000, maxCost: 42_000n }).txs.map(label)).toEqual([
      '1:0',
      '1:1',
    ])
    expect(pool.selectForBlock({ ...BLOCK, maxTxs: 1 }).txs.map(label)).toEqual(['1:0'])
    expect(pool.stats().pending).toBe(4)
  })
})

describe('batchAuction', () => {
  it('selects only transactions of closed windows, ranked by bid whatever their arrival', () => {
    const { pool } = newPool({ ordering: batchAuction() })
    pool.add(tx(1, 0, 5))
    pool.add(tx(2, 0, 9))
    pool.startWindow(new Uint8Array([1]))
    pool.add(tx(3, 0, 100))
    expect(pool.selectForBlock(BLOCK).txs.map(label)).toEqual(['2:0', '1:0'])
    pool.add(tx(4, 0, 7))
    pool.startWindow(new Uint8Array([2]))
    // earlier windows buy nothing: every closed-window transaction competes on its bid
    expect(pool.selectForBlock(BLOCK).txs.map(label)).toEqual(['3:0', '2:0', '4:0', '1:0'])
  })

  it('breaks equal bids by a hash of the id and the window seed, not by arrival', () => {
    const txs = Array.from({ length: 12 }, (_, i) => tx(i, 0, 10))
    const orders = new Set<string>()
    for (let seed = 0; seed < 6; seed++) {
      const reference = select(batchAuction(), txs, { seed: new Uint8Array([seed]) }).map(label)
      const reversed = select(batchAuction(), [...txs].reverse(), { seed: new Uint8Array([seed]) })
      expect(reversed.map(label)).toEqual(reference)
      orders.add(reference.join())
    }
    // the seed, unknown at submission, decides ties: different seeds, different orders
    expect(orders.size).toBeGreaterThan(1)
  })

  it('produces the same block for any insertion order (property)', () => {
    fc.assert(
      fc.property(txSet, fc.nat(), fc.uint8Array({ maxLength: 8 }), (txs, seed, windowSeed) => {
        const reference = select(batchAuction(), txs, { seed: windowSeed }).map(label)
        expect(
          select(batchAuction(), shuffled(txs, seed), { seed: windowSeed }).map(label),
        ).toEqual(reference)
      }),
      { numRuns: 100 },
    )
  })
})

describe('fifo', () => {
  it('follows arrival order across senders and nonce order within one, ignoring fees', () => {
    const { pool } = newPool({ ordering: fifo() })
    pool.add(tx(1, 1, 0))
    pool.add(tx(2, 0, 0))
    pool.add(tx(3, 0, 100))
    pool.add(tx(1, 0, 0))
    expect(pool.selectForBlock(BLOCK).txs.map(label)).toEqual(['2:0', '3:0', '1:0', '1:1'])
  })

  it('is deterministic for a given arrival order (property)', () => {
    fc.assert(
      fc.property(txSet, (txs) => {
        expect(select(fifo(), txs).map(label)).toEqual(select(fifo(), txs).map(label))
      }),
      { numRuns: 50 },
    )
  })
})

describe('custom policies', () => {
  it('see the effective tip and arrival through the context', () => {
    const cheapestFirst: OrderingPolicy = {
      name: 'cheapestFirst',
      compare: (a, b, context) => {
        const diff = context.effectiveTip(a) - context.effectiveTip(b)
        return diff === 0n ? a.arrival - b.arrival : diff < 0n ? -1 : 1
      },
    }
    const txs = [tx(1, 0, 30), tx(2, 0, 10), tx(3, 0, 20)]
    expect(select(cheapestFirst, txs).map(label)).toEqual(['2:0', '3:0', '1:0'])
  })
})
