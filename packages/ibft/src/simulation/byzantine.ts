/**
 * Byzantine validators for the simulation. Each holds a validator's real keys and either wraps
 * an honest engine (and tampers with what it sends, or adds to it) or replaces it with a scripted
 * adversary:
 *
 * | behaviour           | shape   | what it does                                                             |
 * | ------------------- | ------- | ------------------------------------------------------------------------ |
 * | `silent`            | script  | never sends anything                                                     |
 * | `equivocate`        | wrapper | as proposer, a different valid proposal to each half; double PREPAREs    |
 * | `invalid-proposal`  | wrapper | as proposer, a payload the application rejects                           |
 * | `bad-justification` | wrapper | round > 0 proposals with missing, forged or duplicate-author ROUND-CHANGEs |
 * | `replay`            | wrapper | re-broadcasts messages of past heights and rounds                        |
 * | `forge`             | wrapper | other validators' messages with bad signatures; its COMMITs with bad seals |
 * | `garbage`           | script  | random bytes and mangled messages                                        |
 * | `future-round-spam` | script  | signed ROUND-CHANGEs for huge rounds and far heights                     |
 */
import type {
  InboundMessage,
  MessageHandler,
  PeerId,
  Startable,
  TimerHandle,
  Transport,
  TransportEvents,
  ValidatorSet,
} from '@metanode/core'
import type { SeededRng, SimNodeComponents } from '@metanode/sim'
import { equalBytes } from '../bytes.js'
import {
  createIbft,
  DEFAULT_IBFT_TOPIC,
  type IbftDissemination,
  type IbftEngine,
} from '../engine.js'
import {
  blockIdOf,
  decodeMessage,
  encodeMessage,
  type IbftMessage,
  type PrepareBody,
  type ProposalBody,
  type RoundChangeBody,
  type SignedBody,
  signBody,
} from '../messages.js'
import { rotatingProposer } from '../proposer.js'
import { quorumThresholds } from '../quorum.js'
import {
  commitSealBytes,
  type IbftSigner,
  SEAL_LENGTH,
  SIGNATURE_LENGTH,
  type SignatureScheme,
  type ValidatorKeys,
} from '../signing.js'
import { SimApplication, simPayload } from './application.js'

/** The Byzantine behaviours, by their command-line names. */
export const BYZANTINE_BEHAVIOURS = [
  'silent',
  'equivocate',
  'invalid-proposal',
  'bad-justification',
  'replay',
  'forge',
  'garbage',
  'future-round-spam',
] as const

/** One of {@link BYZANTINE_BEHAVIOURS}. */
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number]

/** Whether `value` names a Byzantine behaviour. */
export function isByzantineBehaviour(value: unknown): value is ByzantineBehaviour {
  return (BYZANTINE_BEHAVIOURS as readonly unknown[]).includes(value)
}

/** Engine settings shared by honest and Byzantine validators of one simulation. */
export interface SimEngineSettings {
  /** Chain id. */
  chainId: string
  /** Signature scheme. */
  scheme: SignatureScheme
  /** Round-0 timeout, in ms. */
  roundTimeoutBaseMs: number
  /** Round timeout cap, in ms. */
  roundTimeoutMaxMs: number
  /** Time between a decision and the next proposal, in ms. */
  blockPeriodMs: number
  /** How honest validators send (Byzantine ones always publish). */
  dissemination: IbftDissemination
}

/** What a Byzantine validator knows: its keys, the set, its peers and the engine settings. */
export interface ByzantineConfig {
  /** Its behaviour. */
  behaviour: ByzantineBehaviour
  /** Its real keys (its signatures are authentic). */
  keys: ValidatorKeys
  /** The validator set (the same at every height). */
  validatorSet: ValidatorSet
  /** The peer ids of every validator, in the set's canonical order (its own included). */
  peerIds: readonly PeerId[]
  /** Engine settings. */
  engine: SimEngineSettings
  /** Mean time between two attacks of the periodic behaviours, in virtual ms. Default 60. */
  attackIntervalMs?: number
}

/** Counters of what a Byzantine validator did, for summaries. */
export interface ByzantineTally {
  /** Malicious messages sent (published or sent directly). */
  attacks: number
}

const ARCHIVE_LIMIT = 256
const FAR_HEIGHT = 2 ** 40

