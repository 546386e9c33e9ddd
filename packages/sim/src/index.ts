/**
 * A deterministic network simulator for whole Metanode clusters, in the spirit of FoundationDB's
 * and TigerBeetle's: a virtual clock and event queue, a seeded generator, a simulated
 * `Transport` with per-link faults (loss, latency distributions, duplication, reordering,
 * partitions that heal at a chosen time), node crashes and restarts that keep or lose the node's
 * store, and a JSONL trace that is byte-identical for the same seed.
 *
 * @example
 * ```ts
 * import type { Startable } from '@metanode/core'
 * import { createSimulation, memoryTrace, type SimNodeComponents } from '@metanode/sim'
 *
 * class Pinger implements Startable {
 *   received = 0
 *   constructor(private readonly components: SimNodeComponents) {}
 *   async start() {
 *     const { transport, clock } = this.components
 *     transport.subscribe('ping', () => {
 *       this.received++
 *       return 'accept'
 *     })
 *     clock.setTimeout(() => void transport.publish('ping', Uint8Array.of(1)), 100)
 *   }
 *   async stop() {}
 * }
 *
 * const trace = memoryTrace()
 * const sim = createSimulation({ seed: 42, trace })
 * sim.network({ latency: { kind: 'uniform', minMs: 5, maxMs: 20 }, dropProbability: 0.01 })
 * for (const id of ['a', 'b', 'c']) await sim.addNode(id, (components) => new Pinger(components))
 * await sim.runUntil(1_000)
 * await sim.stop()
 * // trace.text() is the same bytes on every run with seed 42
 * ```
 *
 * @module
 */
export type { CliOutput } from './cli.js'
export { main as runCli, parseDuration } from './cli.js'
export type { TimerInvoker, VirtualClockOptions } from './clock.js'
export { VirtualClock } from './clock.js'
export type { FaultPlanOptions } from './fault-plan.js'
export { randomFaultPlan } from './fault-plan.js'
export type { LatencyDistribution, LinkFaults } from './faults.js'
export { assertLatency, assertLinkFaults, DEFAULT_LINK_FAULTS, sampleLatency } from './faults.js'
export type {
  LinkOverride,
  NetworkOptions,
  PartitionOptions,
  PeerOverride,
  SimNetwork,
  SimTransportOptions,
} from './network.js'
export type {
  RegisterScenarioOptions,
  ScenarioDefinition,
  ScenarioParams,
  ScenarioRunner,
} from './registry.js'
export { getScenario, listScenarios, registerScenario } from './registry.js'
export type { Seed } from './rng.js'
export { SeededRng } from './rng.js'
export type {
  FaultSpec,
  NodeSpec,
  ScenarioConfig,
  ScenarioContext,
  ScenarioResult,
} from './scenario.js'
export { runScenario } from './scenario.js'
export type { GossipSettings, GossipTally } from './scenarios/gossip.js'
export { clusterIds, createGossipTally, GossipNode, gossipScenario } from './scenarios/gossip.js'
export type { EventCallback, EventHandle, EventOwner } from './scheduler.js'
export { Scheduler } from './scheduler.js'
export type {
  AddNodeOptions,
  CrashOptions,
  NodeFactory,
  NodeStatus,
  RunOptions,
  RunProgress,
  RunResult,
  RunTarget,
  SimNodeComponents,
  Simulation,
  SimulationOptions,
  Violation,
} from './simulation.js'
export { createSimulation } from './simulation.js'
export type { DropReason, MessageStats, SimulationStats } from './stats.js'
export type { TraceEvent, TraceSink } from './trace.js'
export {
  FileTraceSink,
  fileTrace,
  MemoryTraceSink,
  memoryTrace,
  toHex,
  traceJson,
} from './trace.js'
export type { SimTransport, SimTransportStatus } from './transport.js'
