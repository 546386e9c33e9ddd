// Test helpers: a manual clock, a capturing transport, and scripted validators that sign
// messages for the engine under test.
import type {
  Application,
  Clock,
  EquivocationEvidence,
  FinalizedBlock,
  MessageHandler,
  PeerId,
  ProposalContext,
  ProposalVerdict,
  TimerHandle,
  Transport,
  TransportEvents,
  ValidatorSet,
} from '@metanode/core'
import { memoryStore } from '@metanode/core'
import {
  blockIdOf,
  commitSealBytes,
  createIbft,
  decodeMessage,
  encodeMessage,
  type IbftEngine,
  type IbftEvents,
  type IbftInit,
  type IbftMessage,
  type IbftSigner,
  insecureTestScheme,
  type PrepareBody,
  type RoundChangeBody,
  type SignatureScheme,
  type SignedBody,
  signBody,
} from '../src/index.js'

export const CHAIN = 'test-chain'

/** A clock whose time moves only when the test says so. */
export class ManualClock implements Clock {
  #now = 1_000_000
  #seq = 0
  readonly #timers = new Map<number, { at: number; callback: () => void }>()
  now(): number {
    return this.#now
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#now + delayMs, callback })
    return id
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number)
  }
  /** Time of the next timer, if any. */
  nextAt(): number | undefined {
    let next: number | undefined
    for (const { at } of this.#timers.values()) if (next === undefined || at < next) next = at
    return next
  }
  /** Moves time forward by `ms`, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms
    for (;;) {
      let dueId: number | undefined
      let dueAt = Number.POSITIVE_INFINITY
      for (const [id, { at }] of this.#timers) {
        if (at <= target && at < dueAt) {
          dueAt = at
          dueId = id
        }
      }
      if (dueId === undefined) break
      const timer = this.#timers.get(dueId) as { at: number; callback: () => void }
      this.#timers.delete(dueId)
      this.#now = Math.max(this.#now, timer.at)
      timer.callback()
      await flush()
    }
    this.#now = target
    await flush()
  }
}

/** Lets queued promise chains and macrotasks run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** A transport that records what is published and lets the test deliver messages. */
export class CapturingTransport implements Transport {
  readonly peerId: PeerId = 'engine'
  readonly maxMessageBytes = 4 * 1024 * 1024
  readonly published: Uint8Array[] = []
  handler: MessageHandler | undefined
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async publish(_topic: string, data: Uint8Array): Promise<void> {
    this.published.push(data)
  }
  async send(): Promise<void> {}
  subscribe(_topic: string, handler: MessageHandler): () => void {
    this.handler = handler
    return () => {
      this.handler = undefined
    }
  }
  async request(): Promise<Uint8Array> {
    throw new Error('not used')
  }
  handle(): () => void {
    return () => {}
  }
  peers(): PeerId[] {
    return []
  }
  on<K extends keyof TransportEvents>(_e: K, _l: (d: TransportEvents[K]) => void): () => void {
    return () => {}
  }
}

/** An application that records calls and answers as configured. */
export class RecordingApp implements Application {
  readonly finalized: FinalizedBlock[] = []
  readonly evidence: EquivocationEvidence[] = []
  readonly built: ProposalContext[] = []
  validate: (payload: Uint8Array) => ProposalVerdict = () => ({ valid: true })
  constructor(readonly set: ValidatorSet) {}
  async validatorSet(): Promise<ValidatorSet> {
    return this.set
  }
  async buildProposal(context: ProposalContext): Promise<Uint8Array> {
    this.built.push(context)
    return new TextEncoder().encode(`block ${context.height}/${context.round}`)
  }
  async validateProposal(_context: ProposalContext, payload: Uint8Array): Promise<ProposalVerdict> {
    return this.validate(payload)
  }
  async finalize(block: FinalizedBlock): Promise<void> {
    this.finalized.push(block)
  }
  async reportEvidence(evidence: EquivocationEvidence): Promise<void> {
    this.evidence.push(evidence)
  }
}

export function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n + 1)
}

/** Signers of `count` validators and their set (equal powers). */
export function makeValidators(count: number, scheme: SignatureScheme = insecureTestScheme) {
  const signers: IbftSigner[] = []
  for (let i = 0; i < count; i++) signers.push(scheme.createSigner(scheme.keygen(seed(i))))
  const set: ValidatorSet = {
    validators: signers.map((s) => ({ id: s.id, blsPublicKey: s.blsPublicKey, votingPower: 1n })),
  }
  return { signers, set }
}