/** A transport that lets the adversary see and replace what its honest engine publishes. */
class InterceptingTransport implements Transport {
  readonly #inner: Transport
  readonly #onPublish: (topic: string, data: Uint8Array) => Promise<void>
  readonly #onReceive: (message: InboundMessage) => void

  constructor(
    inner: Transport,
    onPublish: (topic: string, data: Uint8Array) => Promise<void>,
    onReceive: (message: InboundMessage) => void,
  ) {
    this.#inner = inner
    this.#onPublish = onPublish
    this.#onReceive = onReceive
  }

  get peerId(): PeerId {
    return this.#inner.peerId
  }

  get maxMessageBytes(): number {
    return this.#inner.maxMessageBytes
  }

  start(): Promise<void> {
    return this.#inner.start()
  }

  stop(): Promise<void> {
    return this.#inner.stop()
  }

  publish(topic: string, data: Uint8Array): Promise<void> {
    return this.#onPublish(topic, data)
  }

  send(peer: PeerId, topic: string, data: Uint8Array): Promise<void> {
    return this.#inner.send(peer, topic, data)
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    return this.#inner.subscribe(topic, (message) => {
      this.#onReceive(message)
      return handler(message)
    })
  }

  request(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    options?: { timeoutMs?: number },
  ): Promise<Uint8Array> {
    return this.#inner.request(peer, protocol, data, options)
  }

  handle(protocol: string, handler: Parameters<Transport['handle']>[1]): () => void {
    return this.#inner.handle(protocol, handler)
  }

  peers(): PeerId[] {
    return this.#inner.peers()
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (detail: TransportEvents[K]) => void,
  ): () => void {
    return this.#inner.on(event, listener)
  }
}

function tryDecode(data: Uint8Array): IbftMessage | undefined {
  try {
    return decodeMessage(data)
  } catch {
    return undefined
  }
}

interface ArchivedMessage {
  height: number
  round: number
  author: Uint8Array
  data: Uint8Array
  message: IbftMessage
}

/**
 * A Byzantine validator: a simulation node (a `Startable` built from the node's components).
 * Create it through {@link byzantineValidator}.
 */
export class ByzantineValidator implements Startable {
  /** The honest engine it wraps, for behaviours that wrap one. */
  engine: IbftEngine | undefined
  /** What it did. */
  readonly tally: ByzantineTally = { attacks: 0 }
  readonly #config: ByzantineConfig
  readonly #components: SimNodeComponents
  readonly #rng: SeededRng
  readonly #signer: IbftSigner
  readonly #others: PeerId[]
  readonly #archive: ArchivedMessage[] = []
  readonly #attackedRounds = new Set<string>()
  readonly #equivocations = new Map<string, Uint8Array>()
  #timer: TimerHandle | undefined
  #running = false
  #highestHeight = 1
  #unsubscribe: (() => void) | undefined

  constructor(config: ByzantineConfig, components: SimNodeComponents) {
    this.#config = config
    this.#components = components
    this.#rng = components.rng.fork('byzantine')
    this.#signer = config.engine.scheme.createSigner(config.keys)
    this.#others = config.peerIds.filter((peer) => peer !== components.peerId)
  }

  /** Its behaviour. */
  get behaviour(): ByzantineBehaviour {
    return this.#config.behaviour
  }

