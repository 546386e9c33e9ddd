/**
 * The runner API for tests: describe a cluster, its network and a fault schedule, run it, and get
 * back the trace, the counters and every violated invariant.
 */
import type { LogLevel, PeerId, Startable, Store } from '@metanode/core'
import type { LinkFaults } from './faults.js'
import type { NetworkOptions } from './network.js'
import type { Seed } from './rng.js'
import {
  createSimulation,
  type NodeFactory,
  type RunProgress,
  type RunResult,
  type RunTarget,
  type Simulation,
  type Violation,
} from './simulation.js'
import type { SimulationStats } from './stats.js'
import { MemoryTraceSink, type TraceSink } from './trace.js'

/** One node of a scenario. */
export interface NodeSpec<N extends Startable = Startable> {
  /** Node id and peer id. */
  id: PeerId
  /** Builds the node (again on every restart). */
  create: NodeFactory<N>
  /** Creates its store (default: core's memory store). */
  store?: () => Store
}

/** A fault applied at a virtual time. */
export type FaultSpec =
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** Crash a node. */
      kind: 'crash'
      /** The node. */
      node: PeerId
      /** Whether its store survives. */
      keepStore: boolean
    }
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** Restart a crashed or stopped node. */
      kind: 'restart'
      /** The node. */
      node: PeerId
    }
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** Split the network into groups (unlisted nodes form one more group). */
      kind: 'partition'
      /** The groups. */
      groups: readonly (readonly PeerId[])[]
      /** When the partition heals by itself. */
      healAtMs?: number
    }
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** End the partition in force. */
      kind: 'heal'
    }
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** Change the faults of a directed link. */
      kind: 'link'
      /** Sending node. */
      from: PeerId
      /** Receiving node. */
      to: PeerId
      /** The new faults (merged over the link's current ones). */
      faults: Partial<LinkFaults>
      /** Also change the reverse direction. */
      symmetric?: boolean
    }
  | {
      /** When, in virtual milliseconds. */
      atMs: number
      /** Change the faults of every link from and to a node (a slow or lossy node). */
      kind: 'peer'
      /** The node. */
      node: PeerId
      /** The new faults (merged over the node's current ones). */
      faults: Partial<LinkFaults>
    }

/** What a scenario's `check` sees after the run. */
export interface ScenarioContext<N extends Startable = Startable> {
  /** The simulation, stopped at the end of the run (nodes still up). */
  sim: Simulation
  /** The running node instances by id (crashed and stopped nodes are absent). */
  nodes: ReadonlyMap<PeerId, N>
  /** How the run ended. */
  run: RunResult
}

/** Configuration of {@link runScenario}. */
export interface ScenarioConfig<N extends Startable = Startable> {
  /** The seed. */
  seed: Seed
  /** The nodes, added (and started) in this order at virtual time 0. */
  nodes: readonly NodeSpec<N>[]
  /** The network every node joins. */
  network?: NetworkOptions
  /** Faults to apply, in the order given when several share a time. */
  faults?: readonly FaultSpec[]
  /** Run until this virtual time, or until the predicate holds. */
  until: RunTarget
  /** Stop after this many events. */
  maxEvents?: number
  /** `memory` (default) returns the lines in the result; `none` skips tracing (fastest). */
  trace?: TraceSink | 'memory' | 'none'
  /** Node log entries at this level or above go to the trace. */
  logLevel?: LogLevel
  /** Extra setup before the run, e.g. scheduling client requests. */
  setup?: (sim: Simulation) => void | Promise<void>
  /** Checks invariants at the end; each returned string is a violation. */
  check?: (
    context: ScenarioContext<N>,
  ) => readonly string[] | undefined | Promise<readonly string[] | undefined>
  /** Scenario-specific figures for the result (after `check`), e.g. deliveries counted by nodes. */
  summarize?: (context: ScenarioContext<N>) => Record<string, number>
  /** Progress of the run. */
  onProgress?: (progress: RunProgress) => void
  /** Events between progress reports. */
  progressEvery?: number
}

