/**
 * The built-in `gossip` scenario: every node publishes messages for a while, forwards each new
 * message it hears to a few random peers, persists what it knows, and runs pull-based
 * anti-entropy (a request to a random peer for what it is missing). The check at the end is
 * convergence and agreement: every running node holds every message any running node holds, with
 * the same bytes. It exercises gossip, direct sends, requests, stores, crashes and partitions, and
 * makes the CLI useful before any consensus engine exists.
 */
import { isMetanodeError, type PeerId, type Startable, type TimerHandle } from '@metanode/core'
import { randomFaultPlan } from '../fault-plan.js'
import type { ScenarioParams } from '../registry.js'
import { SeededRng } from '../rng.js'
import { type FaultSpec, runScenario, type ScenarioResult } from '../scenario.js'
import type { SimNodeComponents } from '../simulation.js'

const TOPIC = 'gossip/msg/1'
const SYNC_PROTOCOL = 'gossip/sync/1'
const SYNC_TIMEOUT_MS = 1_000
const utf8 = new TextEncoder()
const utf8Decode = new TextDecoder('utf-8', { fatal: true })

/** Settings of one gossip node. */
export interface GossipSettings {
  /** Virtual time (clock time) after which the node publishes nothing new. */
  publishUntilMs: number
  /** Mean time between a node's own messages (exponentially distributed). */
  publishIntervalMs: number
  /** Time between anti-entropy requests. */
  syncIntervalMs: number
  /** Peers a node forwards a new message to. */
  fanout: number
  /** Payload bytes of each message. */
  bodyBytes: number
  /** Most messages in one anti-entropy answer. */
  maxSyncBatch: number
}

/** Counters shared by every incarnation of every node of one run. */
export interface GossipTally {
  /** Messages created. */
  published: number
  /** First receipts of a message by gossip or forwarding. */
  received: number
  /** Receipts of a message already known. */
  duplicates: number
  /** Messages forwarded. */
  forwarded: number
  /** Anti-entropy requests answered. */
  syncRequests: number
  /** Messages learnt through anti-entropy. */
  recovered: number
  /** Anti-entropy requests that failed (timeout, unreachable peer). */
  syncFailures: number
}

/** A fresh tally. */
export function createGossipTally(): GossipTally {
  return {
    published: 0,
    received: 0,
    duplicates: 0,
    forwarded: 0,
    syncRequests: 0,
    recovered: 0,
    syncFailures: 0,
  }
}

interface GossipMessage {
  stream: string
  seq: number
  body: Uint8Array
}

class Writer {
  #bytes = new Uint8Array(256)
  #view = new DataView(this.#bytes.buffer)
  #length = 0

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra))
    grown.set(this.#bytes.subarray(0, this.#length))
    this.#bytes = grown
    this.#view = new DataView(grown.buffer)
  }

  u16(value: number): this {
    this.#reserve(2)
    this.#view.setUint16(this.#length, value)
    this.#length += 2
    return this
  }

  u32(value: number): this {
    this.#reserve(4)
    this.#view.setUint32(this.#length, value)
    this.#length += 4
    return this
  }

  bytes(value: Uint8Array): this {
    this.#reserve(value.length)
    this.#bytes.set(value, this.#length)
    this.#length += value.length
    return this
  }

  text(value: string): this {
    const encoded = utf8.encode(value)
    return this.u16(encoded.length).bytes(encoded)
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length)
  }
}

class Reader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #offset = 0

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  #need(count: number): void {
    if (this.#offset + count > this.#bytes.length) throw new RangeError('truncated message')
  }

  u16(): number {
    this.#need(2)
    const value = this.#view.getUint16(this.#offset)
    this.#offset += 2
    return value
  }

  u32(): number {
    this.#need(4)
    const value = this.#view.getUint32(this.#offset)
    this.#offset += 4
    return value
  }

  bytes(count: number): Uint8Array {
    this.#need(count)
    const value = this.#bytes.slice(this.#offset, this.#offset + count)
    this.#offset += count
    return value
  }

  text(): string {
    return utf8Decode.decode(this.bytes(this.u16()))
  }

  end(): void {
    if (this.#offset !== this.#bytes.length) throw new RangeError('trailing bytes')
  }
}

