/**
 * The `ibft` scenario as the `metanode-sim` command line runs it: command-line parameters in, the
 * JSONL output to the `--out` sink, violations out.
 */
import {
  getScenario,
  parseDuration,
  registerScenario,
  type ScenarioParams,
  type ScenarioResult,
} from '@metanode/sim'
import { isIbftDissemination } from '../engine.js'
import { insecureTestScheme, realScheme, type SignatureScheme } from '../signing.js'
import { BYZANTINE_BEHAVIOURS, isByzantineBehaviour } from './byzantine.js'
import { type IbftSimulationOptions, runIbftSimulation } from './scenario.js'

/** Signature schemes by their command-line names. */
export const SIM_SCHEMES: Readonly<Record<'real' | 'insecure-test', SignatureScheme>> = {
  real: realScheme,
  'insecure-test': insecureTestScheme,
}

function countOption(
  options: Readonly<Record<string, string>>,
  name: string,
  fallback: number,
): number {
  const raw = options[name]
  if (raw === undefined) return fallback
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new RangeError(`--${name} must be a non-negative integer, got ${raw}`)
  }
  return Number(raw)
}

const KNOWN_OPTIONS = new Set([
  'validators',
  'byzantine',
  'behaviour',
  'heights',
  'crash-restart',
  'scheme',
  'time-limit',
  'round-timeout',
  'dissemination',
])

/**
 * Turns `metanode-sim` parameters into {@link IbftSimulationOptions}. Scenario options
 * (`--validators`, `--byzantine`, `--behaviour`, `--heights`, `--crash-restart`, `--scheme real|insecure-test`,
 * `--time-limit`, `--round-timeout`, `--dissemination gossip|direct`) arrive in `params.options`; `--nodes` is the default of
 * `--validators` and `--crashes` of `--crash-restart`. The run ends when every honest validator
 * has finalized `--heights`, or at `--time-limit` of virtual time (default: global stabilisation
 * + 20 s + 2 s per height); `--duration` does not apply.
 *
 * @throws RangeError / TypeError for bad values (the command line exits with 2).
 */
export function ibftOptionsFromParams(params: ScenarioParams): IbftSimulationOptions {
  const { options } = params
  for (const name of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(name)) throw new RangeError(`unknown ibft option --${name}`)
  }
  const behaviour = options.behaviour ?? 'silent'
  if (!isByzantineBehaviour(behaviour)) {
    throw new RangeError(`--behaviour must be one of ${BYZANTINE_BEHAVIOURS.join(', ')}`)
  }
  const schemeName = options.scheme ?? 'real'
  if (schemeName !== 'real' && schemeName !== 'insecure-test') {
    throw new RangeError(`--scheme must be real or insecure-test, got ${schemeName}`)
  }
  const dissemination = options.dissemination ?? 'gossip'
  if (!isIbftDissemination(dissemination)) {
    throw new RangeError(`--dissemination must be gossip or direct, got ${dissemination}`)
  }
  const { dropProbability, latency, ...network } = params.network
  const result: IbftSimulationOptions = {
    seed: params.seed,
    validators: countOption(options, 'validators', params.nodes),
    byzantine: countOption(options, 'byzantine', 0),
    behaviour,
    heights: countOption(options, 'heights', 5),
    crashRestarts: countOption(options, 'crash-restart', params.crashes),
    scheme: SIM_SCHEMES[schemeName],
    network,
    dissemination,
  }
  if (dropProbability !== undefined) result.dropProbability = dropProbability
  if (latency !== undefined) result.latency = latency
  if (params.partitionUntilMs !== undefined) result.partitionUntilMs = params.partitionUntilMs
  if (options['round-timeout'] !== undefined) {
    result.roundTimeoutBaseMs = parseDuration(options['round-timeout'], 'round-timeout')
  }
  if (options['time-limit'] !== undefined) {
    result.timeLimitMs = parseDuration(options['time-limit'], 'time-limit')
  }
  if (params.trace !== 'none') result.output = params.trace
  if (params.onProgress !== undefined) result.onProgress = params.onProgress
  return result
}

/**
 * The `ibft` scenario runner for `metanode-sim`: runs {@link runIbftSimulation} and returns what
 * the command line prints. The `--out` file receives the JSONL output.
 */
export async function ibftScenario(params: ScenarioParams): Promise<ScenarioResult> {
  const options = ibftOptionsFromParams(params)
  const result = await runIbftSimulation(options)
  const { summary } = result
  return {
    ...result.scenario,
    summary: {
      validators: summary.validators,
      byzantine: summary.byzantine,
      heights: summary.heights,
      finalizedThrough: summary.finalizedThrough,
      finalizedBlocks: summary.finalizedBlocks,
      maxRound: summary.maxRound,
      evidence: summary.evidence,
      byzantineMessages: summary.byzantineMessages,
    },
  }
}

/** Registers {@link ibftScenario} as `ibft` with the simulator's registry (once; later calls do nothing). */
export function registerIbftScenario(): void {
  if (getScenario('ibft') !== undefined) return
  registerScenario('ibft', ibftScenario, {
    description:
      'QBFT validators with f Byzantine of one behaviour; checks agreement, certificates, liveness',
  })
}
