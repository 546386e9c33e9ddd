import type { Counter, Gauge, MetricLabels, Metrics } from '@metanode/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type DropReason,
  Mempool,
  type MempoolRejectionCode,
  MempoolRejectionError,
} from '../src/index.js'
import { account, adapter, BLOCK, newPool, nonces, TestState, type TestTx, tx } from './helpers.js'

function rejection(fn: () => unknown): MempoolRejectionError {
  try {
    fn()
  } catch (error) {
    if (error instanceof MempoolRejectionError) return error
    throw error
  }
  throw new Error('expected a rejection')
}

function code(fn: () => unknown): MempoolRejectionCode {
  return rejection(fn).code
}

describe('admission', () => {
  it('puts contiguous nonces in pending and future nonces in queued, promoting when the gap fills', () => {
    const { pool } = newPool()
    expect(pool.add(tx(1, 2, 10)).status).toBe('queued')
    expect(pool.add(tx(1, 3, 10)).status).toBe('queued')
    expect(pool.add(tx(1, 0, 10)).status).toBe('pending')
    expect(nonces(pool, 1)).toEqual({ pending: [0], queued: [2, 3] })
    const promotions: number[][] = []
    pool.on('promoted', ({ txs }) => promotions.push(txs.map((t) => t.nonce)))
    const result = pool.add(tx(1, 1, 10))
    expect(result.status).toBe('pending')
    expect(result.promoted.map((t) => t.nonce)).toEqual([2, 3])
    expect(promotions).toEqual([[2, 3]])
    expect(nonces(pool, 1)).toEqual({ pending: [0, 1, 2, 3], queued: [] })
    expect(pool.stats()).toEqual({ pending: 4, queued: 0, bytes: 400, senders: 1 })
  })

  it('starts pending at the account nonce', () => {
    const { pool, state } = newPool()
    state.setNonce(1, 5)
    expect(code(() => pool.add(tx(1, 4, 10)))).toBe('nonce-too-low')
    expect(pool.add(tx(1, 6, 10)).status).toBe('queued')
    expect(pool.add(tx(1, 5, 10)).status).toBe('pending')
    expect(nonces(pool, 1).pending).toEqual([5, 6])
  })

  it('keeps the nonce gaps of a property-generated arrival order consistent', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(20), { maxLength: 20 }), (order) => {
        const { pool } = newPool()
        for (const nonce of order) pool.add(tx(1, nonce, 10))
        const present = new Set(order)
        let run = 0
        while (present.has(run)) run++
        const expectedPending = [...Array(run).keys()]
        const expectedQueued = [...present].filter((n) => n > run).sort((a, b) => a - b)
        expect(nonces(pool, 1)).toEqual({ pending: expectedPending, queued: expectedQueued })
      }),
      { numRuns: 100 },
    )
  })

  it('refuses each invalid input with its typed error', () => {
    const { pool, state } = newPool({ limits: { maxTxBytes: 1000, minPriorityFee: 2n } })
    const known = tx(1, 0, 10)
    pool.add(known)
    expect(code(() => pool.add(known))).toBe('already-known')
    expect(code(() => pool.add(tx(2, 0, 10, { size: 1001 })))).toBe('oversized')
    expect(pool.add(tx(2, 0, 10, { size: 1000 })).status).toBe('pending')
    expect(code(() => pool.add(tx(3, 0, 10, { tip: 1n })))).toBe('underpriced')
    expect(code(() => pool.add(tx(3, 0, 10, { tip: 11n })))).toBe('invalid')
    expect(code(() => pool.add(tx(3, 0, 10, { id: new Uint8Array(0) })))).toBe('invalid')
    expect(code(() => pool.add(tx(3, 0, -1)))).toBe('invalid')
    state.setBalance(4, 21_000n * 10n + 5n)
    expect(code(() => pool.add(tx(4, 0, 10, { value: 6n })))).toBe('insufficient-funds')
    expect(pool.add(tx(4, 0, 10, { value: 5n })).status).toBe('pending')
    expect(() => pool.add({ ...tx(5, 0, 10), nonce: 1.5 })).toThrow(TypeError)
    expect(() => pool.add({ ...tx(5, 0, 10), maxFee: 10 as unknown as bigint })).toThrow(TypeError)
    const error = rejection(() => pool.add(known))
    expect(error.name).toBe('AlreadyKnownError')
    expect(error.action).toBe('ignore')
    expect(rejection(() => pool.add(tx(3, 0, 10, { tip: 11n }))).action).toBe('reject')
  })

  it('runs the verifier hook for gossip only', () => {
    const { pool } = newPool({ verify: (t) => t.nonce !== 7 })
    expect(code(() => pool.addRemote(tx(1, 7, 10)))).toBe('invalid')
    expect(pool.add(tx(1, 7, 10)).status).toBe('queued')
    expect(pool.addRemote(tx(1, 0, 10)).status).toBe('pending')
    const throwing = newPool({
      verify: () => {
        throw new Error('boom')
      },
    }).pool
    expect(code(() => throwing.addRemote(tx(1, 0, 10)))).toBe('invalid')
  })

  it('validates its configuration', () => {
    const state = new TestState()
    expect(() => new Mempool({ adapter: {} as typeof adapter, state })).toThrow(TypeError)
    expect(() => new Mempool({ adapter, state, limits: { maxPending: 0 } })).toThrow(RangeError)
    expect(
      () => new Mempool({ adapter, state, limits: { maxTxBytes: 10, maxTotalBytes: 5 } }),
    ).toThrow(RangeError)
    expect(() => new Mempool({ adapter, state, baseFee: 1 as unknown as bigint })).toThrow(
      TypeError,
    )
  })
})

