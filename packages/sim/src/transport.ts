/**
 * The simulated `Transport`: every message goes through the simulation's scheduler and the
 * link's fault model, so delivery order, loss and timing are functions of the seed alone.
 */
import {
  assertPayload,
  assertTopic,
  type Clock,
  HandlerRegistry,
  type InboundMessage,
  InvalidArgumentError,
  isMetanodeError,
  type MessageHandler,
  MessageTooLargeError,
  NotStartedError,
  type PeerId,
  PeerUnreachableError,
  RejectionError,
  type RequestHandler,
  TimeoutError,
  type TimerHandle,
  TRANSPORT_LIMITS,
  type Transport,
  type TransportEvents,
  TypedEventEmitter,
  UnknownTopicError,
  type ValidationResult,
} from '@metanode/core'
import { NEVER } from './context.js'
import type { Endpoint, Envelope, NetworkInternals, RemoteError, SimNetwork } from './network.js'
import type { EventOwner } from './scheduler.js'

/** Lifecycle of a simulated transport. `crashed` is final: the process it belonged to is gone. */
export type SimTransportStatus = 'stopped' | 'started' | 'crashed'

/**
 * A `Transport` on a simulated network. Beyond the contract it reports its status and how
 * many messages it rejected from each peer.
 *
 * Semantics worth knowing:
 * - `publish` reaches every started, connected peer subscribed to the topic at the time of the
 *   call, each copy through its own link; `send` and `request` need the peer to be connected
 *   (else `PeerUnreachableError`) but a partition does not disconnect: messages across it are
 *   silently lost, as on a real network that blackholes traffic.
 * - Subscriptions and protocol handlers survive `stop`/`start`. One handler per topic or
 *   protocol: registering a second is an `InvalidArgumentError` until the first is removed.
 * - A handler that returns `'reject'`, or throws a `RejectionError` with action `reject`, counts
 *   against the sender, as does an inbound message over the receiver's limit; at the network's
 *   `rejectThreshold` the pair is disconnected for `banMs` of virtual time, then reconnects. A
 *   handler that throws anything else is counted as a handler error and treated as `ignore`.
 * - A request handler's failure reaches the requester as core's memory transport reports it: a
 *   `RejectionError` keeps its code and action, any other error becomes a `RejectionError` with
 *   code `request-failed`; an unserved protocol is an `UnknownTopicError`. Requests pending to a
 *   peer that disconnects reject with `PeerUnreachableError`.
 * - Messages already in flight from a peer that stops or crashes are still delivered (they left
 *   before it went down); messages in flight *to* it are lost.
 * - After a crash, every operation returns a promise that never settles: the process is dead, so
 *   its code never observes anything again.
 */
export interface SimTransport extends Transport {
  /** The network this transport is attached to. */
  readonly network: SimNetwork
  /** Current lifecycle state. */
  readonly status: SimTransportStatus
  /** How many messages from `peer` this transport rejected since it (or the peer) last started. */
  rejections(peer: PeerId): number
}

interface PendingRequest {
  resolve(answer: Uint8Array): void
  reject(error: unknown): void
  timer: TimerHandle
  peer: PeerId
  protocol: string
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

function assertPeer(value: unknown): asserts value is PeerId {
  if (typeof value !== 'string')
    throw new TypeError(`peer must be a string, got ${describe(value)}`)
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1

// What a responder's failure looks like to the requester. Only codes and actions cross the wire,
// as with core's memory transport: an internal error message stays with its node.
function toRemoteError(error: unknown): RemoteError {
  if (isMetanodeError(error, 'RejectionError')) {
    const rejection = error as RejectionError
    return {
      name: 'RejectionError',
      message: 'peer refused the request',
      code: rejection.code,
      action: rejection.action,
    }
  }
  return {
    name: 'RejectionError',
    message: 'peer failed to answer',
    code: 'request-failed',
    action: 'ignore',
  }
}

function fromRemoteError(remote: RemoteError, peer: PeerId, protocol: string): Error {
  const details = { peer, protocol }
  switch (remote.name) {
    case 'UnknownTopicError':
      return new UnknownTopicError(remote.message, { details })
    case 'MessageTooLargeError':
      return new MessageTooLargeError(remote.message, { details })
    default:
      return new RejectionError(
        remote.code ?? 'request-failed',
        remote.action ?? 'ignore',
        remote.message,
        {
          details,
        },
      )
  }
}

/** Implementation behind {@link SimTransport}; created by the network. */
export class SimTransportImpl implements SimTransport {
  readonly peerId: PeerId
  readonly maxMessageBytes: number
  readonly network: SimNetwork
  /** @internal the network's endpoint for this peer id */
  readonly endpoint: Endpoint
  readonly #net: NetworkInternals
  readonly #owner: EventOwner
  readonly #clock: Clock
  readonly #events: TypedEventEmitter<TransportEvents>
  readonly #subscriptions = new HandlerRegistry<MessageHandler>('topic')
  readonly #handlers = new Map<string, RequestHandler>()
  readonly #pending = new Map<number, PendingRequest>()
  readonly #rejections = new Map<PeerId, number>()
  #status: SimTransportStatus = 'stopped'
  #requestSequence = 0

  constructor(
    network: SimNetwork,
    internals: NetworkInternals,
    endpoint: Endpoint,
    owner: EventOwner,
    clock: Clock,
    maxMessageBytes: number,
  ) {
    this.network = network
    this.#net = internals
    this.endpoint = endpoint
    this.peerId = endpoint.peerId
    this.#owner = owner
    this.#clock = clock
    this.maxMessageBytes = maxMessageBytes
    this.#events = new TypedEventEmitter<TransportEvents>({
      onListenerError: (error) => internals.context.recordFailure(error),
    })
  }

