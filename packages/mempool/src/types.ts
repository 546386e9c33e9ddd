/**
 * The contracts between the pool and the chain that uses it: how to read a transaction, how to
 * read account state, the limits, and the events.
 */

/**
 * Tells the pool what it needs to know about a chain's transaction type. The pool never
 * verifies signatures: admit only transactions whose signature the caller has checked (or give
 * the pool a {@link MempoolInit.verify} hook and use `addRemote`).
 *
 * Nonces are safe-integer `number`s (2^53 − 1 transactions per account is more than any chain
 * reaches, and numbers keep the per-sender arrays and comparisons cheap); amounts are `bigint`.
 */
export interface TransactionAdapter<Tx> {
  /** The transaction's unique id (usually its hash), 1 to 64 bytes. */
  id(tx: Tx): Uint8Array
  /** The account that signed it (address or public key), 1 to 64 bytes. */
  sender(tx: Tx): Uint8Array
  /** The sender's account nonce this transaction consumes: a safe integer ≥ 0. */
  nonce(tx: Tx): number
  /** Fee cap per unit of {@link TransactionAdapter.cost} (EIP-1559 `maxFeePerGas`). */
  maxFee(tx: Tx): bigint
  /**
   * Tip cap per unit of cost (EIP-1559 `maxPriorityFeePerGas`), at most {@link
   * TransactionAdapter.maxFee}. Omit it for legacy single-price transactions: the tip is then
   * `maxFee − baseFee`.
   */
  maxPriorityFee?(tx: Tx): bigint
  /** Encoded size in bytes, counted against the per-transaction, pool and block byte limits. */
  size(tx: Tx): number
  /** Block resource units the transaction may consume (gas limit), counted against a block's `maxCost`. */
  cost(tx: Tx): bigint
  /**
   * Amount debited besides fees (a transfer's value), default `0n`. The sender's balance must
   * cover `value + cost × maxFee`, as in go-ethereum.
   */
  value?(tx: Tx): bigint
}

/** The account state the pool checks nonces and balances against (the state after the last finalized block). */
export interface AccountState {
  /** The next nonce the account will use: transactions with lower nonces are stale. */
  nonce(sender: Uint8Array): number
  /** The account's spendable balance. */
  balance(sender: Uint8Array): bigint
}

/** Where a pooled transaction waits: `pending` ones are executable now, `queued` ones wait for a nonce gap to fill. */
export type TxStatus = 'pending' | 'queued'

/**
 * Why a transaction left the pool: `included` in a finalized block, `nonce-too-low` (another
 * transaction used its nonce), `insufficient-funds` (the balance no longer covers it), `evicted`
 * to make room for a better one, `expired` (queued longer than the lifetime), `removed` by the
 * caller.
 */
export type DropReason =
  | 'included'
  | 'nonce-too-low'
  | 'insufficient-funds'
  | 'evicted'
  | 'expired'
  | 'removed'

/** The pool's limits. See {@link DEFAULT_MEMPOOL_LIMITS}. */
export interface MempoolLimits {
  /** Most executable (pending) transactions in the pool. */
  maxPending: number
  /** Most future-nonce (queued) transactions in the pool. */
  maxQueued: number
  /** Most transactions (pending + queued) one sender may hold. */
  maxPerSender: number
  /** Most queued transactions one sender may hold. */
  maxQueuedPerSender: number
  /** Largest transaction, in bytes. */
  maxTxBytes: number
  /** Most bytes of transactions in the pool. */
  maxTotalBytes: number
  /** How long a transaction may stay queued, in milliseconds of the pool's clock. */
  queuedLifetimeMs: number
  /** How much more (in percent) a replacement must bid in both fee cap and tip cap. */
  priceBumpPercent: number
  /** The lowest tip cap the pool admits. */
  minPriorityFee: bigint
}

/**
 * Defaults modelled on go-ethereum's txpool: 4,096 pending and 1,024 queued slots, 64 per
 * sender of which 16 queued, 128 KiB per transaction, 64 MiB in all, 3 hours queued lifetime,
 * a 10% replacement bump and no price floor.
 */
