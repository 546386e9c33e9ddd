/**
 * The in-memory {@link Transport}: a hub that many peers join, for tests, examples and
 * single-process simulations. It is the reference implementation of the transport contract.
 *
 * Every delivery (messages, request answers, connection events) goes through one FIFO queue
 * drained on a later macrotask, never synchronously inside the call that caused it, so code
 * tested against it meets the same re-entrancy as on a real network, and messages on a link
 * arrive in the order they were sent.
 */
import { type Clock, type Logger, silentLogger, systemClock } from './components.js'
import {
  InvalidArgumentError,
  isMetanodeError,
  MessageTooLargeError,
  NotStartedError,
  PeerUnreachableError,
  RejectionError,
  TimeoutError,
  UnknownTopicError,
} from './errors.js'
import { TypedEventEmitter } from './events.js'
import {
  assertPayload,
  assertTopic,
  HandlerRegistry,
  type InboundMessage,
  type MessageHandler,
  type PeerId,
  type RequestHandler,
  TRANSPORT_LIMITS,
  type Transport,
  type TransportEvents,
  type ValidationResult,
} from './transport.js'

/** Options of a {@link createMemoryNetwork | memory network}, shared by all its peers. */
export interface MemoryNetworkOptions {
  /** Largest payload, in bytes, unless a transport sets its own. Default {@link TRANSPORT_LIMITS}.defaultMaxMessageBytes. */
  maxMessageBytes?: number
  /** Rejected messages from one sender after which the receiver disconnects and bans it. Default 5. */
  rejectThreshold?: number
  /** How long a penalised pair of peers cannot reconnect, in milliseconds of `clock`. Default 60,000. */
  banMs?: number
  /** Deadline of a request without its own `timeoutMs`. Default {@link TRANSPORT_LIMITS}.defaultRequestTimeoutMs. */
  requestTimeoutMs?: number
  /** Connect every starting peer to every started peer. Default `true`; when `false`, use {@link MemoryNetwork.connect}. */
  autoConnect?: boolean
  /** Time source of request deadlines and bans. Default the system clock. */
  clock?: Clock
  /** Where failures of handlers and listeners are logged. Default silent. */
  logger?: Logger
}

/** Options of one peer of a memory network. */
export interface MemoryTransportInit {
  /** The peer's id; unique within the network. Default `peer-<n>`. */
  peerId?: PeerId
  /** Largest payload this peer sends or accepts. Default the network's. */
  maxMessageBytes?: number
}

/** A set of in-memory peers that reach each other. */
export interface MemoryNetwork {
  /** Creates a peer on this network. It is stopped; `start()` connects it (with `autoConnect`). */
  transport(init?: MemoryTransportInit): Transport
  /**
   * Connects two started peers (a no-op if they are connected).
   *
   * @throws PeerUnreachableError when either is unknown or stopped, or the pair is banned.
   */
  connect(a: PeerId, b: PeerId): void
  /** Disconnects two peers, as a network failure would (a no-op if they are not connected). */
  disconnect(a: PeerId, b: PeerId): void
  /** True while `by` refuses `peer` after penalising it. */
  isBanned(by: PeerId, peer: PeerId): boolean
  /** Ids of every peer created on this network, started or not. */
  peerIds(): PeerId[]
  /**
   * Resolves once every queued delivery has run, including the ones queued by handlers that
   * answered synchronously or within a microtask. Handlers still awaiting slow work may queue
   * more afterwards.
   */
  settle(): Promise<void>
}

type Task = () => void

const DEFAULT_REJECT_THRESHOLD = 5
const DEFAULT_BAN_MS = 60_000

const defer: (callback: () => void) => void =
  typeof setImmediate === 'function'
    ? (callback) => {
        setImmediate(callback)
      }
    : (callback) => {
        setTimeout(callback, 0)
      }

function assertInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${typeof value}`)
  }
  if (value < min || value > max)
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`)
  return value
}

const MAX_TIMER_MS = 2 ** 31 - 1

function isValidationResult(value: unknown): value is ValidationResult {
  return value === 'accept' || value === 'ignore' || value === 'reject'
}

interface PendingRequest {
  peer: PeerId
  resolve: (response: Uint8Array) => void
  reject: (error: unknown) => void
  timer: unknown
}

