/**
 * Ordering policies: how {@link Mempool.selectForBlock} ranks the executable transactions of
 * different senders (each sender's own transactions always go in nonce order). Every built-in
 * policy is a total order on the pool's contents that does not depend on arrival at a node
 * (except `fifo`, whose whole point is arrival order), so all nodes holding the same
 * transactions build the same block.
 */
import { domainHasher } from '@metanode/crypto/hash'
import type { Entry } from './entry.js'
import type { PooledTransaction } from './types.js'
import { bytesKey } from './validate.js'

/** What a policy may read besides the transactions while a block is being selected. */
export interface OrderingContext {
  /** The base fee of the block being built. */
  readonly baseFee: bigint
  /** The seed of the block window, for tie-breaks nobody could predict when the transactions were created. */
  readonly seed: Uint8Array
  /** The index of the current (open) block window. */
  readonly window: number
  /** The EIP-1559 effective tip of `tx` at {@link OrderingContext.baseFee}: min(tip cap, fee cap − base fee). */
  effectiveTip(tx: PooledTransaction): bigint
}

/**
 * A deterministic ranking of executable transactions. `compare` must be a total order that
 * depends only on the transactions and the context (never on the wall clock or randomness), so
 * every node builds the same block from the same pool.
 */
export interface OrderingPolicy {
  /** A short name for logs and metrics, e.g. `priorityFee`. */
  readonly name: string
  /**
   * Whether `tx` may be selected for this block at all. Transactions whose fee cap is below the
   * base fee are excluded before this is asked. A sender's later nonces wait while it is false.
   */
  isEligible?(tx: PooledTransaction, context: OrderingContext): boolean
  /** Negative when `a` goes first, positive when `b` does. */
  compare(a: PooledTransaction, b: PooledTransaction, context: OrderingContext): number
  /**
   * An optional numeric rank consistent with `compare` (a higher score goes first; equal scores
   * are decided by `compare`). Selection compares scores inline and calls `compare` only on
   * ties, which makes it several times faster.
   */
  score?(tx: PooledTransaction, context: OrderingContext): number
  /**
   * An optional second numeric rank for equal scores, consistent with `compare` (a lower value
   * goes first; equal values are decided by `compare`).
   */
  tieScore?(tx: PooledTransaction, context: OrderingContext): number
}

const scoreByTip = (tx: PooledTransaction): number => (tx as Entry<unknown>).selectionTipNumber

/** The first 6 bytes of the id as a number: ascending id order for all but equal prefixes. */
export function idPrefix(tx: PooledTransaction): number {
  const key = (tx as Entry<unknown>).key
  let prefix = 0
  for (let i = 0; i < 6; i++) prefix = prefix * 256 + (i < key.length ? key.charCodeAt(i) : 0)
  return prefix
}

// The built-in policies read the selection fields of the pool's entries directly: `rankAt` sets
// them for the block's base fee before an entry enters the selection heap.
function byTipDescending(a: Entry<unknown>, b: Entry<unknown>): number {
  if (a.selectionTipNumber !== b.selectionTipNumber) {
    return a.selectionTipNumber > b.selectionTipNumber ? -1 : 1
  }
  // equal safe integers are exact; only tips beyond 2^53 may be rounded to the same number
  if (a.selectionTipNumber <= Number.MAX_SAFE_INTEGER) return 0
  if (a.selectionTip !== b.selectionTip) return a.selectionTip > b.selectionTip ? -1 : 1
  return 0
}

/**
 * What the pool knows about a built-in policy, so it can keep a head index between blocks
 * instead of ranking every sender at each selection: the rank key (`tip`: the effective tip,
 * whose upper bound, the tip cap, does not depend on the base fee; `arrival`: the arrival
 * sequence number), whether equal keys go by id prefix first, and whether only transactions of
 * closed windows are eligible.
 */
export interface BuiltinOrdering {
  readonly key: 'tip' | 'arrival'
  readonly idTie: boolean
  readonly windowed: boolean
}

const builtins = new WeakMap<OrderingPolicy, BuiltinOrdering>()

/** The description of a built-in policy object (frozen, so it cannot have been altered); `undefined` for others. */
export function builtinOrdering(policy: OrderingPolicy): BuiltinOrdering | undefined {
  return builtins.get(policy)
}

function builtin(policy: OrderingPolicy, ordering: BuiltinOrdering): OrderingPolicy {
  Object.freeze(policy)
  builtins.set(policy, ordering)
  return policy
}

function byIdAscending(a: Entry<unknown>, b: Entry<unknown>): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0
}

/**
 * Highest effective tip first (EIP-1559: min(tip cap, fee cap − base fee)); equal tips go in
 * ascending id order, so the order depends on the pool's contents alone.
 */
export function priorityFee(): OrderingPolicy {
  return builtin(
    {
      name: 'priorityFee',
      score: scoreByTip,
      // ids decide only between exactly equal tips: beyond 2^53 equal scores may be rounded
      tieScore: (tx) =>
        (tx as Entry<unknown>).selectionTipNumber <= Number.MAX_SAFE_INTEGER ? idPrefix(tx) : 0,
      compare: (a, b) =>
        byTipDescending(a as Entry<unknown>, b as Entry<unknown>) ||
        byIdAscending(a as Entry<unknown>, b as Entry<unknown>),
    },
    { key: 'tip', idTie: true, windowed: false },
  )
}

const batchAuctionTieHash = domainHasher('metanode/mempool/batch-auction/v1')

function tieKey(entry: Entry<unknown>, seed: Uint8Array): string {
  if (entry.tieSeed !== seed) {
    entry.tieSeed = seed
    entry.tieKey = bytesKey(batchAuctionTieHash(seed, entry.id))
  }
  return entry.tieKey
}

/**
 * A sealed-bid batch auction per block window. A transaction may be selected only once the
 * window it arrived in has closed (`onFinalized` or `startWindow` opened a later one); all such
 * transactions compete on their bid (the effective tip) alone, whichever window they came in
 * and whenever within it. Equal bids are ordered by `domainHash('metanode/mempool/batch-auction/v1',
 * seed, id)`, where the seed is the current window's: it was unknown when the competing
 * transactions were created, so neither arriving first nor grinding an id wins a tie.
 */
export function batchAuction(): OrderingPolicy {
  return builtin(
    {
      name: 'batchAuction',
      isEligible: (tx, context) => tx.window < context.window,
      score: scoreByTip,
      compare: (a, b, context) => {
        const byBid = byTipDescending(a as Entry<unknown>, b as Entry<unknown>)
        if (byBid !== 0) return byBid
        const tieA = tieKey(a as Entry<unknown>, context.seed)
        const tieB = tieKey(b as Entry<unknown>, context.seed)
        if (tieA !== tieB) return tieA < tieB ? -1 : 1
        return byIdAscending(a as Entry<unknown>, b as Entry<unknown>)
      },
    },
    { key: 'tip', idTie: false, windowed: true },
  )
}

/**
 * Arrival order, fees ignored: for free-gas permissioned chains (Besu's enterprise default).
 * Nodes that received the same transactions in different orders build different blocks; use
 * `priorityFee` or `batchAuction` where every node must agree from the contents alone.
 */
export function fifo(): OrderingPolicy {
  return builtin(
    {
      name: 'fifo',
      score: (tx) => -tx.arrival,
      compare: (a, b) => a.arrival - b.arrival,
    },
    { key: 'arrival', idTie: false, windowed: false },
  )
}
