/**
 * The QBFT engine: a deterministic state machine over one height at a time, fed messages by the
 * transport and time by the clock component, driving an {@link Application}.
 *
 * All inputs (messages, timers) run one at a time through one queue, so the engine's decisions
 * depend only on the order of its inputs, never on how their processing interleaves.
 */

import type { FinalizedBlock } from '@metanode/core'
import {
  type Application,
  type Clock,
  type ConsensusEngine,
  type ConsensusEvents,
  type Logger,
  type Metrics,
  noopMetrics,
  type PeerId,
  type RejectionAction,
  RejectionError,
  type Rng,
  type Store,
  silentLogger,
  type TimerHandle,
  type Transport,
  TypedEventEmitter,
  type ValidationResult,
} from '@metanode/core'
import {
  DEFAULT_FUTURE_BUFFER_LIMITS,
  type FutureBufferLimits,
  FutureMessageBuffer,
} from './buffer.js'
import { equalBytes, hexKey } from './bytes.js'
import { buildCommitCertificate, checkSeals } from './certificate.js'
import {
  DoubleSignPreventedError,
  FinalizeFailedError,
  type RejectionCode,
  rejection,
} from './errors.js'
import { EquivocationDetector, type EvidenceLimits } from './evidence.js'
import { isAuthenticSigned, justifyProposal, justifyRoundChange } from './justification.js'
import {
  blockIdOf,
  type CommitBody,
  checkedBlockId,
  DEFAULT_MESSAGE_LIMITS,
  decodeMessage,
  encodeMessage,
  type IbftMessage,
  MalformedMessageError,
  type MessageBody,
  type MessageLimits,
  messageHash,
  type PrepareBody,
  type ProposalBody,
  type RoundChangeBody,
  type SignedBody,
  signBody,
} from './messages.js'
import { type PreparedCertificate, SigningState, type StoredBlock } from './persistence.js'
import { type ProposerSelector, rotatingProposer, roundRobinProposer } from './proposer.js'
import {
  commitSealBytes,
  type IbftSigner,
  realScheme,
  type SignatureScheme,
  type SignerKeys,
} from './signing.js'
import {
  BlockSync,
  IBFT_SYNC_PROTOCOL,
  resolveSyncLimits,
  type SyncApplyResult,
  type SyncLimits,
  serveSyncRequest,
  verifySyncedBlock,
} from './sync.js'
import { indexValidators, type ValidatorIndex } from './validators.js'

/** Every bound the engine enforces on what peers send. */
export interface IbftLimits extends MessageLimits, FutureBufferLimits, EvidenceLimits {
  /** Rounds ahead of the current one for which messages are kept (the rest are ignored). Default 50. */
  maxRoundsAhead: number
}

/** Default {@link IbftLimits}. */
export const DEFAULT_IBFT_LIMITS: Readonly<IbftLimits> = Object.freeze({
  ...DEFAULT_MESSAGE_LIMITS,
  ...DEFAULT_FUTURE_BUFFER_LIMITS,
  maxEvidence: 256,
  maxRoundsAhead: 50,
})

/** Default topic the engine subscribes and publishes to. */
export const DEFAULT_IBFT_TOPIC = 'metanode/ibft/v1'

/** How an engine sends its messages: see {@link IbftInit.dissemination}. */
export type IbftDissemination = 'gossip' | 'direct'

/** Whether `value` names an {@link IbftDissemination}. */
export function isIbftDissemination(value: unknown): value is IbftDissemination {
  return value === 'gossip' || value === 'direct'
}

/** Configuration of {@link createIbft}. */
export interface IbftInit {
  /** Chain id bound into every signature and seal. */
  chainId: string
  /** The application the engine drives. */
  application: Application
  /** This validator's signer, or its secret keys (turned into a signer by `scheme`). */
  signer: IbftSigner | SignerKeys
  /** Signature scheme. Default {@link realScheme} (Ed25519 + BLS12-381). */
  scheme?: SignatureScheme
  /**
   * Proposer selection. Default: {@link roundRobinProposer} from the previous block's proposer as
   * `Application.proposerOf` reads it from the decided payload, when the application implements
   * it; {@link rotatingProposer} otherwise. Honest nodes may hold certificates of different
   * rounds for the same decided block, so a rotation that followed the proposer of the decided
   * *round* could leave them disagreeing on every later proposer; the payload is the same on
   * every node. A custom selector receives the same `previousProposer` (without `proposerOf`:
   * the proposer of the round this node saw the block decided in).
   */
  proposerSelector?: ProposerSelector
  /** Timeout of round 0, in ms; round r waits base * 2^r, capped. Default 1,000. */
  roundTimeoutBaseMs?: number
  /** Cap of the round timeout, in ms. Default 60,000. */
  roundTimeoutMaxMs?: number
  /** Minimum time between a block's finalization and the next proposal, in ms; 0 proposes at once. Default 0. */
  blockPeriodMs?: number
  /** Transport topic. Default {@link DEFAULT_IBFT_TOPIC}. */
  topic?: string
  /**
   * How this node's messages reach the others. `'gossip'` (default) publishes on the topic: the
   * transport relays, so validators need not all be connected to each other. `'direct'` sends
   * each message once to every connected peer (`Transport.send`) and relays nothing: for a
   * validator set connected as a full mesh, as permissioned sets usually are, it moves a third of
   * the bytes gossip does (gossip forwards every message again from each receiver) and skips the
   * pub-sub machinery. A validator that is not connected misses the messages and catches up from
   * peers after the height is decided. Either way the engine accepts messages both ways, so nodes
   * in the two modes interoperate.
   */
  dissemination?: IbftDissemination
  /** Bounds on peer input. */
  limits?: Partial<IbftLimits>
  /** Catch-up (block sync) bounds and pacing, or `false` to neither serve nor fetch blocks. Default {@link DEFAULT_SYNC_LIMITS}. */
  sync?: Partial<SyncLimits> | false
}

