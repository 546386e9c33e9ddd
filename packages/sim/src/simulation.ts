/**
 * The simulation: a virtual clock and event queue, a seeded generator, simulated networks, and a
 * harness that runs nodes, crashes and restarts them.
 *
 * ## How async node code stays deterministic
 *
 * Nodes are ordinary promise-based code. The run loop takes one event off the queue, runs it, and
 * then (if the event ran any node code) waits for a `setImmediate` turn of the real event loop.
 * Node drains the whole microtask queue before it runs an immediate, so by then every promise
 * chain the event started has run as far as it can without outside input: an `await` on a store
 * write, a handler's verdict, a request answered by a timer. Only then does the next event run.
 * Each event's consequences therefore happen "at" its virtual time and in a fixed order, and the
 * same seed gives the same run.
 *
 * The rule this puts on node code: only wait on things the simulation drives (virtual timers,
 * the simulated transport, the store it was given, other promises). Real I/O, real timers and
 * worker threads complete at wall-clock moments and would make a run irreproducible.
 */
import {
  type Clock,
  type Components,
  InvalidArgumentError,
  isStartable,
  type Logger,
  type LogLevel,
  type Metrics,
  memoryStore,
  noopMetrics,
  type PeerId,
  type Startable,
  type Store,
  silentLogger,
} from '@metanode/core'
import { VirtualClock } from './clock.js'
import { isThenable, Life, type SimulationContext } from './context.js'
import { FencedStore } from './fenced-store.js'
import { assertLogLevel, TraceLogger } from './logger.js'
import { type NetworkOptions, type SimNetwork, SimNetworkImpl } from './network.js'
import { type Seed, SeededRng } from './rng.js'
import { type EventHandle, Scheduler } from './scheduler.js'
import { createCounters, type SimulationStats, type StatsCounters } from './stats.js'
import { type TraceSink, traceJson } from './trace.js'
import type { SimTransport, SimTransportImpl } from './transport.js'

/** Options of {@link createSimulation}. */
export interface SimulationOptions {
  /** The seed every random decision derives from. */
  seed: Seed
  /** Where the trace goes; without one, no trace lines are even built. */
  trace?: TraceSink
  /** What clocks report at virtual time 0, in milliseconds since the Unix epoch (default 0). */
  epochMs?: number
  /** Node log entries at this level or above become `log` trace lines (default: none). */
  logLevel?: LogLevel
}

/** Run until this virtual time (milliseconds), or until the predicate holds. */
export type RunTarget = number | ((sim: Simulation) => boolean)

/** Progress of a run, reported every `progressEvery` events. */
export interface RunProgress {
  /** Virtual time in milliseconds. */
  nowMs: number
  /** Events run by this call so far. */
  events: number
}

/** Options of {@link Simulation.runUntil}. */
export interface RunOptions {
  /** Stop after this many events (default: no limit). */
  maxEvents?: number
  /** Called every `progressEvery` events and once at the end. */
  onProgress?: (progress: RunProgress) => void
  /** Events between progress reports (default 10,000). */
  progressEvery?: number
}

/** Why a run stopped and where. */
export interface RunResult {
  /**
   * `time`: the target time was reached; `predicate`: the predicate held; `idle`: no event was
   * left before the predicate held; `max-events`: the event budget ran out.
   */
  reason: 'time' | 'predicate' | 'idle' | 'max-events'
  /** Virtual time at the end, in milliseconds. */
  nowMs: number
  /** Events run by this call. */
  events: number
}

/** The components a simulated node is built from: core's `Components` and more. */
export interface SimNodeComponents extends Components {
  /** The node's id, which is also its peer id on the network. */
  peerId: PeerId
  /** Virtual time; the node's timers die with it when it crashes. */
  clock: Clock
  /** The node's own seeded stream (a new one for every incarnation). */
  rng: SeededRng
  /** Writes to the trace when the simulation has a `logLevel`; silent otherwise. */
  logger: Logger
  /** Metrics (a no-op in simulation). */
  metrics: Metrics
  /** The node's transport on its network, already started. */
  transport: SimTransport
  /** The node's store, already open; it survives a crash with `keepStore: true`. */
  store: Store
  /** 0 for the first start, then one more for each restart. */
  incarnation: number
  /** Records a custom `event` trace line for this node. */
  trace(event: string, details?: Record<string, unknown>): void
  /** Reports a violated invariant (it also becomes a trace line). */
  violation(message: string, details?: Record<string, unknown>): void
}

