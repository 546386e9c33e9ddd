/**
 * The transaction pool: admission with go-ethereum's txpool semantics (pending and queued lists
 * per sender, replacement by fee bump, global and per-sender limits, eviction that never trades
 * an executable transaction for a future one), re-checks after each finalized block, and block
 * selection by a pluggable ordering policy.
 */
import {
  type Clock,
  type Counter,
  type Gauge,
  type Logger,
  type Metrics,
  noopMetrics,
  silentLogger,
  systemClock,
  TypedEventEmitter,
} from '@metanode/core'
import { baseFeeNumber, Entry, effectiveTip, RankTable, rankAt, SenderState } from './entry.js'
import {
  AlreadyKnownError,
  InsufficientFundsError,
  InvalidTransactionError,
  MempoolRejectionError,
  NonceTooLowError,
  OversizedError,
  PoolFullError,
  ReplacementUnderpricedError,
  SenderLimitError,
  UnderpricedError,
} from './errors.js'
import { HeadIndex } from './head-index.js'
import { RankHeap, ScoredHeap } from './heap.js'
import {
  type BuiltinOrdering,
  builtinOrdering,
  type OrderingContext,
  type OrderingPolicy,
  priorityFee,
} from './ordering.js'
import { TailIndex } from './tail-index.js'
import {
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
import {
  assertBigInt,
  assertBytes,
  assertFunction,
  assertInteger,
  bytesKey,
  describe,
} from './validate.js'

/** Longest transaction id or sender the pool accepts, in bytes. */
export const MAX_KEY_BYTES = 64

/** Configuration of a {@link Mempool}. */
export interface MempoolInit<Tx> {
  /** Reads the chain's transactions. */
  adapter: TransactionAdapter<Tx>
  /** Nonces and balances after the last finalized block. */
  state: AccountState
  /** How blocks are ordered. Default {@link priorityFee}. */
  ordering?: OrderingPolicy
  /** Limits; missing ones take {@link DEFAULT_MEMPOOL_LIMITS}. */
  limits?: Partial<MempoolLimits>
  /** The base fee of the next block. Default `0n`. */
  baseFee?: bigint
  /** The seed of the first block window. Default: empty. */
  seed?: Uint8Array
  /**
   * Signature check for transactions from gossip, run by {@link Mempool.addRemote}: `false` (or a
   * throw) rejects the transaction with {@link InvalidTransactionError}.
   */
  verify?: (tx: Tx) => boolean
}

/** The components a {@link Mempool} uses; each defaults to the core's production default. */
export interface MempoolComponents {
  /** Measures how long transactions stay queued. Default `systemClock`. */
  clock?: Clock
  /** Receives the pool's sizes and counters. Default: no metrics. */
  metrics?: Metrics
  /** Receives debug logs of evictions and re-checks. Default: silent. */
  logger?: Logger
}

interface PoolMetrics {
  transactions: Gauge
  bytes: Gauge
  admitted: Counter
  rejected: Counter
  dropped: Counter
}

/**
 * An auction-ordered transaction pool, generic over the transaction type.
 *
 * @example
 * ```ts
 * const pool = new Mempool({ adapter, state, ordering: priorityFee() })
 * pool.add(tx) // { status: 'pending', ... } or throws a MempoolRejectionError
 * const { txs } = pool.selectForBlock({ maxBytes: 1_000_000, maxCost: 30_000_000n })
 * pool.onFinalized({ txIds: txs.map(adapter.id), baseFee: 7n, seed: blockHash })
 * ```
 */
export class Mempool<Tx> extends TypedEventEmitter<MempoolEvents<Tx>> {
  /** The limits in force. */
  readonly limits: Readonly<MempoolLimits>
  /** The ordering policy of {@link Mempool.selectForBlock}. */
  readonly ordering: OrderingPolicy
  /** Reads the pool's transactions (the one given in {@link MempoolInit.adapter}). */
  readonly adapter: TransactionAdapter<Tx>
  readonly #state: AccountState
  readonly #verify: ((tx: Tx) => boolean) | undefined
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #metrics: PoolMetrics
  readonly #byKey = new Map<string, Entry<Tx>>()
  readonly #senders = new Map<string, SenderState>()
  readonly #pendingIndex = new TailIndex(true)
  readonly #queuedIndex = new TailIndex(false)
  // built-in policies only: senders' heads kept ranked between blocks, and a reusable heap
  readonly #builtin: BuiltinOrdering | undefined
  readonly #table: RankTable | undefined
  readonly #heads: HeadIndex | undefined
  readonly #rankHeap = new RankHeap()
  #pendingCount = 0
  #queuedCount = 0
  #bytes = 0
  #arrivals = 0
  #window = 0
  #seed: Uint8Array
  #baseFee: bigint

  /**
   * @throws TypeError when `init` or `components` have the wrong types.
   * @throws RangeError when a limit is out of range.
   */
  constructor(init: MempoolInit<Tx>, components: MempoolComponents = {}) {
    super()
    if (typeof init !== 'object' || init === null) {
      throw new TypeError(`init must be an object, got ${describe(init)}`)
    }
    const { adapter, state } = init
    if (typeof adapter !== 'object' || adapter === null) {
      throw new TypeError(`adapter must be an object, got ${describe(adapter)}`)
    }
    for (const method of ['id', 'sender', 'nonce', 'maxFee', 'size', 'cost'] as const) {
      assertFunction(adapter[method], `adapter.${method}`)
    }
    if (adapter.maxPriorityFee !== undefined) {
      assertFunction(adapter.maxPriorityFee, 'adapter.maxPriorityFee')
    }
    if (adapter.value !== undefined) assertFunction(adapter.value, 'adapter.value')
    if (typeof state !== 'object' || state === null) {
      throw new TypeError(`state must be an object, got ${describe(state)}`)
    }
    assertFunction(state.nonce, 'state.nonce')
    assertFunction(state.balance, 'state.balance')
    if (init.verify !== undefined) assertFunction(init.verify, 'verify')
    this.adapter = adapter
    this.#state = state
    this.#verify = init.verify
    this.ordering = init.ordering ?? priorityFee()
    if (typeof this.ordering !== 'object' || this.ordering === null) {
      throw new TypeError(`ordering must be an object, got ${describe(this.ordering)}`)
    }
    assertFunction(this.ordering.compare, 'ordering.compare')
    this.#builtin = builtinOrdering(this.ordering)
    this.#table = this.#builtin === undefined ? undefined : new RankTable()
    this.#heads =
      this.#table === undefined
        ? undefined
        : new HeadIndex(
            this.#table,
            this.#builtin?.key === 'arrival'
              ? (entry) => -entry.arrival
              : (entry) => Number(entry.maxPriorityFee),
          )
    this.limits = Object.freeze(checkLimits({ ...DEFAULT_MEMPOOL_LIMITS, ...init.limits }))
    this.#baseFee = assertBigInt(init.baseFee ?? 0n, 'baseFee')
    this.#seed = assertBytes(init.seed ?? new Uint8Array(0), 'seed').slice()
    this.#clock = components.clock ?? systemClock
    this.#logger = (components.logger ?? silentLogger).child({ component: 'mempool' })
    const metrics = components.metrics ?? noopMetrics
    this.#metrics = {
      transactions: metrics.gauge({
        name: 'metanode_mempool_transactions',
        help: 'Pooled transactions by status',
        labelNames: ['status'],
      }),
      bytes: metrics.gauge({
        name: 'metanode_mempool_bytes',
        help: 'Bytes of pooled transactions',
      }),
      admitted: metrics.counter({
        name: 'metanode_mempool_admitted_total',
        help: 'Transactions admitted, new or replacing',
        labelNames: ['kind'],
      }),
      rejected: metrics.counter({
        name: 'metanode_mempool_rejected_total',
        help: 'Transactions refused, by reason',
        labelNames: ['reason'],
      }),
      dropped: metrics.counter({
        name: 'metanode_mempool_dropped_total',
        help: 'Transactions that left the pool without replacement, by reason (evictions: evicted)',
        labelNames: ['reason'],
      }),
    }
  }

  /** The base fee the pool ranks evictions by (the next block's, as of the last {@link Mempool.onFinalized}). */
  get baseFee(): bigint {
    return this.#baseFee
  }

  /** The index of the open block window: 0 at creation, +1 at each {@link Mempool.onFinalized} or {@link Mempool.startWindow}. */
  get window(): number {
    return this.#window
  }

  /** The open window's seed (a copy). */
  get seed(): Uint8Array {
    return this.#seed.slice()
  }

  /** How many transactions the pool holds. */
  get size(): number {
    return this.#byKey.size
  }

  /** Sizes of the pool. */
  stats(): MempoolStats {
    return {
      pending: this.#pendingCount,
      queued: this.#queuedCount,
      bytes: this.#bytes,
      senders: this.#senders.size,
    }
  }

  /** Whether a transaction with this id is pooled. @throws TypeError when `id` is not a Uint8Array. */
  has(id: Uint8Array): boolean {
    return this.#byKey.has(bytesKey(assertBytes(id, 'id')))
  }

  /** The pooled transaction with this id. @throws TypeError when `id` is not a Uint8Array. */
  get(id: Uint8Array): Tx | undefined {
    return this.#byKey.get(bytesKey(assertBytes(id, 'id')))?.tx
  }

  /** Whether the transaction with this id is pending or queued; `undefined` when not pooled. */
  status(id: Uint8Array): TxStatus | undefined {
    return this.#byKey.get(bytesKey(assertBytes(id, 'id')))?.status
  }

  /** One sender's pooled transactions, each list in nonce order. */
  content(sender: Uint8Array): {
    /** Executable transactions, in nonce order. */
    pending: Tx[]
    /** Future-nonce transactions, in nonce order. */
    queued: Tx[]
  } {
    const state = this.#senders.get(bytesKey(assertBytes(sender, 'sender')))
    if (state === undefined) return { pending: [], queued: [] }
    return {
      pending: state.pending.map((entry) => entry.tx as Tx),
      queued: state.queued.map((entry) => entry.tx as Tx),
    }
  }

  /**
   * Admits a transaction whose signature the caller has verified.
   *
   * @throws TypeError when the adapter returns values of the wrong type.
   * @throws MempoolRejectionError (a subclass per reason: {@link NonceTooLowError},
   *   {@link ReplacementUnderpricedError}, {@link UnderpricedError}, {@link PoolFullError},
   *   {@link SenderLimitError}, {@link OversizedError}, {@link AlreadyKnownError},
   *   {@link InsufficientFundsError}, {@link InvalidTransactionError}) when refused; the pool
   *   is then unchanged.
   */
  add(tx: Tx): AddResult<Tx> {
    try {
      return this.#add(tx)
    } catch (error) {
      if (error instanceof MempoolRejectionError) this.#metrics.rejected.inc({ reason: error.code })
      throw error
    }
  }

  /**
   * Admits a transaction received from gossip: runs the {@link MempoolInit.verify} hook first
   * (when configured), then {@link Mempool.add}.
   *
   * @throws InvalidTransactionError when the hook returns `false` or throws.
   */
  addRemote(tx: Tx): AddResult<Tx> {
    if (this.#verify !== undefined) {
      let valid: boolean
      try {
        valid = this.#verify(tx) === true
      } catch (cause) {
        this.#metrics.rejected.inc({ reason: 'invalid' })
        throw new InvalidTransactionError('transaction verification failed', { cause })
      }
      if (!valid) {
        this.#metrics.rejected.inc({ reason: 'invalid' })
        throw new InvalidTransactionError('transaction verification failed')
      }
    }
    return this.add(tx)
  }

  /**
   * Removes a transaction; the sender's later pending transactions become queued (they are not
   * executable without it). Returns whether it was pooled.
   */
  remove(id: Uint8Array): boolean {
    const entry = this.#byKey.get(bytesKey(assertBytes(id, 'id')))
    if (entry === undefined) return false
    const sender = entry.owner
    const demoted: Entry<unknown>[] = []
    if (entry.status === 'pending') {
      const index = sender.pending.indexOf(entry)
      const later = sender.pending.splice(index)
      later.shift()
      this.#pendingCount -= later.length + 1
      const now = this.#clock.now()
      for (const moved of later) {
        moved.status = 'queued'
        moved.queuedAt = now
        demoted.push(moved)
      }
      sender.queued.unshift(...later)
      this.#queuedCount += later.length
    } else {
      sender.queued.splice(sender.queued.indexOf(entry), 1)
      this.#queuedCount--
    }
    this.#forget(entry)
    this.#reindex(sender)
    this.#dropped(entry, 'removed')
    if (demoted.length > 0) this.emit('demoted', { txs: demoted.map((e) => e.tx as Tx) })
    this.#updateGauges()
    return true
  }

  /**
   * The best batch under the limits, in execution order: a k-way merge of the senders'
   * nonce-ordered pending transactions by the ordering policy (go-ethereum's
   * `TransactionsByPriceAndNonce`). A transaction that does not fit skips the rest of its
   * sender's transactions; transactions whose fee cap is below the base fee are not selected.
   * The pool is not changed.
   *
   * @throws TypeError / RangeError for malformed options.
   */
  selectForBlock(options: SelectOptions): BlockSelection<Tx> {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object, got ${describe(options)}`)
    }
    const maxBytes = assertInteger(options.maxBytes, 'maxBytes', 0, Number.MAX_SAFE_INTEGER)
    const maxCost = assertBigInt(options.maxCost, 'maxCost')
    const baseFee = assertBigInt(options.baseFee ?? this.#baseFee, 'baseFee')
    const maxTxs =
      options.maxTxs === undefined
        ? Number.MAX_SAFE_INTEGER
        : assertInteger(options.maxTxs, 'maxTxs', 0, Number.MAX_SAFE_INTEGER)
    const seed = options.seed === undefined ? this.#seed : assertBytes(options.seed, 'seed')
    const context: OrderingContext = {
      baseFee,
      seed,
      window: this.#window,
      effectiveTip: (tx) => effectiveTip(tx as Entry<unknown>, baseFee),
    }
    const budget = new BlockBudget(maxBytes, maxCost, maxTxs)
    const txs =
      this.#heads === undefined
        ? this.#selectByPolicy(context, budget)
        : this.#selectIndexed(this.#heads, this.#builtin!, context, budget)
    return { txs, bytes: budget.bytes, cost: budget.cost() }
  }

  /**
   * Selection for built-in policies: a lazy walk of the head index from its root, merged with
   * the followers of the transactions taken. A head enters the merge as a bound (its index key,
   * which no transaction below it in the index can beat) before it enters with its real rank,
   * so every transaction is ranked only once something as good as it has been taken, and the
   * order is the same as ranking all heads at once.
   */
  #selectIndexed(
    heads: HeadIndex,
    order: BuiltinOrdering,
    context: OrderingContext,
    budget: BlockBudget,
  ): Tx[] {
    const policy = this.ordering
    const { baseFee } = context
    const table = heads.table
    const { entries, maxFee, tipCap, arrival, idRank, next } = table
    const rowWindow = table.window
    const rowTxs = table.txs as Tx[]
    const baseFeeAsNumber = baseFeeNumber(baseFee)
    const window = order.windowed ? this.#window : Number.POSITIVE_INFINITY
    const byArrival = order.key === 'arrival'
    const idTie = order.idTie
    // handles: a head-index slot (≥ 0) stands for that slot's bound; ~row for the row's rank
    const heap = this.#rankHeap
    heap.reset((a, b) => {
      if (a >= 0 || b >= 0) return false
      const entryA = entries[~a]!
      const entryB = entries[~b]!
      // the built-in comparators read the exact effective tips
      rankAt(entryA, baseFee)
      rankAt(entryB, baseFee)
      return policy.compare(entryA, entryB, context) < 0
    })
    let rank = 0
    /** Sets `rank` to the row's key; false when it may not be selected. */
    const ranks = (row: number): boolean => {
      if (rowWindow[row]! >= window) return false
      const cap = maxFee[row]!
      // a NaN base fee (not a safe integer) fails `>= 0` and takes the exact path
      if (cap <= Number.MAX_SAFE_INTEGER && baseFeeAsNumber >= 0) {
        const headroom = cap - baseFeeAsNumber
        if (headroom < 0) return false
        const tip = tipCap[row]!
        rank = byArrival ? -arrival[row]! : Math.min(tip, headroom)
        return true
      }
      const entry = entries[row]!
      if (!rankAt(entry, baseFee)) return false
      rank = byArrival ? -arrival[row]! : entry.selectionTipNumber
      return true
    }
    // ids decide only between exactly equal tips: beyond 2^53 equal ranks may be rounded
    const MAX_SAFE = Number.MAX_SAFE_INTEGER
    // a bound goes before every real rank equal to it
    if (heads.size > 0) heap.push(0, heads.keys[0]!, Number.NEGATIVE_INFINITY)
    const txs: Tx[] = []
    while (heap.size > 0 && budget.count < budget.maxTxs) {
      const handle = heap.top()
      if (handle >= 0) {
        const left = 2 * handle + 1
        if (left < heads.size) heap.replaceTop(left, heads.keys[left]!, Number.NEGATIVE_INFINITY)
        else heap.pop()
        if (left + 1 < heads.size) {
          heap.push(left + 1, heads.keys[left + 1]!, Number.NEGATIVE_INFINITY)
        }
        const row = heads.rows[handle]!
        if (ranks(row)) heap.push(~row, rank, idTie && rank <= MAX_SAFE ? idRank[row]! : 0)
        continue
      }
      const row = ~handle
      if (!budget.take(table, row)) {
        heap.pop()
        continue
      }
      txs.push(rowTxs[row]!)
      const following = next[row]!
      if (following >= 0 && ranks(following)) {
        heap.replaceTop(~following, rank, idTie && rank <= MAX_SAFE ? idRank[following]! : 0)
      } else {
        heap.pop()
      }
    }
    return txs
  }

  /** Selection for other policies: a heap of every sender's head, ranked through the policy. */
  #selectByPolicy(context: OrderingContext, budget: BlockBudget): Tx[] {
    const policy = this.ordering
    const { baseFee } = context
    const isEligible = policy.isEligible
    const admit = (entry: Entry<unknown>): boolean =>
      rankAt(entry, baseFee) &&
      (isEligible === undefined || isEligible.call(policy, entry, context))
    const heads: Entry<unknown>[] = []
    for (const sender of this.#senders.values()) {
      const head = sender.pending[0]
      if (head !== undefined && admit(head)) heads.push(head)
    }
    const tie = (a: PooledTransaction, b: PooledTransaction) => policy.compare(a, b, context)
    const scoreOf = policy.score
    const score =
      scoreOf === undefined ? () => 0 : (tx: PooledTransaction) => scoreOf.call(policy, tx, context)
    const tieScoreOf = policy.tieScore
    const tieScore =
      tieScoreOf === undefined
        ? () => 0
        : (tx: PooledTransaction) => tieScoreOf.call(policy, tx, context)
    const heap = new ScoredHeap<Entry<unknown>>(heads, score, tieScore, tie)
    const txs: Tx[] = []
    while (heap.size > 0 && budget.count < budget.maxTxs) {
      const best = heap.peek()!
      if (!budget.takeEntry(best)) {
        heap.pop()
        continue
      }
      txs.push(best.tx as Tx)
      const pending = best.owner.pending
      const next = pending[best.nonce - pending[0]!.nonce + 1]
      if (next !== undefined && admit(next)) heap.replaceTop(next, score(next), tieScore(next))
      else heap.pop()
    }
    return txs
  }

  /**
   * Opens the next block window with `seed` (for `batchAuction`: transactions that arrived
   * before are now eligible and compete on their bids, ties broken by this seed).
   * {@link Mempool.onFinalized} does this too.
   */
  startWindow(seed: Uint8Array): void {
    this.#seed = assertBytes(seed, 'seed').slice()
    this.#window++
  }

  /**
   * Applies a finalized block: drops the included transactions, re-checks every sender against
   * the {@link AccountState} (drops nonces now too low and transactions the balance no longer
   * covers, demotes what follows a gap), drops queued transactions past their lifetime, promotes
   * what became executable, adopts the next base fee and opens the next window.
   */
  onFinalized(block: FinalizedBlock = {}): void {
    if (typeof block !== 'object' || block === null) {
      throw new TypeError(`block must be an object, got ${describe(block)}`)
    }
    const included = new Set<string>()
    if (block.txIds !== undefined) {
      if (!Array.isArray(block.txIds)) {
        throw new TypeError(`txIds must be an array, got ${describe(block.txIds)}`)
      }
      block.txIds.forEach((id, index) => {
        included.add(bytesKey(assertBytes(id, `txIds[${index}]`)))
      })
    }
    if (block.baseFee !== undefined) this.#baseFee = assertBigInt(block.baseFee, 'baseFee')
    if (block.seed !== undefined) this.#seed = assertBytes(block.seed, 'seed').slice()
    this.#window++

    const drops: [Entry<unknown>, DropReason][] = []
    const demoted: Entry<unknown>[] = []
    const now = this.#clock.now()
    for (const sender of [...this.#senders.values()]) {
      this.#recheck(sender, included, now, drops, demoted)
    }
    this.#expireQueued(now, drops)
    const promoted = this.#promoteAll()
    this.#truncateQueued(drops)
    this.#pendingIndex.rebuild(this.#senders.values(), this.#baseFee)
    this.#queuedIndex.rebuild(this.#senders.values(), this.#baseFee)
    this.#heads?.rebuild(this.#senders.values())
    if (drops.length > 0) {
      this.#logger.debug({ dropped: drops.length, window: this.#window }, 'finalized block applied')
    }
    for (const [entry, reason] of drops) this.#dropped(entry, reason)
    const demotedStill = demoted.filter((entry) => entry.status === 'queued')
    if (demotedStill.length > 0) {
      this.emit('demoted', { txs: demotedStill.map((entry) => entry.tx as Tx) })
    }
    if (promoted.length > 0) this.emit('promoted', { txs: promoted.map((entry) => entry.tx as Tx) })
    this.#updateGauges()
  }

  /** Drops queued transactions older than the lifetime; returns how many. Runs in {@link Mempool.onFinalized}. */
  pruneExpired(): number {
    const drops: [Entry<unknown>, DropReason][] = []
    this.#expireQueued(this.#clock.now(), drops)
    for (const [entry, reason] of drops) this.#dropped(entry, reason)
    this.#updateGauges()
    return drops.length
  }

  // --- admission -------------------------------------------------------------------------------

  #add(tx: Tx): AddResult<Tx> {
    const adapter = this.adapter
    const id = assertBytes(adapter.id(tx), 'adapter.id(tx)')
    if (id.length === 0 || id.length > MAX_KEY_BYTES) {
      throw new InvalidTransactionError(`transaction id must be 1 to ${MAX_KEY_BYTES} bytes`, {
        details: { length: id.length },
      })
    }
    const key = bytesKey(id)
    if (this.#byKey.has(key)) throw new AlreadyKnownError('transaction already pooled')
    const senderBytes = assertBytes(adapter.sender(tx), 'adapter.sender(tx)')
    if (senderBytes.length === 0 || senderBytes.length > MAX_KEY_BYTES) {
      throw new InvalidTransactionError(`sender must be 1 to ${MAX_KEY_BYTES} bytes`, {
        details: { length: senderBytes.length },
      })
    }
    const nonce = adapter.nonce(tx)
    const maxFee = adapter.maxFee(tx)
    const maxPriorityFee =
      adapter.maxPriorityFee === undefined ? maxFee : adapter.maxPriorityFee(tx)
    const size = adapter.size(tx)
    const cost = adapter.cost(tx)
    const value = adapter.value === undefined ? 0n : adapter.value(tx)
    if (typeof nonce !== 'number' || !Number.isSafeInteger(nonce)) {
      throw new TypeError(`adapter.nonce(tx) must be a safe integer, got ${describe(nonce)}`)
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) {
      throw new TypeError(`adapter.size(tx) must be a safe integer, got ${describe(size)}`)
    }
    for (const [name, amount] of [
      ['maxFee', maxFee],
      ['maxPriorityFee', maxPriorityFee],
      ['cost', cost],
      ['value', value],
    ] as const) {
      if (typeof amount !== 'bigint') {
        throw new TypeError(`adapter.${name}(tx) must be a bigint, got ${describe(amount)}`)
      }
      if (amount < 0n) throw new InvalidTransactionError(`${name} must not be negative`)
    }
    if (nonce < 0 || size < 0)
      throw new InvalidTransactionError('nonce and size must not be negative')
    if (maxPriorityFee > maxFee) {
      throw new InvalidTransactionError('maxPriorityFee must not exceed maxFee', {
        details: { maxFee, maxPriorityFee },
      })
    }
    if (size > this.limits.maxTxBytes) {
      throw new OversizedError(`transaction of ${size} bytes exceeds ${this.limits.maxTxBytes}`, {
        details: { size, limit: this.limits.maxTxBytes },
      })
    }
    if (maxPriorityFee < this.limits.minPriorityFee) {
      throw new UnderpricedError('tip cap below the pool minimum', {
        details: { maxPriorityFee, minPriorityFee: this.limits.minPriorityFee },
      })
    }
    const accountNonce = this.#state.nonce(senderBytes)
    if (nonce < accountNonce) {
      throw new NonceTooLowError(`nonce ${nonce} is below the account nonce ${accountNonce}`, {
        details: { nonce, accountNonce },
      })
    }
    const required = value + cost * maxFee
    const balance = this.#state.balance(senderBytes)
    if (required > balance) {
      throw new InsufficientFundsError('balance does not cover value + cost × maxFee', {
        details: { required, balance },
      })
    }
    const senderKey = bytesKey(senderBytes)
    const sender = this.#senders.get(senderKey) ?? new SenderState(senderKey, senderBytes.slice())
    const entry = new Entry<Tx>(tx, key, sender, {
      nonce,
      maxFee,
      maxPriorityFee,
      size,
      cost,
      required,
      arrival: this.#arrivals,
      window: this.#window,
    })
    const existing = sender.find(nonce)
    const result =
      existing === undefined
        ? this.#insert(entry, accountNonce)
        : this.#replace(existing as Entry<Tx>, entry)
    this.#arrivals++
    this.#updateGauges()
    return result
  }

  #insert(entry: Entry<Tx>, accountNonce: number): AddResult<Tx> {
    const sender = entry.owner
    const limits = this.limits
    const executable = entry.nonce === sender.nextPendingNonce(accountNonce)
    const tip = effectiveTip(entry, this.#baseFee)
    const evicted: Entry<unknown>[] = []
    try {
      if (executable) {
        if (sender.count >= limits.maxPerSender) {
          // a future transaction of the sender gives way to an executable one
          if (sender.queued.length === 0) throw senderLimit(sender.count)
          evicted.push(this.#detachTail(sender, false))
        }
        if (this.#pendingCount >= limits.maxPending) this.#evictFor(true, sender, tip, evicted)
        while (this.#bytes + entry.size > limits.maxTotalBytes) {
          // executable beats future: queued transactions go first, whatever they bid
          const victim = this.#queuedIndex.findVictim(undefined, undefined)
          if (typeof victim !== 'string') evicted.push(this.#detachTail(victim, false))
          else this.#evictFor(true, sender, tip, evicted)
        }
      } else {
        if (
          sender.count >= limits.maxPerSender ||
          sender.queued.length >= limits.maxQueuedPerSender
        ) {
          throw senderLimit(sender.count)
        }
        // a future transaction never displaces an executable one: only queued ones
        if (this.#queuedCount >= limits.maxQueued) this.#evictFor(false, sender, tip, evicted)
        while (this.#bytes + entry.size > limits.maxTotalBytes) {
          this.#evictFor(false, sender, tip, evicted)
        }
      }
    } catch (error) {
      this.#restore(evicted)
      throw error
    }

    this.#byKey.set(entry.key, entry)
    this.#table?.add(entry)
    this.#senders.set(sender.key, sender)
    this.#bytes += entry.size
    let promoted: Entry<unknown>[] = []
    if (executable) {
      entry.status = 'pending'
      sender.pending.push(entry)
      this.#pendingCount++
      promoted = this.#promote(sender)
    } else {
      entry.status = 'queued'
      entry.queuedAt = this.#clock.now()
      sender.queued.splice(sender.queuedIndex(entry.nonce), 0, entry)
      this.#queuedCount++
    }
    this.#reindex(sender)
    for (const victim of evicted) this.#dropped(victim, 'evicted')
    this.#metrics.admitted.inc({ kind: 'added' })
    this.emit('added', { tx: entry.tx, status: entry.status })
    const promotedTxs = promoted.map((e) => e.tx as Tx)
    if (promotedTxs.length > 0) this.emit('promoted', { txs: promotedTxs })
    return {
      status: entry.status,
      replaced: undefined,
      evicted: evicted.map((e) => e.tx as Tx),
      promoted: promotedTxs,
    }
  }

  #replace(existing: Entry<Tx>, entry: Entry<Tx>): AddResult<Tx> {
    const bump = BigInt(this.limits.priceBumpPercent)
    const enough = (next: bigint, previous: bigint) =>
      next * 100n >= previous * (100n + bump) && (bump === 0n || next > previous)
    if (
      !enough(entry.maxFee, existing.maxFee) ||
      !enough(entry.maxPriorityFee, existing.maxPriorityFee)
    ) {
      throw new ReplacementUnderpricedError(
        `a replacement must raise both fee cap and tip cap by at least ${bump}%`,
        {
          details: {
            maxFee: entry.maxFee,
            maxPriorityFee: entry.maxPriorityFee,
            previousMaxFee: existing.maxFee,
            previousMaxPriorityFee: existing.maxPriorityFee,
          },
        },
      )
    }
    const sender = existing.owner
    const pendingSlot = existing.status === 'pending'
    const tip = effectiveTip(entry, this.#baseFee)
    const evicted: Entry<unknown>[] = []
    try {
      while (this.#bytes - existing.size + entry.size > this.limits.maxTotalBytes) {
        const victim = pendingSlot ? this.#queuedIndex.findVictim(sender, undefined) : 'none'
        if (typeof victim !== 'string') evicted.push(this.#detachTail(victim, false))
        else this.#evictFor(pendingSlot, sender, tip, evicted)
      }
    } catch (error) {
      this.#restore(evicted)
      throw error
    }
    const list = pendingSlot ? sender.pending : sender.queued
    list[list.indexOf(existing)] = entry
    entry.status = existing.status
    entry.queuedAt = pendingSlot ? 0 : this.#clock.now()
    this.#byKey.delete(existing.key)
    this.#byKey.set(entry.key, entry)
    this.#table?.delete(existing)
    this.#table?.add(entry)
    this.#bytes += entry.size - existing.size
    this.#reindex(sender)
    for (const victim of evicted) this.#dropped(victim, 'evicted')
    this.#metrics.admitted.inc({ kind: 'replaced' })
    this.emit('replaced', { tx: entry.tx, replaced: existing.tx, status: entry.status })
    return {
      status: entry.status,
      replaced: existing.tx,
      evicted: evicted.map((e) => e.tx as Tx),
      promoted: [],
    }
  }

  /**
   * Evicts one tail of the class (`pending` or `queued`) from another sender, preferring the
   * senders holding the most slots, and only a tail that `tip` strictly outbids.
   */
  #evictFor(
    pendingClass: boolean,
    sender: SenderState,
    tip: bigint,
    evicted: Entry<unknown>[],
  ): void {
    const index = pendingClass ? this.#pendingIndex : this.#queuedIndex
    const victim = index.findVictim(sender, tip)
    if (victim === 'none') {
      throw new PoolFullError(
        `the pool is full of ${pendingClass ? 'pending' : 'queued'} transactions`,
        {
          details: { ...this.stats() },
        },
      )
    }
    if (victim === 'outbid') {
      throw new UnderpricedError(
        'the pool is full and this transaction outbids nothing evictable',
        {
          details: { tip },
        },
      )
    }
    evicted.push(this.#detachTail(victim, pendingClass))
  }

  /** Removes a sender's highest-nonce transaction of a class (no gap can result). */
  #detachTail(sender: SenderState, pendingClass: boolean): Entry<unknown> {
    const entry = (pendingClass ? sender.pending : sender.queued).pop()!
    if (pendingClass) this.#pendingCount--
    else this.#queuedCount--
    this.#forget(entry)
    this.#reindex(sender)
    return entry
  }

  /** Undoes tentative evictions of a refused admission, last first. */
  #restore(evicted: Entry<unknown>[]): void {
    for (let i = evicted.length - 1; i >= 0; i--) {
      const entry = evicted[i]!
      const sender = entry.owner
      if (entry.status === 'pending') {
        sender.pending.push(entry)
        this.#pendingCount++
      } else {
        sender.queued.push(entry)
        this.#queuedCount++
      }
      this.#byKey.set(entry.key, entry as Entry<Tx>)
      this.#table?.add(entry)
      this.#senders.set(sender.key, sender)
      this.#bytes += entry.size
      this.#reindex(sender)
    }
  }

  #forget(entry: Entry<unknown>): void {
    this.#byKey.delete(entry.key)
    this.#table?.delete(entry)
    this.#bytes -= entry.size
    const sender = entry.owner
    if (sender.count === 0) this.#senders.delete(sender.key)
  }

  #reindex(sender: SenderState): void {
    this.#heads?.sync(sender)
    this.#pendingIndex.update(sender, this.#baseFee)
    if (sender.queued.length > 0 || sender.queuedIndexed > 0) {
      this.#queuedIndex.update(sender, this.#baseFee)
    }
  }

  /** Moves the sender's queued transactions that continue its pending run into pending, while room lasts. */
  #promote(sender: SenderState): Entry<unknown>[] {
    const promoted: Entry<unknown>[] = []
    const first = sender.queued[0]
    const last = sender.pending[sender.pending.length - 1]
    if (first === undefined || last === undefined || first.nonce !== last.nonce + 1) return promoted
    let count = 0
    let nonce = last.nonce + 1
    while (
      count < sender.queued.length &&
      sender.queued[count]!.nonce === nonce &&
      this.#pendingCount + count < this.limits.maxPending
    ) {
      count++
      nonce++
    }
    for (const entry of sender.queued.splice(0, count)) {
      entry.status = 'pending'
      sender.pending.push(entry)
      promoted.push(entry)
    }
    this.#pendingCount += count
    this.#queuedCount -= count
    return promoted
  }

  // --- re-checks ---------------------------------------------------------------------------------

  #recheck(
    sender: SenderState,
    included: Set<string>,
    now: number,
    drops: [Entry<unknown>, DropReason][],
    demoted: Entry<unknown>[],
  ): void {
    const accountNonce = this.#state.nonce(sender.bytes)
    const balance = this.#state.balance(sender.bytes)
    const keep = (entry: Entry<unknown>): boolean => {
      let reason: DropReason | undefined
      if (included.has(entry.key)) reason = 'included'
      else if (entry.nonce < accountNonce) reason = 'nonce-too-low'
      else if (entry.required > balance) reason = 'insufficient-funds'
      if (reason === undefined) return true
      drops.push([entry, reason])
      this.#byKey.delete(entry.key)
      this.#table?.delete(entry)
      this.#bytes -= entry.size
      return false
    }
    const pendingBefore = sender.pending.length
    const queuedBefore = sender.queued.length
    const pending = sender.pending.filter(keep)
    const queued = sender.queued.filter(keep)
    // pending keeps only the run that starts at the account nonce; what follows a gap waits
    let run = 0
    while (run < pending.length && pending[run]!.nonce === accountNonce + run) run++
    const demote = pending.splice(run)
    for (const entry of demote) {
      entry.status = 'queued'
      entry.queuedAt = now
      demoted.push(entry)
    }
    sender.pending.length = 0
    sender.pending.push(...pending)
    sender.queued.length = 0
    sender.queued.push(...demote, ...queued)
    this.#pendingCount += sender.pending.length - pendingBefore
    this.#queuedCount += sender.queued.length - queuedBefore
    if (sender.count === 0) this.#senders.delete(sender.key)
  }

  #expireQueued(now: number, drops: [Entry<unknown>, DropReason][]): void {
    if (this.#queuedCount === 0) return
    const lifetime = this.limits.queuedLifetimeMs
    for (const sender of [...this.#senders.values()]) {
      if (sender.queued.length === 0) continue
      const fresh = sender.queued.filter((entry) => {
        if (now - entry.queuedAt <= lifetime) return true
        drops.push([entry, 'expired'])
        return false
      })
      if (fresh.length === sender.queued.length) continue
      this.#queuedCount -= sender.queued.length - fresh.length
      for (const entry of sender.queued) {
        if (!fresh.includes(entry)) {
          this.#byKey.delete(entry.key)
          this.#table?.delete(entry)
          this.#bytes -= entry.size
        }
      }
      sender.queued.length = 0
      sender.queued.push(...fresh)
      if (sender.count === 0) this.#senders.delete(sender.key)
      this.#reindex(sender)
    }
  }

  /** Promotes every sender whose queued head continues its pending run (or starts at the account nonce). */
  #promoteAll(): Entry<unknown>[] {
    const promoted: Entry<unknown>[] = []
    for (const sender of this.#senders.values()) {
      if (this.#pendingCount >= this.limits.maxPending) break
      const head = sender.queued[0]
      if (head === undefined) continue
      if (sender.pending.length === 0) {
        if (head.nonce !== this.#state.nonce(sender.bytes)) continue
        sender.queued.shift()
        head.status = 'pending'
        sender.pending.push(head)
        this.#pendingCount++
        this.#queuedCount--
        promoted.push(head)
      }
      promoted.push(...this.#promote(sender))
    }
    return promoted
  }

  /** Demotions can overfill the queued class: trim the senders holding the most queued slots. */
  #truncateQueued(drops: [Entry<unknown>, DropReason][]): void {
    if (this.#queuedCount <= this.limits.maxQueued) return
    this.#queuedIndex.rebuild(this.#senders.values(), this.#baseFee)
    while (this.#queuedCount > this.limits.maxQueued) {
      const victim = this.#queuedIndex.findVictim(undefined, undefined)
      if (typeof victim === 'string') break
      drops.push([this.#detachTail(victim, false), 'evicted'])
    }
  }

  // --- bookkeeping ---------------------------------------------------------------------------------

  #dropped(entry: Entry<unknown>, reason: DropReason): void {
    this.#metrics.dropped.inc({ reason })
    this.emit('dropped', { tx: entry.tx as Tx, reason })
  }

  #updateGauges(): void {
    this.#metrics.transactions.set(this.#pendingCount, { status: 'pending' })
    this.#metrics.transactions.set(this.#queuedCount, { status: 'queued' })
    this.#metrics.bytes.set(this.#bytes)
  }
}

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * The space left in a block being selected. The cost is summed as a number while the sum is a
 * safe integer (exact, and no bigint allocated per transaction), as a bigint beyond.
 */
class BlockBudget {
  readonly maxBytes: number
  readonly maxCost: bigint
  readonly maxTxs: number
  readonly #maxCostNumber: number
  bytes = 0
  count = 0
  #costNumber = 0
  #costBigInt: bigint | undefined = undefined

  constructor(maxBytes: number, maxCost: bigint, maxTxs: number) {
    this.maxBytes = maxBytes
    this.maxCost = maxCost
    this.maxTxs = maxTxs
    // a safe sum is below any larger limit, and above any negative one
    this.#maxCostNumber =
      maxCost > MAX_SAFE_BIGINT ? Number.POSITIVE_INFINITY : maxCost < 0n ? -1 : Number(maxCost)
  }

  /** Counts the table row in when it fits; returns whether it did. */
  take(table: RankTable, row: number): boolean {
    const size = table.size[row]!
    if (this.bytes + size > this.maxBytes) return false
    if (this.#costBigInt === undefined) {
      const sum = this.#costNumber + table.cost[row]!
      if (sum <= Number.MAX_SAFE_INTEGER) {
        if (sum > this.#maxCostNumber) return false
        this.#costNumber = sum
        this.bytes += size
        this.count++
        return true
      }
    }
    return this.takeEntry(table.entries[row]!)
  }

  /** Counts `entry` in when it fits; returns whether it did. */
  takeEntry(entry: Entry<unknown>): boolean {
    if (this.bytes + entry.size > this.maxBytes) return false
    const cost = (this.#costBigInt ?? BigInt(this.#costNumber)) + entry.cost
    if (cost > this.maxCost) return false
    if (cost <= MAX_SAFE_BIGINT) this.#costNumber = Number(cost)
    else this.#costBigInt = cost
    this.bytes += entry.size
    this.count++
    return true
  }

  cost(): bigint {
    return this.#costBigInt ?? BigInt(this.#costNumber)
  }
}

function senderLimit(count: number): SenderLimitError {
  return new SenderLimitError('the sender holds as many transactions as the pool allows', {
    details: { count },
  })
}

function checkLimits(limits: MempoolLimits): MempoolLimits {
  const max = Number.MAX_SAFE_INTEGER
  assertInteger(limits.maxPending, 'limits.maxPending', 1, max)
  assertInteger(limits.maxQueued, 'limits.maxQueued', 0, max)
  assertInteger(limits.maxPerSender, 'limits.maxPerSender', 1, max)
  assertInteger(limits.maxQueuedPerSender, 'limits.maxQueuedPerSender', 0, max)
  assertInteger(limits.maxTxBytes, 'limits.maxTxBytes', 1, max)
  assertInteger(limits.maxTotalBytes, 'limits.maxTotalBytes', limits.maxTxBytes, max)
  assertInteger(limits.queuedLifetimeMs, 'limits.queuedLifetimeMs', 0, max)
  assertInteger(limits.priceBumpPercent, 'limits.priceBumpPercent', 0, 10_000)
  assertBigInt(limits.minPriorityFee, 'limits.minPriorityFee')
  return limits
}
