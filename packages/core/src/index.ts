/**
 * Plug-in interfaces (store, transport, consensus, application), errors, the deterministic
 * DAG-CBOR codec, in-memory reference plug-ins and the components (clock, randomness, logging,
 * metrics) shared by every Metanode package. Compliance suites live in
 * `@metanode/core/compliance`.
 *
 * @example
 * ```ts
 * import { createMemoryNetwork, decodeAs, encode, MemoryStore, shape } from '@metanode/core'
 *
 * const Greeting = shape.object({ text: shape.string({ max: 64 }) })
 *
 * const network = createMemoryNetwork()
 * const alice = network.transport({ peerId: 'alice' })
 * const bob = network.transport({ peerId: 'bob' })
 * await alice.start()
 * await bob.start()
 *
 * const store = new MemoryStore()
 * await store.open()
 * bob.subscribe('greetings', async (message) => {
 *   const { text } = decodeAs(message.data, Greeting) // throws DecodeError: counted as 'ignore'
 *   await store.put(new TextEncoder().encode(message.from), new TextEncoder().encode(text))
 *   return 'accept'
 * })
 *
 * await alice.publish('greetings', encode({ text: 'hello' }))
 * await network.settle()
 * new TextDecoder().decode(await store.get(new TextEncoder().encode('alice'))) // 'hello'
 * ```
 *
 * @packageDocumentation
 */

export { compareBytes, isKeyInRange } from './bytes-order.js'
export type {
  BigIntBounds,
  DecodeOptions,
  EncodeOptions,
  Infer,
  IntegerBounds,
  LengthBounds,
  ObjectOf,
  OptionalShape,
  PropertyShapes,
  Shape,
  ShapeBuilders,
} from './codec.js'
export { CODEC_LIMITS, cidOf, decode, decodeAs, encode, shape } from './codec.js'
export type {
  Clock,
  Components,
  Counter,
  Gauge,
  Histogram,
  HistogramOptions,
  Logger,
  LogLevel,
  MetricLabels,
  MetricOptions,
  Metrics,
  Rng,
  TimerHandle,
} from './components.js'
export {
  cryptoRng,
  defaultComponents,
  noopMetrics,
  silentLogger,
  systemClock,
} from './components.js'
export type {
  Application,
  CommitCertificate,
  ConsensusEngine,
  ConsensusEvents,
  EquivocationEvidence,
  FinalizedBlock,
  ProposalContext,
  ProposalVerdict,
  Validator,
  ValidatorSet,
} from './consensus.js'
export type { ErrorDetails, MetanodeErrorOptions, RejectionAction } from './errors.js'
export {
  DecodeError,
  EncodeError,
  InvalidArgumentError,
  isMetanodeError,
  MessageTooLargeError,
  MetanodeError,
  NotStartedError,
  PeerUnreachableError,
  RejectionError,
  StoreClosedError,
  TimeoutError,
  UnknownTopicError,
} from './errors.js'
export type { EventListener, TypedEventEmitterOptions } from './events.js'
export { TypedEventEmitter } from './events.js'
export { MemoryStore, memoryStore } from './memory-store.js'
export type {
  MemoryNetwork,
  MemoryNetworkOptions,
  MemoryTransportInit,
} from './memory-transport.js'
export { createMemoryNetwork } from './memory-transport.js'
export type { Startable } from './startable.js'
export { isStartable, startAll, stopAll } from './startable.js'
export type {
  BatchOperation,
  RangeOptions,
  Store,
  StoreEntry,
  StoreFactory,
  StoreStatus,
} from './store.js'
export {
  assertBatch,
  assertRangeOptions,
  assertStoreKey,
  assertStoreValue,
  copyRangeOptions,
  STORE_LIMITS,
} from './store.js'
export type {
  InboundMessage,
  MessageHandler,
  PeerId,
  RequestHandler,
  Transport,
  TransportEvents,
  ValidationResult,
} from './transport.js'
export {
  assertPayload,
  assertTopic,
  HandlerRegistry,
  TOPIC_PATTERN,
  TRANSPORT_LIMITS,
} from './transport.js'
