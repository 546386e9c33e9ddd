/**
 * `@metanode/ibft/simulation`: seeded Byzantine simulations of QBFT networks on `@metanode/sim`.
 * Importing it registers the `ibft` scenario of the `metanode-sim` command line.
 *
 * @example
 * ```ts
 * import { insecureTestScheme } from '@metanode/ibft'
 * import { runIbftSimulation } from '@metanode/ibft/simulation'
 *
 * const result = await runIbftSimulation({
 *   seed: 7,
 *   validators: 4,
 *   byzantine: 1,
 *   behaviour: 'equivocate',
 *   heights: 5,
 *   dropProbability: 0.05,
 *   partitionUntilMs: 2_000,
 *   scheme: insecureTestScheme,
 * })
 * result.violations // [] when agreement, certificates, liveness and signing all hold
 * ```
 *
 * @module
 */
import { registerIbftScenario } from './runner.js'

export { SIM_PAYLOAD_LENGTH, SimApplication, simPayload, simPayloadHeight } from './application.js'
export type {
  ByzantineBehaviour,
  ByzantineConfig,
  ByzantineTally,
  SimEngineSettings,
} from './byzantine.js'
export {
  BYZANTINE_BEHAVIOURS,
  ByzantineValidator,
  byzantineValidator,
  isByzantineBehaviour,
} from './byzantine.js'
export { ibftOptionsFromParams, ibftScenario, registerIbftScenario, SIM_SCHEMES } from './runner.js'
export type {
  FinalizedRecord,
  IbftSimulationOptions,
  IbftSimulationResult,
  IbftSimulationSummary,
} from './scenario.js'
export {
  reproduceCommand,
  runIbftSimulation,
  SIM_CHAIN_ID,
  simulationKeys,
  validatorNodeId,
} from './scenario.js'

registerIbftScenario()
