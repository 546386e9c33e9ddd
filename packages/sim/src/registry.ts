/**
 * Named scenarios for the `metanode-sim` command line. A package registers its scenario when it
 * is imported (`registerScenario('ibft', runIbft)`); the CLI loads it with `--import` and runs it
 * with `--scenario ibft`.
 */
import { InvalidArgumentError } from '@metanode/core'
import type { NetworkOptions } from './network.js'
import type { Seed } from './rng.js'
import type { ScenarioResult } from './scenario.js'
import { gossipScenario } from './scenarios/gossip.js'
import type { RunProgress } from './simulation.js'
import type { TraceSink } from './trace.js'

/** The parameters the CLI (or a test) passes to a registered scenario. */
export interface ScenarioParams {
  /** The seed. */
  seed: Seed
  /** Cluster size. */
  nodes: number
  /** Virtual duration of the run, in milliseconds. */
  durationMs: number
  /** Defaults of every link (drop probability, latency, duplication, reordering). */
  network: NetworkOptions
  /** Random crash-and-restart pairs to inject (see `randomFaultPlan`). */
  crashes: number
  /** When set, the cluster is split in two halves from time 0 until this virtual time. */
  partitionUntilMs?: number
  /** Where the trace goes; `none` skips it. */
  trace: TraceSink | 'none'
  /** Progress of the run. */
  onProgress?: (progress: RunProgress) => void
  /** Scenario-specific settings, from `--param key=value`. */
  options: Readonly<Record<string, string>>
}

/** Runs a scenario from its parameters. */
export type ScenarioRunner = (params: ScenarioParams) => Promise<ScenarioResult>

/** A registered scenario. */
export interface ScenarioDefinition {
  /** Its name on the command line. */
  name: string
  /** One line saying what it exercises. */
  description: string
  /** The runner. */
  run: ScenarioRunner
}

/** Options of {@link registerScenario}. */
export interface RegisterScenarioOptions {
  /** One line shown by `metanode-sim --list`. */
  description?: string
  /** Replace a scenario already registered under the name instead of failing. */
  replace?: boolean
}

const SCENARIO_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/
// Built-ins are in the map from the start rather than registered by an import side effect, which
// bundlers honouring `sideEffects: false` would drop.
const scenarios = new Map<string, ScenarioDefinition>([
  [
    'gossip',
    {
      name: 'gossip',
      description: 'nodes publish, forward and anti-entropy-sync messages; checks convergence',
      run: gossipScenario,
    },
  ],
])

/**
 * Registers `run` under `name` (lowercase letters, digits and dashes). Registering a taken name is
 * an `InvalidArgumentError` unless `replace` is set.
 */
export function registerScenario(
  name: string,
  run: ScenarioRunner,
  options: RegisterScenarioOptions = {},
): void {
  if (typeof name !== 'string' || !SCENARIO_NAME.test(name)) {
    throw new TypeError('scenario name must match /^[a-z0-9][a-z0-9-]{0,63}$/')
  }
  if (typeof run !== 'function') throw new TypeError('run must be a function')
  if (scenarios.has(name) && options.replace !== true) {
    throw new InvalidArgumentError('a scenario with this name is registered', {
      details: { name },
    })
  }
  scenarios.set(name, { name, description: options.description ?? '', run })
}

/** The scenario registered under `name`, if any. */
export function getScenario(name: string): ScenarioDefinition | undefined {
  return scenarios.get(name)
}

/** Every registered scenario, in registration order. */
export function listScenarios(): ScenarioDefinition[] {
  return [...scenarios.values()]
}