describe('replacement', () => {
  it('needs at least the bump in both caps, exactly at the boundary', () => {
    const { pool } = newPool()
    const original = tx(1, 0, 100, { tip: 50n })
    pool.add(original)
    expect(code(() => pool.add(tx(1, 0, 109, { tip: 55n })))).toBe('replacement-underpriced')
    expect(code(() => pool.add(tx(1, 0, 110, { tip: 54n })))).toBe('replacement-underpriced')
    const replaced: TestTx[] = []
    pool.on('replaced', ({ replaced: old }) => replaced.push(old))
    const better = tx(1, 0, 110, { tip: 55n })
    const result = pool.add(better)
    expect(result.replaced).toBe(original)
    expect(replaced).toEqual([original])
    expect(pool.has(original.id)).toBe(false)
    expect(pool.get(better.id)).toBe(better)
    expect(pool.stats().pending).toBe(1)
  })

  it('honours a configured bump as a property: accepted iff both caps reach old × (100 + bump) / 100', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 50 }),
        fc.bigInt({ min: 1n, max: 10_000n }),
        fc.bigInt({ min: 0n, max: 30_000n }),
        (bump, old, next) => {
          const { pool } = newPool({ limits: { priceBumpPercent: bump } })
          pool.add(tx(1, 0, old))
          const accepted = next * 100n >= old * BigInt(100 + bump) && (bump === 0 || next > old)
          if (accepted) expect(pool.add(tx(1, 0, next)).replaced).toBeDefined()
          else expect(code(() => pool.add(tx(1, 0, next)))).toBe('replacement-underpriced')
        },
      ),
      { numRuns: 200 },
    )
  })

  it('keeps a queued slot queued and a pending slot pending', () => {
    const { pool } = newPool()
    pool.add(tx(1, 0, 10))
    pool.add(tx(1, 2, 10))
    expect(pool.add(tx(1, 2, 20)).status).toBe('queued')
    expect(pool.add(tx(1, 0, 20)).status).toBe('pending')
    expect(nonces(pool, 1)).toEqual({ pending: [0], queued: [2] })
  })
})

