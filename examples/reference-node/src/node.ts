/**
 * A Metanode node: the chain application, the QBFT engine, transaction gossip and the events the
 * API streams, over a store and a transport given to it. `startNodeFromConfig` (config.ts) builds
 * it over LevelDB and libp2p; tests build it over the in-memory plug-ins.
 */
import {
  type ChainApplication,
  createChainApplication,
  type Genesis,
  genesisId,
  headerId,
  prepareTransaction,
  type StoredBlock,
  TRANSACTION_LIMITS,
} from '@metanode/chain'
import {
  type Clock,
  decodeAs,
  encode,
  isMetanodeError,
  type Logger,
  type Metrics,
  type PeerId,
  RejectionError,
  type Store,
  shape,
  silentLogger,
  systemClock,
  type Transport,
  TypedEventEmitter,
} from '@metanode/core'
import { bytesToHex } from '@metanode/crypto/bytes'
import {
  createIbft,
  type IbftDissemination,
  type IbftEngine,
  type SignerKeys,
} from '@metanode/ibft'
import type { MempoolLimits } from '@metanode/mempool'
import type {
  NodeEvents,
  NodeService,
  NodeStatus,
  SubmitOutcome,
  TransactionLookup,
  ValidatorView,
} from './service.js'

/** Most transactions in one gossip message. */
export const MAX_GOSSIP_BATCH = 2_000

/** How long admitted transactions wait to be gossiped together, in ms. */
export const GOSSIP_FLUSH_MS = 10

/** What a node is made of. */
export interface NodeInit {
  /** The validated genesis. */
  genesis: Genesis
  /** This validator's keys (the Ed25519 seed doubles as its libp2p identity in the CLI). */
  signer: SignerKeys
  /** Blocks, state and the engine's signing record; the node opens and closes it. */
  store: Store
  /** Messaging with the other nodes; the node starts and stops it. */
  transport: Transport
  /** Pause between blocks in ms (default 100). */
  blockPeriodMs?: number
  /** First round timeout in ms (default the engine's). */
  roundTimeoutBaseMs?: number
  /** How consensus messages travel (default `gossip`; see `IbftInit.dissemination`). */
  dissemination?: IbftDissemination
  /** Mempool limits (defaults as in `@metanode/mempool`). */
  mempoolLimits?: Partial<MempoolLimits>
  /** Structured log output (default silent). */
  logger?: Logger
  /** Counters for the engine (default none). */
  metrics?: Metrics
  /** Time source (default the system clock). */
  clock?: Clock
}

const GossipBatch = shape.array(shape.bytes({ max: TRANSACTION_LIMITS.maxTxBytes }), {
  max: MAX_GOSSIP_BATCH,
})

/** Blocks kept for the recent-throughput figures of `status()`. */
const RECENT_BLOCKS = 64

interface RecentBlock {
  at: number
  timestamp: number
  txs: number
  latencyMs: number
}

/** A node; create with {@link createNode}, then `start()`. */
export class MetanodeNode implements NodeService {
  readonly chainId: string
  readonly genesis: Genesis
  readonly chain: ChainApplication
  /** The consensus engine. */
  readonly engine: IbftEngine
  /** The transport the node gossips on. */
  readonly transport: Transport
  /** The node's store. */
  readonly store: Store
  readonly #events = new TypedEventEmitter<NodeEvents>()
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #topic: string
  readonly #recent: RecentBlock[] = []
  #outbox: Uint8Array[] = []
  #flushScheduled = false
  #startedAt = 0
  #running = false
  #activeValidators = 0
  readonly #unsubscribe: (() => void)[] = []

  /** @internal use {@link createNode} */
  constructor(init: NodeInit, chain: ChainApplication, engine: IbftEngine) {
    this.chainId = init.genesis.chainId
    this.genesis = init.genesis
    this.chain = chain
    this.engine = engine
    this.transport = init.transport
    this.store = init.store
    this.#logger = (init.logger ?? silentLogger).child({ component: 'node' })
    this.#clock = init.clock ?? systemClock
    this.#topic = `metanode/${this.chainId}/tx/1`
  }

  /** Whether the node runs. */
  get running(): boolean {
    return this.#running
  }