class Hub {
  readonly maxMessageBytes: number
  readonly rejectThreshold: number
  readonly banMs: number
  readonly requestTimeoutMs: number
  readonly autoConnect: boolean
  readonly clock: Clock
  readonly logger: Logger
  readonly transports = new Map<PeerId, MemoryTransport>()
  // symmetric adjacency: peer -> (peer -> id of the link), so deliveries queued on a link that
  // has since been cut and re-made are dropped rather than arriving on the new one
  readonly #links = new Map<PeerId, Map<PeerId, number>>()
  readonly #bans = new Map<string, number>()
  #nextLinkId = 1
  #nextPeer = 1
  #queue: Task[] = []
  #scheduled = false
  #idleWaiters: (() => void)[] = []

  constructor(options: MemoryNetworkOptions) {
    this.maxMessageBytes = assertInteger(
      options.maxMessageBytes ?? TRANSPORT_LIMITS.defaultMaxMessageBytes,
      'maxMessageBytes',
      1,
      Number.MAX_SAFE_INTEGER,
    )
    this.rejectThreshold = assertInteger(
      options.rejectThreshold ?? DEFAULT_REJECT_THRESHOLD,
      'rejectThreshold',
      1,
      Number.MAX_SAFE_INTEGER,
    )
    this.banMs = assertInteger(options.banMs ?? DEFAULT_BAN_MS, 'banMs', 0, Number.MAX_SAFE_INTEGER)
    this.requestTimeoutMs = assertInteger(
      options.requestTimeoutMs ?? TRANSPORT_LIMITS.defaultRequestTimeoutMs,
      'requestTimeoutMs',
      1,
      MAX_TIMER_MS,
    )
    if (options.autoConnect !== undefined && typeof options.autoConnect !== 'boolean') {
      throw new TypeError('autoConnect must be a boolean')
    }
    this.autoConnect = options.autoConnect ?? true
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger
  }

  newPeerId(): PeerId {
    let peerId: PeerId
    do peerId = `peer-${this.#nextPeer++}`
    while (this.transports.has(peerId))
    return peerId
  }

  schedule(task: Task): void {
    this.#queue.push(task)
    if (!this.#scheduled) {
      this.#scheduled = true
      defer(this.#drain)
    }
  }

  readonly #drain = (): void => {
    this.#scheduled = false
    const tasks = this.#queue
    this.#queue = []
    for (const task of tasks) {
      try {
        task()
      } catch (error) {
        this.logger.error({ error }, 'memory network task failed')
      }
    }
    // tasks queued while draining run on the next macrotask, so I/O and timers are not starved
    if (this.#queue.length > 0) {
      this.#scheduled = true
      defer(this.#drain)
      return
    }
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const wake of waiters) wake()
  }

  async settle(): Promise<void> {
    // a handler answering within a microtask queues its outcome after the drain it ran in; one
    // more macrotask lets those continuations run before deciding the network is quiet
    do {
      if (this.#scheduled) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve))
      await new Promise<void>((resolve) => defer(resolve))
    } while (this.#scheduled)
  }

  linkId(a: PeerId, b: PeerId): number | undefined {
    return this.#links.get(a)?.get(b)
  }

  linkedPeers(peer: PeerId): PeerId[] {
    return [...(this.#links.get(peer)?.keys() ?? [])]
  }

  isBanned(by: PeerId, peer: PeerId): boolean {
    const key = `${by}\n${peer}`
    const until = this.#bans.get(key)
    if (until === undefined) return false
    if (this.clock.now() < until) return true
    this.#bans.delete(key)
    return false
  }

  ban(by: PeerId, peer: PeerId): void {
    if (this.banMs > 0) this.#bans.set(`${by}\n${peer}`, this.clock.now() + this.banMs)
  }

  link(a: PeerId, b: PeerId): void {
    const first = this.transports.get(a)
    const second = this.transports.get(b)
    if (first === undefined || second === undefined || a === b) {
      throw new PeerUnreachableError('unknown peer', { details: { a, b } })
    }
    if (!first.isStarted || !second.isStarted) {
      throw new PeerUnreachableError('peer is not started', { details: { a, b } })
    }
    if (this.isBanned(a, b) || this.isBanned(b, a)) {
      throw new PeerUnreachableError('peers are banned from each other', { details: { a, b } })
    }
    if (this.linkId(a, b) !== undefined) return
    const linkId = this.#nextLinkId++
    this.#adjacency(a).set(b, linkId)
    this.#adjacency(b).set(a, linkId)
    first.queueEvent('peer:connect', { peer: b })
    second.queueEvent('peer:connect', { peer: a })
  }

  /** Cuts the link; `quietSide` (a peer that is stopping) reports its own disconnect itself. */
  unlink(a: PeerId, b: PeerId, reason: string, quietSide?: PeerId): void {
    if (this.linkId(a, b) === undefined) return
    this.#links.get(a)?.delete(b)
    this.#links.get(b)?.delete(a)
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const transport = this.transports.get(self)
      if (transport === undefined) continue
      transport.forgetPeer(other)
      if (self !== quietSide) transport.queueEvent('peer:disconnect', { peer: other, reason })
    }
  }

  #adjacency(peer: PeerId): Map<PeerId, number> {
    let adjacent = this.#links.get(peer)
    if (adjacent === undefined) {
      adjacent = new Map()
      this.#links.set(peer, adjacent)
    }
    return adjacent
  }
}

class MemoryTransport implements Transport {
  readonly peerId: PeerId
  readonly maxMessageBytes: number
  readonly #hub: Hub
  readonly #events: TypedEventEmitter<TransportEvents>
  readonly #subscriptions = new HandlerRegistry<MessageHandler>('topic')
  readonly #requestHandlers = new HandlerRegistry<RequestHandler>('protocol')
  readonly #rejections = new Map<PeerId, number>()
  readonly #pending = new Map<number, PendingRequest>()
  #nextRequestId = 1
  #started = false
  // bumped on every stop, so events queued for an earlier session are not delivered to a later one
  #session = 0

  constructor(hub: Hub, peerId: PeerId, maxMessageBytes: number) {
    this.#hub = hub
    this.peerId = peerId
    this.maxMessageBytes = maxMessageBytes
    this.#events = new TypedEventEmitter({
      onListenerError: (error, event) =>
        hub.logger.error({ error, event: String(event), peer: peerId }, 'event listener threw'),
    })
  }

