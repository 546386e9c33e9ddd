/**
 * The `Transport` plug-in: authenticated messaging between peers. Peers are identified by a
 * string id derived from their key (for libp2p, the peer id). Topics fan messages out to every
 * subscriber (gossip); `send` reaches one peer; `request` asks one peer and awaits its answer.
 */
import { InvalidArgumentError, MessageTooLargeError, UnknownTopicError } from './errors.js'
import type { Startable } from './startable.js'

/** A peer's identity as a printable string (for libp2p, the base58 peer id). */
export type PeerId = string

/** What a subscriber decides about a message: accept it (and let it propagate), ignore it, or reject it and penalise the sender. */
export type ValidationResult = 'accept' | 'ignore' | 'reject'

/** A message delivered to a subscriber. */
export interface InboundMessage {
  /** The topic it was published or sent on. */
  topic: string
  /** The authenticated peer it came from (for gossip, the peer that relayed it to us). */
  from: PeerId
  /** The payload. */
  data: Uint8Array
  /** `gossip` for `publish`, `direct` for `send`. */
  kind: 'gossip' | 'direct'
}

/** Handles a message and tells the transport what to do with its sender. */
export type MessageHandler = (
  message: InboundMessage,
) => ValidationResult | Promise<ValidationResult>

/** Answers a request; throwing a `RejectionError` with action `reject` penalises the requester. */
export type RequestHandler = (request: { from: PeerId; data: Uint8Array }) => Promise<Uint8Array>

/** Payloads of the transport's events. */
export interface TransportEvents {
  /** A peer connected. */
  'peer:connect': { peer: PeerId }
  /** A peer disconnected (or was disconnected for misbehaviour). */
  'peer:disconnect': { peer: PeerId; reason?: string }
}

/** Limits every transport enforces. */
export const TRANSPORT_LIMITS = {
  /** Default largest payload of a message, in bytes. */
  defaultMaxMessageBytes: 1024 * 1024,
  /** Longest topic or protocol name, in bytes of UTF-8. */
  maxTopicLength: 128,
  /** Default deadline of a request, in milliseconds. */
  defaultRequestTimeoutMs: 10_000,
} as const

/** Topic and protocol names: lowercase letters, digits and `/ . _ -`, 1 to 128 characters. */
export const TOPIC_PATTERN = /^[a-z0-9/._-]{1,128}$/

/**
 * Authenticated peer messaging.
 *
 * Outbound payloads larger than {@link Transport.maxMessageBytes} reject with
 * `MessageTooLargeError`; inbound ones are dropped and count against the sender. A sender whose
 * messages are rejected repeatedly is disconnected. Operations before `start` or after `stop`
 * reject with `NotStartedError`.
 */
export interface Transport extends Startable {
  /** This node's peer id. */
  readonly peerId: PeerId
  /** Largest payload accepted, in bytes. */
  readonly maxMessageBytes: number
  /** Publishes to every peer subscribed to `topic` (not delivered back to this node). */
  publish(topic: string, data: Uint8Array): Promise<void>
  /** Delivers `data` on `topic` to one connected peer's subscribers, as a `direct` message. */
  send(peer: PeerId, topic: string, data: Uint8Array): Promise<void>
  /** Subscribes to `topic`; returns a function that unsubscribes. One handler per topic. */
  subscribe(topic: string, handler: MessageHandler): () => void
  /** Sends a request on `protocol` to `peer` and resolves with its answer. */
  request(
    peer: PeerId,
    protocol: string,
    data: Uint8Array,
    options?: { timeoutMs?: number },
  ): Promise<Uint8Array>
  /** Serves requests on `protocol`; returns a function that stops serving. */
  handle(protocol: string, handler: RequestHandler): () => void
  /** The peers connected now. */
  peers(): PeerId[]
  /** Listens to an event; returns a function that removes the listener. */
  on<K extends keyof TransportEvents>(
    event: K,
    listener: (detail: TransportEvents[K]) => void,
  ): () => void
}

/**
 * Checks a topic or protocol name: a `TypeError` unless it is a string, an `UnknownTopicError`
 * unless it matches {@link TOPIC_PATTERN}. Transport implementations call it so that every
 * implementation refuses the same names the same way.
 */
export function assertTopic(topic: unknown, name = 'topic'): asserts topic is string {
  if (typeof topic !== 'string') {
    throw new TypeError(`${name} must be a string, got ${topic === null ? 'null' : typeof topic}`)
  }
  if (!TOPIC_PATTERN.test(topic)) {
    throw new UnknownTopicError(`malformed ${name}`, {
      details: {
        [name]: topic.slice(0, TRANSPORT_LIMITS.maxTopicLength + 1),
        pattern: String(TOPIC_PATTERN),
      },
    })
  }
}

/**
 * Checks an outbound payload: a `TypeError` unless it is a `Uint8Array`, a
 * `MessageTooLargeError` when it is longer than `maxBytes`.
 */
export function assertPayload(
  data: unknown,
  maxBytes: number,
  name = 'data',
): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) {
    const type = typeof data === 'object' && data !== null ? data.constructor?.name : undefined
    throw new TypeError(
      `${name} must be a Uint8Array, got ${type ?? String(data === null ? null : typeof data)}`,
    )
  }
  if (data.length > maxBytes) {
    throw new MessageTooLargeError(`${name} is larger than the message limit`, {
      details: { bytes: data.length, maxBytes },
    })
  }
}

/**
 * The handlers of one transport, at most one per topic (or protocol), with the registration
 * rules every implementation shares: names must match {@link TOPIC_PATTERN}, handlers must be
 * functions, a second handler for a name is refused, and the function returned by {@link add}
 * removes only the handler it added.
 */
export class HandlerRegistry<H> {
  readonly #handlers = new Map<string, H>()
  readonly #kind: 'topic' | 'protocol'

  /** @param kind what the names are, for error messages: `topic` or `protocol`. */
  constructor(kind: 'topic' | 'protocol') {
    this.#kind = kind
  }

  /**
   * Registers `handler` for `name`; returns a function that unregisters it and then calls
   * `onRemove` (for example to leave a gossip topic).
   *
   * @throws TypeError when `name` is not a string or `handler` not a function.
   * @throws UnknownTopicError when `name` is malformed.
   * @throws InvalidArgumentError when `name` already has a handler.
   */
  add(name: string, handler: H, onRemove?: () => void): () => void {
    assertTopic(name, this.#kind)
    if (typeof handler !== 'function') {
      throw new TypeError(`handler must be a function, got ${typeof handler}`)
    }
    if (this.#handlers.has(name)) {
      throw new InvalidArgumentError(`${this.#kind} already has a handler`, {
        details: { [this.#kind]: name },
      })
    }
    this.#handlers.set(name, handler)
    return () => {
      if (this.#handlers.get(name) !== handler) return
      this.#handlers.delete(name)
      onRemove?.()
    }
  }

  /** The handler of `name`, if any. */
  get(name: string): H | undefined {
    return this.#handlers.get(name)
  }

  /** Whether `name` has a handler. */
  has(name: string): boolean {
    return this.#handlers.has(name)
  }

  /** The names with a handler, in registration order. */
  names(): IterableIterator<string> {
    return this.#handlers.keys()
  }
}