/** Builds a node from its components; called again, with fresh components, on every restart. */
export type NodeFactory<N extends Startable = Startable> = (
  components: SimNodeComponents,
) => N | Promise<N>

/** Options of {@link Simulation.addNode}. */
export interface AddNodeOptions {
  /** The network to join (default: {@link Simulation.defaultNetwork}). */
  network?: SimNetwork
  /** Creates the node's store, now and after a crash that loses it (default: core's memory store). */
  store?: () => Store
  /** Largest payload of the node's transport (default: the network's). */
  maxMessageBytes?: number
}

/** Options of {@link Simulation.crash}. */
export interface CrashOptions {
  /** Whether the store survives (a disk that outlives the process) or is lost (a wiped machine). */
  keepStore: boolean
}

/** Where a node is in its life. */
export type NodeStatus = 'starting' | 'running' | 'crashed' | 'stopped'

/** A violated invariant, reported by a node, a check or a test. */
export interface Violation {
  /** Virtual time of the report, in milliseconds. */
  t: number
  /** What went wrong. */
  message: string
  /** The node that reported it, if any. */
  node?: PeerId
  /** Structured context. */
  details?: Record<string, unknown>
}

/**
 * A deterministic simulation of a cluster. Create one with {@link createSimulation}.
 *
 * Nothing runs until a `run*` or `step` call: those pop events in virtual-time order (ties in the
 * order they were scheduled) and drain node code between events. Only one run may be in progress
 * at a time; calling `runUntil` from inside an event is an `InvalidArgumentError`.
 */
export interface Simulation {
  /** The seed of this run. */
  readonly seed: Seed
  /** The root generator. Fork it for each independent use; draws from it never affect nodes. */
  readonly rng: SeededRng
  /** A clock on virtual time for test and scenario code (not tied to any node). */
  readonly clock: Clock
  /** The event queue. */
  readonly scheduler: Scheduler
  /** Current virtual time in milliseconds. */
  readonly now: number
  /** Whether a run is in progress. */
  readonly running: boolean
  /** Violations reported so far. */
  readonly violations: readonly Violation[]
  /** The network nodes join by default: the first one created, or a new fault-free one. */
  readonly defaultNetwork: SimNetwork
  /** Runs `callback` at virtual time `atMs` (not in the past); a returned promise is watched. */
  schedule(atMs: number, callback: () => unknown): EventHandle
  /** Cancels a scheduled event; returns whether it was still pending. */
  cancel(handle: EventHandle): boolean
  /**
   * Runs events up to and including virtual time `target` (then sets the clock to it), or until
   * `target(sim)` holds. Rejects with the first error thrown by an event callback or by a promise
   * one returned, or thrown by a transport event listener.
   */
  runUntil(target: RunTarget, options?: RunOptions): Promise<RunResult>
  /** Runs for `ms` more virtual milliseconds. */
  runFor(ms: number, options?: RunOptions): Promise<RunResult>
  /** Runs the next event (and the node code it triggers); false when the queue is empty. */
  step(): Promise<boolean>
  /** Creates a network; names must be unique (the first defaults to `default`). */
  network(options?: NetworkOptions): SimNetwork
  /**
   * Adds a node: opens its store, starts its transport, builds it with `factory` and starts it.
   * Its `start` must not wait on virtual time (nothing advances it while `addNode` is awaited).
   */
  addNode<N extends Startable>(
    id: PeerId,
    factory: NodeFactory<N>,
    options?: AddNodeOptions,
  ): Promise<N>
  /** The running instance of node `id` (`undefined` while it is crashed or stopped). */
  node<N extends Startable = Startable>(id: PeerId): N | undefined
  /** Where node `id` is in its life, or `undefined` for an unknown id. */
  nodeStatus(id: PeerId): NodeStatus | undefined
  /** Ids of every node added, in the order they were added. */
  nodeIds(): PeerId[]
  /**
   * Crashes node `id` at the current virtual time: it gets no chance to clean up, its timers
   * never fire, its transport disconnects and messages in flight to it are lost, and its pending
   * work never resumes. With `keepStore: false` its store is replaced by an empty one.
   */
  crash(id: PeerId, options: CrashOptions): void
  /** Starts a crashed or stopped node again as a new incarnation built by the same factory. */
  restart<N extends Startable = Startable>(id: PeerId): Promise<N>
  /** Stops node `id` gracefully (node, then transport, then store); `restart` brings it back. */
  stopNode(id: PeerId): Promise<void>
  /** Writes a custom `event` trace line. */
  record(event: string, details?: Record<string, unknown>): void
  /** Reports a violated invariant. */
  violation(message: string, details?: Record<string, unknown>): void
  /** A snapshot of the counters. */
  stats(): SimulationStats
  /** Stops every running node gracefully (latest first) and closes the trace sink. */
  stop(): Promise<void>
}

