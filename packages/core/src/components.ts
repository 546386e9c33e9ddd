/**
 * The components every plug-in receives instead of reaching for globals: time, randomness, logging
 * and metrics. Code that runs inside consensus uses only these, so the simulator can replace them
 * with a virtual clock and a seeded generator and replay a whole network byte for byte.
 */

/** Opaque handle of a scheduled timer. */
export type TimerHandle = { readonly __timer: unique symbol } | number | object

/** Time as the node sees it. */
export interface Clock {
  /** Milliseconds since the Unix epoch (virtual in simulation). */
  now(): number
  /** Runs `callback` once after `delayMs` milliseconds of this clock's time. */
  setTimeout(callback: () => void, delayMs: number): TimerHandle
  /** Cancels a timer; unknown or fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void
}

/** A source of randomness. In simulation it is seeded, so runs replay exactly. */
export interface Rng {
  /** A uniformly random unsigned 32-bit integer. */
  nextU32(): number
  /** A uniformly random float in [0, 1). */
  nextFloat(): number
  /** `length` random bytes. */
  bytes(length: number): Uint8Array
}

/** Log severity, from the most to the least verbose. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error'

/** Structured logger (pino-compatible call shape: context object first, then the message). */
export interface Logger {
  /** Very detailed diagnostics. */
  trace(context: Record<string, unknown>, message: string): void
  /** Diagnostics for developers. */
  debug(context: Record<string, unknown>, message: string): void
  /** Normal operation worth recording. */
  info(context: Record<string, unknown>, message: string): void
  /** Something unexpected that the component recovered from. */
  warn(context: Record<string, unknown>, message: string): void
  /** A failure that needs attention. */
  error(context: Record<string, unknown>, message: string): void
  /** A logger that adds `bindings` to every entry (e.g. `{ component: 'ibft' }`). */
  child(bindings: Record<string, unknown>): Logger
}

/** Label values of one metric sample. */
export type MetricLabels = Readonly<Record<string, string>>

/** A monotonically increasing count. */
export interface Counter {
  /** Adds `value` (default 1). */
  inc(labels?: MetricLabels, value?: number): void
}

/** A value that goes up and down. */
export interface Gauge {
  /** Sets the current value. */
  set(value: number, labels?: MetricLabels): void
}

/** A distribution of observed values. */
export interface Histogram {
  /** Records one observation. */
  observe(value: number, labels?: MetricLabels): void
}

/** Definition shared by every metric kind. */
export interface MetricOptions {
  /** Metric name, snake_case, e.g. `metanode_ibft_round_changes_total`. */
  name: string
  /** One line describing what is measured. */
  help: string
  /** Names of the labels the metric takes. */
  labelNames?: readonly string[]
}

/** Options of a histogram. */
export interface HistogramOptions extends MetricOptions {
  /** Upper bounds of the buckets. */
  buckets?: readonly number[]
}

/** Creates metrics; a Prometheus registry in the node, a no-op in libraries and tests. */
export interface Metrics {
  /** A counter. */
  counter(options: MetricOptions): Counter
  /** A gauge. */
  gauge(options: MetricOptions): Gauge
  /** A histogram. */
  histogram(options: HistogramOptions): Histogram
}

/** The components passed to plug-in factories. Each factory takes the narrow subset it needs. */
export interface Components {
  /** Time source. */
  clock: Clock
  /** Randomness source. */
  rng: Rng
  /** Structured logger. */
  logger: Logger
  /** Metrics registry. */
  metrics: Metrics
}

/** The wall clock with the platform's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  // Timers keep the process alive, as a node's consensus timers should: components clear their
  // timers when they stop, so a stopped node exits by itself.
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
}

/** Cryptographically secure randomness from Web Crypto. */
export const cryptoRng: Rng = {
  nextU32: () => {
    const out = new Uint32Array(1)
    globalThis.crypto.getRandomValues(out)
    return out[0]!
  },
  nextFloat: () => cryptoRng.nextU32() / 2 ** 32,
  bytes: (length) => {
    const out = new Uint8Array(length)
    // getRandomValues fills at most 65,536 bytes per call
    for (let offset = 0; offset < length; offset += 65_536) {
      globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65_536)))
    }
    return out
  },
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
}

const noopCounter: Counter = { inc: () => {} }
const noopGauge: Gauge = { set: () => {} }
const noopHistogram: Histogram = { observe: () => {} }

/** Metrics that record nothing. */
export const noopMetrics: Metrics = {
  counter: () => noopCounter,
  gauge: () => noopGauge,
  histogram: () => noopHistogram,
}

/** Default components for production use outside simulation: wall clock, secure randomness, silent logger, no metrics. */
export function defaultComponents(overrides: Partial<Components> = {}): Components {
  return {
    clock: overrides.clock ?? systemClock,
    rng: overrides.rng ?? cryptoRng,
    logger: overrides.logger ?? silentLogger,
    metrics: overrides.metrics ?? noopMetrics,
  }
}
