/**
 * A simulated network: the peers attached to it, the faults of every directed link, partitions,
 * and the delivery of messages through the scheduler.
 */
import { type Clock, InvalidArgumentError, type PeerId, TRANSPORT_LIMITS } from '@metanode/core'
import { VirtualClock } from './clock.js'
import { Life, type SimulationContext } from './context.js'
import {
  assertLinkFaults,
  DEFAULT_LINK_FAULTS,
  type LinkFaults,
  pickLinkFaults,
  sampleLatency,
} from './faults.js'
import type { SeededRng } from './rng.js'
import type { EventHandle, EventOwner } from './scheduler.js'
import type { DropReason } from './stats.js'
import { toHex } from './trace.js'
import { type SimTransport, SimTransportImpl } from './transport.js'

/** Faults of one directed link, overriding the network's and the peers' settings. */
export interface LinkOverride extends Partial<LinkFaults> {
  /** Sending peer. */
  from: PeerId
  /** Receiving peer. */
  to: PeerId
}

/** Faults of every link from and to one peer. */
export interface PeerOverride extends Partial<LinkFaults> {
  /** The peer. */
  peer: PeerId
}

/** Options of {@link SimNetwork}. The fault fields are the defaults of every link. */
export interface NetworkOptions extends Partial<LinkFaults> {
  /** Name shown in traces and used to derive link randomness; unique per simulation. */
  name?: string
  /** Default largest payload of its transports (default `TRANSPORT_LIMITS.defaultMaxMessageBytes`). */
  maxMessageBytes?: number
  /** Rejected messages from one sender after which the receiver disconnects it (default 5, as core's memory network). */
  rejectThreshold?: number
  /** How long a disconnected pair stays apart, in virtual milliseconds (default 60,000). */
  banMs?: number
  /** Per-peer overrides (see {@link SimNetwork.setPeer}). */
  peers?: readonly PeerOverride[]
  /** Per-link overrides (see {@link SimNetwork.setLink}). */
  links?: readonly LinkOverride[]
}

/** Options of {@link SimNetwork.partition}. */
export interface PartitionOptions {
  /** Absolute virtual time at which the partition heals by itself (global stabilisation time). */
  healAtMs?: number
}

/** Options of {@link SimNetwork.transport}. */
export interface SimTransportOptions {
  /** Largest payload this transport sends and accepts (default: the network's). */
  maxMessageBytes?: number
}

/**
 * A simulated network of {@link SimTransport}s.
 *
 * Link faults resolve, most specific last: the network defaults, then {@link SimNetwork.setPeer}
 * settings of the sender, then those of the receiver, then {@link SimNetwork.setLink} settings of
 * the directed link. Each directed link draws from its own seeded generator, forked from the
 * network name and the two peer ids, so adding peers or traffic elsewhere never changes its fate.
 */
export interface SimNetwork {
  /** The network's name. */
  readonly name: string
  /** Default largest payload of its transports. */
  readonly maxMessageBytes: number
  /** Rejected messages from one sender after which the receiver disconnects it. */
  readonly rejectThreshold: number
  /** How long a disconnected pair stays apart, in virtual milliseconds. */
  readonly banMs: number
  /** Whether a partition is in force. */
  readonly partitioned: boolean
  /**
   * A transport for `peerId` (stopped; call `start`). A peer has one transport at a time: creating
   * another replaces a stopped or crashed one and is an `InvalidArgumentError` while it runs.
   */
  transport(peerId: PeerId, options?: SimTransportOptions): SimTransport
  /** Every peer id that ever had a transport here, in the order they first joined. */
  peerIds(): PeerId[]
  /** Changes the defaults of every link (fields not given stay as they are). */
  setDefaults(faults: Partial<LinkFaults>): void
  /** Sets faults on every link from and to `peer` (e.g. a slow or lossy node). */
  setPeer(peer: PeerId, faults: Partial<LinkFaults>): void
  /** Sets faults of the link `from` → `to` (and `to` → `from` when `symmetric`). */
  setLink(
    from: PeerId,
    to: PeerId,
    faults: Partial<LinkFaults>,
    options?: {
      /** Also configure the reverse direction. */
      symmetric?: boolean
    },
  ): void
  /** Removes every peer and link override, keeping the network defaults. */
  clearOverrides(): void
  /** The faults in force on the link `from` → `to`. */
  linkFaults(from: PeerId, to: PeerId): LinkFaults
  /**
   * Splits the network: peers in different groups cannot exchange messages (in either direction,
   * including messages already in flight). Peers not listed form one more group together. Replaces
   * any partition in force.
   */
  partition(groups: readonly (readonly PeerId[])[], options?: PartitionOptions): void
  /** Ends the partition in force, if any. */
  heal(): void
  /** Whether a message from `from` to `to` would cross the partition. */
  isPartitioned(from: PeerId, to: PeerId): boolean
  /** Crashes `peer`'s transport (see {@link SimTransport}): in-flight messages to it are lost. */
  crash(peer: PeerId): void
  /** True while `by` refuses `peer` after penalising it. */
  isBanned(by: PeerId, peer: PeerId): boolean
}