function encodeMessage(message: GossipMessage): Uint8Array {
  return new Writer()
    .text(message.stream)
    .u32(message.seq)
    .u32(message.body.length)
    .bytes(message.body)
    .finish()
}

function readMessage(reader: Reader): GossipMessage {
  const stream = reader.text()
  const seq = reader.u32()
  const body = reader.bytes(reader.u32())
  return { stream, seq, body }
}

function messageKey(stream: string, seq: number): Uint8Array {
  return utf8.encode(`m/${stream}/${seq.toString(16).padStart(8, '0')}`)
}

interface StreamState {
  readonly bodies: Map<number, Uint8Array>
  /** Every seq below this is held. */
  prefix: number
}

/** A gossiping node; see the module description. */
export class GossipNode implements Startable {
  readonly #components: SimNodeComponents
  readonly #settings: GossipSettings
  readonly #tally: GossipTally
  readonly #streams = new Map<string, StreamState>()
  readonly #ownStream: string
  #nextSeq = 0
  #timers: TimerHandle[] = []
  #unsubscribe: (() => void) | undefined
  #unhandle: (() => void) | undefined
  #running = false

  /** Creates a node from its simulation components. */
  constructor(components: SimNodeComponents, settings: GossipSettings, tally: GossipTally) {
    this.#components = components
    this.#settings = settings
    this.#tally = tally
    this.#ownStream = `${components.peerId}:${components.incarnation}`
  }

  /** Loads what the store holds, subscribes, and starts publishing and anti-entropy. */
  async start(): Promise<void> {
    if (this.#running) return
    this.#running = true
    for await (const entry of this.#components.store.iterate()) {
      const reader = new Reader(entry.value)
      const message = readMessage(reader)
      this.#remember(message)
    }
    const transport = this.#components.transport
    this.#unsubscribe = transport.subscribe(TOPIC, (inbound) => this.#onMessage(inbound.data))
    this.#unhandle = transport.handle(SYNC_PROTOCOL, async ({ data }) => this.#answerSync(data))
    this.#schedulePublish()
    this.#scheduleSync()
  }

  /** Stops timers and handlers. */
  async stop(): Promise<void> {
    this.#running = false
    for (const timer of this.#timers) this.#components.clock.clearTimeout(timer)
    this.#timers = []
    this.#unsubscribe?.()
    this.#unhandle?.()
  }

  /** Every message held, as `stream#seq` → body. */
  snapshot(): Map<string, Uint8Array> {
    const held = new Map<string, Uint8Array>()
    for (const [stream, state] of this.#streams) {
      for (const [seq, body] of state.bodies) held.set(`${stream}#${seq}`, body)
    }
    return held
  }

  #setTimer(callback: () => void, delayMs: number): void {
    const timer = this.#components.clock.setTimeout(() => {
      this.#timers = this.#timers.filter((pending) => pending !== timer)
      if (this.#running) callback()
    }, delayMs)
    this.#timers.push(timer)
  }