  get isStarted(): boolean {
    return this.#started
  }

  async start(): Promise<void> {
    if (this.#started) return
    this.#started = true
    if (!this.#hub.autoConnect) return
    for (const [peerId, transport] of this.#hub.transports) {
      if (peerId === this.peerId || !transport.isStarted) continue
      if (this.#hub.isBanned(this.peerId, peerId) || this.#hub.isBanned(peerId, this.peerId))
        continue
      this.#hub.link(this.peerId, peerId)
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return
    const peers = this.#hub.linkedPeers(this.peerId)
    this.#started = false
    this.#session++
    const stopped = new NotStartedError('transport stopped', { details: { peer: this.peerId } })
    for (const [id, pending] of [...this.#pending]) this.#finish(id, pending, undefined, stopped)
    for (const peer of peers) this.#hub.unlink(this.peerId, peer, 'remote-stop', this.peerId)
    // listeners hear about their own disconnects before stop() resolves, not on a later tick
    for (const peer of peers) this.#events.emit('peer:disconnect', { peer, reason: 'stop' })
    this.#rejections.clear()
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    this.#assertStarted('publish')
    assertTopic(topic)
    assertPayload(data, this.maxMessageBytes)
    for (const peer of this.#hub.linkedPeers(this.peerId)) {
      this.#deliver(peer, { topic, from: this.peerId, data: data.slice(), kind: 'gossip' })
    }
  }

  async send(peer: PeerId, topic: string, data: Uint8Array): Promise<void> {
    this.#assertStarted('send')
    this.#assertPeer(peer)
    assertTopic(topic)
    assertPayload(data, this.maxMessageBytes)
    this.#deliver(peer, { topic, from: this.peerId, data: data.slice(), kind: 'direct' })
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    return this.#subscriptions.add(topic, handler)
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#requestHandlers.add(protocol, handler)
  }

  request(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<Uint8Array> {
    try {
      this.#assertStarted('request')
      this.#assertPeer(peer)
      assertTopic(protocol, 'protocol')
      assertPayload(data, this.maxMessageBytes)
      const timeoutMs = assertInteger(
        options.timeoutMs ?? this.#hub.requestTimeoutMs,
        'timeoutMs',
        1,
        MAX_TIMER_MS,
      )
      return this.#startRequest(peer, protocol, data.slice(), timeoutMs)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  peers(): PeerId[] {
    return this.#started ? this.#hub.linkedPeers(this.peerId) : []
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (detail: TransportEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener)
  }

  /** Emits `event` to this peer's listeners from the delivery queue, if still in this session. */
  queueEvent<K extends keyof TransportEvents>(event: K, detail: TransportEvents[K]): void {
    const session = this.#session
    this.#hub.schedule(() => {
      if (this.#started && this.#session === session) this.#events.emit(event, detail)
    })
  }

  /** Drops what this peer tracked about `peer` once their link is cut. */
  forgetPeer(peer: PeerId): void {
    this.#rejections.delete(peer)
    const unreachable = new PeerUnreachableError('peer disconnected', { details: { peer } })
    for (const [id, pending] of [...this.#pending]) {
      if (pending.peer === peer) this.#finish(id, pending, undefined, unreachable)
    }
  }

  #assertStarted(operation: string): void {
    if (!this.#started) {
      throw new NotStartedError('transport is not started', {
        details: { operation, peer: this.peerId },
      })
    }
  }

  #assertPeer(peer: PeerId): void {
    if (typeof peer !== 'string') throw new TypeError(`peer must be a string, got ${typeof peer}`)
    if (this.#hub.linkId(this.peerId, peer) === undefined) {
      throw new PeerUnreachableError('peer is not connected', { details: { peer } })
    }
  }

  #deliver(peer: PeerId, message: InboundMessage): void {
    const linkId = this.#hub.linkId(this.peerId, peer)
    this.#hub.schedule(() => {
      if (this.#hub.linkId(this.peerId, peer) !== linkId) return
      this.#hub.transports.get(peer)?.receive(message, linkId)
    })
  }

  /** Runs the subscriber of `message.topic` and acts on its verdict about the sender. */
  receive(message: InboundMessage, linkId: number | undefined): void {
    if (message.data.length > this.maxMessageBytes) {
      this.#judge(message.from, linkId, 'reject')
      return
    }
    const handler = this.#subscriptions.get(message.topic)
    if (handler === undefined) return
    let verdict: ValidationResult | Promise<ValidationResult>
    try {
      verdict = handler(message)
    } catch (error) {
      this.#judge(message.from, linkId, this.#verdictOfError(error, message.topic))
      return
    }
    if (typeof verdict === 'object' && verdict !== null && typeof verdict.then === 'function') {
      Promise.resolve(verdict).then(
        (result) => this.#judge(message.from, linkId, result),
        (error: unknown) =>
          this.#judge(message.from, linkId, this.#verdictOfError(error, message.topic)),
      )
    } else {
      this.#judge(message.from, linkId, verdict)
    }
  }

  #verdictOfError(error: unknown, topic: string): ValidationResult {
    if (isMetanodeError(error, 'RejectionError') && (error as RejectionError).action === 'reject') {
      return 'reject'
    }
    this.#hub.logger.warn({ error, topic, peer: this.peerId }, 'message handler threw')
    return 'ignore'
  }

  #judge(sender: PeerId, linkId: number | undefined, verdict: unknown): void {
    if (!isValidationResult(verdict)) {
      this.#hub.logger.warn({ verdict, peer: this.peerId }, 'handler returned no verdict')
      return
    }
    if (verdict !== 'reject') return
    // a verdict reached after the link was cut belongs to a connection that no longer exists
    if (this.#hub.linkId(this.peerId, sender) !== linkId || linkId === undefined) return
    const rejections = (this.#rejections.get(sender) ?? 0) + 1
    if (rejections < this.#hub.rejectThreshold) {
      this.#rejections.set(sender, rejections)
      return
    }
    this.#hub.ban(this.peerId, sender)
    this.#hub.unlink(this.peerId, sender, 'penalised')
  }

  #startRequest(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    const id = this.#nextRequestId++
    const linkId = this.#hub.linkId(this.peerId, peer)
    return new Promise<Uint8Array>((resolve, reject) => {
      const pending: PendingRequest = { peer, resolve, reject, timer: undefined }
      pending.timer = this.#hub.clock.setTimeout(() => {
        const timeout = new TimeoutError('request timed out', {
          details: { peer, protocol, timeoutMs },
        })
        this.#finish(id, pending, undefined, timeout)
      }, timeoutMs)
      this.#pending.set(id, pending)
      this.#hub.schedule(() => {
        if (this.#hub.linkId(this.peerId, peer) !== linkId) return
        const responder = this.#hub.transports.get(peer)
        responder?.answer(this.peerId, protocol, data, linkId, (response, error) => {
          this.#hub.schedule(() => {
            if (this.#hub.linkId(this.peerId, peer) !== linkId) return
            this.#finish(id, pending, response, error)
          })
        })
      })
    })
  }

  /** Serves one request from `requester` and reports the outcome through `reply`. */
  answer(
    requester: PeerId,
    protocol: string,
    data: Uint8Array,
    linkId: number | undefined,
    reply: (response: Uint8Array | undefined, error?: unknown) => void,
  ): void {
    const handler = this.#requestHandlers.get(protocol)
    if (handler === undefined) {
      reply(
        undefined,
        new UnknownTopicError('peer does not serve protocol', {
          details: { protocol, peer: this.peerId },
        }),
      )
      return
    }
    const onResponse = (response: unknown): void => {
      if (!(response instanceof Uint8Array)) {
        this.#hub.logger.warn({ protocol, peer: this.peerId }, 'request handler returned no bytes')
        reply(
          undefined,
          new RejectionError('invalid-response', 'ignore', 'peer failed to answer', {
            details: { protocol },
          }),
        )
        return
      }
      if (response.length > this.maxMessageBytes) {
        reply(
          undefined,
          new MessageTooLargeError('response is larger than the message limit', {
            details: { protocol, bytes: response.length, maxBytes: this.maxMessageBytes },
          }),
        )
        return
      }
      reply(response.slice())
    }
    const onError = (error: unknown): void => {
      // only the code and action cross the wire: an internal error message stays with its node
      if (isMetanodeError(error, 'RejectionError')) {
        const rejection = error as RejectionError
        reply(
          undefined,
          new RejectionError(rejection.code, rejection.action, 'peer refused the request', {
            details: { protocol, peer: this.peerId },
          }),
        )
        // queued behind the refusal, so the requester learns why before the link is cut
        if (rejection.action === 'reject') {
          this.#hub.schedule(() => this.#judge(requester, linkId, 'reject'))
        }
        return
      }
      this.#hub.logger.warn({ error, protocol, peer: this.peerId }, 'request handler threw')
      reply(
        undefined,
        new RejectionError('request-failed', 'ignore', 'peer failed to answer', {
          details: { protocol, peer: this.peerId },
        }),
      )
    }
    try {
      Promise.resolve(handler({ from: requester, data })).then(onResponse, onError)
    } catch (error) {
      onError(error)
    }
  }

  #finish(
    id: number,
    pending: PendingRequest,
    response: Uint8Array | undefined,
    error?: unknown,
  ): void {
    if (this.#pending.get(id) !== pending) return
    this.#pending.delete(id)
    this.#hub.clock.clearTimeout(pending.timer as Parameters<Clock['clearTimeout']>[0])
    if (error !== undefined || response === undefined) pending.reject(error)
    else if (response.length > this.maxMessageBytes) {
      pending.reject(
        new MessageTooLargeError('response is larger than the message limit', {
          details: { bytes: response.length, maxBytes: this.maxMessageBytes },
        }),
      )
    } else pending.resolve(response)
  }
}