/** A message on the wire. */
export interface Envelope {
  id: number
  from: Endpoint
  to: Endpoint
  type: 'gossip' | 'direct' | 'request' | 'response'
  topic: string
  data: Uint8Array
  sentAt: number
  /** The receiver's connection epoch when it was sent: a restart in between loses the message. */
  receiverEpoch: number
  requestId: number
  error: RemoteError | undefined
}

/** An error carried back by a response. */
export interface RemoteError {
  name: string
  message: string
  code?: string
  action?: 'ignore' | 'reject'
}

/** A peer's place on the network, outliving its transports across restarts. */
export class Endpoint {
  readonly peerId: PeerId
  transport: SimTransportImpl | undefined
  /** Bumped whenever the peer connects, disconnects or crashes. */
  epoch = 0
  /** Partition group; -1 for "not listed". */
  group = -1

  constructor(peerId: PeerId) {
    this.peerId = peerId
  }
}

interface LinkState {
  readonly rng: SeededRng
  faults: LinkFaults
  version: number
}

interface TransportEvent {
  transport: SimTransportImpl
  event: 'peer:connect' | 'peer:disconnect'
  peer: PeerId
  reason: string | undefined
}

/** What transports call on their network; not part of the public interface. */
export interface NetworkInternals {
  readonly context: SimulationContext
  endpoints(): readonly Endpoint[]
  endpoint(peer: PeerId): Endpoint | undefined
  /** Whether either of the two refuses the other. */
  apart(a: Endpoint, b: Endpoint): boolean
  ban(receiver: Endpoint, sender: Endpoint): void
  attached(transport: SimTransportImpl): void
  detached(transport: SimTransportImpl, reason: string): void
  emitLater(
    transport: SimTransportImpl,
    event: 'peer:connect' | 'peer:disconnect',
    peer: PeerId,
    reason: string | undefined,
  ): void
  transmit(
    from: Endpoint,
    to: Endpoint,
    type: Envelope['type'],
    topic: string,
    data: Uint8Array,
    requestId: number,
    error: RemoteError | undefined,
  ): void
  drop(envelope: Envelope, reason: DropReason): void
  delivered(envelope: Envelope): void
  rejected(receiver: Endpoint, sender: Endpoint, topic: string, count: number): void
  handlerError(receiver: Endpoint, envelope: Envelope, error: unknown): void
  requestTimedOut(requester: Endpoint, peer: PeerId, protocol: string, requestId: number): void
}

function assertPeerId(value: unknown, name: string): asserts value is PeerId {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string`)
  }
}

function assertLimit(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${typeof value}`)
  }
  if (value < 1) throw new RangeError(`${name} must be at least 1, got ${value}`)
}

/** Implementation of {@link SimNetwork}. */
export class SimNetworkImpl implements SimNetwork, NetworkInternals {
  readonly name: string
  readonly maxMessageBytes: number
  readonly rejectThreshold: number
  readonly banMs: number
  readonly context: SimulationContext
  readonly #rng: SeededRng
  readonly #endpointList: Endpoint[] = []
  readonly #endpointById = new Map<PeerId, Endpoint>()
  readonly #links = new Map<PeerId, Map<PeerId, LinkState>>()
  readonly #peerFaults = new Map<PeerId, Partial<LinkFaults>>()
  readonly #linkFaults = new Map<PeerId, Map<PeerId, Partial<LinkFaults>>>()
  // `${by}\n${peer}` -> virtual time the ban ends
  readonly #bans = new Map<string, number>()
  readonly #traceNetwork: boolean
  #defaults: LinkFaults
  #version = 0
  #messageSequence = 0
  #partitioned = false
  #groups = new Map<PeerId, number>()
  #healEvent: EventHandle | undefined