describe('limits', () => {
  it('caps queued transactions per sender and in total', () => {
    const { pool } = newPool({ limits: { maxQueuedPerSender: 2, maxQueued: 3 } })
    pool.add(tx(1, 1, 10))
    pool.add(tx(1, 2, 10))
    expect(code(() => pool.add(tx(1, 3, 10)))).toBe('sender-limit')
    pool.add(tx(2, 1, 10))
    // full: a queued newcomer must outbid the tail of the biggest queued sender
    expect(code(() => pool.add(tx(3, 1, 10)))).toBe('underpriced')
    const result = pool.add(tx(3, 1, 11))
    expect(result.evicted.map((t) => [t.from[19], t.nonce])).toEqual([[1, 2]])
    expect(pool.stats().queued).toBe(3)
  })

  it('caps each sender, letting an executable transaction displace its own queued tail', () => {
    const { pool } = newPool({ limits: { maxPerSender: 3, maxQueuedPerSender: 3 } })
    pool.add(tx(1, 0, 10))
    pool.add(tx(1, 2, 10))
    pool.add(tx(1, 3, 10))
    expect(code(() => pool.add(tx(1, 5, 10)))).toBe('sender-limit')
    const result = pool.add(tx(1, 1, 10))
    expect(result.evicted.map((t) => t.nonce)).toEqual([3])
    expect(nonces(pool, 1)).toEqual({ pending: [0, 1, 2], queued: [] })
    expect(code(() => pool.add(tx(1, 3, 10)))).toBe('sender-limit')
  })

  it('evicts the cheapest tail among the senders holding the most pending slots', () => {
    const { pool } = newPool({ limits: { maxPending: 5 } })
    pool.add(tx(1, 0, 50))
    pool.add(tx(1, 1, 40))
    pool.add(tx(1, 2, 30))
    pool.add(tx(2, 0, 5))
    pool.add(tx(3, 0, 6))
    const dropped: [number, number, DropReason][] = []
    pool.on('dropped', ({ tx: t, reason }) => dropped.push([t.from[19]!, t.nonce, reason]))
    // sender 1 holds the most slots: its tail (30) goes first, though senders 2 and 3 bid less
    pool.add(tx(4, 0, 31))
    expect(dropped).toEqual([[1, 2, 'evicted']])
    // the biggest senders now bid more than 7: look at smaller senders
    pool.add(tx(5, 0, 7))
    expect(dropped[1]).toEqual([2, 0, 'evicted'])
    expect(code(() => pool.add(tx(6, 0, 6)))).toBe('underpriced')
    expect(pool.stats().pending).toBe(5)
  })

  it('never evicts a pending transaction for a queued one', () => {
    const { pool } = newPool({ limits: { maxTotalBytes: 300, maxTxBytes: 100 } })
    pool.add(tx(1, 0, 1))
    pool.add(tx(2, 0, 1))
    pool.add(tx(3, 0, 1))
    expect(code(() => pool.add(tx(4, 5, 1000)))).toBe('pool-full')
    expect(pool.stats()).toMatchObject({ pending: 3, queued: 0 })
  })

  it('evicts queued before pending for an executable transaction, whatever they bid', () => {
    const { pool } = newPool({ limits: { maxTotalBytes: 300, maxTxBytes: 100 } })
    pool.add(tx(1, 0, 1))
    pool.add(tx(2, 0, 1))
    pool.add(tx(3, 3, 1000))
    const result = pool.add(tx(4, 0, 1))
    expect(result.evicted.map((t) => t.from[19])).toEqual([3])
    expect(pool.stats()).toMatchObject({ pending: 3, queued: 0, bytes: 300 })
  })

  it('leaves the pool unchanged when it cannot make room', () => {
    const { pool } = newPool({ limits: { maxTotalBytes: 300, maxTxBytes: 200 } })
    pool.add(tx(1, 0, 5))
    pool.add(tx(2, 0, 50))
    pool.add(tx(3, 0, 50))
    // needs two evictions; only the first (tip 5) is outbid by 20
    expect(code(() => pool.add(tx(4, 0, 20, { size: 200 })))).toBe('underpriced')
    expect(pool.stats()).toMatchObject({ pending: 3, bytes: 300 })
    expect(nonces(pool, 1).pending).toEqual([0])
  })

  it('expires queued transactions after their lifetime on the injected clock', () => {
    let now = 1000
    const { pool } = newPool({ limits: { queuedLifetimeMs: 60_000 } }, { now: () => now })
    pool.add(tx(1, 0, 10))
    pool.add(tx(1, 2, 10))
    now += 60_000
    expect(pool.pruneExpired()).toBe(0)
    now += 1
    const dropped: DropReason[] = []
    pool.on('dropped', ({ reason }) => dropped.push(reason))
    expect(pool.pruneExpired()).toBe(1)
    expect(dropped).toEqual(['expired'])
    expect(nonces(pool, 1)).toEqual({ pending: [0], queued: [] })
  })
})

