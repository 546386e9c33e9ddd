// Block selection keeps an index of senders' heads between blocks and ranks with numbers where
// they are exact; these properties check it against a direct reading of each policy's rules.
import { domainHasher } from '@metanode/crypto/hash'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { batchAuction, fifo, type OrderingPolicy, priorityFee } from '../src/index.js'
import { account, newPool, TestState, type TestTx, tx } from './helpers.js'

const SENDERS = 5
const tieHash = domainHasher('metanode/mempool/batch-auction/v1')
// around 2^53, where numbers stop being exact, and far beyond
const AMOUNTS = [0n, 1n, 2n, 5n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n + 3n]
const amount = fc.constantFrom(...AMOUNTS)

const operation = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      from: fc.nat(SENDERS - 1),
      nonce: fc.nat(3),
      fee: amount,
      tip: amount,
      size: fc.integer({ min: 1, max: 3 }),
      big: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('finalize' as const),
      from: fc.nat(SENDERS - 1),
      nonce: fc.nat(2),
      baseFee: amount,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('window' as const), seed: fc.nat(255) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('select' as const),
      baseFee: amount,
      maxBytes: fc.constantFrom(4, 12, 1000),
      maxCost: fc.constantFrom(3n, 2n ** 53n + 2n, 10n ** 30n),
      maxTxs: fc.constantFrom(undefined, 3),
    }),
  },
)

type Kind = 'priorityFee' | 'batchAuction' | 'fifo'
const POLICIES: Record<Kind, () => OrderingPolicy> = { priorityFee, batchAuction, fifo }

const minBigInt = (a: bigint, b: bigint): bigint => (a < b ? a : b)
const maxBigInt = (a: bigint, b: bigint): bigint => (a > b ? a : b)

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!
  }
  return a.length - b.length
}

interface Arrival {
  arrival: number
  window: number
}

/** The policy's rules applied naively: rank every candidate each step. */
function reference(
  kind: Kind,
  pending: TestTx[][],
  arrivals: Map<TestTx, Arrival>,
  window: number,
  seed: Uint8Array,
  options: { baseFee: bigint; maxBytes: number; maxCost: bigint; maxTxs?: number | undefined },
): TestTx[] {
  const { baseFee } = options
  const eligible = (t: TestTx) =>
    t.maxFee >= baseFee && (kind !== 'batchAuction' || arrivals.get(t)!.window < window)
  const tip = (t: TestTx) => minBigInt(t.tip, t.maxFee - baseFee)
  const before = (a: TestTx, b: TestTx): boolean => {
    if (kind === 'fifo') return arrivals.get(a)!.arrival < arrivals.get(b)!.arrival
    if (tip(a) !== tip(b)) return tip(a) > tip(b)
    if (kind === 'batchAuction') {
      const byHash = compareBytes(tieHash(seed, a.id), tieHash(seed, b.id))
      if (byHash !== 0) return byHash < 0
    }
    return compareBytes(a.id, b.id) < 0
  }
  const cursors = pending.map(() => 0)
  const live = new Set(pending.keys())
  const out: TestTx[] = []
  let bytes = 0
  let cost = 0n
  for (const s of live) if (pending[s]!.length === 0 || !eligible(pending[s]![0]!)) live.delete(s)
  while (live.size > 0 && out.length < (options.maxTxs ?? Number.POSITIVE_INFINITY)) {
    let best: number | undefined
    for (const s of live) {
      if (
        best === undefined ||
        before(pending[s]![cursors[s]!]!, pending[best]![cursors[best]!]!)
      ) {
        best = s
      }
    }
    const t = pending[best!]![cursors[best!]!]!
    if (bytes + t.size > options.maxBytes || cost + t.cost > options.maxCost) {
      live.delete(best!)
      continue
    }
    out.push(t)
    bytes += t.size
    cost += t.cost
    const next = pending[best!]![++cursors[best!]!]
    if (next === undefined || !eligible(next)) live.delete(best!)
  }
  return out
}

describe('selectForBlock', () => {
  it('orders many equal tips by id whatever the arrival order', () => {
    const txs = Array.from({ length: 60 }, (_, i) => tx((i * 37 + 11) % 60, 0, 7))
    const { pool } = newPool({ ordering: priorityFee() })
    for (const t of txs) pool.add(t)
    const selected = pool.selectForBlock({ maxBytes: 1_000_000, maxCost: 10n ** 9n }).txs
    expect(selected).toEqual([...txs].sort((a, b) => compareBytes(a.id, b.id)))
  })

  for (const kind of ['priorityFee', 'batchAuction', 'fifo'] as const) {
    it(`${kind}: the head index selects what ranking every candidate would, after any history (property)`, () => {
      fc.assert(
        fc.property(fc.array(operation, { minLength: 20, maxLength: 60 }), (operations) => {
          const state = new TestState()
          state.defaultBalance = 2n ** 200n
          // the built-in policy object uses the head index; a copy of it takes the generic path
          const pools = [POLICIES[kind](), { ...POLICIES[kind]() }].map(
            (ordering) =>
              newPool({
                ordering,
                state,
                limits: { maxPending: 12, maxQueued: 6, maxPerSender: 5, maxQueuedPerSender: 3 },
              }).pool,
          )
          const arrivals = new Map<TestTx, Arrival>()
          const added: TestTx[] = []
          let arrival = 0
          let window = 0
          let seed = new Uint8Array(0)
          for (const op of operations) {
            if (op.kind === 'add') {
              const t = tx(op.from, op.nonce, maxBigInt(op.fee, op.tip), {
                tip: minBigInt(op.fee, op.tip),
                size: op.size,
                cost: op.big ? 2n ** 53n - 1n : 1n,
              })
              const outcomes = pools.map((pool) => {
                try {
                  pool.add(t)
                  return 'added'
                } catch (error) {
                  return (error as Error).name
                }
              })
              expect(outcomes[1]).toBe(outcomes[0])
              if (outcomes[0] === 'added') {
                arrivals.set(t, { arrival: arrival++, window })
                added.push(t)
              }
            } else if (op.kind === 'remove') {
              const t = added[op.pick % Math.max(added.length, 1)]
              if (t !== undefined) for (const pool of pools) pool.remove(t.id)
            } else if (op.kind === 'finalize') {
              state.setNonce(op.from, op.nonce)
              seed = new Uint8Array([op.nonce, op.from])
              for (const pool of pools) pool.onFinalized({ baseFee: op.baseFee, seed })
              window++
            } else if (op.kind === 'window') {
              seed = new Uint8Array([op.seed])
              for (const pool of pools) pool.startWindow(seed)
              window++
            } else {
              const options = {
                baseFee: op.baseFee,
                maxBytes: op.maxBytes,
                maxCost: op.maxCost,
                ...(op.maxTxs === undefined ? {} : { maxTxs: op.maxTxs }),
              }
              const pending = Array.from(
                { length: SENDERS },
                (_, from) => pools[0]!.content(account(from)).pending,
              )
              const expected = reference(kind, pending, arrivals, window, seed, options)
              for (const pool of pools) {
                const selection = pool.selectForBlock(options)
                expect(selection.txs).toEqual(expected)
                expect(selection.bytes).toBe(expected.reduce((sum, t) => sum + t.size, 0))
                expect(selection.cost).toBe(expected.reduce((sum, t) => sum + t.cost, 0n))
              }
            }
          }
        }),
        { numRuns: 150 },
      )
    })
  }
})