  constructor(context: SimulationContext, name: string, options: NetworkOptions) {
    const {
      name: _name,
      maxMessageBytes,
      rejectThreshold,
      banMs,
      peers,
      links,
      ...faults
    } = options
    assertLinkFaults(faults, 'network options')
    if (maxMessageBytes !== undefined) assertLimit(maxMessageBytes, 'maxMessageBytes')
    if (rejectThreshold !== undefined) assertLimit(rejectThreshold, 'rejectThreshold')
    if (
      banMs !== undefined &&
      (typeof banMs !== 'number' || !(banMs >= 0) || !Number.isFinite(banMs))
    ) {
      throw new RangeError('banMs must be a finite, non-negative number')
    }
    this.context = context
    this.name = name
    this.#traceNetwork = name !== 'default'
    this.maxMessageBytes = maxMessageBytes ?? TRANSPORT_LIMITS.defaultMaxMessageBytes
    this.rejectThreshold = rejectThreshold ?? 5
    this.banMs = banMs ?? 60_000
    this.#rng = context.rng.fork(JSON.stringify(['network', name]))
    this.#defaults = { ...DEFAULT_LINK_FAULTS, ...pickLinkFaults(faults) }
    if (peers !== undefined) {
      if (!Array.isArray(peers)) throw new TypeError('peers must be an array')
      for (const { peer, ...overrides } of peers as readonly PeerOverride[]) {
        this.setPeer(peer, overrides)
      }
    }
    if (links !== undefined) {
      if (!Array.isArray(links)) throw new TypeError('links must be an array')
      for (const link of links as readonly LinkOverride[]) {
        const { from, to, ...overrides } = link
        this.#setLink(from, to, overrides)
      }
    }
  }

  get partitioned(): boolean {
    return this.#partitioned
  }

  transport(peerId: PeerId, options: SimTransportOptions = {}): SimTransport {
    const owner = new Life()
    const clock = new VirtualClock(this.context.scheduler, {
      owner,
      invoke: this.context.invoke,
    })
    return this.createTransport(peerId, owner, clock, options)
  }

  /** Creates a transport whose timers and lifetime belong to `owner` (a node incarnation). */
  createTransport(
    peerId: PeerId,
    owner: EventOwner,
    clock: Clock,
    options: SimTransportOptions = {},
  ): SimTransportImpl {
    assertPeerId(peerId, 'peerId')
    const maxMessageBytes = options.maxMessageBytes ?? this.maxMessageBytes
    assertLimit(maxMessageBytes, 'maxMessageBytes')
    let endpoint = this.#endpointById.get(peerId)
    if (endpoint === undefined) {
      endpoint = new Endpoint(peerId)
      endpoint.group = this.#groups.get(peerId) ?? -1
      this.#endpointById.set(peerId, endpoint)
      this.#endpointList.push(endpoint)
    } else if (endpoint.transport?.status === 'started') {
      throw new InvalidArgumentError('peer already has a running transport on this network', {
        details: { peer: peerId, network: this.name },
      })
    }
    const transport = new SimTransportImpl(this, this, endpoint, owner, clock, maxMessageBytes)
    endpoint.transport = transport
    return transport
  }

  peerIds(): PeerId[] {
    return this.#endpointList.map((endpoint) => endpoint.peerId)
  }

  setDefaults(faults: Partial<LinkFaults>): void {
    assertLinkFaults(faults, 'faults')
    this.#defaults = { ...this.#defaults, ...pickLinkFaults(faults) }
    this.#version++
    this.#traceConfig('network-faults', { faults: this.#defaults })
  }