describe('after a finalized block', () => {
  it('drops included and stale transactions, demotes after a gap, promotes and re-checks balances', () => {
    const { pool, state } = newPool()
    const included = [tx(1, 0, 10), tx(1, 1, 10)]
    for (const t of included) pool.add(t)
    pool.add(tx(1, 2, 10))
    pool.add(tx(1, 4, 10))
    pool.add(tx(2, 0, 10))
    pool.add(tx(2, 1, 10))
    pool.add(tx(3, 0, 10))
    pool.add(tx(3, 1, 10))
    const events: string[] = []
    pool.on('dropped', ({ tx: t, reason }) =>
      events.push(`drop ${t.from[19]}:${t.nonce} ${reason}`),
    )
    pool.on('demoted', ({ txs }) => events.push(`demote ${txs.map((t) => t.nonce)}`))
    state.setNonce(1, 2)
    state.setNonce(2, 1) // its nonce 0 was used by a transaction this pool never saw
    state.setBalance(3, 21_000n * 10n - 1n)
    pool.onFinalized({ txIds: included.map((t) => t.id), baseFee: 3n })
    expect(events.sort()).toEqual([
      'drop 1:0 included',
      'drop 1:1 included',
      'drop 2:0 nonce-too-low',
      'drop 3:0 insufficient-funds',
      'drop 3:1 insufficient-funds',
    ])
    expect(nonces(pool, 1)).toEqual({ pending: [2], queued: [4] })
    expect(nonces(pool, 2)).toEqual({ pending: [1], queued: [] })
    expect(pool.stats()).toEqual({ pending: 2, queued: 1, bytes: 300, senders: 2 })
    expect(pool.baseFee).toBe(3n)
    expect(pool.window).toBe(1)
  })

  it('demotes what follows a transaction the balance no longer covers', () => {
    const { pool, state } = newPool()
    pool.add(tx(1, 0, 10))
    pool.add(tx(1, 1, 10, { value: 1000n }))
    pool.add(tx(1, 2, 10))
    state.setBalance(1, 21_000n * 10n + 10n)
    const demoted: number[] = []
    pool.on('demoted', ({ txs }) => demoted.push(...txs.map((t) => t.nonce)))
    pool.onFinalized({})
    expect(nonces(pool, 1)).toEqual({ pending: [0], queued: [2] })
    expect(demoted).toEqual([2])
  })

  it('promotes queued transactions whose nonce the account reached', () => {
    const { pool, state } = newPool()
    pool.add(tx(1, 3, 10))
    pool.add(tx(1, 4, 10))
    state.setNonce(1, 3)
    const promoted: number[] = []
    pool.on('promoted', ({ txs }) => promoted.push(...txs.map((t) => t.nonce)))
    pool.onFinalized({})
    expect(nonces(pool, 1)).toEqual({ pending: [3, 4], queued: [] })
    expect(promoted).toEqual([3, 4])
  })

  it('remove() demotes the later nonces of the sender', () => {
    const { pool } = newPool()
    const middle = tx(1, 1, 10)
    pool.add(tx(1, 0, 10))
    pool.add(middle)
    pool.add(tx(1, 2, 10))
    expect(pool.remove(middle.id)).toBe(true)
    expect(pool.remove(middle.id)).toBe(false)
    expect(nonces(pool, 1)).toEqual({ pending: [0], queued: [2] })
    expect(pool.status(middle.id)).toBeUndefined()
  })
})