  #schedulePublish(): void {
    const { rng, clock } = this.#components
    const delay = rng.exponential(this.#settings.publishIntervalMs)
    if (clock.now() + delay > this.#settings.publishUntilMs) return
    this.#setTimer(() => {
      this.#publishOwn().catch((error: unknown) => this.#warn('publish failed', error))
      this.#schedulePublish()
    }, delay)
  }

  async #publishOwn(): Promise<void> {
    const { rng, transport } = this.#components
    const message: GossipMessage = {
      stream: this.#ownStream,
      seq: this.#nextSeq++,
      body: rng.bytes(this.#settings.bodyBytes),
    }
    this.#tally.published++
    await this.#store(message)
    this.#components.trace('publish', { stream: message.stream, seq: message.seq })
    await transport.publish(TOPIC, encodeMessage(message))
  }

  async #onMessage(data: Uint8Array): Promise<'accept' | 'ignore' | 'reject'> {
    let message: GossipMessage
    try {
      const reader = new Reader(data)
      message = readMessage(reader)
      reader.end()
    } catch {
      return 'reject'
    }
    if (this.#has(message.stream, message.seq)) {
      this.#tally.duplicates++
      return 'ignore'
    }
    this.#tally.received++
    await this.#store(message)
    await this.#forward(data)
    return 'accept'
  }

  async #forward(data: Uint8Array): Promise<void> {
    const { rng, transport } = this.#components
    const peers = rng.shuffle(transport.peers()).slice(0, this.#settings.fanout)
    for (const peer of peers) {
      this.#tally.forwarded++
      try {
        await transport.send(peer, TOPIC, data)
      } catch (error) {
        // The peer may have gone since peers() was read; forwarding is best effort.
        if (!isMetanodeError(error, 'PeerUnreachableError')) throw error
      }
    }
  }

  #scheduleSync(): void {
    const jitter = this.#components.rng.uniform(0.5, 1.5)
    this.#setTimer(() => {
      this.#sync().catch((error: unknown) => this.#warn('anti-entropy failed', error))
      this.#scheduleSync()
    }, this.#settings.syncIntervalMs * jitter)
  }

  async #sync(): Promise<void> {
    const { rng, transport } = this.#components
    const peers = transport.peers()
    if (peers.length === 0) return
    const peer: PeerId = rng.pick(peers)
    const summary = new Writer().u32(this.#streams.size)
    for (const [stream, state] of this.#streams) summary.text(stream).u32(state.prefix)
    let answer: Uint8Array
    try {
      answer = await transport.request(peer, SYNC_PROTOCOL, summary.finish(), {
        timeoutMs: SYNC_TIMEOUT_MS,
      })
    } catch {
      this.#tally.syncFailures++
      return
    }
    const reader = new Reader(answer)
    const count = reader.u32()
    for (let i = 0; i < count; i++) {
      const message = readMessage(reader)
      if (this.#has(message.stream, message.seq)) continue
      this.#tally.recovered++
      await this.#store(message)
    }
  }

  #answerSync(request: Uint8Array): Uint8Array {
    this.#tally.syncRequests++
    const reader = new Reader(request)
    const known = new Map<string, number>()
    const streams = reader.u32()
    for (let i = 0; i < streams; i++) {
      const stream = reader.text()
      known.set(stream, reader.u32())
    }
    reader.end()
    const missing: GossipMessage[] = []
    for (const [stream, state] of this.#streams) {
      const prefix = known.get(stream) ?? 0
      for (const [seq, body] of state.bodies) {
        if (seq >= prefix && missing.length < this.#settings.maxSyncBatch) {
          missing.push({ stream, seq, body })
        }
      }
    }
    const writer = new Writer().u32(missing.length)
    for (const message of missing) writer.bytes(encodeMessage(message))
    return writer.finish()
  }

  #warn(message: string, error: unknown): void {
    this.#components.logger.warn({ error: String(error) }, message)
  }

  #has(stream: string, seq: number): boolean {
    return this.#streams.get(stream)?.bodies.has(seq) ?? false
  }

  async #store(message: GossipMessage): Promise<void> {
    this.#remember(message)
    await this.#components.store.put(
      messageKey(message.stream, message.seq),
      encodeMessage(message),
    )
  }

  #remember(message: GossipMessage): void {
    let state = this.#streams.get(message.stream)
    if (state === undefined) {
      state = { bodies: new Map(), prefix: 0 }
      this.#streams.set(message.stream, state)
    }
    state.bodies.set(message.seq, message.body)
    while (state.bodies.has(state.prefix)) state.prefix++
    if (message.stream === this.#ownStream && message.seq >= this.#nextSeq) {
      this.#nextSeq = message.seq + 1
    }
  }
}

