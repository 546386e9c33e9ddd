// The pool's internal records: one Entry per transaction, one SenderState per account.
import type { PooledTransaction, TxStatus } from './types.js'
import { keyBytes } from './validate.js'

/** One account's transactions: `pending` has contiguous nonces, `queued` is sorted by nonce. */
export class SenderState {
  readonly key: string
  readonly bytes: Uint8Array
  readonly pending: Entry<unknown>[] = []
  readonly queued: Entry<unknown>[] = []
  // eviction-index bookkeeping (see tail-index.ts): a version per class invalidates stale heap
  // nodes, and the count the sender is registered under in each class
  pendingVersion = 0
  queuedVersion = 0
  pendingIndexed = 0
  queuedIndexed = 0

  constructor(key: string, bytes: Uint8Array) {
    this.key = key
    this.bytes = bytes
  }

  get count(): number {
    return this.pending.length + this.queued.length
  }

  /** The next nonce that would extend the pending run, given the account's nonce. */
  nextPendingNonce(accountNonce: number): number {
    const last = this.pending[this.pending.length - 1]
    return last === undefined ? accountNonce : last.nonce + 1
  }

  find(nonce: number): Entry<unknown> | undefined {
    const first = this.pending[0]
    if (first !== undefined && nonce >= first.nonce && nonce - first.nonce < this.pending.length) {
      return this.pending[nonce - first.nonce]
    }
    const index = this.queuedIndex(nonce)
    const found = this.queued[index]
    return found !== undefined && found.nonce === nonce ? found : undefined
  }

  /** Position of the first queued entry whose nonce is ≥ `nonce`. */
  queuedIndex(nonce: number): number {
    let low = 0
    let high = this.queued.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (this.queued[middle]!.nonce < nonce) low = middle + 1
      else high = middle
    }
    return low
  }
}

/** A pooled transaction with the fields the pool reads on hot paths, read once from the adapter. */
export class Entry<Tx> implements PooledTransaction<Tx> {
  readonly tx: Tx
  readonly key: string
  readonly owner: SenderState
  readonly nonce: number
  readonly maxFee: bigint
  readonly maxPriorityFee: bigint
  readonly size: number
  readonly cost: bigint
  /** Balance the sender needs: value + cost × maxFee. */
  readonly required: bigint
  readonly arrival: number
  readonly window: number
  status: TxStatus = 'pending'
  /** Clock time at which it became queued. */
  queuedAt = 0
  // selection caches, valid for `selectionBaseFee`
  selectionBaseFee: bigint | undefined = undefined
  selectionTip = 0n
  selectionTipNumber = 0
  // batch-auction tie-break cache, valid for `tieSeed`
  tieSeed: Uint8Array | undefined = undefined
  tieKey = ''

  constructor(
    tx: Tx,
    key: string,
    owner: SenderState,
    fields: {
      nonce: number
      maxFee: bigint
      maxPriorityFee: bigint
      size: number
      cost: bigint
      required: bigint
      arrival: number
      window: number
    },
  ) {
    this.tx = tx
    this.key = key
    this.owner = owner
    this.nonce = fields.nonce
    this.maxFee = fields.maxFee
    this.maxPriorityFee = fields.maxPriorityFee
    this.size = fields.size
    this.cost = fields.cost
    this.required = fields.required
    this.arrival = fields.arrival
    this.window = fields.window
  }

  get id(): Uint8Array {
    return keyBytes(this.key)
  }

  get sender(): Uint8Array {
    return this.owner.bytes
  }
}

/** EIP-1559 effective tip per unit at `baseFee`: min(tip cap, fee cap − base fee); negative when the fee cap is below the base fee. */
export function effectiveTip(entry: Entry<unknown>, baseFee: bigint): bigint {
  const headroom = entry.maxFee - baseFee
  if (entry.maxPriorityFee < headroom) return entry.maxPriorityFee
  return headroom
}