/**
 * Creates an in-memory network. Peers created by `network.transport()` connect to each other
 * when started, and exchange messages through a FIFO queue drained asynchronously.
 *
 * A receiver that rejects `rejectThreshold` messages from one sender (validator verdict
 * `reject`, a `RejectionError` with action `reject`, or an oversized message) disconnects it
 * and refuses to reconnect for `banMs`.
 *
 * @example
 * ```ts
 * const network = createMemoryNetwork()
 * const alice = network.transport({ peerId: 'alice' })
 * const bob = network.transport({ peerId: 'bob' })
 * await alice.start()
 * await bob.start()
 * bob.subscribe('greetings', (message) => {
 *   console.log(message.from, new TextDecoder().decode(message.data)) // alice hello
 *   return 'accept'
 * })
 * await alice.publish('greetings', new TextEncoder().encode('hello'))
 * await network.settle()
 * ```
 */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const hub = new Hub(options)
  return {
    transport(init: MemoryTransportInit = {}): Transport {
      const peerId = init.peerId ?? hub.newPeerId()
      if (typeof peerId !== 'string' || peerId.length === 0) {
        throw new TypeError('peerId must be a non-empty string')
      }
      if (hub.transports.has(peerId)) {
        throw new InvalidArgumentError('peer id already on this network', { details: { peerId } })
      }
      const maxMessageBytes = assertInteger(
        init.maxMessageBytes ?? hub.maxMessageBytes,
        'maxMessageBytes',
        1,
        Number.MAX_SAFE_INTEGER,
      )
      const transport = new MemoryTransport(hub, peerId, maxMessageBytes)
      hub.transports.set(peerId, transport)
      return transport
    },
    connect: (a, b) => hub.link(a, b),
    disconnect: (a, b) => hub.unlink(a, b, 'disconnected'),
    isBanned: (by, peer) => hub.isBanned(by, peer),
    peerIds: () => [...hub.transports.keys()],
    settle: () => hub.settle(),
  }
}