function numberOption(
  options: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
): number {
  const raw = options[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`--param ${name} must be a non-negative number, got ${raw}`)
  }
  return value
}

/** Node ids of an `n`-node cluster: `n0`, `n1`, ... */
export function clusterIds(count: number): PeerId[] {
  return Array.from({ length: count }, (_, index) => `n${index}`)
}

/**
 * Runs the gossip scenario. Publishing and faults happen in the first 60% of the run; the rest is
 * quiet time for anti-entropy to converge. `--param` keys: `publishIntervalMs` (default 200),
 * `syncIntervalMs` (100), `fanout` (3), `bodyBytes` (32), `maxSyncBatch` (1024).
 */
export async function gossipScenario(params: ScenarioParams): Promise<ScenarioResult> {
  const { nodes: count, durationMs, options } = params
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError('the gossip scenario needs at least 1 node')
  }
  const activeUntilMs = Math.round(durationMs * 0.6)
  const settings: GossipSettings = {
    publishUntilMs: activeUntilMs,
    publishIntervalMs: numberOption(options, 'publishIntervalMs', 200),
    syncIntervalMs: numberOption(options, 'syncIntervalMs', 100),
    fanout: Math.floor(numberOption(options, 'fanout', 3)),
    bodyBytes: Math.floor(numberOption(options, 'bodyBytes', 32)),
    maxSyncBatch: Math.floor(numberOption(options, 'maxSyncBatch', 1024)),
  }
  if (settings.publishIntervalMs <= 0 || settings.syncIntervalMs <= 0) {
    throw new RangeError('publishIntervalMs and syncIntervalMs must be positive')
  }
  const tally = createGossipTally()
  const ids = clusterIds(count)
  const faults: FaultSpec[] = []
  if (params.partitionUntilMs !== undefined) {
    const half = Math.ceil(count / 2)
    faults.push({
      atMs: 0,
      kind: 'partition',
      groups: [ids.slice(0, half), ids.slice(half)],
      healAtMs: params.partitionUntilMs,
    })
  }
  faults.push(
    ...randomFaultPlan(new SeededRng(params.seed).fork('fault-plan'), {
      nodes: ids,
      crashes: params.crashes,
      fromMs: Math.round(durationMs * 0.1),
      toMs: activeUntilMs,
    }),
  )
  return runScenario<GossipNode>({
    seed: params.seed,
    nodes: ids.map((id) => ({
      id,
      create: (components) => new GossipNode(components, settings, tally),
    })),
    network: params.network,
    faults,
    until: durationMs,
    trace: params.trace,
    ...(params.onProgress === undefined ? {} : { onProgress: params.onProgress }),
    check: ({ nodes }) => {
      const union = new Map<string, Uint8Array>()
      const problems: string[] = []
      const snapshots = new Map<PeerId, Map<string, Uint8Array>>()
      for (const [id, node] of nodes) {
        const held = node.snapshot()
        snapshots.set(id, held)
        for (const [key, body] of held) {
          const seen = union.get(key)
          if (seen === undefined) union.set(key, body)
          else if (!equalBytes(seen, body)) problems.push(`nodes disagree on message ${key}`)
        }
      }
      for (const [id, held] of snapshots) {
        const missing = union.size - held.size
        if (missing > 0) problems.push(`${id} is missing ${missing} of ${union.size} messages`)
      }
      return problems
    },
    summarize: ({ nodes }) => {
      let distinct = 0
      for (const node of nodes.values()) distinct = Math.max(distinct, node.snapshot().size)
      return { ...tally, distinctMessages: distinct, runningNodes: nodes.size }
    },
  })
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
