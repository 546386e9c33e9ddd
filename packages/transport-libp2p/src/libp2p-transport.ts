import { noise } from '@chainsafe/libp2p-noise'
import { bootstrap } from '@libp2p/bootstrap'
import {
  type Message as GossipMessage,
  type GossipSub,
  gossipsub,
  TopicValidatorResult,
} from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import {
  type Connection,
  KEEP_ALIVE,
  type Libp2p,
  type PeerId as Libp2pPeerId,
  type Stream,
} from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type {
  Clock,
  InboundMessage,
  Logger,
  MessageHandler,
  PeerId,
  RequestHandler,
  TimerHandle,
  TransportEvents,
  ValidationResult,
} from '@metanode/core'
import {
  DecodeError,
  HandlerRegistry,
  InvalidArgumentError,
  isMetanodeError,
  MessageTooLargeError,
  MetanodeError,
  NotStartedError,
  PeerUnreachableError,
  RejectionError,
  silentLogger,
  systemClock,
  TimeoutError,
  TOPIC_PATTERN,
  TRANSPORT_LIMITS,
  TypedEventEmitter,
  UnknownTopicError,
} from '@metanode/core'
import { blake3 } from '@metanode/crypto/hash'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pInit } from 'libp2p'
import {
  decodeLabelled,
  decodeResponse,
  type ErrorResponse,
  encodeErrorResponse,
  encodeLabelled,
  encodeOkResponse,
  FrameReader,
  LABEL_OVERHEAD_BYTES,
  plainBytes,
  writeFrame,
} from './framing.js'
import { ensurePromiseWithResolvers } from './node-compat.js'
import { libp2pPrivateKeyFromSeed, peerIdFromEd25519Seed } from './peer-id.js'
import { PeerPenalties } from './peer-penalties.js'
import type {
  Libp2pTransport,
  Libp2pTransportComponents,
  Libp2pTransportInit,
} from './transport-types.js'
import { assertBytes, assertInteger, assertStringArray } from './validate.js'

/** The libp2p protocol ids this transport speaks besides gossipsub. */
export const LIBP2P_PROTOCOLS = {
  /** One long-lived stream per peer carrying `send` frames `{topic, data}`, in order. */
  direct: '/metanode/direct/1.0.0',
  /** One stream per request: a `{protocol, data}` frame out, a response or error frame back. */
  request: '/metanode/req/1.0.0',
} as const

/** Defaults and bounds of {@link Libp2pTransportInit}. */
export const LIBP2P_TRANSPORT_DEFAULTS = {
  /** Listen on an ephemeral loopback port. */
  listen: ['/ip4/127.0.0.1/tcp/0'],
  /** Rejected messages within `rejectWindowMs` before a peer is disconnected and denied. */
  rejectThreshold: 10,
  /** How long a rejected message counts against its sender, in milliseconds. */
  rejectWindowMs: 60_000,
  /** How long a peer that reached the reject threshold is refused, in milliseconds. */
  denyDurationMs: 5 * 60_000,
  /** How often unconnected bootstrap peers are dialled again, in milliseconds. */
  bootstrapRedialMs: 2_000,
  /** Largest configurable `maxMessageBytes`. */
  maxMessageBytesLimit: 16 * 1024 * 1024,
  /** Largest configurable timeout, in milliseconds. */
  maxTimeoutMs: 10 * 60_000,
} as const

/**
 * Gossipsub score thresholds. Our per-peer reject count feeds the application-specific score
 * (P5): each reject costs `100 / rejectThreshold`, so a peer drops below the gossip threshold
 * after a fifth of the threshold, below the publish threshold at half of it and into the
 * graylist (all its RPCs ignored) when it reaches it, at which point it is also disconnected.
 */
const SCORE_THRESHOLDS = {
  gossipThreshold: -20,
  publishThreshold: -50,
  graylistThreshold: -100,
  acceptPXThreshold: 100,
  opportunisticGraftThreshold: 5,
} as const

/** Gossipsub's message-size decoding limit is never set below its own default. */
const GOSSIPSUB_DEFAULT_MAX_RPC_BYTES = 4 * 1024 * 1024

interface ResolvedInit {
  seed: Uint8Array
  listen: string[]
  bootstrap: Multiaddr[]
  maxMessageBytes: number
  rejectThreshold: number
  requestTimeoutMs: number
  denyDurationMs: number
  rejectWindowMs: number
}