export const payloadOf = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Builds signed messages on behalf of scripted validators. */
export class Script {
  /** How the scripted validators compute block ids (the application's `blockId`). */
  blockId: (payload: Uint8Array) => Uint8Array = blockIdOf
  constructor(
    readonly signers: IbftSigner[],
    readonly scheme: SignatureScheme = insecureTestScheme,
    readonly chainId = CHAIN,
  ) {}
  prepareSigned(
    i: number,
    height: number,
    round: number,
    digest: Uint8Array,
  ): SignedBody<PrepareBody> {
    return signBody(this.chainId, this.signers[i]!, { kind: 'PREPARE', height, round, digest })
  }
  prepare(i: number, height: number, round: number, digest: Uint8Array): Uint8Array {
    return encodeMessage({
      signed: this.prepareSigned(i, height, round, digest),
      roundChanges: [],
      prepares: [],
    })
  }
  commit(i: number, height: number, round: number, digest: Uint8Array): Uint8Array {
    const signer = this.signers[i]!
    const seal = signer.seal(commitSealBytes(this.chainId, height, round, digest))
    return encodeMessage({
      signed: signBody(this.chainId, signer, { kind: 'COMMIT', height, round, digest, seal }),
      roundChanges: [],
      prepares: [],
    })
  }
  proposalMessage(
    i: number,
    height: number,
    round: number,
    payload: Uint8Array,
    roundChanges: SignedBody<RoundChangeBody>[] = [],
    prepares: SignedBody<PrepareBody>[] = [],
    timestamp = 1_000_000,
  ): IbftMessage {
    const signed = signBody(this.chainId, this.signers[i]!, {
      kind: 'PROPOSAL',
      height,
      round,
      digest: this.blockId(payload),
      timestamp,
    })
    return { signed, payload, roundChanges, prepares }
  }
  proposal(...args: Parameters<Script['proposalMessage']>): Uint8Array {
    return encodeMessage(this.proposalMessage(...args))
  }
  roundChangeMessage(
    i: number,
    height: number,
    round: number,
    prepared?: { round: number; payload: Uint8Array; preparers: number[] },
  ): IbftMessage<RoundChangeBody> {
    if (prepared === undefined) {
      return {
        signed: signBody(this.chainId, this.signers[i]!, { kind: 'ROUND-CHANGE', height, round }),
        roundChanges: [],
        prepares: [],
      }
    }
    const digest = this.blockId(prepared.payload)
    return {
      signed: signBody(this.chainId, this.signers[i]!, {
        kind: 'ROUND-CHANGE',
        height,
        round,
        preparedRound: prepared.round,
        preparedDigest: digest,
      }),
      payload: prepared.payload,
      roundChanges: [],
      prepares: prepared.preparers.map((p) =>
        this.prepareSigned(p, height, prepared.round, digest),
      ),
    }
  }
  roundChange(...args: Parameters<Script['roundChangeMessage']>): Uint8Array {
    return encodeMessage(this.roundChangeMessage(...args))
  }
}

/**
 * A recording application whose payloads end with the id of the validator that built them,
 * which `proposerOf` reads back.
 */
export class ProposerRecordingApp extends RecordingApp {
  override async buildProposal(context: ProposalContext): Promise<Uint8Array> {
    const text = await super.buildProposal(context)
    return recordedPayload(text, context.proposer)
  }
  proposerOf(payload: Uint8Array): Uint8Array | undefined {
    return payload.length < 32 ? undefined : payload.slice(payload.length - 32)
  }
}

/** `text` followed by the 32-byte id of the validator that built it. */
export function recordedPayload(text: Uint8Array, proposer: Uint8Array): Uint8Array {
  const payload = new Uint8Array(text.length + proposer.length)
  payload.set(text)
  payload.set(proposer, text.length)
  return payload
}

/** One engine (validator `me`) among `count` scripted validators. */
export async function scriptedEngine(
  options: {
    count?: number
    me?: number
    overrides?: Partial<IbftInit>
    store?: ReturnType<ReturnType<typeof memoryStore>>
    clock?: ManualClock
    app?: RecordingApp
  } = {},
) {
  const count = options.count ?? 4
  const me = options.me ?? 0
  const { signers, set } = makeValidators(count)
  const app = options.app ?? new RecordingApp(set)
  const transport = new CapturingTransport()
  const clock = options.clock ?? new ManualClock()
  const store = options.store ?? memoryStore()()
  const engine: IbftEngine = createIbft({
    chainId: CHAIN,
    application: app,
    signer: signers[me]!,
    scheme: insecureTestScheme,
    roundTimeoutBaseMs: 1000,
    roundTimeoutMaxMs: 8000,
    ...options.overrides,
  })({ clock, transport, store })
  const script = new Script(signers)
  let taken = 0
  const harness = {
    engine,
    app,
    transport,
    clock,
    store,
    script,
    signers,
    set,
    /** Messages the engine published since the last call, decoded. */
    sent(): IbftMessage[] {
      const fresh = transport.published.slice(taken)
      taken = transport.published.length
      return fresh.map((data) => decodeMessage(data))
    },
    /** Kinds/height/round of the messages sent since the last call. */
    sentSummary(): string[] {
      return harness
        .sent()
        .map((m) => `${m.signed.body.kind} ${m.signed.body.height}/${m.signed.body.round}`)
    },
    async deliver(data: Uint8Array, from = 'peer'): Promise<string> {
      const result = await engine.submit(from, data)
      await flush()
      return result
    },
  }
  await engine.start()
  await flush()
  return harness
}

/** Every `event` the harness engine emits from now on, in order. */
export function collect<K extends keyof IbftEvents>(
  harness: Awaited<ReturnType<typeof scriptedEngine>>,
  event: K,
): IbftEvents[K][] {
  const seen: IbftEvents[K][] = []
  harness.engine.on(event, (detail) => seen.push(detail))
  return seen
}