describe('metrics', () => {
  it('reports sizes, admissions, rejections by reason and evictions', () => {
    const counts = new Map<string, number>()
    const gauges = new Map<string, number>()
    const key = (name: string, labels?: MetricLabels) => `${name}${JSON.stringify(labels ?? {})}`
    const metrics: Metrics = {
      counter: ({ name }) =>
        ({
          inc: (labels, value = 1) =>
            counts.set(key(name, labels), (counts.get(key(name, labels)) ?? 0) + value),
        }) satisfies Counter,
      gauge: ({ name }) =>
        ({ set: (value, labels) => gauges.set(key(name, labels), value) }) satisfies Gauge,
      histogram: () => ({ observe: () => {} }),
    }
    const pool = new Mempool(
      { adapter, state: new TestState(), limits: { maxPending: 1 } },
      { metrics },
    )
    pool.add(tx(1, 0, 10))
    pool.add(tx(1, 0, 20))
    pool.add(tx(1, 3, 20))
    pool.add(tx(2, 0, 30))
    expect(() => pool.add(tx(3, 0, 1))).toThrow()
    expect(counts.get('metanode_mempool_admitted_total{"kind":"added"}')).toBe(3)
    expect(counts.get('metanode_mempool_admitted_total{"kind":"replaced"}')).toBe(1)
    expect(counts.get('metanode_mempool_rejected_total{"reason":"underpriced"}')).toBe(1)
    expect(counts.get('metanode_mempool_dropped_total{"reason":"evicted"}')).toBe(1)
    expect(gauges.get('metanode_mempool_transactions{"status":"pending"}')).toBe(1)
    expect(gauges.get('metanode_mempool_transactions{"status":"queued"}')).toBe(1)
    expect(gauges.get('metanode_mempool_bytes{}')).toBe(200)
  })
})

describe('accounting invariants', () => {
  it('keeps stats, contents and limits consistent under random operations', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        from: fc.nat(5),
        nonce: fc.nat(8),
        fee: fc.nat(40),
      }),
      fc.record({
        kind: fc.constant('finalize' as const),
        advance: fc.nat(5),
        baseFee: fc.nat(20),
      }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const limits = { maxPending: 8, maxQueued: 4, maxPerSender: 5, maxQueuedPerSender: 3 }
        const { pool, state } = newPool({ limits })
        for (const o of ops) {
          if (o.kind === 'add') {
            try {
              pool.add(tx(o.from, o.nonce, o.fee + 1))
            } catch (error) {
              if (!(error instanceof MempoolRejectionError)) throw error
            }
          } else {
            for (let from = 0; from <= 5; from++) {
              const pending = nonces(pool, from).pending
              state.setNonce(from, state.nonce(account(from)) + Math.min(o.advance, pending.length))
            }
            pool.onFinalized({ baseFee: BigInt(o.baseFee) })
          }
          let pending = 0
          let queued = 0
          for (let from = 0; from <= 5; from++) {
            const content = nonces(pool, from)
            const base = state.nonce(account(from))
            expect(content.pending).toEqual(content.pending.map((_, i) => base + i))
            expect(
              content.queued.every(
                (n, i) =>
                  n >= base + content.pending.length && (i === 0 || n > content.queued[i - 1]!),
              ),
            ).toBe(true)
            pending += content.pending.length
            queued += content.queued.length
          }
          const stats = pool.stats()
          expect(stats.pending).toBe(pending)
          expect(stats.queued).toBe(queued)
          expect(stats.bytes).toBe(100 * (pending + queued))
          expect(pool.size).toBe(pending + queued)
          expect(pending).toBeLessThanOrEqual(8)
        }
        pool.selectForBlock(BLOCK)
      }),
      { numRuns: 150 },
    )
  })
})
