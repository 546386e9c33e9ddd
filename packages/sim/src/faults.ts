/**
 * The fault model of one directed link: message loss, latency, duplication and reordering. Every
 * decision is drawn from the link's own seeded generator.
 */
import type { SeededRng } from './rng.js'

/**
 * How long a message spends on a link, in virtual milliseconds. Samples never go below `minMs`
 * (default 0) nor above `maxMs` (default unbounded): out-of-range samples are clamped.
 *
 * - `fixed`: always `ms`.
 * - `uniform`: uniform in [`minMs`, `maxMs`].
 * - `normal`: Gaussian with `meanMs` and `stdDevMs`.
 * - `exponential`: `minMs` plus an exponential tail, so that the mean is `meanMs` (a common model
 *   of queueing delay: a floor set by distance and a long tail).
 */
export type LatencyDistribution =
  | {
      /** Constant latency. */
      kind: 'fixed'
      /** The latency. */
      ms: number
    }
  | {
      /** Uniform latency. */
      kind: 'uniform'
      /** Smallest latency. */
      minMs: number
      /** Largest latency. */
      maxMs: number
    }
  | {
      /** Gaussian latency, clamped to [minMs, maxMs]. */
      kind: 'normal'
      /** Mean latency. */
      meanMs: number
      /** Standard deviation. */
      stdDevMs: number
      /** Floor (default 0). */
      minMs?: number
      /** Ceiling (default none). */
      maxMs?: number
    }
  | {
      /** Shifted exponential latency. */
      kind: 'exponential'
      /** Mean latency, at least `minMs`. */
      meanMs: number
      /** Floor (default 0). */
      minMs?: number
      /** Ceiling (default none). */
      maxMs?: number
    }

/** The faults of one directed link. */
export interface LinkFaults {
  /** Probability in [0, 1] that a message is lost. */
  dropProbability: number
  /** Time on the wire. */
  latency: LatencyDistribution
  /** Probability in [0, 1] that a message arrives twice (each copy with its own latency). */
  duplicateProbability: number
  /** Probability in [0, 1] that a message is held back, so later messages overtake it. */
  reorderProbability: number
  /** A held-back message waits an extra delay uniform in [0, `reorderDelayMs`]. */
  reorderDelayMs: number
}

/** Faults of a link nobody configured: a perfect network with 1 ms latency. */
export const DEFAULT_LINK_FAULTS: Readonly<LinkFaults> = Object.freeze({
  dropProbability: 0,
  latency: Object.freeze({ kind: 'fixed', ms: 1 }) as LatencyDistribution,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderDelayMs: 0,
})

function assertNonNegative(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${typeof value}`)
  }
  if (value < 0 || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be finite and not negative, got ${value}`)
  }
}

function assertProbability(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${name} must be a number, got ${typeof value}`)
  }
  if (value < 0 || value > 1) throw new RangeError(`${name} must be in [0, 1], got ${value}`)
}

/** Checks a latency distribution: `TypeError` for a wrong shape, `RangeError` for bad bounds. */
export function assertLatency(
  value: unknown,
  name = 'latency',
): asserts value is LatencyDistribution {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be an object, got ${value === null ? 'null' : typeof value}`)
  }
  const latency = value as Record<string, unknown>
  switch (latency.kind) {
    case 'fixed':
      assertNonNegative(latency.ms, `${name}.ms`)
      return
    case 'uniform':
      assertNonNegative(latency.minMs, `${name}.minMs`)
      assertNonNegative(latency.maxMs, `${name}.maxMs`)
      if (latency.maxMs < latency.minMs) {
        throw new RangeError(`${name}.maxMs must not be below ${name}.minMs`)
      }
      return
    case 'normal':
    case 'exponential': {
      assertNonNegative(latency.meanMs, `${name}.meanMs`)
      if (latency.kind === 'normal') assertNonNegative(latency.stdDevMs, `${name}.stdDevMs`)
      const minMs = latency.minMs ?? 0
      assertNonNegative(minMs, `${name}.minMs`)
      if (latency.maxMs !== undefined) {
        assertNonNegative(latency.maxMs, `${name}.maxMs`)
        if (latency.maxMs < minMs) {
          throw new RangeError(`${name}.maxMs must not be below ${name}.minMs`)
        }
      }
      if (latency.kind === 'exponential' && latency.meanMs < minMs) {
        throw new RangeError(`${name}.meanMs must not be below ${name}.minMs`)
      }
      return
    }
    default:
      throw new TypeError(
        `${name}.kind must be 'fixed', 'uniform', 'normal' or 'exponential', got ${String(latency.kind)}`,
      )
  }
}

/**
 * Checks a partial set of link faults (any subset of the fields). Unknown fields are a
 * `TypeError`, so a misspelt option cannot silently do nothing.
 */
export function assertLinkFaults(
  value: unknown,
  name = 'faults',
): asserts value is Partial<LinkFaults> {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be an object, got ${value === null ? 'null' : typeof value}`)
  }
  const faults = value as Record<string, unknown>
  for (const key of Object.keys(faults)) {
    if (!(key in DEFAULT_LINK_FAULTS)) throw new TypeError(`${name}.${key} is not a link fault`)
  }
  if (faults.dropProbability !== undefined) {
    assertProbability(faults.dropProbability, `${name}.dropProbability`)
  }
  if (faults.duplicateProbability !== undefined) {
    assertProbability(faults.duplicateProbability, `${name}.duplicateProbability`)
  }
  if (faults.reorderProbability !== undefined) {
    assertProbability(faults.reorderProbability, `${name}.reorderProbability`)
  }
  if (faults.reorderDelayMs !== undefined) {
    assertNonNegative(faults.reorderDelayMs, `${name}.reorderDelayMs`)
  }
  if (faults.latency !== undefined) assertLatency(faults.latency, `${name}.latency`)
}

/** Only the fault fields of `source` that are set, so spreading it never writes `undefined`. */
export function pickLinkFaults(source: Partial<LinkFaults>): Partial<LinkFaults> {
  const picked: Partial<LinkFaults> = {}
  if (source.dropProbability !== undefined) picked.dropProbability = source.dropProbability
  if (source.latency !== undefined) picked.latency = source.latency
  if (source.duplicateProbability !== undefined) {
    picked.duplicateProbability = source.duplicateProbability
  }
  if (source.reorderProbability !== undefined) picked.reorderProbability = source.reorderProbability
  if (source.reorderDelayMs !== undefined) picked.reorderDelayMs = source.reorderDelayMs
  return picked
}

/** Draws one latency from `distribution` (assumed valid; see {@link assertLatency}). */
export function sampleLatency(distribution: LatencyDistribution, rng: SeededRng): number {
  switch (distribution.kind) {
    case 'fixed':
      return distribution.ms
    case 'uniform':
      return rng.uniform(distribution.minMs, distribution.maxMs)
    case 'normal': {
      const sample = rng.normal(distribution.meanMs, distribution.stdDevMs)
      return clamp(sample, distribution.minMs ?? 0, distribution.maxMs)
    }
    case 'exponential': {
      const minMs = distribution.minMs ?? 0
      const sample = minMs + rng.exponential(distribution.meanMs - minMs)
      return clamp(sample, minMs, distribution.maxMs)
    }
  }
}

function clamp(value: number, min: number, max: number | undefined): number {
  if (value < min) return min
  if (max !== undefined && value > max) return max
  return value
}