export const DEFAULT_MEMPOOL_LIMITS: Readonly<MempoolLimits> = Object.freeze({
  maxPending: 4096,
  maxQueued: 1024,
  maxPerSender: 64,
  maxQueuedPerSender: 16,
  maxTxBytes: 128 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  queuedLifetimeMs: 3 * 60 * 60 * 1000,
  priceBumpPercent: 10,
  minPriorityFee: 0n,
})

/** A transaction as the pool holds it: what ordering policies compare. */
export interface PooledTransaction<Tx = unknown> {
  /** The transaction. */
  readonly tx: Tx
  /** Its id. */
  readonly id: Uint8Array
  /** Its sender. */
  readonly sender: Uint8Array
  /** Its nonce. */
  readonly nonce: number
  /** Its fee cap per unit of cost. */
  readonly maxFee: bigint
  /** Its tip cap per unit of cost. */
  readonly maxPriorityFee: bigint
  /** Its size in bytes. */
  readonly size: number
  /** Its block resource cost. */
  readonly cost: bigint
  /** Arrival sequence number in this pool: strictly increasing, never the wall clock. */
  readonly arrival: number
  /** Index of the block window in which it arrived (see {@link Mempool.window}). */
  readonly window: number
}

/** The result of a successful {@link Mempool.add}. */
export interface AddResult<Tx> {
  /** Where the transaction went. */
  status: TxStatus
  /** The transaction it replaced (same sender and nonce), if any. */
  replaced: Tx | undefined
  /** Transactions evicted to make room for it. */
  evicted: Tx[]
  /** Queued transactions of the same sender that it made executable. */
  promoted: Tx[]
}

/** Events of a {@link Mempool}. */
export interface MempoolEvents<Tx> {
  /** A new transaction entered the pool. */
  added: {
    /** The transaction. */
    tx: Tx
    /** Where it went. */
    status: TxStatus
  }
  /** A transaction replaced the pooled one with the same sender and nonce. */
  replaced: {
    /** The new transaction. */
    tx: Tx
    /** The transaction it replaced. */
    replaced: Tx
    /** The slot's status, unchanged. */
    status: TxStatus
  }
  /** Queued transactions became executable (a nonce gap filled, or pending room appeared). */
  promoted: {
    /** The promoted transactions. */
    txs: Tx[]
  }
  /** Pending transactions became queued (an earlier nonce of their sender left the pool). */
  demoted: {
    /** The demoted transactions. */
    txs: Tx[]
  }
  /** A transaction left the pool without being replaced. */
  dropped: {
    /** The transaction. */
    tx: Tx
    /** Why it left. */
    reason: DropReason
  }
}

/** Sizes of the pool. */
export interface MempoolStats {
  /** Executable transactions. */
  pending: number
  /** Future-nonce transactions. */
  queued: number
  /** Bytes of all pooled transactions. */
  bytes: number
  /** Senders with at least one pooled transaction. */
  senders: number
}

/** Limits and parameters of {@link Mempool.selectForBlock}. */
export interface SelectOptions {
  /** Most bytes of transactions in the block. */
  maxBytes: number
  /** Most resource units (gas) in the block. */
  maxCost: bigint
  /** The block's base fee; transactions whose fee cap is below it are not selected. Default: the pool's. */
  baseFee?: bigint
  /** Most transactions in the block. Default: no limit. */
  maxTxs?: number
  /** The seed for `batchAuction` tie-breaks. Default: the pool's current window seed. */
  seed?: Uint8Array
}

/** The batch {@link Mempool.selectForBlock} chose, in execution order. */
export interface BlockSelection<Tx> {
  /** The transactions, each sender's in nonce order. */
  txs: Tx[]
  /** Their total size in bytes. */
  bytes: number
  /** Their total resource cost. */
  cost: bigint
}

/** What {@link Mempool.onFinalized} needs to know about a finalized block. */
export interface FinalizedBlock {
  /** Ids of the transactions the block included. */
  txIds?: readonly Uint8Array[]
  /** The base fee of the next block. Default: unchanged. */
  baseFee?: bigint
  /**
   * The seed of the window that opens now, for `batchAuction` tie-breaks. Use a value nobody
   * could predict before the block was finalized (e.g. the hash of its commit certificate).
   * Default: unchanged.
   */
  seed?: Uint8Array
}