interface NodeRecord {
  readonly id: PeerId
  readonly factory: NodeFactory<Startable>
  readonly network: SimNetworkImpl
  readonly createStore: () => Store
  readonly maxMessageBytes: number | undefined
  store: Store
  incarnation: number
  life: Life
  status: NodeStatus
  instance: Startable | undefined
  transport: SimTransportImpl | undefined
}

const DEFAULT_PROGRESS_EVERY = 10_000

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve))
}

function assertNodeId(value: unknown): asserts value is PeerId {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError('node id must be a non-empty string')
  }
}

function assertEventName(value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError('event must be a non-empty string')
  }
}

class SimulationImpl implements Simulation, SimulationContext {
  readonly seed: Seed
  readonly rng: SeededRng
  readonly scheduler = new Scheduler()
  readonly clock: Clock
  readonly counters: StatsCounters = createCounters()
  readonly tracing: boolean
  readonly #sink: TraceSink | undefined
  readonly #epochMs: number
  readonly #logLevel: LogLevel | undefined
  readonly #networks: SimNetworkImpl[] = []
  readonly #nodes = new Map<PeerId, NodeRecord>()
  readonly #violations: Violation[] = []
  #running = false
  #stopped = false
  #userCodeRan = false
  #failure: { error: unknown } | undefined