  /** Starts the transport and consensus; resolves once the engine runs. */
  async start(): Promise<void> {
    if (this.#running) return
    this.#startedAt = this.#clock.now()
    this.#unsubscribe.push(
      this.transport.subscribe(this.#topic, ({ from, data }) => this.#onGossip(from, data)),
      this.engine.on('finalized', ({ block, latencyMs }) => {
        void this.#onFinalized(block.height, latencyMs)
      }),
      this.engine.on('round-change', (detail) => this.#events.emit('round', detail)),
      this.engine.on('error', ({ error, height }) =>
        this.#logger.error({ height, error: String(error.cause ?? error) }, 'consensus halted'),
      ),
      this.chain.mempool.on('dropped', ({ tx, reason }) => {
        this.#events.emit('transaction', { id: tx.id, status: 'dropped', reason })
      }),
    )
    await this.#countActive()
    await this.transport.start()
    await this.engine.start()
    this.#running = true
    this.#logger.info(
      { chainId: this.chainId, height: this.chain.height, peerId: this.transport.peerId },
      'node started',
    )
  }

  /** Stops consensus, the transport and the store, in that order. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    await this.engine.stop()
    await this.transport.stop()
    await this.store.close()
    this.#logger.info({ height: this.chain.height }, 'node stopped')
  }

  status(): NodeStatus {
    const now = this.#clock.now()
    const recent = this.#recent
    const first = recent[0]
    const last = recent.at(-1)
    const span = first && last ? (last.at - first.at) / 1_000 : 0
    const txs = recent.slice(1).reduce((sum, block) => sum + block.txs, 0)
    const stats = this.chain.mempool.stats()
    return {
      chainId: this.chainId,
      height: this.chain.height,
      headHash: this.#headHash(),
      finalizedHeight: this.chain.height,
      totalTransactions: this.chain.transactionCount,
      activeValidators: this.#activeValidators,
      networkPeers: this.transport.peers().length,
      consensusRound: this.engine.round,
      stateRoot: this.chain.stateRoot,
      uptimeSeconds: Math.floor((now - this.#startedAt) / 1_000),
      transactionsPerSecond: span > 0 ? txs / span : 0,
      averageBlockTimeMs:
        first && last && recent.length > 1
          ? (last.timestamp - first.timestamp) / (recent.length - 1)
          : 0,
      finalityTimeMs:
        recent.length > 0 ? recent.reduce((sum, b) => sum + b.latencyMs, 0) / recent.length : 0,
      mempool: { pending: stats.pending, queued: stats.queued, bytes: stats.bytes },
    }
  }

  async submitTransactions(encoded: readonly Uint8Array[]): Promise<SubmitOutcome[]> {
    const outcomes: SubmitOutcome[] = []
    for (const bytes of encoded) {
      const outcome = this.#admit(bytes)
      outcomes.push(outcome)
      if (outcome.status === 'pending' || outcome.status === 'queued') this.#gossip(bytes)
    }
    return outcomes
  }

  async transaction(id: Uint8Array): Promise<TransactionLookup> {
    const pooled = this.chain.mempool.get(id)
    if (pooled !== undefined) {
      const status = this.chain.mempool.status(id) ?? 'pending'
      return { status, transaction: pooled.tx }
    }
    const included = await this.chain.transaction(id)
    return included === undefined ? { status: 'unknown' } : { status: 'finalized', ...included }
  }

  block(height: number): Promise<StoredBlock | undefined> {
    return this.chain.block(height)
  }

  async validators(): Promise<ValidatorView[]> {
    const set = await this.chain.validatorSet(this.chain.height + 1)
    const power = new Map(set.validators.map((v) => [bytesToHex(v.id), v.votingPower]))
    return this.chain.validators().map((validator) => ({
      id: validator.id,
      blsPublicKey: validator.blsPublicKey,
      stake: validator.stake,
      votingPower: power.get(bytesToHex(validator.id)) ?? 0n,
      active: validator.active,
      jailed: validator.jailed,
      ...(validator.jailedHeight === undefined ? {} : { jailedHeight: validator.jailedHeight }),
      commissionBps: validator.commissionBps,
      commitsSigned: validator.performance.commitsSigned,
      proposalsMade: validator.performance.proposals,
    }))
  }

  peers(): string[] {
    return this.transport.peers()
  }

  healthy(): boolean {
    return this.#running && this.engine.haltedAt === undefined && this.store.status === 'open'
  }

  on<K extends keyof NodeEvents>(event: K, listener: (detail: NodeEvents[K]) => void): () => void {
    return this.#events.on(event, listener)
  }

  #admit(bytes: Uint8Array): SubmitOutcome {
    let id: Uint8Array | undefined
    try {
      const prepared = prepareTransaction(bytes)
      id = prepared.id
      const { status } = this.chain.submitTransaction(prepared)
      this.#events.emit('transaction', { id, status })
      return { status, id }
    } catch (error) {
      if (!isMetanodeError(error)) throw error
      const code = error instanceof RejectionError ? error.code : error.name
      if (code === 'already-known' && id !== undefined) return { status: 'duplicate', id }
      return { status: 'rejected', id, code, message: error.message }
    }
  }

  #gossip(bytes: Uint8Array): void {
    this.#outbox.push(bytes)
    if (this.#outbox.length >= MAX_GOSSIP_BATCH) this.#flush()
    else if (!this.#flushScheduled) {
      // A short wait gathers a request's transactions and concurrent requests' into one message:
      // every gossip message costs a signature and a verification per peer.
      this.#flushScheduled = true
      setTimeout(() => this.#flush(), GOSSIP_FLUSH_MS)
    }
  }

  #flush(): void {
    this.#flushScheduled = false
    const batch = this.#outbox
    if (batch.length === 0 || !this.#running) return
    this.#outbox = []
    this.transport.publish(this.#topic, encode(batch)).catch((error: unknown) => {
      this.#logger.debug({ error: String(error), txs: batch.length }, 'transaction gossip failed')
    })
  }

  #onGossip(from: PeerId, data: Uint8Array): 'accept' | 'ignore' | 'reject' {
    let batch: Uint8Array[]
    try {
      batch = decodeAs(data, GossipBatch)
    } catch {
      return 'reject'
    }
    let fresh = 0
    let invalid = 0
    for (const bytes of batch) {
      const outcome = this.#admit(bytes)
      if (outcome.status === 'pending' || outcome.status === 'queued') fresh++
      else if (outcome.status === 'rejected' && isForged(outcome.code)) invalid++
    }
    if (invalid > 0) {
      this.#logger.debug({ from, invalid }, 'gossiped transactions with bad signatures')
      return 'reject'
    }
    return fresh > 0 ? 'accept' : 'ignore'
  }

  async #onFinalized(height: number, latencyMs: number): Promise<void> {
    const stored = await this.chain.block(height)
    if (stored === undefined) return
    this.#recent.push({
      at: this.#clock.now(),
      timestamp: stored.block.header.timestamp,
      txs: stored.block.txs.length,
      latencyMs,
    })
    if (this.#recent.length > RECENT_BLOCKS) this.#recent.shift()
    await this.#countActive()
    this.#events.emit('block', { stored, latencyMs })
    // Receipts carry the ids: the block's transactions need no decoding or hashing again.
    for (const { txId } of stored.receipts) {
      this.#events.emit('transaction', { id: txId, status: 'finalized', height })
    }
    this.#logger.debug({ height, txs: stored.block.txs.length, latencyMs }, 'block finalized')
  }

  #headHash(): Uint8Array {
    const { head } = this.chain
    return head === undefined ? genesisId(this.genesis) : headerId(head)
  }

  async #countActive(): Promise<void> {
    this.#activeValidators = (
      await this.chain.validatorSet(this.chain.height + 1)
    ).validators.length
  }
}

function isForged(code: string): boolean {
  return code === 'bad-signature' || code === 'malformed' || code === 'wrong-chain'
}

/**
 * Creates a node over `init.store` and `init.transport`: opens the store and resumes the chain
 * from it (or starts from genesis). Call `start()` to join consensus.
 */
export async function createNode(init: NodeInit): Promise<MetanodeNode> {
  const { genesis, signer, store, transport } = init
  await store.open()
  const chain = await createChainApplication({
    genesis,
    store,
    ...(init.mempoolLimits === undefined ? {} : { mempoolLimits: init.mempoolLimits }),
    ...(init.clock === undefined ? {} : { clock: init.clock }),
  })
  const engine = createIbft({
    chainId: genesis.chainId,
    application: chain,
    signer,
    blockPeriodMs: init.blockPeriodMs ?? 100,
    ...(init.roundTimeoutBaseMs === undefined
      ? {}
      : { roundTimeoutBaseMs: init.roundTimeoutBaseMs }),
    ...(init.dissemination === undefined ? {} : { dissemination: init.dissemination }),
  })({
    clock: init.clock ?? systemClock,
    transport,
    store,
    ...(init.logger === undefined ? {} : { logger: init.logger }),
    ...(init.metrics === undefined ? {} : { metrics: init.metrics }),
  })
  return new MetanodeNode(init, chain, engine)
}