  setPeer(peer: PeerId, faults: Partial<LinkFaults>): void {
    assertPeerId(peer, 'peer')
    assertLinkFaults(faults, 'faults')
    const merged = { ...this.#peerFaults.get(peer), ...pickLinkFaults(faults) }
    this.#peerFaults.set(peer, merged)
    this.#version++
    this.#traceConfig('peer-faults', { peer, faults: merged })
  }

  setLink(
    from: PeerId,
    to: PeerId,
    faults: Partial<LinkFaults>,
    options: { symmetric?: boolean } = {},
  ): void {
    this.#setLink(from, to, faults)
    if (options.symmetric === true) this.#setLink(to, from, faults)
  }

  clearOverrides(): void {
    this.#peerFaults.clear()
    this.#linkFaults.clear()
    this.#version++
    this.#traceConfig('clear-faults', {})
  }

  linkFaults(from: PeerId, to: PeerId): LinkFaults {
    assertPeerId(from, 'from')
    assertPeerId(to, 'to')
    return { ...this.#resolve(from, to) }
  }

  partition(groups: readonly (readonly PeerId[])[], options: PartitionOptions = {}): void {
    if (!Array.isArray(groups)) throw new TypeError('groups must be an array of peer id arrays')
    const assignment = new Map<PeerId, number>()
    groups.forEach((group: unknown, index) => {
      if (!Array.isArray(group)) throw new TypeError(`groups[${index}] must be an array`)
      for (const peer of group as unknown[]) {
        assertPeerId(peer, `groups[${index}] entries`)
        if (assignment.has(peer)) {
          throw new InvalidArgumentError('a peer is in more than one partition group', {
            details: { peer },
          })
        }
        assignment.set(peer, index)
      }
    })
    const healAtMs = options.healAtMs
    const scheduler = this.context.scheduler
    if (healAtMs !== undefined) {
      if (typeof healAtMs !== 'number' || Number.isNaN(healAtMs)) {
        throw new TypeError('healAtMs must be a number')
      }
      if (healAtMs < scheduler.now || !Number.isFinite(healAtMs)) {
        throw new RangeError(`healAtMs must be finite and not before now (${scheduler.now})`)
      }
    }
    if (this.#healEvent !== undefined) scheduler.cancel(this.#healEvent)
    this.#healEvent = undefined
    this.#groups = assignment
    this.#partitioned = true
    for (const endpoint of this.#endpointList) {
      endpoint.group = assignment.get(endpoint.peerId) ?? -1
    }
    this.context.counters.partitions++
    if (this.context.tracing) {
      const fields: Record<string, unknown> = this.#netField()
      fields.groups = groups
      if (healAtMs !== undefined) fields.healAtMs = healAtMs
      this.context.trace('partition', fields)
    }
    if (healAtMs !== undefined) {
      this.#healEvent = scheduler.schedule(healAtMs, () => this.heal(), undefined)
    }
  }

  heal(): void {
    if (this.#healEvent !== undefined) this.context.scheduler.cancel(this.#healEvent)
    this.#healEvent = undefined
    if (!this.#partitioned) return
    this.#partitioned = false
    this.#groups = new Map()
    for (const endpoint of this.#endpointList) endpoint.group = -1
    this.context.counters.heals++
    if (this.context.tracing) this.context.trace('heal', this.#netField())
  }

  isPartitioned(from: PeerId, to: PeerId): boolean {
    if (!this.#partitioned) return false
    return (this.#groups.get(from) ?? -1) !== (this.#groups.get(to) ?? -1)
  }

  crash(peer: PeerId): void {
    assertPeerId(peer, 'peer')
    const transport = this.#endpointById.get(peer)?.transport
    if (transport === undefined) {
      throw new InvalidArgumentError('no transport for this peer', { details: { peer } })
    }
    transport.crash()
    const owner = transport.owner
    if (owner instanceof Life) owner.alive = false
  }

  // ---- NetworkInternals -------------------------------------------------------------------

  endpoints(): readonly Endpoint[] {
    return this.#endpointList
  }

  endpoint(peer: PeerId): Endpoint | undefined {
    return this.#endpointById.get(peer)
  }

  isBanned(by: PeerId, peer: PeerId): boolean {
    if (this.#bans.size === 0) return false
    const key = `${by}\n${peer}`
    const until = this.#bans.get(key)
    if (until === undefined) return false
    if (this.context.scheduler.now < until) return true
    this.#bans.delete(key)
    return false
  }

  apart(a: Endpoint, b: Endpoint): boolean {
    return (
      this.#bans.size > 0 &&
      (this.isBanned(a.peerId, b.peerId) || this.isBanned(b.peerId, a.peerId))
    )
  }

  ban(receiver: Endpoint, sender: Endpoint): void {
    const scheduler = this.context.scheduler
    const until = scheduler.now + this.banMs
    this.#bans.set(`${receiver.peerId}\n${sender.peerId}`, until)
    this.context.counters.messages.disconnects++
    if (this.context.tracing) {
      this.context.trace('disconnect', {
        ...this.#netField(),
        node: receiver.peerId,
        peer: sender.peerId,
        reason: 'penalised',
        untilMs: until,
      })
    }
    receiver.transport?.peerLeft(sender.peerId, 'penalised')
    sender.transport?.peerLeft(receiver.peerId, 'penalised')
    scheduler.schedule(until, this.#banEnded, { receiver, sender })
  }

  attached(transport: SimTransportImpl): void {
    const self = transport.endpoint
    self.epoch++
    for (const endpoint of this.#endpointList) {
      const other = endpoint.transport
      if (endpoint === self || other === undefined || other.status !== 'started') continue
      if (this.apart(self, endpoint)) continue
      this.emitLater(transport, 'peer:connect', endpoint.peerId, undefined)
      this.emitLater(other, 'peer:connect', self.peerId, undefined)
    }
  }

  detached(transport: SimTransportImpl, reason: string): void {
    const self = transport.endpoint
    self.epoch++
    for (const endpoint of this.#endpointList) {
      const other = endpoint.transport
      if (endpoint === self || other === undefined || other.status !== 'started') continue
      if (this.apart(self, endpoint)) continue
      other.peerLeft(self.peerId, reason)
    }
  }

  transmit(
    from: Endpoint,
    to: Endpoint,
    type: Envelope['type'],
    topic: string,
    data: Uint8Array,
    requestId: number,
    error: RemoteError | undefined,
  ): void {
    const context = this.context
    const scheduler = context.scheduler
    const now = scheduler.now
    const envelope: Envelope = {
      id: ++this.#messageSequence,
      from,
      to,
      type,
      topic,
      data,
      sentAt: now,
      receiverEpoch: to.epoch,
      requestId,
      error,
    }
    context.counters.messages.sent++
    if (this.#partitioned && from.group !== to.group) {
      this.drop(envelope, 'partition')
      return
    }
    const link = this.#link(from.peerId, to.peerId)
    const faults = link.faults
    const rng = link.rng
    if (faults.dropProbability > 0 && rng.chance(faults.dropProbability)) {
      this.drop(envelope, 'random')
      return
    }
    let copies = 1
    if (faults.duplicateProbability > 0 && rng.chance(faults.duplicateProbability)) {
      copies = 2
      context.counters.messages.duplicated++
      if (context.tracing) {
        context.trace('duplicate', {
          ...this.#netField(),
          id: envelope.id,
          from: from.peerId,
          to: to.peerId,
        })
      }
    }
    for (let copy = 0; copy < copies; copy++) {
      let delay = sampleLatency(faults.latency, rng)
      if (faults.reorderProbability > 0 && rng.chance(faults.reorderProbability)) {
        delay += rng.uniform(0, faults.reorderDelayMs)
      }
      // Microsecond resolution keeps trace times short and free of float noise.
      const at = Math.max(now, Math.round((now + delay) * 1000) / 1000)
      scheduler.schedule(at, this.#deliver, envelope)
    }
  }

  drop(envelope: Envelope, reason: DropReason): void {
    const context = this.context
    context.counters.messages.dropped++
    context.counters.drops[reason]++
    if (context.tracing) context.trace('drop', this.#messageFields(envelope, reason))
  }

  delivered(envelope: Envelope): void {
    const context = this.context
    context.counters.messages.delivered++
    context.markUserCode()
    if (context.tracing) context.trace('deliver', this.#messageFields(envelope, undefined))
  }

  rejected(receiver: Endpoint, sender: Endpoint, topic: string, count: number): void {
    this.context.counters.messages.rejected++
    if (this.context.tracing) {
      this.context.trace('reject', {
        ...this.#netField(),
        node: receiver.peerId,
        from: sender.peerId,
        topic,
        count,
      })
    }
  }

  handlerError(receiver: Endpoint, envelope: Envelope, error: unknown): void {
    this.context.counters.messages.handlerErrors++
    if (this.context.tracing) {
      this.context.trace('handler-error', {
        ...this.#netField(),
        node: receiver.peerId,
        id: envelope.id,
        from: envelope.from.peerId,
        topic: envelope.topic,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      })
    }
  }

  requestTimedOut(requester: Endpoint, peer: PeerId, protocol: string, requestId: number): void {
    if (this.context.tracing) {
      this.context.trace('timeout', {
        ...this.#netField(),
        node: requester.peerId,
        peer,
        protocol,
        request: requestId,
      })
    }
  }

  // ---- internals ------------------------------------------------------------------------------

  readonly #deliver = (envelope: Envelope): void => {
    const receiver = envelope.to
    const transport = receiver.transport
    if (
      transport === undefined ||
      transport.status !== 'started' ||
      receiver.epoch !== envelope.receiverEpoch
    ) {
      this.drop(envelope, 'receiver-down')
      return
    }
    if (this.#partitioned && envelope.from.group !== receiver.group) {
      this.drop(envelope, 'partition')
      return
    }
    if (this.apart(envelope.from, receiver)) {
      this.drop(envelope, 'disconnected')
      return
    }
    if (envelope.data.length > transport.maxMessageBytes) {
      this.drop(envelope, 'too-large')
      transport.penalize(envelope.from, envelope.topic)
      return
    }
    switch (envelope.type) {
      case 'gossip':
      case 'direct':
        transport.receiveMessage(envelope)
        return
      case 'request':
        transport.receiveRequest(envelope)
        return
      case 'response':
        transport.receiveResponse(envelope)
        return
    }
  }

  readonly #fireEvent = (event: TransportEvent): void => {
    this.context.markUserCode()
    if (event.event === 'peer:connect') {
      event.transport.emit('peer:connect', { peer: event.peer })
    } else if (event.reason === undefined) {
      event.transport.emit('peer:disconnect', { peer: event.peer })
    } else {
      event.transport.emit('peer:disconnect', { peer: event.peer, reason: event.reason })
    }
  }

  readonly #banEnded = (pair: { receiver: Endpoint; sender: Endpoint }): void => {
    const { receiver, sender } = pair
    const first = receiver.transport
    const second = sender.transport
    if (first?.status !== 'started' || second?.status !== 'started') return
    if (this.apart(receiver, sender)) return
    // Connectivity is implicit (started and not apart), so the pair is connected again: say so.
    this.emitLater(first, 'peer:connect', sender.peerId, undefined)
    this.emitLater(second, 'peer:connect', receiver.peerId, undefined)
  }

  /** Emits a transport event as an event at the current virtual time. */
  emitLater(
    transport: SimTransportImpl,
    event: TransportEvent['event'],
    peer: PeerId,
    reason: string | undefined,
  ): void {
    const scheduler = this.context.scheduler
    scheduler.schedule(
      scheduler.now,
      this.#fireEvent,
      { transport, event, peer, reason },
      transport.owner,
    )
  }

  #setLink(from: PeerId, to: PeerId, faults: Partial<LinkFaults>): void {
    assertPeerId(from, 'from')
    assertPeerId(to, 'to')
    assertLinkFaults(faults, 'faults')
    let byReceiver = this.#linkFaults.get(from)
    if (byReceiver === undefined) {
      byReceiver = new Map()
      this.#linkFaults.set(from, byReceiver)
    }
    const merged = { ...byReceiver.get(to), ...pickLinkFaults(faults) }
    byReceiver.set(to, merged)
    this.#version++
    this.#traceConfig('link-faults', { from, to, faults: merged })
  }

  #resolve(from: PeerId, to: PeerId): LinkFaults {
    return {
      ...this.#defaults,
      ...this.#peerFaults.get(from),
      ...this.#peerFaults.get(to),
      ...this.#linkFaults.get(from)?.get(to),
    }
  }

  #link(from: PeerId, to: PeerId): LinkState {
    let byReceiver = this.#links.get(from)
    if (byReceiver === undefined) {
      byReceiver = new Map()
      this.#links.set(from, byReceiver)
    }
    let link = byReceiver.get(to)
    if (link === undefined) {
      link = {
        rng: this.#rng.fork(JSON.stringify(['link', from, to])),
        faults: this.#resolve(from, to),
        version: this.#version,
      }
      byReceiver.set(to, link)
    } else if (link.version !== this.#version) {
      link.faults = this.#resolve(from, to)
      link.version = this.#version
    }
    return link
  }

  #netField(): Record<string, unknown> {
    return this.#traceNetwork ? { net: this.name } : {}
  }

  #traceConfig(kind: string, fields: Record<string, unknown>): void {
    if (this.context.tracing) this.context.trace(kind, { ...this.#netField(), ...fields })
  }

  #messageFields(envelope: Envelope, reason: DropReason | undefined): Record<string, unknown> {
    const fields: Record<string, unknown> = this.#netField()
    fields.id = envelope.id
    fields.from = envelope.from.peerId
    fields.to = envelope.to.peerId
    fields.type = envelope.type
    fields.topic = envelope.topic
    if (envelope.requestId !== 0) fields.request = envelope.requestId
    if (reason === undefined) fields.sentAt = envelope.sentAt
    else fields.reason = reason
    if (envelope.error !== undefined) fields.error = envelope.error.name
    fields.data = toHex(envelope.data)
    return fields
  }
}
