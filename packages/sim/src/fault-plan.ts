/** Seeded generation of fault schedules, for scenarios that want "N random crashes". */
import type { PeerId } from '@metanode/core'
import type { SeededRng } from './rng.js'
import type { FaultSpec } from './scenario.js'

/** Options of {@link randomFaultPlan}. */
export interface FaultPlanOptions {
  /** Nodes that may crash. */
  nodes: readonly PeerId[]
  /** How many crash-and-restart pairs to plan. */
  crashes: number
  /** Earliest crash, in virtual milliseconds. */
  fromMs: number
  /** Every restart happens by this time. */
  toMs: number
  /** Shortest downtime (default 500 ms). */
  minDowntimeMs?: number
  /** Longest downtime (default 2,000 ms). */
  maxDowntimeMs?: number
  /** Probability that a crash keeps the node's store (default 0.5). */
  keepStoreProbability?: number
  /**
   * Most nodes down at once (default: no limit). A BFT scenario with n = 3f + 1 sets it to f so
   * the cluster stays live.
   */
  maxConcurrent?: number
}

interface Downtime {
  node: PeerId
  fromMs: number
  toMs: number
}

function assertFinite(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number`)
  }
}

/**
 * Plans `crashes` crash-and-restart pairs at random times in [`fromMs`, `toMs`], never crashing a
 * node that is already down and never exceeding `maxConcurrent` nodes down. Crash times are whole
 * milliseconds. Returns fewer pairs when the window is too crowded to fit them all (it gives up on
 * a pair after 100 tries), sorted by time.
 *
 * @example
 * ```ts
 * const faults = randomFaultPlan(sim.rng.fork('faults'), {
 *   nodes: ['n0', 'n1', 'n2', 'n3'],
 *   crashes: 3,
 *   fromMs: 1_000,
 *   toMs: 8_000,
 *   maxConcurrent: 1,
 * })
 * ```
 */
export function randomFaultPlan(rng: SeededRng, options: FaultPlanOptions): FaultSpec[] {
  const { nodes, crashes, fromMs, toMs } = options
  const minDowntimeMs = options.minDowntimeMs ?? 500
  const maxDowntimeMs = options.maxDowntimeMs ?? 2_000
  const keepStoreProbability = options.keepStoreProbability ?? 0.5
  const maxConcurrent = options.maxConcurrent ?? Number.POSITIVE_INFINITY
  if (!Array.isArray(nodes)) throw new TypeError('nodes must be an array')
  if (!Number.isSafeInteger(crashes) || crashes < 0) {
    throw new RangeError('crashes must be a non-negative integer')
  }
  assertFinite(fromMs, 'fromMs')
  assertFinite(toMs, 'toMs')
  assertFinite(minDowntimeMs, 'minDowntimeMs')
  assertFinite(maxDowntimeMs, 'maxDowntimeMs')
  if (fromMs < 0 || toMs < fromMs) throw new RangeError('need 0 <= fromMs <= toMs')
  if (minDowntimeMs < 0 || maxDowntimeMs < minDowntimeMs) {
    throw new RangeError('need 0 <= minDowntimeMs <= maxDowntimeMs')
  }
  if (!(keepStoreProbability >= 0 && keepStoreProbability <= 1)) {
    throw new RangeError('keepStoreProbability must be in [0, 1]')
  }
  if (!(maxConcurrent >= 1)) throw new RangeError('maxConcurrent must be at least 1')
  const planned: Downtime[] = []
  const faults: FaultSpec[] = []
  if (nodes.length === 0 || toMs - fromMs < minDowntimeMs) return faults
  for (let pair = 0; pair < crashes; pair++) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const node = rng.pick(nodes)
      const downtime = Math.round(rng.uniform(minDowntimeMs, maxDowntimeMs))
      const latestStart = Math.max(fromMs, toMs - downtime)
      const start = Math.round(rng.uniform(fromMs, latestStart))
      const end = Math.min(toMs, start + downtime)
      // Overlap with any planned downtime in the window counts, a cautious reading of "at once".
      let overlapping = 0
      let conflict = false
      for (const other of planned) {
        if (other.fromMs <= end && start <= other.toMs) {
          overlapping++
          if (other.node === node) conflict = true
        }
      }
      if (conflict || overlapping >= maxConcurrent) continue
      planned.push({ node, fromMs: start, toMs: end })
      faults.push({
        atMs: start,
        kind: 'crash',
        node,
        keepStore: rng.chance(keepStoreProbability),
      })
      faults.push({ atMs: end, kind: 'restart', node })
      break
    }
  }
  // Stable sort: a crash and a restart at the same time keep their planned order.
  return faults.sort((a, b) => a.atMs - b.atMs)
}
