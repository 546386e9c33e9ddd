/**
 * `@metanode/mempool`: an auction-ordered transaction pool with FOCIL-style inclusion lists,
 * generic over the chain's transaction type. Admission follows go-ethereum's txpool (pending and
 * queued per sender, 10% replacement bump, global and per-sender limits, eviction that never
 * trades an executable transaction for a future one); blocks are selected by a deterministic
 * ordering policy (`priorityFee`, `batchAuction`, `fifo`, or your own).
 *
 * @example
 * ```ts
 * import { Mempool, priorityFee, type TransactionAdapter } from '@metanode/mempool'
 *
 * interface Tx { id: Uint8Array; from: Uint8Array; nonce: number; tip: bigint; size: number }
 * const adapter: TransactionAdapter<Tx> = {
 *   id: (tx) => tx.id,
 *   sender: (tx) => tx.from,
 *   nonce: (tx) => tx.nonce,
 *   maxFee: (tx) => tx.tip,
 *   size: (tx) => tx.size,
 *   cost: () => 21_000n,
 * }
 * const state = { nonce: () => 0, balance: () => 10n ** 18n }
 * const pool = new Mempool({ adapter, state, ordering: priorityFee() })
 * const alice = new Uint8Array(20).fill(1)
 * pool.add({ id: new Uint8Array(32).fill(1), from: alice, nonce: 1, tip: 5n, size: 120 }) // queued
 * pool.add({ id: new Uint8Array(32).fill(2), from: alice, nonce: 0, tip: 3n, size: 120 }) // pending; promotes nonce 1
 * const { txs } = pool.selectForBlock({ maxBytes: 1_000_000, maxCost: 30_000_000n })
 * txs.map((tx) => tx.nonce) // [0, 1]
 * ```
 *
 * @packageDocumentation
 */

export {
  AlreadyKnownError,
  InsufficientFundsError,
  InvalidTransactionError,
  MEMPOOL_REJECTION_CODES,
  type MempoolRejectionCode,
  MempoolRejectionError,
  NonceTooLowError,
  OversizedError,
  PoolFullError,
  ReplacementUnderpricedError,
  SenderLimitError,
  UnderpricedError,
} from './errors.js'
export {
  type CreateInclusionListOptions,
  checkInclusion,
  createInclusionList,
  decodeInclusionList,
  encodeInclusionList,
  INCLUSION_LIST_LIMITS,
  INCLUSION_LIST_TAG,
  type InclusionBlock,
  type InclusionCheck,
  type InclusionEquivocation,
  type InclusionList,
  type InclusionListOutcome,
  type InclusionListVerdict,
  InclusionMonitor,
  type InclusionMonitorOptions,
  type InclusionViolation,
  signInclusionList,
  type TxFootprint,
  type TxValidity,
  type ValidatorCompliance,
  verifyInclusionList,
} from './inclusion-list.js'
export {
  MAX_KEY_BYTES,
  Mempool,
  type MempoolComponents,
  type MempoolInit,
} from './mempool.js'
export {
  batchAuction,
  fifo,
  type OrderingContext,
  type OrderingPolicy,
  priorityFee,
} from './ordering.js'
export {
  type AccountState,
  type AddResult,
  type BlockSelection,
  DEFAULT_MEMPOOL_LIMITS,
  type DropReason,
  type FinalizedBlock,
  type MempoolEvents,
  type MempoolLimits,
  type MempoolStats,
  type PooledTransaction,
  type SelectOptions,
  type TransactionAdapter,
  type TxStatus,
} from './types.js'