type Node = Libp2p<{ identify: Identify; pubsub: GossipSub }>

/** Members of gossipsub's implementation (public there) that its declared interface omits. */
interface GossipSubInternals {
  getMeshPeers(topic: string): string[]
  streamsOutbound: Map<string, unknown>
}

type StreamMuxerFactoryInit = NonNullable<Libp2pInit['streamMuxers']>[number]

/**
 * A {@link Libp2pTransport} factory: `libp2pTransport(init)(components)`. The configuration is
 * checked when the factory is made; nothing touches the network until `start`.
 *
 * @throws TypeError / RangeError when `init` has a value of the wrong type or out of range.
 * @throws InvalidArgumentError when a listen or bootstrap address is not a valid multiaddr, or a
 *   bootstrap address lacks its `/p2p/<peer id>`.
 */
export function libp2pTransport(
  init: Libp2pTransportInit,
): (components?: Libp2pTransportComponents) => Libp2pTransport {
  const resolved = resolveInit(init)
  return (components = {}) => new Libp2pNodeTransport(resolved, components)
}

function resolveInit(init: Libp2pTransportInit): ResolvedInit {
  if (typeof init !== 'object' || init === null) {
    throw new TypeError(`init must be an object, got ${init === null ? 'null' : typeof init}`)
  }
  const seed = Uint8Array.from(assertBytes(init.privateKey, 'privateKey', 32))
  const listen = [...assertStringArray(init.listen ?? LIBP2P_TRANSPORT_DEFAULTS.listen, 'listen')]
  listen.forEach((address, index) => {
    parseMultiaddr(address, `listen[${index}]`)
  })
  const bootstrapAddresses = assertStringArray(init.bootstrap ?? [], 'bootstrap').map(
    (address, index) => {
      const parsed = parseMultiaddr(address, `bootstrap[${index}]`)
      if (peerIdOfMultiaddr(parsed) === undefined) {
        throw new InvalidArgumentError(`bootstrap[${index}] has no /p2p/<peer id>`, {
          details: { address },
        })
      }
      return parsed
    },
  )
  const limits = LIBP2P_TRANSPORT_DEFAULTS
  return {
    seed,
    listen,
    bootstrap: bootstrapAddresses,
    maxMessageBytes: assertInteger(
      init.maxMessageBytes ?? TRANSPORT_LIMITS.defaultMaxMessageBytes,
      'maxMessageBytes',
      1,
      limits.maxMessageBytesLimit,
    ),
    rejectThreshold: assertInteger(
      init.rejectThreshold ?? limits.rejectThreshold,
      'rejectThreshold',
      1,
      10_000,
    ),
    requestTimeoutMs: assertInteger(
      init.requestTimeoutMs ?? TRANSPORT_LIMITS.defaultRequestTimeoutMs,
      'requestTimeoutMs',
      1,
      limits.maxTimeoutMs,
    ),
    denyDurationMs: assertInteger(
      init.denyDurationMs ?? limits.denyDurationMs,
      'denyDurationMs',
      0,
      24 * 60 * 60_000,
    ),
    rejectWindowMs: assertInteger(
      init.rejectWindowMs ?? limits.rejectWindowMs,
      'rejectWindowMs',
      1,
      24 * 60 * 60_000,
    ),
  }
}

function parseMultiaddr(address: string, name: string): Multiaddr {
  try {
    return multiaddr(address)
  } catch (error) {
    throw new InvalidArgumentError(`${name} is not a valid multiaddr`, {
      details: { address },
      cause: error,
    })
  }
}

function peerIdOfMultiaddr(address: Multiaddr): string | undefined {
  return address.getComponents().findLast((component) => component.name === 'p2p')?.value
}

function assertTopic(topic: unknown, name: string): string {
  if (typeof topic !== 'string')
    throw new TypeError(`${name} must be a string, got ${typeof topic}`)
  if (!TOPIC_PATTERN.test(topic)) {
    throw new UnknownTopicError(`${name} is not a valid name`, { details: { [name]: topic } })
  }
  return topic
}

/** Random bytes before every gossip payload (see the gossipsub options). */
const GOSSIP_NONCE_BYTES = 8

function toGossipResult(result: ValidationResult): TopicValidatorResult {
  if (result === 'accept') return TopicValidatorResult.Accept
  if (result === 'reject') return TopicValidatorResult.Reject
  return TopicValidatorResult.Ignore
}