  constructor(options: SimulationOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('options must be an object')
    }
    this.rng = new SeededRng(options.seed)
    this.seed = options.seed
    const trace = options.trace
    if (trace !== undefined && (typeof trace !== 'object' || typeof trace.write !== 'function')) {
      throw new TypeError('trace must be a TraceSink')
    }
    this.#sink = trace
    this.tracing = trace !== undefined
    this.#epochMs = options.epochMs ?? 0
    if (options.logLevel !== undefined) assertLogLevel(options.logLevel)
    this.#logLevel = options.logLevel
    this.clock = new VirtualClock(this.scheduler, { epochMs: this.#epochMs, invoke: this.invoke })
    if (this.tracing) this.trace('simulation', { seed: this.seed, epochMs: this.#epochMs })
  }

  // ---- SimulationContext ------------------------------------------------------------------------

  readonly invoke = (callback: () => unknown): void => {
    this.#userCodeRan = true
    const result = callback()
    if (isThenable(result)) result.then(undefined, this.recordFailure)
  }

  markUserCode(): void {
    this.#userCodeRan = true
  }

  watch(result: unknown): void {
    if (isThenable(result)) result.then(undefined, this.recordFailure)
  }

  readonly recordFailure = (error: unknown): void => {
    this.#failure ??= { error }
  }

  trace(kind: string, fields: Record<string, unknown>): void {
    this.#sink?.write(JSON.stringify({ t: this.scheduler.now, kind, ...fields }))
  }

  // ---- Simulation -------------------------------------------------------------------------------

  get now(): number {
    return this.scheduler.now
  }

  get running(): boolean {
    return this.#running
  }

  get violations(): readonly Violation[] {
    return this.#violations
  }

  get defaultNetwork(): SimNetwork {
    return this.#networks[0] ?? this.network()
  }

  schedule(atMs: number, callback: () => unknown): EventHandle {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function')
    return this.scheduler.schedule(atMs, this.invoke, callback)
  }

  cancel(handle: EventHandle): boolean {
    return this.scheduler.cancel(handle)
  }

  async runUntil(target: RunTarget, options: RunOptions = {}): Promise<RunResult> {
    const predicate = typeof target === 'function' ? target : undefined
    if (predicate === undefined) {
      if (typeof target !== 'number' || Number.isNaN(target)) {
        throw new TypeError('target must be a virtual time in milliseconds or a predicate')
      }
      if (target < this.scheduler.now || !Number.isFinite(target)) {
        throw new RangeError(`target must be finite and not before now (${this.scheduler.now})`)
      }
    }
    const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY
    if (typeof maxEvents !== 'number' || !(maxEvents >= 0)) {
      throw new RangeError('maxEvents must be a non-negative number')
    }
    const progressEvery = options.progressEvery ?? DEFAULT_PROGRESS_EVERY
    if (!Number.isSafeInteger(progressEvery) || progressEvery < 1) {
      throw new RangeError('progressEvery must be a positive integer')
    }
    const onProgress = options.onProgress
    if (this.#running) {
      throw new InvalidArgumentError('the simulation is already running', {
        details: { now: this.scheduler.now },
      })
    }
    this.#running = true
    try {
      // Settle whatever setup code left in flight before the first event.
      await yieldToEventLoop()
      this.#throwFailure()
      const scheduler = this.scheduler
      let events = 0
      const finish = (reason: RunResult['reason']): RunResult => {
        onProgress?.({ nowMs: scheduler.now, events })
        return { reason, nowMs: scheduler.now, events }
      }
      for (;;) {
        if (predicate?.(this)) return finish('predicate')
        if (events >= maxEvents) return finish('max-events')
        const next = scheduler.nextTime()
        if (predicate === undefined && (next === undefined || next > (target as number))) {
          scheduler.advanceTo(target as number)
          return finish('time')
        }
        if (next === undefined) return finish('idle')
        this.#userCodeRan = false
        scheduler.runNext()
        events++
        if (this.#userCodeRan) await yieldToEventLoop()
        this.#throwFailure()
        if (onProgress !== undefined && events % progressEvery === 0) {
          onProgress({ nowMs: scheduler.now, events })
        }
      }
    } finally {
      this.#running = false
    }
  }

  runFor(ms: number, options?: RunOptions): Promise<RunResult> {
    if (typeof ms !== 'number' || Number.isNaN(ms)) {
      return Promise.reject(new TypeError('ms must be a number'))
    }
    if (ms < 0) return Promise.reject(new RangeError(`ms must not be negative, got ${ms}`))
    return this.runUntil(this.scheduler.now + ms, options)
  }

  async step(): Promise<boolean> {
    const result = await this.runUntil(() => false, { maxEvents: 1 })
    return result.events === 1
  }

  network(options: NetworkOptions = {}): SimNetwork {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('network options must be an object')
    }
    const name =
      options.name ?? (this.#networks.length === 0 ? 'default' : `network-${this.#networks.length}`)
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError('network name must be a non-empty string')
    }
    if (this.#networks.some((network) => network.name === name)) {
      throw new InvalidArgumentError('a network with this name exists', { details: { name } })
    }
    const network = new SimNetworkImpl(this, name, options)
    this.#networks.push(network)
    return network
  }

  async addNode<N extends Startable>(
    id: PeerId,
    factory: NodeFactory<N>,
    options: AddNodeOptions = {},
  ): Promise<N> {
    assertNodeId(id)
    if (typeof factory !== 'function') throw new TypeError('factory must be a function')
    if (this.#nodes.has(id)) {
      throw new InvalidArgumentError('a node with this id exists', { details: { node: id } })
    }
    const network = options.network ?? this.defaultNetwork
    if (!(network instanceof SimNetworkImpl) || !this.#networks.includes(network)) {
      throw new InvalidArgumentError('network does not belong to this simulation')
    }
    const createStore = options.store ?? memoryStore()
    if (typeof createStore !== 'function') throw new TypeError('store must be a function')
    const record: NodeRecord = {
      id,
      factory: factory as NodeFactory<Startable>,
      network,
      createStore,
      maxMessageBytes: options.maxMessageBytes,
      store: createStore(),
      incarnation: 0,
      life: new Life(),
      status: 'starting',
      instance: undefined,
      transport: undefined,
    }
    this.#nodes.set(id, record)
    if (this.tracing) this.trace('start', { node: id })
    return (await this.#boot(record)) as N
  }

  node<N extends Startable = Startable>(id: PeerId): N | undefined {
    const record = this.#nodes.get(id)
    return record?.status === 'running' ? (record.instance as N) : undefined
  }

  nodeStatus(id: PeerId): NodeStatus | undefined {
    return this.#nodes.get(id)?.status
  }

  nodeIds(): PeerId[] {
    return [...this.#nodes.keys()]
  }

  crash(id: PeerId, options: CrashOptions): void {
    const record = this.#record(id)
    if (typeof options !== 'object' || options === null || typeof options.keepStore !== 'boolean') {
      throw new TypeError('crash options must be { keepStore: boolean }')
    }
    if (record.status !== 'running' && record.status !== 'starting') {
      throw new InvalidArgumentError('node is not running', {
        details: { node: id, status: record.status },
      })
    }
    record.life.alive = false
    record.transport?.crash()
    record.instance = undefined
    record.status = 'crashed'
    // A lost store is replaced now, so whatever the dead incarnation was writing goes nowhere.
    if (!options.keepStore) record.store = record.createStore()
    this.counters.crashes++
    if (this.tracing) {
      this.trace('crash', {
        node: id,
        incarnation: record.incarnation,
        keepStore: options.keepStore,
      })
    }
  }

  async restart<N extends Startable = Startable>(id: PeerId): Promise<N> {
    const record = this.#record(id)
    if (record.status !== 'crashed' && record.status !== 'stopped') {
      throw new InvalidArgumentError('node is not crashed or stopped', {
        details: { node: id, status: record.status },
      })
    }
    record.incarnation++
    record.status = 'starting'
    this.counters.restarts++
    if (this.tracing) this.trace('restart', { node: id, incarnation: record.incarnation })
    return (await this.#boot(record)) as N
  }

  async stopNode(id: PeerId): Promise<void> {
    const record = this.#record(id)
    if (record.status !== 'running') {
      throw new InvalidArgumentError('node is not running', {
        details: { node: id, status: record.status },
      })
    }
    record.status = 'stopped'
    const instance = record.instance
    record.instance = undefined
    if (this.tracing) this.trace('stop', { node: id, incarnation: record.incarnation })
    try {
      await instance?.stop()
      await record.transport?.stop()
      await record.store.close()
    } finally {
      // Whatever the stopped incarnation still has in flight must not touch the next one.
      record.life.alive = false
    }
  }

  record(event: string, details?: Record<string, unknown>): void {
    assertEventName(event)
    if (this.tracing) this.#customLine('event', undefined, event, details)
  }

  violation(message: string, details?: Record<string, unknown>): void {
    this.#violation(message, undefined, details)
  }

  stats(): SimulationStats {
    const counters = this.counters
    let aliveNodes = 0
    for (const record of this.#nodes.values()) if (record.status === 'running') aliveNodes++
    return {
      nowMs: this.scheduler.now,
      events: this.scheduler.executed,
      discardedEvents: this.scheduler.discarded,
      messages: { ...counters.messages },
      drops: { ...counters.drops },
      crashes: counters.crashes,
      restarts: counters.restarts,
      partitions: counters.partitions,
      heals: counters.heals,
      violations: this.#violations.length,
      nodes: this.#nodes.size,
      aliveNodes,
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    const errors: unknown[] = []
    for (const record of [...this.#nodes.values()].reverse()) {
      if (record.status !== 'running') continue
      try {
        await this.stopNode(record.id)
      } catch (error) {
        errors.push(error)
      }
    }
    try {
      await this.#sink?.close?.()
    } catch (error) {
      errors.push(error)
    }
    if (errors.length === 1) throw errors[0]
    if (errors.length > 1) throw new AggregateError(errors, 'several nodes failed to stop')
  }

  // ---- internals --------------------------------------------------------------------------------

  async #boot(record: NodeRecord): Promise<Startable> {
    const life = new Life()
    record.life = life
    const id = record.id
    const clock = new VirtualClock(this.scheduler, {
      epochMs: this.#epochMs,
      owner: life,
      invoke: this.invoke,
    })
    const transportOptions =
      record.maxMessageBytes === undefined ? {} : { maxMessageBytes: record.maxMessageBytes }
    const transport = record.network.createTransport(id, life, clock, transportOptions)
    record.transport = transport
    const store = new FencedStore(record.store, life)
    const incarnation = record.incarnation
    const components: SimNodeComponents = {
      peerId: id,
      clock,
      rng: this.rng.fork(JSON.stringify(['node', id, incarnation])),
      logger: this.#loggerFor(id, incarnation, life),
      metrics: noopMetrics,
      transport,
      store,
      incarnation,
      trace: (event, details) => {
        assertEventName(event)
        if (life.alive && this.tracing) this.#customLine('event', id, event, details)
      },
      violation: (message, details) => {
        if (life.alive) this.#violation(message, id, details)
      },
    }
    try {
      await store.open()
      await transport.start()
      const instance = await record.factory(components)
      if (!isStartable(instance)) throw new TypeError('node factory must return a Startable')
      if (!life.alive) return instance
      record.instance = instance
      await instance.start()
      if (life.alive) record.status = 'running'
      return instance
    } catch (error) {
      if (life.alive) {
        life.alive = false
        transport.crash()
        record.instance = undefined
        record.status = 'crashed'
      }
      throw error
    }
  }

  #loggerFor(id: PeerId, incarnation: number, life: Life): Logger {
    const level = this.#logLevel
    if (level === undefined || !this.tracing) return silentLogger
    return new TraceLogger(level, {}, (entryLevel, bindings, context, message) => {
      if (!life.alive) return
      const data = { ...bindings, ...context }
      const head = JSON.stringify({
        t: this.scheduler.now,
        kind: 'log',
        node: id,
        incarnation,
        level: entryLevel,
        msg: message,
      })
      this.#sink?.write(`${head.slice(0, -1)},"data":${traceJson(data)}}`)
    })
  }

  #customLine(
    kind: string,
    node: PeerId | undefined,
    text: string,
    details: Record<string, unknown> | undefined,
  ): void {
    const head: Record<string, unknown> = { t: this.scheduler.now, kind }
    if (node !== undefined) head.node = node
    head[kind === 'violation' ? 'message' : 'event'] = text
    const line = JSON.stringify(head)
    this.#sink?.write(
      details === undefined ? line : `${line.slice(0, -1)},"data":${traceJson(details)}}`,
    )
  }

  #violation(
    message: string,
    node: PeerId | undefined,
    details: Record<string, unknown> | undefined,
  ): void {
    if (typeof message !== 'string' || message.length === 0) {
      throw new TypeError('violation message must be a non-empty string')
    }
    const violation: Violation = { t: this.scheduler.now, message }
    if (node !== undefined) violation.node = node
    if (details !== undefined) violation.details = details
    this.#violations.push(violation)
    if (this.tracing) this.#customLine('violation', node, message, details)
  }

  #record(id: PeerId): NodeRecord {
    assertNodeId(id)
    const record = this.#nodes.get(id)
    if (record === undefined) {
      throw new InvalidArgumentError('unknown node', { details: { node: id } })
    }
    return record
  }

  #throwFailure(): void {
    const failure = this.#failure
    if (failure === undefined) return
    this.#failure = undefined
    throw failure.error
  }
}

/**
 * Creates a simulation.
 *
 * @example
 * ```ts
 * const sim = createSimulation({ seed: 7 })
 * const fired: number[] = []
 * sim.clock.setTimeout(() => fired.push(sim.now), 250)
 * await sim.runUntil(1_000)
 * // fired is [250] and sim.now is 1000
 * ```
 */
export function createSimulation(options: SimulationOptions): Simulation {
  return new SimulationImpl(options)
}