/** The outcome of {@link runScenario}. */
export interface ScenarioResult {
  /** The seed, to replay the run. */
  seed: Seed
  /** The JSONL trace lines (empty unless the trace was kept in memory). */
  trace: readonly string[]
  /** Final counters. */
  stats: SimulationStats
  /** Every violation: reported during the run, returned by `check`, or an error that ended it. */
  violations: readonly Violation[]
  /** Scenario-specific figures from `summarize` (empty without one). */
  summary: Readonly<Record<string, number>>
  /** How the run ended (`undefined` if setup failed). */
  run: RunResult | undefined
  /** The error thrown by node or scenario code that ended the run early, if any. */
  error?: unknown
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

function applyFault(sim: Simulation, fault: FaultSpec): unknown {
  switch (fault.kind) {
    case 'crash':
      sim.crash(fault.node, { keepStore: fault.keepStore })
      return undefined
    case 'restart':
      return sim.restart(fault.node)
    case 'partition':
      sim.defaultNetwork.partition(
        fault.groups,
        fault.healAtMs === undefined ? {} : { healAtMs: fault.healAtMs },
      )
      return undefined
    case 'heal':
      sim.defaultNetwork.heal()
      return undefined
    case 'link':
      sim.defaultNetwork.setLink(
        fault.from,
        fault.to,
        fault.faults,
        fault.symmetric === undefined ? {} : { symmetric: fault.symmetric },
      )
      return undefined
    case 'peer':
      sim.defaultNetwork.setPeer(fault.node, fault.faults)
      return undefined
  }
}

function assertFaults(
  faults: unknown,
  nodeIds: ReadonlySet<PeerId>,
): asserts faults is readonly FaultSpec[] {
  if (!Array.isArray(faults)) throw new TypeError('faults must be an array')
  faults.forEach((fault: unknown, index) => {
    if (typeof fault !== 'object' || fault === null) {
      throw new TypeError(`faults[${index}] must be an object`)
    }
    const { atMs, kind, node } = fault as { atMs?: unknown; kind?: unknown; node?: unknown }
    if (typeof atMs !== 'number' || Number.isNaN(atMs)) {
      throw new TypeError(`faults[${index}].atMs must be a number`)
    }
    if (atMs < 0 || !Number.isFinite(atMs)) {
      throw new RangeError(`faults[${index}].atMs must be finite and not negative`)
    }
    if (!['crash', 'restart', 'partition', 'heal', 'link', 'peer'].includes(kind as string)) {
      throw new TypeError(`faults[${index}].kind is not a fault kind: ${String(kind)}`)
    }
    if (
      (kind === 'crash' || kind === 'restart' || kind === 'peer') &&
      !nodeIds.has(node as PeerId)
    ) {
      throw new RangeError(`faults[${index}].node is not a node of the scenario: ${String(node)}`)
    }
  })
}

/**
 * Runs a scenario: creates a simulation from `seed`, adds the nodes, schedules the faults, runs
 * until `until`, calls `check`, then stops every node. Errors thrown by node code end the run and
 * come back as a violation (and in `error`) rather than as a rejection, so a failing seed is
 * reported like any other invariant breach. Invalid configuration rejects.
 *
 * @example
 * ```ts
 * const result = await runScenario({
 *   seed: 1,
 *   nodes: [{ id: 'a', create: (c) => new MyNode(c) }, { id: 'b', create: (c) => new MyNode(c) }],
 *   network: { dropProbability: 0.1 },
 *   faults: [{ atMs: 500, kind: 'crash', node: 'b', keepStore: true }, { atMs: 900, kind: 'restart', node: 'b' }],
 *   until: 2_000,
 *   check: ({ nodes }) => (nodes.size === 2 ? [] : ['a node is down']),
 * })
 * ```
 */
export async function runScenario<N extends Startable>(
  config: ScenarioConfig<N>,
): Promise<ScenarioResult> {
  if (typeof config !== 'object' || config === null) {
    throw new TypeError('config must be an object')
  }
  if (!Array.isArray(config.nodes)) throw new TypeError('nodes must be an array')
  const nodeIds = new Set<PeerId>()
  for (const spec of config.nodes) {
    if (typeof spec !== 'object' || spec === null || typeof spec.create !== 'function') {
      throw new TypeError('every node must be { id, create }')
    }
    if (nodeIds.has(spec.id)) throw new RangeError(`duplicate node id: ${String(spec.id)}`)
    nodeIds.add(spec.id)
  }
  const faults = config.faults ?? []
  assertFaults(faults, nodeIds)
  const traceOption = config.trace ?? 'memory'
  const memory = traceOption === 'memory' ? new MemoryTraceSink() : undefined
  const sink = traceOption === 'memory' ? memory : traceOption === 'none' ? undefined : traceOption
  const sim = createSimulation({
    seed: config.seed,
    ...(sink === undefined ? {} : { trace: sink }),
    ...(config.logLevel === undefined ? {} : { logLevel: config.logLevel }),
  })
  sim.network(config.network ?? {})

  let run: RunResult | undefined
  let summary: Record<string, number> = {}
  let error: unknown
  let failed = false
  try {
    for (const spec of config.nodes) {
      await sim.addNode(spec.id, spec.create, spec.store === undefined ? {} : { store: spec.store })
    }
    for (const fault of faults) sim.schedule(fault.atMs, () => applyFault(sim, fault))
    await config.setup?.(sim)
    const runOptions = {
      ...(config.maxEvents === undefined ? {} : { maxEvents: config.maxEvents }),
      ...(config.onProgress === undefined ? {} : { onProgress: config.onProgress }),
      ...(config.progressEvery === undefined ? {} : { progressEvery: config.progressEvery }),
    }
    run = await sim.runUntil(config.until, runOptions)
    const nodes = new Map<PeerId, N>()
    for (const id of sim.nodeIds()) {
      const node = sim.node<N>(id)
      if (node !== undefined) nodes.set(id, node)
    }
    const context: ScenarioContext<N> = { sim, nodes, run }
    const problems = (await config.check?.(context)) ?? []
    for (const problem of problems) sim.violation(problem)
    summary = config.summarize?.(context) ?? {}
  } catch (thrown) {
    failed = true
    error = thrown
    sim.violation(`scenario failed: ${describeError(thrown)}`)
  }
  // The figures describe the end of the run, before the graceful shutdown takes nodes down.
  const stats = sim.stats()
  try {
    await sim.stop()
  } catch (thrown) {
    if (!failed) error = thrown
    sim.violation(`nodes failed to stop: ${describeError(thrown)}`)
  }
  const result: ScenarioResult = {
    seed: config.seed,
    trace: memory?.lines ?? [],
    stats: { ...stats, violations: sim.violations.length },
    violations: [...sim.violations],
    summary,
    run,
  }
  if (error !== undefined) result.error = error
  return result
}
