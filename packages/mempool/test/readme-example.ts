import { ed25519 } from '@metanode/crypto/ed25519'
import {
  checkInclusion,
  createInclusionList,
  Mempool,
  priorityFee,
  type TransactionAdapter,
  verifyInclusionList,
} from '@metanode/mempool'

// Your chain's transaction type, already signature-checked when it reaches the pool.
interface Tx {
  id: Uint8Array
  from: Uint8Array
  nonce: number
  maxFee: bigint
  tip: bigint
}
const adapter: TransactionAdapter<Tx> = {
  id: (tx) => tx.id,
  sender: (tx) => tx.from,
  nonce: (tx) => tx.nonce,
  maxFee: (tx) => tx.maxFee,
  maxPriorityFee: (tx) => tx.tip,
  size: () => 120,
  cost: () => 21_000n,
}
// Account state after the last finalized block.
const state = { nonce: () => 0, balance: () => 10n ** 18n }

const pool = new Mempool({ adapter, state, ordering: priorityFee(), baseFee: 10n })
const alice = new Uint8Array(20).fill(1)
const bob = new Uint8Array(20).fill(2)
const id = (n: number) => new Uint8Array(32).fill(n)

pool.add({ id: id(1), from: alice, nonce: 1, maxFee: 30n, tip: 5n }) // queued: nonce 0 missing
pool.add({ id: id(2), from: alice, nonce: 0, maxFee: 30n, tip: 2n }) // pending, promotes nonce 1
pool.add({ id: id(3), from: bob, nonce: 0, maxFee: 30n, tip: 3n })
try {
  pool.add({ id: id(4), from: bob, nonce: 0, maxFee: 32n, tip: 3n }) // less than a 10% bump
} catch (error) {
  console.log((error as Error).name) // ReplacementUnderpricedError
}

// Highest effective tip first, each sender in nonce order.
const { txs } = pool.selectForBlock({ maxBytes: 1_000_000, maxCost: 30_000_000n })
console.log(txs.map((tx) => `${tx.from[0]}:${tx.nonce}`)) // [ '2:0', '1:0', '1:1' ]

// A validator's inclusion list, and a check that a proposed block honours it.
const chainId = new TextEncoder().encode('devnet-1')
const validator = ed25519.keygen(new Uint8Array(32).fill(7))
const list = createInclusionList(pool, {
  height: 1,
  maxTxs: 2,
  secretKey: validator.secretKey,
  chainId,
})
console.log(verifyInclusionList(list, chainId)) // true
const censoring = {
  height: 1,
  txIds: [id(2)],
  limits: { maxBytes: 1_000_000, maxCost: 30_000_000n },
}
console.log(checkInclusion(censoring, [list], () => 'valid').ok) // false: bob's transaction is missing

// After the block is finalized: included transactions leave, the rest is re-checked.
pool.onFinalized({ txIds: txs.map((tx) => tx.id), baseFee: 12n })
console.log(pool.stats()) // { pending: 0, queued: 0, bytes: 0, senders: 0 }