/** The components {@link createIbft} needs. */
export interface IbftComponents {
  /** Time source of every timeout and latency. */
  clock: Clock
  /** Messaging with the other validators. */
  transport: Transport
  /** Where signing state and decided blocks are persisted. Opened by `start` if needed. */
  store: Store
  /** Structured logger. Default silent. */
  logger?: Logger
  /** Metrics registry. Default no-op. */
  metrics?: Metrics
  /** Unused by the protocol (QBFT needs no randomness); accepted for the common component shape. */
  rng?: Rng
}

/** The engine's events: core's `ConsensusEvents` plus rejections and sent messages. */
export interface IbftEvents extends ConsensusEvents {
  /** A message was refused. */
  rejected: { from: PeerId; code: RejectionCode; action: RejectionAction; reason: string }
  /** The engine signed and published a message. */
  sent: { message: IbftMessage; data: Uint8Array }
  /** Catch-up applied blocks `fromHeight`..`toHeight` served by `from` (each also emits `finalized`). */
  synced: { from: PeerId; fromHeight: number; toHeight: number }
  /**
   * `Application.finalize` failed for the block at `height` (the cause is `error.cause`). The
   * engine has halted: it decides, signs and fetches nothing more, and answers every message
   * with `ignore`. The block stays stored; stop the engine (or the process) and start it again
   * over the same store to hand the block to `finalize` again.
   */
  error: { error: FinalizeFailedError; height: number }
}

/** A running QBFT engine. */
export interface IbftEngine extends ConsensusEngine {
  /** Listens to an event; returns a function that removes the listener. */
  on<K extends keyof IbftEvents>(event: K, listener: (detail: IbftEvents[K]) => void): () => void
  /** This validator's id. */
  readonly id: Uint8Array
  /** The decided block at `height` with its certificate, if this engine stored it. */
  finalizedBlock(height: number): Promise<FinalizedBlock | undefined>
  /**
   * The height whose `finalize` failed, while the engine is halted there (see the `error`
   * event); `undefined` while it runs normally. `start` clears it.
   */
  readonly haltedAt: number | undefined
}

interface RoundMessages {
  proposal?: IbftMessage<ProposalBody>
  prepares: Map<string, SignedBody<PrepareBody>>
  commits: Map<string, SignedBody<CommitBody>>
  roundChanges: Map<string, IbftMessage<RoundChangeBody>>
}

interface HeightState {
  height: number
  validators: ValidatorIndex
  previousProposer?: Uint8Array
  round: number
  rounds: Map<number, RoundMessages>
  proposedRounds: Set<number>
  committedRounds: Set<number>
  seen: Set<string>
  payloads: Map<string, Uint8Array>
  startedAt: number
  firstProposalAt?: number
  roundZeroBegun: boolean
  /** Validators whose ROUND-CHANGE for a round below ours arrived since our round timer was armed. */
  behind: Map<string, Uint8Array>
  /** Our latest ROUND-CHANGE of this height, re-sent while we wait for validators behind us. */
  lastRoundChange?: IbftMessage
}