const VALIDATION_RESULTS: readonly unknown[] = ['accept', 'ignore', 'reject']

class Libp2pNodeTransport implements Libp2pTransport {
  readonly peerId: PeerId
  readonly maxMessageBytes: number
  readonly #init: ResolvedInit
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #events = new TypedEventEmitter<TransportEvents>()
  readonly #subscriptions = new HandlerRegistry<MessageHandler>('topic')
  readonly #requestHandlers = new HandlerRegistry<RequestHandler>('protocol')
  readonly #penalties: PeerPenalties
  /** Reasons of disconnections we caused, reported with the next `peer:disconnect`. */
  readonly #disconnectReasons = new Map<string, string>()
  /** Peers announced with `peer:connect` and not yet with `peer:disconnect`. */
  readonly #announcedPeers = new Set<string>()
  /** Outbound direct streams per peer, opened on first `send`. */
  readonly #directStreams = new Map<string, Promise<Stream>>()
  #node: Node | undefined
  #lifecycle: Promise<void> = Promise.resolve()
  #maintenanceTimer: TimerHandle | undefined

  constructor(init: ResolvedInit, components: Libp2pTransportComponents) {
    this.#init = init
    this.peerId = peerIdFromEd25519Seed(init.seed)
    this.maxMessageBytes = init.maxMessageBytes
    this.#logger = (components.logger ?? silentLogger).child({
      component: 'transport-libp2p',
      peerId: this.peerId,
    })
    this.#clock = components.clock ?? systemClock
    this.#penalties = new PeerPenalties({
      rejectThreshold: init.rejectThreshold,
      denyDurationMs: init.denyDurationMs,
      rejectWindowMs: init.rejectWindowMs,
      clock: this.#clock,
    })
  }

  start(): Promise<void> {
    return this.#serialize(() => this.#start())
  }

  stop(): Promise<void> {
    return this.#serialize(() => this.#stop())
  }

  multiaddrs(): string[] {
    return this.#node?.getMultiaddrs().map((address) => address.toString()) ?? []
  }

  peers(): PeerId[] {
    // the peers announced by peer:connect and not yet by peer:disconnect: the same as libp2p's
    // getPeers() less denied peers being hung up, without rebuilding every peer id (libp2p's
    // peer set stores strings and parses each back on iteration)
    return this.#node === undefined ? [] : [...this.#announcedPeers]
  }

  subscribers(topic: string): PeerId[] {
    assertTopic(topic, 'topic')
    const pubsub = this.#node?.services.pubsub
    if (pubsub === undefined) return []
    // a subscription can arrive before our own gossipsub stream to that peer is open, and
    // gossipsub drops what it cannot write: only peers we can publish to count
    const outbound = (pubsub as Partial<GossipSubInternals>).streamsOutbound
    return pubsub
      .getSubscribers(topic)
      .map((peer) => peer.toString())
      .filter((peer) => outbound === undefined || outbound.has(peer))
  }

  meshPeers(topic: string): PeerId[] {
    assertTopic(topic, 'topic')
    const pubsub = this.#node?.services.pubsub as Partial<GossipSubInternals> | undefined
    return pubsub?.getMeshPeers?.(topic) ?? []
  }

  on<K extends keyof TransportEvents>(
    event: K,
    listener: (detail: TransportEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener)
  }

  async dial(address: string): Promise<PeerId> {
    const node = this.#requireStarted('dial')
    if (typeof address !== 'string') {
      throw new TypeError(`address must be a string, got ${typeof address}`)
    }
    const target = parseMultiaddr(address, 'address')
    const expected = peerIdOfMultiaddr(target)
    if (expected !== undefined && this.#penalties.isDenied(expected)) {
      throw new PeerUnreachableError('peer is denied for misbehaviour', {
        details: { address, peer: expected },
      })
    }
    try {
      const connection = await node.dial(target, {
        signal: AbortSignal.timeout(this.#init.requestTimeoutMs),
      })
      return connection.remotePeer.toString()
    } catch (error) {
      throw new PeerUnreachableError('could not dial the address', {
        details: { address },
        cause: error,
      })
    }
  }

  async hangUp(peer: PeerId): Promise<void> {
    const node = this.#requireStarted('hangUp')
    await node.hangUp(this.#parsePeer(peer))
  }

  subscribe(topic: string, handler: MessageHandler): () => void {
    const unsubscribe = this.#subscriptions.add(topic, handler, () => {
      const node = this.#node
      if (node === undefined) return
      node.services.pubsub.topicValidators.delete(topic)
      node.services.pubsub.unsubscribe(topic)
    })
    if (this.#node !== undefined) this.#joinTopic(this.#node, topic)
    return unsubscribe
  }

  handle(protocol: string, handler: RequestHandler): () => void {
    return this.#requestHandlers.add(protocol, handler)
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    const node = this.#requireStarted('publish')
    assertTopic(topic, 'topic')
    this.#assertPayload(data, 'data')
    const framed = new Uint8Array(GOSSIP_NONCE_BYTES + data.length)
    crypto.getRandomValues(framed.subarray(0, GOSSIP_NONCE_BYTES))
    framed.set(data, GOSSIP_NONCE_BYTES)
    try {
      await node.services.pubsub.publish(topic, framed)
    } catch (error) {
      throw new MetanodeError('gossipsub could not publish the message', {
        details: { topic, size: data.length },
        cause: error,
      })
    }
  }

  async send(peer: PeerId, topic: string, data: Uint8Array): Promise<void> {
    const node = this.#requireStarted('send')
    if (typeof peer !== 'string') throw new TypeError(`peer must be a string, got ${typeof peer}`)
    assertTopic(topic, 'topic')
    this.#assertPayload(data, 'data')
    const frame = encodeLabelled(topic, data)
    let stream: Stream | undefined
    try {
      stream = await this.#directStream(node, peer)
      await writeFrame(stream, frame, this.#init.requestTimeoutMs)
    } catch (error) {
      this.#directStreams.delete(peer)
      // a stream that could not take the frame is dropped whole, so later sends on a fresh
      // stream cannot overtake frames still queued on it
      stream?.abort(error instanceof Error ? error : new Error(String(error)))
      if (isMetanodeError(error, 'PeerUnreachableError')) throw error
      throw new PeerUnreachableError('could not send to the peer', {
        details: { peer, topic },
        cause: error,
      })
    }
  }

  async request(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    options: { timeoutMs?: number } = {},
  ): Promise<Uint8Array> {
    const node = this.#requireStarted('request')
    const remote = this.#parsePeer(peer)
    assertTopic(protocol, 'protocol')
    this.#assertPayload(data, 'data')
    const timeoutMs = assertInteger(
      options.timeoutMs ?? this.#init.requestTimeoutMs,
      'timeoutMs',
      1,
      LIBP2P_TRANSPORT_DEFAULTS.maxTimeoutMs,
    )
    const connection = this.#connectionTo(node, remote)
    const deadline = new AbortController()
    const timer = this.#clock.setTimeout(() => {
      deadline.abort(
        new TimeoutError('request timed out', { details: { peer, protocol, timeoutMs } }),
      )
    }, timeoutMs)
    let stream: Stream | undefined
    let reader: FrameReader | undefined
    const abortStream = (): void => stream?.abort(deadline.signal.reason as Error)
    deadline.signal.addEventListener('abort', abortStream)
    let response: ReturnType<typeof decodeResponse>
    try {
      stream = await connection.newStream(LIBP2P_PROTOCOLS.request, { signal: deadline.signal })
      reader = new FrameReader(stream, { maxFrameBytes: this.maxMessageBytes + 1 })
      await writeFrame(stream, encodeLabelled(protocol, data), timeoutMs)
      await stream.close({ signal: deadline.signal })
      const frame = await reader.next()
      if (frame === undefined) {
        throw new PeerUnreachableError('peer closed the stream without answering', {
          details: { peer, protocol },
        })
      }
      response = decodeResponse(frame)
    } catch (error) {
      if (deadline.signal.aborted) throw deadline.signal.reason
      stream?.abort(error instanceof Error ? error : new Error(String(error)))
      // an oversized or malformed answer is the responder's misbehaviour, as a request would be
      const misbehaved =
        isMetanodeError(error, 'MessageTooLargeError') || isMetanodeError(error, 'DecodeError')
      if (misbehaved) this.#penalize(peer, `answer on ${protocol}: ${(error as Error).message}`)
      if (isMetanodeError(error)) throw error
      throw new PeerUnreachableError('request failed', {
        details: { peer, protocol },
        cause: error,
      })
    } finally {
      this.#clock.clearTimeout(timer)
      deadline.signal.removeEventListener('abort', abortStream)
      reader?.dispose()
    }
    if (response.ok) return response.data
    throw this.#remoteError(response.error, peer, protocol)
  }

  #remoteError(error: ErrorResponse, peer: PeerId, protocol: string): MetanodeError {
    const details = { peer, protocol }
    switch (error.kind) {
      case 'unknown-protocol':
        return new UnknownTopicError('peer does not handle the protocol', { details })
      case 'too-large':
        return new MessageTooLargeError('the answer exceeds the size limit', { details })
      case 'rejected':
        return new RejectionError(
          error.code ?? 'rejected',
          error.action ?? 'ignore',
          error.message,
          {
            details,
          },
        )
      default:
        return new MetanodeError('peer failed to answer the request', {
          details: { ...details, reason: error.message },
        })
    }
  }

  #serialize(operation: () => Promise<void>): Promise<void> {
    const next = this.#lifecycle.catch(() => {}).then(operation)
    this.#lifecycle = next
    return next
  }

  async #start(): Promise<void> {
    if (this.#node !== undefined) return
    ensurePromiseWithResolvers()
    const init = this.#init
    const bootstrapList = init.bootstrap
      .filter((address) => peerIdOfMultiaddr(address) !== this.peerId)
      .map((address) => address.toString())
    const isDenied = (peer: Libp2pPeerId): boolean => this.#penalties.isDenied(peer.toString())
    let node: Node
    try {
      node = await createLibp2p({
        privateKey: libp2pPrivateKeyFromSeed(init.seed),
        addresses: { listen: init.listen },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        // @libp2p/yamux types its streams against @libp2p/utils' newer @libp2p/interface and
        // uint8arraylist 3, libp2p against the pinned @libp2p/interface 3.2.2 and uint8arraylist 2;
        // the runtime objects are the same shape, only the two declaration copies disagree
        streamMuxers: [yamux() as unknown as StreamMuxerFactoryInit],
        peerDiscovery:
          bootstrapList.length === 0
            ? []
            : [bootstrap({ list: bootstrapList, timeout: 0, tagName: `${KEEP_ALIVE}-bootstrap` })],
        connectionGater: {
          denyDialPeer: isDenied,
          denyInboundEncryptedConnection: isDenied,
          denyOutboundEncryptedConnection: isDenied,
        },
        connectionManager: {
          // validators of a devnet share one host; the default (5/s per host) refuses them
          inboundConnectionThreshold: 100,
        },
        services: {
          identify: identify(),
          pubsub: gossipsub({
            emitSelf: false,
            allowPublishToZeroTopicPeers: true,
            fallbackToFloodsub: false,
            floodPublish: true,
            // Gossipsub's own signatures would authenticate the author, which no handler uses:
            // the sender a handler sees (and a reject penalises) is the peer that relayed the
            // message, and what needs authenticating (consensus votes, transactions) is signed
            // inside the payload. Without them every message costs no extra Ed25519 signature
            // to publish and no verification per receiver. A message is nonce ‖ payload, and
            // its id the BLAKE3 hash of both: relayed copies are recognised, republishing the
            // same payload is a new message, and no peer can pre-empt a message with another
            // carrying its id.
            globalSignaturePolicy: 'StrictNoSign',
            msgIdFn: (message) => blake3(message.data),
            // a permissioned network is small: keep every peer of a 3-4 node devnet in the mesh
            D: 4,
            Dlo: 2,
            Dhi: 8,
            Dscore: 2,
            Dout: 1,
            maxInboundDataLength: Math.max(
              GOSSIPSUB_DEFAULT_MAX_RPC_BYTES,
              init.maxMessageBytes + 1024 * 1024,
            ),
            scoreParams: {
              appSpecificScore: (peer) =>
                (-100 * this.#penalties.rejects(peer)) / init.rejectThreshold,
              appSpecificWeight: 1,
              // every validator of a devnet has the same IP; co-location is not a Sybil signal here
              IPColocationFactorWeight: 0,
            },
            scoreThresholds: SCORE_THRESHOLDS,
          }),
        },
        start: false,
      })
    } catch (error) {
      throw new MetanodeError('could not create the libp2p node', { cause: error })
    }
    node.addEventListener('peer:connect', (event) => this.#onPeerConnect(event.detail))
    node.addEventListener('peer:disconnect', (event) => this.#onPeerDisconnect(event.detail))
    try {
      await node.handle(
        LIBP2P_PROTOCOLS.direct,
        (stream, connection) => this.#onDirectStream(stream, connection),
        { maxInboundStreams: 8, maxOutboundStreams: 8 },
      )
      await node.handle(
        LIBP2P_PROTOCOLS.request,
        (stream, connection) => this.#onRequestStream(stream, connection),
        { maxInboundStreams: 128, maxOutboundStreams: 128 },
      )
      await node.start()
    } catch (error) {
      await Promise.resolve()
        .then(() => node.stop())
        .catch(() => {})
      throw new MetanodeError('could not start the libp2p node', {
        details: { listen: init.listen },
        cause: error,
      })
    }
    this.#node = node
    for (const topic of this.#subscriptions.names()) this.#joinTopic(node, topic)
    this.#scheduleMaintenance()
    this.#logger.info({ multiaddrs: this.multiaddrs() }, 'transport started')
  }

  async #stop(): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    this.#node = undefined
    if (this.#maintenanceTimer !== undefined) this.#clock.clearTimeout(this.#maintenanceTimer)
    this.#maintenanceTimer = undefined
    this.#directStreams.clear()
    try {
      await node.stop()
    } finally {
      this.#disconnectReasons.clear()
      this.#announcedPeers.clear()
      this.#logger.info({}, 'transport stopped')
    }
  }

  /** Prunes decayed penalties and dials bootstrap peers we are not connected to. */
  #scheduleMaintenance(): void {
    this.#maintenanceTimer = this.#clock.setTimeout(() => {
      const node = this.#node
      if (node === undefined) return
      this.#penalties.prune()
      for (const address of this.#init.bootstrap) {
        const peer = peerIdOfMultiaddr(address)
        if (peer === undefined || peer === this.peerId || this.#penalties.isDenied(peer)) continue
        if (node.getConnections(peerIdFromString(peer)).length > 0) continue
        node.dial(address).catch((error: unknown) => {
          this.#logger.debug({ peer, error: String(error) }, 'bootstrap dial failed')
        })
      }
      this.#scheduleMaintenance()
    }, LIBP2P_TRANSPORT_DEFAULTS.bootstrapRedialMs)
  }

  #onPeerConnect(remote: Libp2pPeerId): void {
    const peer = remote.toString()
    if (this.#penalties.isDenied(peer)) {
      this.#disconnect(peer, 'denied')
      return
    }
    this.#logger.debug({ peer }, 'peer connected')
    this.#announcedPeers.add(peer)
    this.#events.emit('peer:connect', { peer })
  }

  #onPeerDisconnect(remote: Libp2pPeerId): void {
    const peer = remote.toString()
    this.#directStreams.delete(peer)
    const reason = this.#disconnectReasons.get(peer)
    this.#disconnectReasons.delete(peer)
    // a denied peer refused on arrival was never announced, so it does not leave either
    if (!this.#announcedPeers.delete(peer)) return
    this.#logger.debug({ peer, reason }, 'peer disconnected')
    this.#events.emit('peer:disconnect', reason === undefined ? { peer } : { peer, reason })
  }

  #disconnect(peer: string, reason: string): void {
    const node = this.#node
    if (node === undefined) return
    this.#disconnectReasons.set(peer, reason)
    node.hangUp(peerIdFromString(peer)).catch((error: unknown) => {
      this.#logger.warn({ peer, error: String(error) }, 'could not disconnect peer')
    })
  }

  /** Counts a rejected message or request against `peer`; at the threshold it is disconnected and denied. */
  #penalize(peer: string, reason: string): void {
    const denied = this.#penalties.recordReject(peer)
    this.#logger.debug({ peer, reason, rejects: this.#penalties.rejects(peer) }, 'peer penalised')
    if (!denied) return
    this.#logger.warn({ peer, reason }, 'peer reached the reject threshold: disconnecting')
    this.#disconnect(peer, 'rejected')
  }

  #parsePeer(peer: PeerId): Libp2pPeerId {
    if (typeof peer !== 'string') throw new TypeError(`peer must be a string, got ${typeof peer}`)
    try {
      return peerIdFromString(peer)
    } catch (error) {
      throw new PeerUnreachableError('peer is not a valid peer id', {
        details: { peer },
        cause: error,
      })
    }
  }

  #connectionTo(node: Node, remote: Libp2pPeerId): Connection {
    const connection = node.getConnections(remote).find((candidate) => candidate.status === 'open')
    if (connection === undefined) {
      throw new PeerUnreachableError('peer is not connected', {
        details: { peer: remote.toString() },
      })
    }
    return connection
  }

  #requireStarted(operation: string): Node {
    if (this.#node === undefined) {
      throw new NotStartedError('transport is not started', { details: { operation } })
    }
    return this.#node
  }

  #assertPayload(data: Uint8Array, name: string): void {
    assertBytes(data, name)
    if (data.length > this.maxMessageBytes) {
      throw new MessageTooLargeError('message exceeds the size limit', {
        details: { size: data.length, limit: this.maxMessageBytes },
      })
    }
  }

  #joinTopic(node: Node, topic: string): void {
    node.services.pubsub.topicValidators.set(topic, this.#validateGossip)
    node.services.pubsub.subscribe(topic)
  }

  /**
   * Gossipsub's validator for our topics. It runs before a message is forwarded, so a message the
   * handler rejects or ignores goes no further, and gossipsub scores the relaying peer.
   */
  readonly #validateGossip = async (
    propagationSource: Libp2pPeerId,
    message: GossipMessage,
  ): Promise<TopicValidatorResult> => {
    const from = propagationSource.toString()
    const length = message.data.length - GOSSIP_NONCE_BYTES
    if (length < 0 || length > this.maxMessageBytes) {
      this.#penalize(
        from,
        length < 0 ? 'gossip message without its nonce' : 'oversized gossip message',
      )
      return TopicValidatorResult.Reject
    }
    const result = await this.#deliver({
      topic: message.topic,
      from,
      data: plainBytes(message.data.subarray(GOSSIP_NONCE_BYTES)),
      kind: 'gossip',
    })
    return toGossipResult(result)
  }

  /** Hands a message to its topic's handler; a `reject` counts against the sender. */
  async #deliver(message: InboundMessage): Promise<ValidationResult> {
    const handler = this.#subscriptions.get(message.topic)
    if (handler === undefined) return 'ignore'
    let result: ValidationResult
    try {
      result = await handler(message)
    } catch (error) {
      if (isMetanodeError(error, 'RejectionError')) {
        result = (error as RejectionError).action
      } else {
        this.#logger.warn(
          { topic: message.topic, from: message.from, error: String(error) },
          'message handler threw; message ignored',
        )
        result = 'ignore'
      }
    }
    if (!VALIDATION_RESULTS.includes(result)) {
      this.#logger.warn({ topic: message.topic, result: String(result) }, 'invalid handler result')
      result = 'ignore'
    }
    if (result === 'reject') this.#penalize(message.from, `rejected ${message.kind} message`)
    return result
  }

  /** The open direct stream to `peer` (by its string id: parsed only to open a new stream). */
  #directStream(node: Node, peer: string): Promise<Stream> {
    const cached = this.#directStreams.get(peer)
    if (cached !== undefined) {
      return cached.then((stream) =>
        stream.status === 'open' && stream.writeStatus === 'writable'
          ? stream
          : this.#openDirectStream(node, this.#parsePeer(peer)),
      )
    }
    return this.#openDirectStream(node, this.#parsePeer(peer))
  }

  #openDirectStream(node: Node, remote: Libp2pPeerId): Promise<Stream> {
    const key = remote.toString()
    const connection = this.#connectionTo(node, remote)
    const opening = connection.newStream(LIBP2P_PROTOCOLS.direct, {
      signal: AbortSignal.timeout(this.#init.requestTimeoutMs),
    })
    this.#directStreams.set(key, opening)
    opening.then(
      (stream) => {
        stream.addEventListener('close', () => {
          if (this.#directStreams.get(key) === opening) this.#directStreams.delete(key)
        })
      },
      () => {
        if (this.#directStreams.get(key) === opening) this.#directStreams.delete(key)
      },
    )
    return opening
  }

  async #onDirectStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const reader = new FrameReader(stream, {
      maxFrameBytes: this.maxMessageBytes + LABEL_OVERHEAD_BYTES,
    })
    try {
      for (;;) {
        const frame = await reader.next()
        if (frame === undefined) break
        const { label: topic, data } = decodeLabelled(frame)
        if (data.length > this.maxMessageBytes) {
          throw new MessageTooLargeError('direct message exceeds the size limit', {
            details: { size: data.length, limit: this.maxMessageBytes },
          })
        }
        await this.#deliver({ topic, from: peer, data, kind: 'direct' })
      }
      await stream.close().catch(() => {})
    } catch (error) {
      this.#onProtocolError(peer, stream, error, 'direct')
    } finally {
      reader.dispose()
    }
  }

  /** A stream failed: misbehaviour (oversize, malformed) is penalised, a lost connection is not. */
  #onProtocolError(peer: string, stream: Stream, error: unknown, protocol: string): void {
    const misbehaved =
      isMetanodeError(error, 'MessageTooLargeError') || isMetanodeError(error, 'DecodeError')
    stream.abort(error instanceof Error ? error : new Error(String(error)))
    if (misbehaved) {
      this.#penalize(peer, `${protocol}: ${(error as Error).message}`)
    } else {
      this.#logger.debug({ peer, protocol, error: String(error) }, 'stream closed with an error')
    }
  }

  async #onRequestStream(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const reader = new FrameReader(stream, {
      maxFrameBytes: this.maxMessageBytes + LABEL_OVERHEAD_BYTES,
    })
    // a requester that never finishes its request must not hold the stream open forever
    const timer = this.#clock.setTimeout(() => {
      stream.abort(new TimeoutError('request was not received in time'))
    }, this.#init.requestTimeoutMs)
    try {
      const frame = await reader.next()
      this.#clock.clearTimeout(timer)
      if (frame === undefined) throw new DecodeError('stream closed before a request arrived')
      const { label: protocol, data } = decodeLabelled(frame)
      if (data.length > this.maxMessageBytes) {
        throw new MessageTooLargeError('request exceeds the size limit', {
          details: { size: data.length, limit: this.maxMessageBytes },
        })
      }
      const { body, rejected } = await this.#answer(peer, protocol, data)
      try {
        await writeFrame(stream, body, this.#init.requestTimeoutMs)
        await stream.close({ signal: AbortSignal.timeout(this.#init.requestTimeoutMs) })
      } finally {
        // after the answer, so the requester learns why before a disconnection
        if (rejected) this.#penalize(peer, `rejected request on ${protocol}`)
      }
    } catch (error) {
      this.#onProtocolError(peer, stream, error, 'request')
    } finally {
      this.#clock.clearTimeout(timer)
      reader.dispose()
    }
  }

  /**
   * Runs the protocol's handler and encodes its answer or failure as a response frame body;
   * `rejected` when the handler refused the request with a `reject` action.
   */
  async #answer(
    peer: string,
    protocol: string,
    data: Uint8Array,
  ): Promise<{ body: Uint8Array; rejected: boolean }> {
    const handler = this.#requestHandlers.get(protocol)
    if (handler === undefined) {
      const body = encodeErrorResponse({
        kind: 'unknown-protocol',
        message: 'protocol is not handled',
      })
      return { body, rejected: false }
    }
    try {
      const answer = await handler({ from: peer, data })
      if (!(answer instanceof Uint8Array)) {
        throw new TypeError(`request handler must return a Uint8Array, got ${typeof answer}`)
      }
      if (answer.length > this.maxMessageBytes) {
        this.#logger.warn({ protocol, size: answer.length }, 'answer exceeds the size limit')
        const body = encodeErrorResponse({
          kind: 'too-large',
          message: 'answer exceeds the size limit',
        })
        return { body, rejected: false }
      }
      return { body: encodeOkResponse(answer), rejected: false }
    } catch (error) {
      if (isMetanodeError(error, 'RejectionError')) {
        const rejection = error as RejectionError
        const body = encodeErrorResponse({
          kind: 'rejected',
          code: rejection.code,
          action: rejection.action,
          message: rejection.message,
        })
        return { body, rejected: rejection.action === 'reject' }
      }
      this.#logger.warn({ protocol, peer, error: String(error) }, 'request handler threw')
      // the handler's own message may describe our internals: the requester gets a generic one
      const body = encodeErrorResponse({ kind: 'failed', message: 'request handler failed' })
      return { body, rejected: false }
    }
  }
}