  /** Starts the wrapped engine (if any) and the periodic attacks. */
  async start(): Promise<void> {
    this.#running = true
    const { behaviour, engine: settings, validatorSet } = this.#config
    const { transport } = this.#components
    const wraps = !['silent', 'garbage', 'future-round-spam'].includes(behaviour)
    if (wraps) {
      const intercepting = new InterceptingTransport(
        transport,
        (topic, data) => this.#onOwnPublish(topic, data),
        (message) => this.#observe(message.data),
      )
      this.engine = createIbft({
        chainId: settings.chainId,
        application: new SimApplication(validatorSet, this.#components.rng, () => {}),
        signer: this.#signer,
        scheme: settings.scheme,
        roundTimeoutBaseMs: settings.roundTimeoutBaseMs,
        roundTimeoutMaxMs: settings.roundTimeoutMaxMs,
        blockPeriodMs: settings.blockPeriodMs,
      })({
        clock: this.#components.clock,
        transport: intercepting,
        store: this.#components.store,
        logger: this.#components.logger,
      })
      await this.engine.start()
    } else if (behaviour !== 'silent') {
      this.#unsubscribe = transport.subscribe(DEFAULT_IBFT_TOPIC, (message) => {
        this.#observe(message.data)
        return 'accept'
      })
    }
    if (
      ['replay', 'forge', 'garbage', 'future-round-spam', 'bad-justification'].includes(behaviour)
    ) {
      this.#scheduleAttack()
    }
  }

  /** Stops attacking and stops the wrapped engine. */
  async stop(): Promise<void> {
    this.#running = false
    if (this.#timer !== undefined) this.#components.clock.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#unsubscribe?.()
    await this.engine?.stop()
  }

  // --- plumbing ---------------------------------------------------------------------------------

  #scheduleAttack(): void {
    const mean = this.#config.attackIntervalMs ?? 60
    const delay = 1 + Math.floor(this.#rng.exponential(mean))
    this.#timer = this.#components.clock.setTimeout(() => {
      this.#timer = undefined
      if (!this.#running) return
      this.#attack()
        .catch((error: unknown) =>
          this.#components.trace('byzantine-error', { error: String(error) }),
        )
        .finally(() => {
          if (this.#running) this.#scheduleAttack()
        })
    }, delay)
  }

  #observe(data: Uint8Array): void {
    const message = tryDecode(data)
    if (message === undefined) return
    const { height, round } = message.signed.body
    if (height > this.#highestHeight && height < this.#highestHeight + 1000) {
      this.#highestHeight = height
    }
    this.#archive.push({ height, round, author: message.signed.author, data, message })
    if (this.#archive.length > ARCHIVE_LIMIT) this.#archive.splice(0, this.#archive.length >> 1)
  }

  async #publish(data: Uint8Array): Promise<void> {
    this.tally.attacks++
    await this.#components.transport.publish(DEFAULT_IBFT_TOPIC, data).catch(() => undefined)
  }

  async #sendTo(peers: readonly PeerId[], data: Uint8Array): Promise<void> {
    this.tally.attacks++
    await Promise.all(
      peers.map((peer) =>
        this.#components.transport.send(peer, DEFAULT_IBFT_TOPIC, data).catch(() => undefined),
      ),
    )
  }

  /** Splits the other validators in two halves (a fresh, seeded split each time). */
  #halves(): [PeerId[], PeerId[]] {
    const shuffled = this.#rng.shuffle([...this.#others])
    const half = Math.ceil(shuffled.length / 2)
    return [shuffled.slice(0, half), shuffled.slice(half)]
  }

  #sign<B extends ProposalBody | PrepareBody | RoundChangeBody>(body: B): SignedBody<B> {
    return signBody(this.#config.engine.chainId, this.#signer, body)
  }

  #currentHeight(): number {
    return this.engine?.height ?? this.#highestHeight
  }

  // --- the wrapped engine's own messages --------------------------------------------------------

  async #onOwnPublish(topic: string, data: Uint8Array): Promise<void> {
    const message = tryDecode(data)
    if (message !== undefined) this.#observe(data)
    const { behaviour } = this.#config
    const kind = message?.signed.body.kind
    if (message === undefined) return this.#publish(data)
    if (behaviour === 'equivocate' && kind === 'PROPOSAL') {
      return this.#equivocateProposal(message as IbftMessage<ProposalBody>)
    }
    if (behaviour === 'equivocate' && kind === 'PREPARE') {
      return this.#equivocatePrepare(message as IbftMessage<PrepareBody>)
    }
    if (behaviour === 'invalid-proposal' && kind === 'PROPOSAL') {
      return this.#publishInvalidProposal(message as IbftMessage<ProposalBody>)
    }
    if (behaviour === 'forge' && kind === 'COMMIT') return this.#publishBadSeal(message)
    await this.#components.transport.publish(topic, data).catch(() => undefined)
  }

  async #equivocateProposal(message: IbftMessage<ProposalBody>): Promise<void> {
    const { body } = message.signed
    const other = simPayload(body.height, this.#signer.id, this.#rng)
    const digest = blockIdOf(other)
    this.#equivocations.set(`${body.height}/${body.round}`, digest)
    const twin: IbftMessage = {
      ...message,
      signed: this.#sign({ ...body, digest }),
      payload: other,
    }
    const [first, second] = this.#halves()
    await this.#sendTo(first, encodeMessage(message))
    await this.#sendTo(second, encodeMessage(twin))
  }

  async #equivocatePrepare(message: IbftMessage<PrepareBody>): Promise<void> {
    const { body } = message.signed
    const digest =
      this.#equivocations.get(`${body.height}/${body.round}`) ?? this.#rng.bytes(body.digest.length)
    const twin: IbftMessage = {
      signed: this.#sign({
        ...body,
        digest: equalBytes(digest, body.digest) ? this.#rng.bytes(32) : digest,
      }),
      roundChanges: [],
      prepares: [],
    }
    const [first, second] = this.#halves()
    await this.#sendTo(first, encodeMessage(message))
    await this.#sendTo(second, encodeMessage(twin))
  }

  async #publishInvalidProposal(message: IbftMessage<ProposalBody>): Promise<void> {
    const { body } = message.signed
    const payload = simPayload(body.height, this.#signer.id, this.#rng, false)
    const signed = this.#sign({ ...body, digest: blockIdOf(payload) })
    await this.#publish(encodeMessage({ ...message, signed, payload }))
  }

  async #publishBadSeal(message: IbftMessage): Promise<void> {
    const body = message.signed.body
    if (body.kind !== 'COMMIT') return
    // a seal that is a valid point over another decision, or bytes that are no point at all
    const seal = this.#rng.chance(0.5)
      ? this.#signer.seal(
          commitSealBytes(this.#config.engine.chainId, body.height, body.round + 1, body.digest),
        )
      : this.#rng.bytes(SEAL_LENGTH)
    const signed = signBody(this.#config.engine.chainId, this.#signer, { ...body, seal })
    await this.#publish(encodeMessage({ signed, roundChanges: [], prepares: [] }))
  }

  // --- periodic attacks -------------------------------------------------------------------------

  async #attack(): Promise<void> {
    switch (this.#config.behaviour) {
      case 'replay':
        return this.#replay()
      case 'forge':
        return this.#forge()
      case 'garbage':
        return this.#garbage()
      case 'future-round-spam':
        return this.#futureRoundSpam()
      case 'bad-justification':
        return this.#badJustification()
      default:
        return
    }
  }

  async #replay(): Promise<void> {
    const height = this.#currentHeight()
    const round = this.engine?.round ?? 0
    const old = this.#archive.filter(
      (item) => item.height < height || (item.height === height && item.round < round),
    )
    if (old.length === 0) return
    const count = 1 + this.#rng.below(3)
    for (let i = 0; i < count; i++) await this.#publish(this.#rng.pick(old).data)
  }

  async #forge(): Promise<void> {
    const theirs = this.#archive.filter((item) => !equalBytes(item.author, this.#signer.id))
    if (theirs.length === 0) return
    const victim = this.#rng.pick(theirs).message
    const { signed } = victim
    let forged: IbftMessage
    switch (this.#rng.below(3)) {
      case 0: {
        // their message with one bit of the signature flipped
        const signature = signed.signature.slice()
        const position = this.#rng.below(SIGNATURE_LENGTH)
        signature[position] = (signature[position] as number) ^ (1 << this.#rng.below(8))
        forged = { ...victim, signed: { ...signed, signature } }
        break
      }
      case 1: {
        // their name on a body signed with our key
        const mine = signBody(this.#config.engine.chainId, this.#signer, signed.body)
        forged = { ...victim, signed: { ...mine, author: signed.author } }
        break
      }
      default: {
        // their signature on a body they never signed
        const body =
          signed.body.kind === 'ROUND-CHANGE'
            ? { ...signed.body, round: signed.body.round + 1 }
            : { ...signed.body, digest: this.#rng.bytes(32) }
        const resigned = signBody(this.#config.engine.chainId, this.#signer, body)
        forged = {
          ...victim,
          signed: { ...resigned, signature: signed.signature, author: signed.author },
        }
      }
    }
    await this.#publish(encodeMessage(forged))
  }

  async #garbage(): Promise<void> {
    const sample = this.#archive.length > 0 ? this.#rng.pick(this.#archive).data : undefined
    let data: Uint8Array
    const pick = this.#rng.below(4)
    if (pick === 0 && sample !== undefined) {
      data = sample.subarray(0, this.#rng.below(sample.length)) // truncated
    } else if (pick === 1 && sample !== undefined) {
      data = sample.slice()
      for (let i = 0; i < 4; i++) {
        data[this.#rng.below(data.length)] = this.#rng.below(256)
      }
    } else {
      data = this.#rng.bytes(this.#rng.below(600))
    }
    if (this.#rng.chance(0.5)) await this.#publish(data)
    else await this.#sendTo([this.#rng.pick(this.#others)], data)
  }

  async #futureRoundSpam(): Promise<void> {
    const height = this.#currentHeight()
    const rounds = [
      2 ** 20,
      2 ** 20 - 1,
      51 + this.#rng.below(2 ** 20 - 51),
      1 + this.#rng.below(50),
      2 + this.#rng.below(8),
    ]
    const heights = [height, height, height, height + 1 + this.#rng.below(20), FAR_HEIGHT]
    const index = this.#rng.below(rounds.length)
    const signed = this.#sign({
      kind: 'ROUND-CHANGE',
      height: heights[index] as number,
      round: rounds[this.#rng.below(rounds.length)] as number,
    })
    await this.#publish(encodeMessage({ signed, roundChanges: [], prepares: [] }))
  }

  /**
   * The proposer of (height, round) under the engine's default selector for an application
   * without `proposerOf`, like the simulated one.
   */
  #proposerIndex(height: number, round: number): number {
    return rotatingProposer({ height, round, validators: this.#config.validatorSet })
  }

  async #badJustification(): Promise<void> {
    const engine = this.engine
    if (engine === undefined) return
    const height = engine.height
    const me = this.#config.peerIds.indexOf(this.#components.peerId)
    const n = this.#config.validatorSet.validators.length
    for (let round = Math.max(1, engine.round); round <= engine.round + n; round++) {
      if (this.#proposerIndex(height, round) !== me) continue
      const key = `${height}/${round}`
      if (this.#attackedRounds.has(key)) return
      this.#attackedRounds.add(key)
      const payload = simPayload(height, this.#signer.id, this.#rng)
      const signed = this.#sign({
        kind: 'PROPOSAL',
        height,
        round,
        digest: blockIdOf(payload),
        timestamp: this.#components.clock.now(),
      })
      for (const justification of this.#badJustifications(height, round, payload)) {
        await this.#publish(encodeMessage({ signed, payload, ...justification }))
      }
      return
    }
  }

  #badJustifications(
    height: number,
    round: number,
    payload: Uint8Array,
  ): Pick<IbftMessage, 'roundChanges' | 'prepares'>[] {
    const { validatorSet } = this.#config
    const quorumSize = Number(quorumThresholds(validatorSet).quorum)
    const ids = validatorSet.validators.map((validator) => validator.id)
    const own = this.#sign({ kind: 'ROUND-CHANGE', height, round })
    const forged = ids.slice(0, quorumSize).map((author) => ({
      ...this.#sign({ kind: 'ROUND-CHANGE' as const, height, round }),
      signature: this.#rng.bytes(SIGNATURE_LENGTH),
      author,
    }))
    const wrongRound = this.#archive
      .filter(
        (item) =>
          item.message.signed.body.kind === 'ROUND-CHANGE' &&
          item.height === height &&
          item.round !== round,
      )
      .map((item) => item.message.signed as SignedBody<RoundChangeBody>)
      .slice(0, quorumSize)
    const preparedRound = round - 1
    const fakePrepared = this.#sign({
      kind: 'ROUND-CHANGE',
      height,
      round,
      preparedRound,
      preparedDigest: blockIdOf(payload),
    })
    const fakePrepares = ids.slice(0, quorumSize).map((author) => ({
      ...this.#sign({
        kind: 'PREPARE' as const,
        height,
        round: preparedRound,
        digest: blockIdOf(payload),
      }),
      author,
    }))
    return [
      { roundChanges: [], prepares: [] },
      { roundChanges: forged, prepares: [] },
      { roundChanges: Array.from({ length: quorumSize }, () => own), prepares: [] },
      { roundChanges: [...wrongRound, own], prepares: [] },
      { roundChanges: [fakePrepared, ...forged.slice(1)], prepares: fakePrepares },
    ]
  }
}

/** A node factory for a Byzantine validator, for `sim.addNode` or `runScenario`. */
export function byzantineValidator(
  config: ByzantineConfig,
): (components: SimNodeComponents) => ByzantineValidator {
  return (components) => new ByzantineValidator(config, components)
}