function positiveInteger(
  value: number | undefined,
  name: string,
  fallback: number,
  min = 1,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer`)
  }
  if (value < min) throw new RangeError(`${name} must be at least ${min}`)
  return value
}

function isSigner(value: IbftSigner | SignerKeys): value is IbftSigner {
  return typeof (value as IbftSigner).sign === 'function'
}

class QbftEngine implements IbftEngine {
  readonly id: Uint8Array
  readonly #chainId: string
  readonly #application: Application
  readonly #signer: IbftSigner
  readonly #scheme: SignatureScheme
  readonly #selectProposer: ProposerSelector
  readonly #timeoutBaseMs: number
  readonly #timeoutMaxMs: number
  readonly #blockPeriodMs: number
  readonly #dissemination: IbftDissemination
  readonly #topic: string
  readonly #limits: IbftLimits
  readonly #clock: Clock
  readonly #transport: Transport
  readonly #store: Store
  readonly #logger: Logger
  readonly #events = new TypedEventEmitter<IbftEvents>()
  readonly #buffer: FutureMessageBuffer
  readonly #detector: EquivocationDetector
  readonly #metrics: {
    roundChanges: ReturnType<Metrics['counter']>
    finalized: ReturnType<Metrics['gauge']>
    latency: ReturnType<Metrics['histogram']>
    rejected: ReturnType<Metrics['counter']>
    round: ReturnType<Metrics['gauge']>
    synced: ReturnType<Metrics['counter']>
  }
  readonly #sync: BlockSync | undefined
  readonly #syncLimits: SyncLimits | undefined
  #unhandleSync: (() => void) | undefined
  #queue: Promise<unknown> = Promise.resolve()
  #running = false
  #unsubscribe: (() => void) | undefined
  #timer: TimerHandle | undefined
  #signing: SigningState | undefined
  #state: HeightState | undefined
  #lastFinalizedAt: number | undefined
  #haltedAt: number | undefined
  /** {@link QbftEngine.#blockIdOf} as a function, for the justification and catch-up checks. */
  readonly #blockId = (payload: Uint8Array): Uint8Array => this.#blockIdOf(payload)

  constructor(init: IbftInit, components: IbftComponents) {
    if (typeof init !== 'object' || init === null) throw new TypeError('init must be an object')
    if (typeof init.chainId !== 'string' || init.chainId.length === 0) {
      throw new TypeError('chainId must be a non-empty string')
    }
    this.#chainId = init.chainId
    if (typeof init.application !== 'object' || init.application === null) {
      throw new TypeError('application must be an object')
    }
    this.#application = init.application
    this.#scheme = init.scheme ?? realScheme
    this.#signer = isSigner(init.signer) ? init.signer : this.#scheme.createSigner(init.signer)
    this.id = this.#signer.id
    this.#selectProposer =
      init.proposerSelector ??
      (init.application.proposerOf === undefined ? rotatingProposer : roundRobinProposer)
    this.#timeoutBaseMs = positiveInteger(init.roundTimeoutBaseMs, 'roundTimeoutBaseMs', 1000)
    this.#timeoutMaxMs = positiveInteger(init.roundTimeoutMaxMs, 'roundTimeoutMaxMs', 60_000)
    if (this.#timeoutMaxMs < this.#timeoutBaseMs) {
      throw new RangeError('roundTimeoutMaxMs must be at least roundTimeoutBaseMs')
    }
    this.#blockPeriodMs = positiveInteger(init.blockPeriodMs, 'blockPeriodMs', 0, 0)
    this.#topic = init.topic ?? DEFAULT_IBFT_TOPIC
    const dissemination = init.dissemination ?? 'gossip'
    if (!isIbftDissemination(dissemination)) {
      throw new RangeError(
        `dissemination must be 'gossip' or 'direct', got ${String(dissemination)}`,
      )
    }
    this.#dissemination = dissemination
    this.#limits = { ...DEFAULT_IBFT_LIMITS, ...init.limits }
    this.#clock = components.clock
    this.#transport = components.transport
    this.#store = components.store
    this.#logger = (components.logger ?? silentLogger).child({ component: 'ibft' })
    this.#buffer = new FutureMessageBuffer(this.#limits)
    this.#detector = new EquivocationDetector(this.#limits)
    const metrics = components.metrics ?? noopMetrics
    this.#metrics = {
      roundChanges: metrics.counter({
        name: 'metanode_ibft_round_changes_total',
        help: 'Rounds entered after round 0',
      }),
      finalized: metrics.gauge({
        name: 'metanode_ibft_finalized_height',
        help: 'Last finalized height',
      }),
      latency: metrics.histogram({
        name: 'metanode_ibft_finality_latency_ms',
        help: 'Time from the first proposal of a height to its finality',
      }),
      rejected: metrics.counter({
        name: 'metanode_ibft_rejected_messages_total',
        help: 'Messages refused, by code',
        labelNames: ['code'],
      }),
      round: metrics.gauge({ name: 'metanode_ibft_round', help: 'Current round' }),
      synced: metrics.counter({
        name: 'metanode_ibft_synced_blocks_total',
        help: 'Blocks fetched from peers by catch-up, verified and applied',
      }),
    }
    this.#syncLimits = init.sync === false ? undefined : resolveSyncLimits(init.sync)
    this.#sync =
      this.#syncLimits === undefined
        ? undefined
        : new BlockSync({
            transport: this.#transport,
            clock: this.#clock,
            logger: this.#logger,
            limits: this.#syncLimits,
            maxPayloadBytes: this.#limits.maxPayloadBytes,
            host: {
              height: () => this.height,
              apply: (from, blocks) => this.#applySynced(from, blocks),
              refuse: (from, error) => {
                this.#refuse(from, error)
              },
            },
          })
  }

  get height(): number {
    return this.#haltedAt ?? this.#state?.height ?? this.#signing?.height ?? 0
  }

  get haltedAt(): number | undefined {
    return this.#haltedAt
  }

  get round(): number {
    return this.#state?.round ?? 0
  }

  on<K extends keyof IbftEvents>(event: K, listener: (detail: IbftEvents[K]) => void): () => void {
    return this.#events.on(event, listener)
  }

  async start(): Promise<void> {
    if (this.#running) return
    if (this.#store.status !== 'open') await this.#store.open()
    this.#signing = await SigningState.load(this.#store)
    this.#lastFinalizedAt = undefined
    this.#haltedAt = undefined
    this.#running = true
    this.#unsubscribe = this.#transport.subscribe(this.#topic, (message) =>
      this.submit(message.from, message.data),
    )
    try {
      if (this.#syncLimits !== undefined) {
        const limits = this.#syncLimits
        this.#unhandleSync = this.#transport.handle(IBFT_SYNC_PROTOCOL, ({ data }) =>
          serveSyncRequest(data, (height) => this.finalizedBlock(height), {
            maxBlocks: limits.maxBlocksPerResponse,
            maxBytes: this.#transport.maxMessageBytes,
          }),
        )
      }
      await this.#run(async () => {
        if (!(await this.#applyStoredBlocks())) return
        await this.#enterHeight(this.#signing!.height, this.#signing!.highestSignedRound)
      })
      if (this.#haltedAt === undefined) this.#sync?.start()
    } catch (error) {
      await this.stop()
      throw error
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#sync?.stop()
    this.#unhandleSync?.()
    this.#unhandleSync = undefined
    this.#cancelTimer()
    await this.#queue.catch(() => {})
    this.#state = undefined
    this.#buffer.clear()
  }

  async finalizedBlock(height: number): Promise<FinalizedBlock | undefined> {
    const signing = this.#signing ?? (await SigningState.load(this.#store))
    const stored = await signing.block(height)
    return stored === undefined
      ? undefined
      : { height, payload: stored.payload, certificate: stored.certificate }
  }

  async submit(from: PeerId, data: Uint8Array): Promise<ValidationResult> {
    if (!this.#running || this.#haltedAt !== undefined) return 'ignore'
    if (!(data instanceof Uint8Array))
      return this.#refuse(from, rejection('malformed', 'reject', 'not bytes'))
    return this.#run(async () => {
      if (!this.#running || this.#haltedAt !== undefined) return 'ignore'
      try {
        return await this.#process(from, data)
      } catch (error) {
        if (error instanceof RejectionError)
          return this.#refuse(from, error as RejectionError<RejectionCode>)
        this.#logger.error({ error: String(error) }, 'failed to process a message')
        return 'ignore'
      }
    })
  }

  // --- plumbing -------------------------------------------------------------------------------

  #run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task)
    this.#queue = result.catch(() => {})
    return result
  }

  /** Whether the engine runs and has not halted on a failed `finalize`. */
  #canRun(): boolean {
    return this.#running && this.#haltedAt === undefined
  }

  #refuse(from: PeerId, error: RejectionError<RejectionCode>): ValidationResult {
    this.#metrics.rejected.inc({ code: error.code })
    this.#logger.debug({ from, code: error.code }, error.message)
    this.#events.emit('rejected', {
      from,
      code: error.code,
      action: error.action,
      reason: error.message,
    })
    return error.action
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #schedule(delayMs: number, task: () => Promise<void>): void {
    this.#cancelTimer()
    const handle = this.#clock.setTimeout(() => {
      if (this.#timer !== handle) return
      this.#timer = undefined
      this.#run(async () => {
        if (this.#running) await task()
      }).catch((error: unknown) => {
        this.#logger.error({ error: String(error) }, 'timer task failed')
      })
    }, delayMs)
    this.#timer = handle
  }

  /** The round timeout of `round`: base * 2^round, capped. */
  #timeoutOf(round: number): number {
    return Math.min(this.#timeoutBaseMs * 2 ** Math.min(round, 52), this.#timeoutMaxMs)
  }

  /** The application's block id of `payload` (see `Application.blockId`), checked for length. */
  #blockIdOf(payload: Uint8Array): Uint8Array {
    const application = this.#application
    return checkedBlockId(
      application.blockId === undefined ? blockIdOf : (bytes) => application.blockId!(bytes),
      payload,
    )
  }

  /**
   * The proposer the selector rotates from at `height`: what `Application.proposerOf` reads from
   * the previous decided payload, or, without it, the proposer recorded when that block was
   * stored. Both come from the store, so restarts and catch-up see the same.
   */
  async #previousProposer(height: number): Promise<Uint8Array | undefined> {
    if (height <= 1) return undefined
    const signing = this.#signing as SigningState
    const application = this.#application
    if (application.proposerOf === undefined) return signing.proposer(height - 1)
    const previous = await signing.block(height - 1)
    if (previous === undefined) return undefined
    try {
      const proposer = application.proposerOf(previous.payload)
      return proposer instanceof Uint8Array ? proposer : undefined
    } catch (error) {
      // deterministic all the same: every node holds the same decided payload
      this.#logger.warn({ height, error: String(error) }, 'proposerOf failed on a decided block')
      return undefined
    }
  }

  #proposerIndex(state: HeightState, round: number): number {
    return this.#selectProposer({
      height: state.height,
      round,
      validators: state.validators.set,
      ...(state.previousProposer === undefined ? {} : { previousProposer: state.previousProposer }),
    })
  }

  #roundMessages(state: HeightState, round: number): RoundMessages {
    let messages = state.rounds.get(round)
    if (messages === undefined) {
      messages = { prepares: new Map(), commits: new Map(), roundChanges: new Map() }
      state.rounds.set(round, messages)
    }
    return messages
  }

  // --- heights and rounds ---------------------------------------------------------------------

  async #enterHeight(height: number, round: number): Promise<void> {
    this.#cancelTimer()
    const signing = this.#signing as SigningState
    const set = await this.#application.validatorSet(height)
    const previousProposer = await this.#previousProposer(height)
    const state: HeightState = {
      height,
      validators: indexValidators(set),
      round,
      rounds: new Map(),
      proposedRounds: new Set(),
      committedRounds: new Set(),
      seen: new Set(),
      payloads: new Map(),
      startedAt: this.#clock.now(),
      roundZeroBegun: false,
      behind: new Map(),
      ...(previousProposer === undefined ? {} : { previousProposer }),
    }
    this.#state = state
    this.#detector.prune(height)
    this.#metrics.round.set(round)
    const prepared = signing.prepared
    if (prepared !== undefined) state.payloads.set(hexKey(prepared.digest), prepared.payload)
    const wait =
      round === 0 && this.#blockPeriodMs > 0 && this.#lastFinalizedAt !== undefined
        ? this.#lastFinalizedAt + this.#blockPeriodMs - this.#clock.now()
        : 0
    if (wait > 0) {
      this.#schedule(wait, () => this.#beginRound(state, round))
    } else {
      await this.#beginRound(state, round)
    }
    for (const { from, data } of this.#buffer.take(height)) {
      if (this.#state !== state) break
      try {
        await this.#process(from, data)
      } catch (error) {
        if (error instanceof RejectionError)
          this.#refuse(from, error as RejectionError<RejectionCode>)
        else this.#logger.error({ error: String(error) }, 'failed to replay a buffered message')
      }
    }
  }

  /** Starts the round timer of `round` and, for the proposer of round 0, proposes. */
  async #beginRound(state: HeightState, round: number): Promise<void> {
    if (this.#state !== state || state.round !== round) return
    if (round === 0) state.roundZeroBegun = true
    this.#schedule(this.#timeoutOf(round), () => this.#onRoundTimeout(state, round))
    const mine = equalBytes(state.validators.at(this.#proposerIndex(state, round)).id, this.id)
    if (mine && round === 0 && !state.proposedRounds.has(0)) await this.#proposeNew(state, 0)
    await this.#evaluate(state)
  }

  async #onRoundTimeout(state: HeightState, round: number): Promise<void> {
    if (this.#state !== state || state.round !== round) return
    this.#logger.debug({ height: state.height, round }, 'round timed out')
    // Once timeouts reach their cap, nodes in different rounds advance at the same pace and would
    // never meet. While a weak quorum (so at least one honest validator) is still in lower rounds,
    // hold this round and repeat our ROUND-CHANGE so they can catch up.
    if (state.validators.hasWeakQuorum(state.behind.values())) {
      state.behind.clear()
      this.#schedule(this.#timeoutOf(round), () => this.#onRoundTimeout(state, round))
      if (state.lastRoundChange !== undefined) {
        await this.#disseminate(encodeMessage(state.lastRoundChange))
      }
      return
    }
    await this.#moveToRound(state, round + 1, true)
  }

  async #moveToRound(state: HeightState, round: number, sendRoundChange: boolean): Promise<void> {
    if (round <= state.round) return
    state.round = round
    state.behind.clear()
    // messages of rounds left behind can no longer change anything but a decision (COMMITs)
    for (const [old, messages] of state.rounds) {
      if (old < round) {
        messages.prepares.clear()
        messages.roundChanges.clear()
      }
    }
    this.#metrics.roundChanges.inc()
    this.#metrics.round.set(round)
    this.#events.emit('round-change', { height: state.height, round })
    this.#schedule(this.#timeoutOf(round), () => this.#onRoundTimeout(state, round))
    if (sendRoundChange) await this.#sendRoundChange(state, round)
  }

  // --- sending --------------------------------------------------------------------------------

  async #sign<B extends MessageBody>(
    state: HeightState,
    body: B,
    prepared?: PreparedCertificate,
  ): Promise<SignedBody<B> | undefined> {
    const signed = signBody(this.#chainId, this.#signer, body)
    try {
      await (this.#signing as SigningState).recordSigned(
        state.height,
        body.round,
        body.kind,
        signed.bodyBytes,
        prepared,
      )
    } catch (error) {
      if (error instanceof DoubleSignPreventedError) {
        this.#logger.warn(
          { height: state.height, round: body.round, kind: body.kind },
          error.message,
        )
        return undefined
      }
      throw error
    }
    return signed
  }

  async #send(state: HeightState, message: IbftMessage): Promise<void> {
    const data = encodeMessage(message)
    state.seen.add(hexKey(messageHash(data)))
    this.#events.emit('sent', { message, data })
    await this.#disseminate(data)
    if (this.#state === state) await this.#handleAuthentic(state, message, data, true)
  }

  /**
   * Hands `data` to the transport as {@link IbftInit.dissemination} says; failures are logged.
   * Direct sends are not awaited: a peer that reads slowly (or not at all) must not hold up this
   * node's own progress; each peer's messages still leave in order on its stream.
   */
  async #disseminate(data: Uint8Array): Promise<void> {
    if (this.#dissemination === 'gossip') {
      try {
        await this.#transport.publish(this.#topic, data)
      } catch (error) {
        this.#logger.warn({ error: String(error) }, 'publish failed')
      }
      return
    }
    for (const peer of this.#transport.peers()) {
      this.#transport.send(peer, this.#topic, data).catch((error: unknown) => {
        this.#logger.debug({ peer, error: String(error) }, 'send failed')
      })
    }
  }

  /** Proposal time as the wire carries it: whole milliseconds (clocks may report fractions). */
  #timestamp(): number {
    return Math.max(0, Math.floor(this.#clock.now()))
  }

  async #proposeNew(state: HeightState, round: number): Promise<void> {
    const timestamp = this.#timestamp()
    const payload = await this.#application.buildProposal({
      height: state.height,
      round,
      proposer: this.id,
      timestamp,
    })
    if (this.#state !== state || state.round !== round) return
    await this.#propose(state, round, payload, timestamp, [], [])
  }

  async #propose(
    state: HeightState,
    round: number,
    payload: Uint8Array,
    timestamp: number,
    roundChanges: SignedBody<RoundChangeBody>[],
    prepares: SignedBody<PrepareBody>[],
  ): Promise<void> {
    state.proposedRounds.add(round)
    let digest: Uint8Array
    try {
      digest = this.#blockIdOf(payload)
    } catch (error) {
      // nothing is sent: the round times out and another proposer gets its turn
      this.#logger.error(
        { height: state.height, round, error: String(error) },
        'the application gave no block id for its own proposal',
      )
      return
    }
    const signed = await this.#sign(state, {
      kind: 'PROPOSAL',
      height: state.height,
      round,
      digest,
      timestamp,
    })
    if (signed === undefined) return
    await this.#send(state, { signed, payload, roundChanges, prepares })
  }

  async #sendRoundChange(state: HeightState, round: number): Promise<void> {
    const prepared = (this.#signing as SigningState).prepared
    const body: RoundChangeBody =
      prepared === undefined
        ? { kind: 'ROUND-CHANGE', height: state.height, round }
        : {
            kind: 'ROUND-CHANGE',
            height: state.height,
            round,
            preparedRound: prepared.round,
            preparedDigest: prepared.digest,
          }
    const signed = await this.#sign(state, body)
    if (signed === undefined) return
    const message: IbftMessage =
      prepared === undefined
        ? { signed, roundChanges: [], prepares: [] }
        : { signed, payload: prepared.payload, roundChanges: [], prepares: prepared.prepares }
    state.lastRoundChange = message
    await this.#send(state, message)
  }

  // --- receiving ------------------------------------------------------------------------------

  async #process(from: PeerId, data: Uint8Array): Promise<ValidationResult> {
    const state = this.#state
    if (state === undefined) return 'ignore'
    let message: IbftMessage
    try {
      message = decodeMessage(data, this.#limits)
    } catch (error) {
      if (error instanceof MalformedMessageError) {
        throw rejection('malformed', 'reject', error.message)
      }
      throw error
    }
    const { body } = message.signed
    if (body.height < state.height) throw rejection('stale', 'ignore', 'message for a past height')
    if (body.height > state.height) {
      this.#noticeAhead(state, from, message)
      const outcome = this.#buffer.add(state.height, body.height, from, data)
      if (outcome === 'kept') return 'ignore'
      if (outcome === 'too-far') throw rejection('future', 'ignore', 'height beyond the window')
      if (outcome === 'duplicate') throw rejection('duplicate', 'ignore', 'already buffered')
      throw rejection('overloaded', 'ignore', `future buffer full (${outcome})`)
    }
    const hash = hexKey(messageHash(data))
    if (state.seen.has(hash)) throw rejection('duplicate', 'ignore', 'message already received')
    if (body.round > state.round + this.#limits.maxRoundsAhead) {
      throw rejection('future', 'ignore', 'round beyond the window')
    }
    const context = { chainId: this.#chainId, validators: state.validators, scheme: this.#scheme }
    if (state.validators.indexOf(message.signed.author) < 0) {
      throw rejection('not-validator', 'reject', 'author is not a validator of the height')
    }
    if (!isAuthenticSigned(message.signed, context)) {
      throw rejection('bad-signature', 'reject', 'signature does not verify')
    }
    const observed = this.#detector.observe(message.signed, data)
    if (observed !== 'first' && observed !== 'same') {
      this.#events.emit('evidence', { evidence: observed })
      try {
        await this.#application.reportEvidence?.(observed)
      } catch (error) {
        this.#logger.warn({ error: String(error) }, 'application failed to take evidence')
      }
      throw rejection('equivocation', 'reject', 'conflicting message for the same slot')
    }
    const result = await this.#handleAuthentic(state, message, data, false)
    state.seen.add(hash)
    return result
  }

  async #handleAuthentic(
    state: HeightState,
    message: IbftMessage,
    data: Uint8Array,
    own: boolean,
  ): Promise<ValidationResult> {
    const { body } = message.signed
    const author = hexKey(message.signed.author)
    switch (body.kind) {
      case 'PROPOSAL':
        await this.#onProposal(state, message as IbftMessage<ProposalBody>, own)
        break
      case 'PREPARE': {
        if (body.round < state.round) throw rejection('stale', 'ignore', 'PREPARE for a past round')
        const messages = this.#roundMessages(state, body.round)
        if (messages.prepares.has(author))
          throw rejection('duplicate', 'ignore', 'PREPARE repeated')
        messages.prepares.set(author, message.signed as SignedBody<PrepareBody>)
        break
      }
      case 'COMMIT': {
        const messages = this.#roundMessages(state, body.round)
        if (messages.commits.has(author)) throw rejection('duplicate', 'ignore', 'COMMIT repeated')
        messages.commits.set(author, message.signed as SignedBody<CommitBody>)
        break
      }
      case 'ROUND-CHANGE': {
        if (body.round < state.round) {
          if (!own) state.behind.set(author, message.signed.author)
          throw rejection('stale', 'ignore', 'ROUND-CHANGE for a past round')
        }
        const roundChange = message as IbftMessage<RoundChangeBody>
        if (!own) {
          const verdict = justifyRoundChange(roundChange, {
            chainId: this.#chainId,
            validators: state.validators,
            scheme: this.#scheme,
            blockId: this.#blockId,
          })
          if (!verdict.valid) throw rejection('bad-justification', 'reject', verdict.reason)
        }
        const messages = this.#roundMessages(state, body.round)
        if (messages.roundChanges.has(author)) {
          throw rejection('duplicate', 'ignore', 'ROUND-CHANGE repeated')
        }
        messages.roundChanges.set(author, roundChange)
        if (roundChange.payload !== undefined && body.preparedDigest !== undefined) {
          state.payloads.set(hexKey(body.preparedDigest), roundChange.payload)
        }
        break
      }
    }
    void data
    await this.#evaluate(state)
    return 'accept'
  }

  async #onProposal(
    state: HeightState,
    message: IbftMessage<ProposalBody>,
    own: boolean,
  ): Promise<void> {
    const { body } = message.signed
    const payload = message.payload as Uint8Array
    const proposerIndex = this.#proposerIndex(state, body.round)
    if (!equalBytes(state.validators.at(proposerIndex).id, message.signed.author)) {
      throw rejection('wrong-proposer', 'reject', 'author is not the proposer of the round')
    }
    // our own proposal's digest was just computed from its payload
    if (!own) {
      let id: Uint8Array
      try {
        id = this.#blockIdOf(payload)
      } catch (error) {
        throw rejection(
          'invalid-payload',
          'reject',
          `payload has no valid block id: ${String(error)}`,
        )
      }
      if (!equalBytes(id, body.digest)) {
        throw rejection('bad-digest', 'reject', 'payload does not match the digest')
      }
    }
    if (body.round < state.round) throw rejection('stale', 'ignore', 'PROPOSAL for a past round')
    const existing = state.rounds.get(body.round)?.proposal
    if (existing !== undefined)
      throw rejection('duplicate', 'ignore', 'round already has a proposal')
    if (!own) {
      const verdict = justifyProposal(message, {
        chainId: this.#chainId,
        validators: state.validators,
        scheme: this.#scheme,
        blockId: this.#blockId,
      })
      if (!verdict.valid) throw rejection('bad-justification', 'reject', verdict.reason)
      const verdictOfApp = await this.#application.validateProposal(
        {
          height: body.height,
          round: body.round,
          proposer: message.signed.author,
          timestamp: body.timestamp,
        },
        payload,
      )
      if (this.#state !== state || body.round < state.round) {
        throw rejection('stale', 'ignore', 'round moved on during validation')
      }
      if (!verdictOfApp.valid) {
        throw rejection('invalid-payload', 'reject', verdictOfApp.reason, {
          code: verdictOfApp.code,
        })
      }
    }
    if (body.round > state.round) await this.#moveToRound(state, body.round, false)
    const messages = this.#roundMessages(state, body.round)
    if (messages.proposal !== undefined) return
    messages.proposal = message
    state.payloads.set(hexKey(body.digest), payload)
    state.firstProposalAt ??= this.#clock.now()
    const signed = await this.#sign(state, {
      kind: 'PREPARE',
      height: state.height,
      round: body.round,
      digest: body.digest,
    })
    if (signed !== undefined) await this.#send(state, { signed, roundChanges: [], prepares: [] })
  }

  // --- the QBFT upon-rules --------------------------------------------------------------------

  async #evaluate(state: HeightState): Promise<void> {
    for (let steps = 0; steps < 64 && this.#state === state; steps++) {
      if (await this.#tryFinalize(state)) return
      if (await this.#tryJumpRound(state)) continue
      if (await this.#tryProposeAfterRoundChange(state)) continue
      if (await this.#tryCommit(state)) continue
      return
    }
  }

  async #tryFinalize(state: HeightState): Promise<boolean> {
    for (const [round, messages] of state.rounds) {
      const byDigest = new Map<string, SignedBody<CommitBody>[]>()
      for (const commit of messages.commits.values()) {
        const key = hexKey(commit.body.digest)
        byDigest.set(key, [...(byDigest.get(key) ?? []), commit])
      }
      for (const [digestKey, commits] of byDigest) {
        if (!state.validators.hasQuorum(commits.map((commit) => commit.author))) continue
        const payload = state.payloads.get(digestKey)
        if (payload === undefined) continue
        const digest = (commits[0] as SignedBody<CommitBody>).body.digest
        const sealMessage = commitSealBytes(this.#chainId, state.height, round, digest)
        const { invalid, aggregate } = checkSeals(
          commits.map((commit) => ({
            seal: commit.body.seal,
            blsPublicKey: state.validators.at(state.validators.indexOf(commit.author)).blsPublicKey,
          })),
          sealMessage,
          this.#scheme,
        )
        if (invalid.length > 0) {
          for (const position of invalid) {
            const commit = commits[position] as SignedBody<CommitBody>
            messages.commits.delete(hexKey(commit.author))
            this.#logger.warn(
              { height: state.height, round },
              'COMMIT with an invalid seal dropped',
            )
            this.#metrics.rejected.inc({ code: 'bad-signature' })
          }
          return this.#tryFinalize(state)
        }
        await this.#finalize(state, round, digest, payload, commits, aggregate)
        return true
      }
    }
    return false
  }

  async #finalize(
    state: HeightState,
    round: number,
    digest: Uint8Array,
    payload: Uint8Array,
    commits: SignedBody<CommitBody>[],
    aggregate: Uint8Array | undefined,
  ): Promise<void> {
    this.#cancelTimer()
    const certificate = buildCommitCertificate({
      ...(aggregate === undefined ? {} : { aggregate }),
      height: state.height,
      round,
      blockId: digest,
      validatorCount: state.validators.size,
      seals: commits.map((commit) => ({
        index: state.validators.indexOf(commit.author),
        seal: commit.body.seal,
      })),
      scheme: this.#scheme,
    })
    const stored: StoredBlock = {
      payload,
      certificate,
      proposer: state.validators.at(this.#proposerIndex(state, round)).id,
    }
    const latencyMs = this.#clock.now() - (state.firstProposalAt ?? state.startedAt)
    if (!(await this.#recordDecision(stored, latencyMs))) return
    if (this.#running && this.#state === state) await this.#enterHeight(state.height + 1, 0)
  }

  /**
   * Persists a decided block, hands it to the application and announces it; the one path for
   * blocks decided here and blocks fetched by catch-up, so the application sees both alike.
   * `latencyMs` is undefined for fetched blocks: this node did not watch them being decided.
   * Resolves to `false` when the application failed to apply it (the engine has halted).
   */
  async #recordDecision(stored: StoredBlock, latencyMs: number | undefined): Promise<boolean> {
    await (this.#signing as SigningState).recordFinalized(stored)
    return this.#applyBlock(
      {
        height: stored.certificate.height,
        payload: stored.payload,
        certificate: stored.certificate,
      },
      latencyMs,
    )
  }

  /**
   * Hands a stored block to `Application.finalize` and records that it was applied. A failure
   * halts the engine at that height: going on would leave this node's application state without
   * a block every other node applied, and the node would keep voting on top of it.
   */
  async #applyBlock(block: FinalizedBlock, latencyMs: number | undefined): Promise<boolean> {
    const { height, round } = block.certificate
    try {
      await this.#application.finalize(block)
      await (this.#signing as SigningState).recordApplied(height)
    } catch (cause) {
      this.#halt(height, cause)
      return false
    }
    this.#lastFinalizedAt = this.#clock.now()
    this.#metrics.finalized.set(height)
    if (latencyMs !== undefined) this.#metrics.latency.observe(latencyMs)
    this.#logger.info({ height, round, latencyMs }, 'finalized')
    this.#events.emit('finalized', { block, latencyMs: latencyMs ?? 0 })
    return true
  }

  /**
   * Re-delivers the blocks a previous run stored but whose `finalize` never resolved (it threw,
   * or the process died first). Resolves to `false` when one fails again (the engine halts).
   */
  async #applyStoredBlocks(): Promise<boolean> {
    const signing = this.#signing as SigningState
    for (let height = signing.appliedHeight + 1; height < signing.height; height++) {
      const stored = await signing.block(height)
      if (stored === undefined) {
        this.#halt(height, new Error(`stored block ${height} is missing`))
        return false
      }
      if (!this.#certifies(stored.certificate.blockId, stored.payload)) {
        this.#halt(
          height,
          new Error(`stored block ${height} does not match its certificate's block id`),
        )
        return false
      }
      this.#logger.info({ height }, 're-delivering a stored block that was not applied')
      const block = { height, payload: stored.payload, certificate: stored.certificate }
      if (!(await this.#applyBlock(block, undefined))) return false
    }
    return true
  }

  /**
   * Whether `blockId` is the application's id of `payload`: a corrupt store, or an application
   * whose `blockId` changed, is not.
   */
  #certifies(blockId: Uint8Array, payload: Uint8Array): boolean {
    try {
      return equalBytes(this.#blockIdOf(payload), blockId)
    } catch {
      return false
    }
  }

  #halt(height: number, cause: unknown): void {
    this.#haltedAt = height
    this.#cancelTimer()
    this.#state = undefined
    this.#buffer.clear()
    this.#sync?.stop()
    const error = new FinalizeFailedError(`the application failed to finalize height ${height}`, {
      cause,
      details: { height },
    })
    this.#logger.error({ height, error: String(cause) }, 'application failed to finalize: halted')
    this.#events.emit('error', { error, height })
  }

  /**
   * Applies blocks fetched by catch-up, strictly in height order: each must verify against the
   * validator set of its height, asked of the application only after the previous block was
   * finalized (a set may depend on it). Stops at the first block that does not verify.
   */
  #applySynced(from: PeerId, blocks: readonly FinalizedBlock[]): Promise<SyncApplyResult> {
    return this.#run(async () => {
      const signing = this.#signing as SigningState
      const firstHeight = signing.height
      let applied = 0
      try {
        for (const block of blocks) {
          if (!this.#canRun()) break
          // decided here while the request was in flight
          if (block.height < signing.height) continue
          if (block.height > signing.height) break
          const set = await this.#application.validatorSet(block.height)
          if (!this.#canRun()) break
          if (!verifySyncedBlock(block, set, this.#chainId, this.#scheme, this.#blockId)) {
            return {
              applied,
              failure: rejection('bad-signature', 'reject', 'catch-up block does not verify', {
                height: block.height,
              }),
            }
          }
          if (applied === 0) {
            this.#cancelTimer()
            this.#state = undefined
          }
          const validators = indexValidators(set)
          const previousProposer = await this.#previousProposer(block.height)
          const proposerIndex = this.#selectProposer({
            height: block.height,
            round: block.certificate.round,
            validators: validators.set,
            ...(previousProposer === undefined ? {} : { previousProposer }),
          })
          const ok = await this.#recordDecision(
            {
              payload: block.payload,
              certificate: block.certificate,
              proposer: validators.at(proposerIndex).id,
            },
            undefined,
          )
          if (!ok) break
          applied++
          this.#metrics.synced.inc()
        }
        return { applied }
      } finally {
        if (applied > 0) {
          this.#events.emit('synced', {
            from,
            fromHeight: firstHeight,
            toHeight: firstHeight + applied - 1,
          })
        }
        if ((applied > 0 || this.#state === undefined) && this.#canRun()) {
          await this.#enterHeight(signing.height, 0)
        }
      }
    })
  }

  /** A message from a later height, if authentic, means this node may have fallen behind. */
  #noticeAhead(state: HeightState, from: PeerId, message: IbftMessage): void {
    const height = message.signed.body.height
    if (this.#sync === undefined || !this.#sync.wantsHint(height)) return
    // checked against this height's set: a later height's set is unknown until catch-up gets there
    if (state.validators.indexOf(message.signed.author) < 0) return
    const context = { chainId: this.#chainId, validators: state.validators, scheme: this.#scheme }
    if (!isAuthenticSigned(message.signed, context)) return
    this.#logger.debug({ from, height, current: state.height }, 'behind: starting catch-up')
    this.#sync.hint(height)
  }

  /** f+1 ROUND-CHANGEs for rounds above ours: move to the highest round that f+1 of them reach. */
  async #tryJumpRound(state: HeightState): Promise<boolean> {
    const highestByAuthor = new Map<string, { author: Uint8Array; round: number }>()
    for (const [round, messages] of state.rounds) {
      if (round <= state.round) continue
      for (const [author, roundChange] of messages.roundChanges) {
        const known = highestByAuthor.get(author)
        if (known === undefined || known.round < round) {
          highestByAuthor.set(author, { author: roundChange.signed.author, round })
        }
      }
    }
    if (highestByAuthor.size === 0) return false
    const sorted = [...highestByAuthor.values()].sort((a, b) => b.round - a.round)
    const authors: Uint8Array[] = []
    for (const entry of sorted) {
      authors.push(entry.author)
      if (state.validators.hasWeakQuorum(authors)) {
        await this.#moveToRound(state, entry.round, true)
        return true
      }
    }
    return false
  }

  async #tryProposeAfterRoundChange(state: HeightState): Promise<boolean> {
    const round = state.round
    if (round === 0 || state.proposedRounds.has(round)) return false
    if (!equalBytes(state.validators.at(this.#proposerIndex(state, round)).id, this.id))
      return false
    const roundChanges = [...(state.rounds.get(round)?.roundChanges.values() ?? [])]
    if (!state.validators.hasQuorum(roundChanges.map((message) => message.signed.author)))
      return false
    let highest: IbftMessage<RoundChangeBody> | undefined
    for (const message of roundChanges) {
      const prepared = message.signed.body.preparedRound
      if (prepared === undefined) continue
      if (highest === undefined || prepared > (highest.signed.body.preparedRound as number)) {
        highest = message
      }
    }
    const justification = roundChanges.map((message) => message.signed)
    if (highest !== undefined) {
      await this.#propose(
        state,
        round,
        highest.payload as Uint8Array,
        this.#timestamp(),
        justification,
        highest.prepares,
      )
    } else {
      state.proposedRounds.add(round)
      const timestamp = this.#timestamp()
      const payload = await this.#application.buildProposal({
        height: state.height,
        round,
        proposer: this.id,
        timestamp,
      })
      if (this.#state !== state || state.round !== round) return true
      await this.#propose(state, round, payload, timestamp, justification, [])
    }
    return true
  }

  async #tryCommit(state: HeightState): Promise<boolean> {
    const round = state.round
    if (state.committedRounds.has(round)) return false
    const messages = state.rounds.get(round)
    const proposal = messages?.proposal
    if (messages === undefined || proposal === undefined) return false
    const digest = proposal.signed.body.digest
    const prepares = [...messages.prepares.values()].filter((prepare) =>
      equalBytes(prepare.body.digest, digest),
    )
    if (!state.validators.hasQuorum(prepares.map((prepare) => prepare.author))) return false
    state.committedRounds.add(round)
    const payload = proposal.payload as Uint8Array
    const prepared: PreparedCertificate = { height: state.height, round, digest, payload, prepares }
    const signed = await this.#sign(
      state,
      {
        kind: 'COMMIT',
        height: state.height,
        round,
        digest,
        seal: this.#signer.seal(commitSealBytes(this.#chainId, state.height, round, digest)),
      },
      prepared,
    )
    if (signed !== undefined) await this.#send(state, { signed, roundChanges: [], prepares: [] })
    return true
  }
}

/**
 * Creates a QBFT engine: `createIbft(init)(components)`.
 *
 * @throws TypeError / RangeError for malformed configuration.
 */
export function createIbft(init: IbftInit): (components: IbftComponents) => IbftEngine {
  return (components) => new QbftEngine(init, components)
}