  get status(): SimTransportStatus {
    return this.#status
  }

  /** @internal the owner whose death freezes this transport */
  get owner(): EventOwner {
    return this.#owner
  }

  rejections(peer: PeerId): number {
    return this.#rejections.get(peer) ?? 0
  }

  async start(): Promise<void> {
    if (this.#status === 'crashed') return NEVER
    if (this.#status === 'started') return
    if (this.endpoint.transport !== this) {
      throw new InvalidArgumentError('a newer transport replaced this one', {
        details: { peer: this.peerId },
      })
    }
    this.#status = 'started'
    this.#rejections.clear()
    this.#net.attached(this)
  }

  async stop(): Promise<void> {
    if (this.#status !== 'started') return
    const peers = this.peers()
    this.#status = 'stopped'
    const stopped = new NotStartedError('transport stopped', { details: { peer: this.peerId } })
    this.#failPending(() => true, stopped)
    this.#net.detached(this, 'remote-stop')
    this.#rejections.clear()
    // Listeners hear about their own disconnects before stop() resolves, as with core's transport.
    for (const peer of peers) this.#events.emit('peer:disconnect', { peer, reason: 'stop' })
  }

  /** @internal Kills the transport as a process crash would: no goodbye, nothing settles again. */
  crash(): void {
    const wasStarted = this.#status === 'started'
    this.#status = 'crashed'
    for (const pending of this.#pending.values()) this.#clock.clearTimeout(pending.timer)
    this.#pending.clear()
    if (wasStarted) this.#net.detached(this, 'remote-crash')
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    if (this.#status === 'crashed') return NEVER
    this.#assertStarted('publish')
    assertTopic(topic)
    this.#assertPayload(data)
    const payload = data.slice()
    for (const endpoint of this.#net.endpoints()) {
      const transport = endpoint.transport
      if (
        endpoint === this.endpoint ||
        transport === undefined ||
        transport.#status !== 'started' ||
        !transport.#subscriptions.has(topic) ||
        this.#net.apart(this.endpoint, endpoint)
      ) {
        continue
      }
      this.#net.transmit(this.endpoint, endpoint, 'gossip', topic, payload, 0, undefined)
    }
  }

  async send(peer: PeerId, topic: string, data: Uint8Array): Promise<void> {
    if (this.#status === 'crashed') return NEVER
    this.#assertStarted('send')
    assertPeer(peer)
    assertTopic(topic)
    this.#assertPayload(data)
    const target = this.#connectedEndpoint(peer)
    this.#net.transmit(this.endpoint, target, 'direct', topic, data.slice(), 0, undefined)
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    return this.#subscriptions.add(topic, handler)
  }

  async request(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<Uint8Array> {
    if (this.#status === 'crashed') return NEVER
    this.#assertStarted('request')
    assertPeer(peer)
    assertTopic(protocol, 'protocol')
    this.#assertPayload(data)
    const timeoutMs = options.timeoutMs ?? TRANSPORT_LIMITS.defaultRequestTimeoutMs
    if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs)) {
      throw new TypeError(`timeoutMs must be a safe integer, got ${describe(timeoutMs)}`)
    }
    if (timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      throw new RangeError(`timeoutMs must be in [1, ${MAX_TIMEOUT_MS}], got ${timeoutMs}`)
    }
    const target = this.#connectedEndpoint(peer)
    const requestId = ++this.#requestSequence
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        if (!this.#pending.delete(requestId)) return
        this.#net.requestTimedOut(this.endpoint, peer, protocol, requestId)
        reject(new TimeoutError('request timed out', { details: { peer, protocol, timeoutMs } }))
      }, timeoutMs)
      this.#pending.set(requestId, { resolve, reject, timer, peer, protocol })
    })
    this.#net.transmit(
      this.endpoint,
      target,
      'request',
      protocol,
      data.slice(),
      requestId,
      undefined,
    )
    return answer
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    assertTopic(protocol, 'protocol')
    if (typeof handler !== 'function') throw new TypeError('handler must be a function')
    if (this.#handlers.has(protocol)) {
      throw new InvalidArgumentError('protocol already has a handler', { details: { protocol } })
    }
    this.#handlers.set(protocol, handler)
    return () => {
      if (this.#handlers.get(protocol) === handler) this.#handlers.delete(protocol)
    }
  }

  peers(): PeerId[] {
    if (this.#status !== 'started') return []
    const peers: PeerId[] = []
    for (const endpoint of this.#net.endpoints()) {
      if (
        endpoint !== this.endpoint &&
        endpoint.transport?.status === 'started' &&
        !this.#net.apart(this.endpoint, endpoint)
      ) {
        peers.push(endpoint.peerId)
      }
    }
    return peers
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (detail: TransportEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener)
  }

  /** @internal `peer` went away (stopped, crashed or penalised): forget it and tell listeners. */
  peerLeft(peer: PeerId, reason: string): void {
    if (this.#status !== 'started') return
    this.#rejections.delete(peer)
    const unreachable = new PeerUnreachableError('peer disconnected', { details: { peer } })
    this.#failPending((request) => request.peer === peer, unreachable)
    this.#net.emitLater(this, 'peer:disconnect', peer, reason)
  }

  /** @internal Emits a transport event (from a scheduled network event). */
  emit<K extends keyof TransportEvents>(event: K, detail: TransportEvents[K]): void {
    if (this.#status === 'started') this.#events.emit(event, detail)
  }

  /** @internal Whether a handler is registered for gossip/direct messages on `topic`. */
  hasSubscription(topic: string): boolean {
    return this.#subscriptions.has(topic)
  }

  /** @internal A gossip or direct message arrived (all network checks passed). */
  receiveMessage(envelope: Envelope): void {
    const handler = this.#subscriptions.get(envelope.topic)
    if (handler === undefined) {
      this.#net.drop(envelope, 'no-subscriber')
      return
    }
    this.#net.delivered(envelope)
    const from = envelope.from.peerId
    const message: InboundMessage = {
      topic: envelope.topic,
      from,
      data: envelope.data.slice(),
      kind: envelope.type === 'gossip' ? 'gossip' : 'direct',
    }
    let verdict: ValidationResult | Promise<ValidationResult>
    try {
      verdict = handler(message)
    } catch (error) {
      this.#handlerFailed(envelope, error)
      return
    }
    if (typeof verdict === 'string') {
      this.#applyVerdict(envelope, verdict)
    } else {
      Promise.resolve(verdict).then(
        (settled) => this.#applyVerdict(envelope, settled),
        (error: unknown) => this.#handlerFailed(envelope, error),
      )
    }
  }

  /** @internal A request arrived. */
  receiveRequest(envelope: Envelope): void {
    this.#net.delivered(envelope)
    const handler = this.#handlers.get(envelope.topic)
    const epoch = this.endpoint.epoch
    if (handler === undefined) {
      this.#respond(envelope, epoch, undefined, {
        name: 'UnknownTopicError',
        message: 'peer does not serve protocol',
      })
      return
    }
    let answer: Promise<Uint8Array>
    try {
      answer = Promise.resolve(handler({ from: envelope.from.peerId, data: envelope.data.slice() }))
    } catch (error) {
      this.#requestHandlerFailed(envelope, epoch, error)
      return
    }
    answer.then(
      (bytes) => {
        if (!(bytes instanceof Uint8Array)) {
          this.#net.handlerError(
            this.endpoint,
            envelope,
            new TypeError(`request handler must resolve to a Uint8Array, got ${describe(bytes)}`),
          )
          this.#respond(envelope, epoch, undefined, {
            name: 'RejectionError',
            message: 'peer failed to answer',
            code: 'invalid-response',
            action: 'ignore',
          })
        } else if (bytes.length > this.maxMessageBytes) {
          this.#respond(envelope, epoch, undefined, {
            name: 'MessageTooLargeError',
            message: 'response is larger than the message limit',
          })
        } else {
          this.#respond(envelope, epoch, bytes.slice(), undefined)
        }
      },
      (error: unknown) => this.#requestHandlerFailed(envelope, epoch, error),
    )
  }

  /** @internal A response arrived. */
  receiveResponse(envelope: Envelope): void {
    const pending = this.#pending.get(envelope.requestId)
    if (pending === undefined) {
      this.#net.drop(envelope, 'late-response')
      return
    }
    this.#pending.delete(envelope.requestId)
    this.#clock.clearTimeout(pending.timer)
    this.#net.delivered(envelope)
    if (envelope.error === undefined) pending.resolve(envelope.data.slice())
    else pending.reject(fromRemoteError(envelope.error, pending.peer, pending.protocol))
  }

  /** @internal Counts a rejected message from `from`, disconnecting at the limit. */
  penalize(from: Endpoint, topic: string): void {
    const count = (this.#rejections.get(from.peerId) ?? 0) + 1
    this.#rejections.set(from.peerId, count)
    this.#net.rejected(this.endpoint, from, topic, count)
    if (count >= this.network.rejectThreshold) {
      this.#rejections.delete(from.peerId)
      this.#net.ban(this.endpoint, from)
    }
  }

  #respond(
    request: Envelope,
    epoch: number,
    data: Uint8Array | undefined,
    error: RemoteError | undefined,
  ): void {
    // The connection the request came on is gone: a real stream would be reset, not answered.
    if (this.#status !== 'started' || this.endpoint.epoch !== epoch) return
    this.#net.transmit(
      this.endpoint,
      request.from,
      'response',
      request.topic,
      data ?? new Uint8Array(0),
      request.requestId,
      error,
    )
  }

  #requestHandlerFailed(request: Envelope, epoch: number, error: unknown): void {
    if (isMetanodeError(error, 'RejectionError')) {
      if ((error as RejectionError).action === 'reject' && this.#sameConnection(epoch)) {
        this.penalize(request.from, request.topic)
      }
    } else {
      this.#net.handlerError(this.endpoint, request, error)
    }
    this.#respond(request, epoch, undefined, toRemoteError(error))
  }

  #applyVerdict(envelope: Envelope, verdict: unknown): void {
    if (verdict === 'reject') {
      if (this.#status === 'started') this.penalize(envelope.from, envelope.topic)
    } else if (verdict !== 'accept' && verdict !== 'ignore') {
      this.#net.handlerError(
        this.endpoint,
        envelope,
        new TypeError(`handler returned ${String(verdict)}, not a ValidationResult`),
      )
    }
  }

  #handlerFailed(envelope: Envelope, error: unknown): void {
    if (isMetanodeError(error, 'RejectionError')) {
      this.#applyVerdict(envelope, (error as RejectionError).action)
    } else {
      this.#net.handlerError(this.endpoint, envelope, error)
    }
  }

  #sameConnection(epoch: number): boolean {
    return this.#status === 'started' && this.endpoint.epoch === epoch
  }

  #failPending(matches: (request: PendingRequest) => boolean, error: Error): void {
    for (const [id, request] of [...this.#pending]) {
      if (!matches(request)) continue
      this.#pending.delete(id)
      this.#clock.clearTimeout(request.timer)
      request.reject(error)
    }
  }

  #assertStarted(operation: string): void {
    if (this.#status !== 'started') {
      throw new NotStartedError('transport is not started', {
        details: { peer: this.peerId, operation },
      })
    }
  }

  #assertPayload(data: unknown): asserts data is Uint8Array {
    assertPayload(data, this.maxMessageBytes)
  }

  #connectedEndpoint(peer: PeerId): Endpoint {
    const endpoint = this.#net.endpoint(peer)
    if (
      endpoint === undefined ||
      endpoint === this.endpoint ||
      endpoint.transport?.status !== 'started' ||
      this.#net.apart(this.endpoint, endpoint)
    ) {
      throw new PeerUnreachableError('peer is not connected', {
        details: { peer, from: this.peerId },
      })
    }
    return endpoint
  }
}
