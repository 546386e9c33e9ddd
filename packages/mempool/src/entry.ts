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
  /** Position of the sender's pending head in the selection head index (see head-index.ts), −1 when absent. */
  headSlot = -1

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
  /** Row of the entry in the pool's {@link RankTable}, −1 when not pooled. */
  row = -1
  status: TxStatus = 'pending'
  /** Clock time at which it became queued. */
  queuedAt = 0
  // the effective tip at the base fee of the selection in progress (set by `rankAt`);
  // `selectionTip` is only kept when the number is beyond 2^53 and may have been rounded
  selectionTipNumber = 0
  selectionTip = 0n
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

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * A base fee as a number when exact number arithmetic is possible (0 ≤ baseFee ≤ 2^53 − 1, so
 * `maxFee − baseFee` of a safe fee cap is exact), else `NaN`.
 */
export function baseFeeNumber(baseFee: bigint): number {
  return baseFee >= 0n && baseFee <= MAX_SAFE_BIGINT ? Number(baseFee) : Number.NaN
}

/**
 * Stores the entry's effective tip at `baseFee` in its selection fields (what the built-in
 * policies' `compare` and `score` read), and tells whether it may be selected at all (fee cap ≥
 * base fee).
 */
export function rankAt(entry: Entry<unknown>, baseFee: bigint): boolean {
  if (entry.maxFee < baseFee) return false
  const tip = effectiveTip(entry, baseFee)
  entry.selectionTip = tip
  entry.selectionTipNumber = Number(tip)
  return true
}

/**
 * The numbers selection ranks by, one row per pooled transaction in typed arrays, so a
 * selection reads a few dense arrays instead of chasing pointers through scattered entries
 * (which costs a cache miss each and dominated selection time). Fees and costs are numbers,
 * exact while they are safe integers; rows beyond that are ranked from the entry's bigints.
 */
export class RankTable {
  /** The entry of each row. */
  readonly entries: (Entry<unknown> | undefined)[] = []
  /** The transaction of each row, so taking one reads no entry. */
  readonly txs: unknown[] = []
  maxFee = new Float64Array(1024)
  tipCap = new Float64Array(1024)
  cost = new Float64Array(1024)
  size = new Float64Array(1024)
  arrival = new Float64Array(1024)
  window = new Float64Array(1024)
  /** The id's first 3 bytes: orders equal tips by id without reading the key string. */
  idRank = new Int32Array(1024)
  /** The row of the next pending transaction of the same sender, −1 after the last. */
  next = new Int32Array(1024)
  readonly #free: number[] = []

  /** Gives the entry a row. */
  add(entry: Entry<unknown>): void {
    let row = this.#free.pop()
    if (row === undefined) {
      row = this.entries.length
      if (row === this.maxFee.length) this.#grow()
      this.entries.push(entry)
      this.txs.push(entry.tx)
    } else {
      this.entries[row] = entry
      this.txs[row] = entry.tx
    }
    entry.row = row
    this.maxFee[row] = Number(entry.maxFee)
    this.tipCap[row] = Number(entry.maxPriorityFee)
    this.cost[row] = Number(entry.cost)
    this.size[row] = entry.size
    this.arrival[row] = entry.arrival
    this.window[row] = entry.window
    const key = entry.key
    this.idRank[row] =
      ((key.charCodeAt(0) || 0) << 16) | ((key.charCodeAt(1) || 0) << 8) | (key.charCodeAt(2) || 0)
    this.next[row] = -1
  }

  /** Frees the entry's row. */
  delete(entry: Entry<unknown>): void {
    const row = entry.row
    if (row < 0) return
    this.entries[row] = undefined
    this.txs[row] = undefined
    this.#free.push(row)
    entry.row = -1
  }

  /** Records the order of a sender's pending list. */
  link(pending: readonly Entry<unknown>[]): void {
    const next = this.next
    const last = pending.length - 1
    for (let i = 0; i < last; i++) next[pending[i]!.row] = pending[i + 1]!.row
    if (last >= 0) next[pending[last]!.row] = -1
  }

  #grow(): void {
    const capacity = this.maxFee.length * 2
    const widen = <T extends Float64Array | Int32Array>(array: T, wider: T): T => {
      wider.set(array)
      return wider
    }
    this.maxFee = widen(this.maxFee, new Float64Array(capacity))
    this.tipCap = widen(this.tipCap, new Float64Array(capacity))
    this.cost = widen(this.cost, new Float64Array(capacity))
    this.size = widen(this.size, new Float64Array(capacity))
    this.arrival = widen(this.arrival, new Float64Array(capacity))
    this.window = widen(this.window, new Float64Array(capacity))
    this.idRank = widen(this.idRank, new Int32Array(capacity))
    this.next = widen(this.next, new Int32Array(capacity))
  }
}
