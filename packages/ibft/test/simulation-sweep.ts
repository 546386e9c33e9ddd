// The seed sweep shared by the simulation test files: each seed picks its own cluster, behaviour
// and faults, so a failing seed alone says everything needed to replay it.
import { SeededRng } from '@metanode/sim'
import { insecureTestScheme, realScheme } from '../src/index.js'
import {
  BYZANTINE_BEHAVIOURS,
  type IbftSimulationOptions,
  reproduceCommand,
  runIbftSimulation,
} from '../src/simulation/index.js'

export const SIZES = [4, 5, 7, 10] as const

/** The run of seed `seed`: cluster size, behaviour and faults all derive from it. */
export function sweepOptions(seed: number, real = false): IbftSimulationOptions {
  const rng = new SeededRng(seed).fork('sweep')
  const validators = SIZES[seed % SIZES.length] as number
  const behaviour = BYZANTINE_BEHAVIOURS[
    Math.floor(seed / SIZES.length) % BYZANTINE_BEHAVIOURS.length
  ] as (typeof BYZANTINE_BEHAVIOURS)[number]
  const f = Math.floor((validators - 1) / 3)
  const options: IbftSimulationOptions = {
    seed,
    validators,
    byzantine: rng.chance(0.8) ? f : rng.integer(0, f),
    behaviour,
    heights: rng.integer(4, 6),
    scheme: real ? realScheme : insecureTestScheme,
  }
  const faults = rng.below(4)
  if (faults === 1 || faults === 3) options.dropProbability = rng.pick([0.02, 0.05, 0.1, 0.2])
  if (faults === 2 || faults === 3) options.partitionUntilMs = rng.integer(300, 3_000)
  if (rng.chance(0.4)) options.crashRestarts = rng.integer(1, 3)
  if (rng.chance(0.3)) options.latency = { kind: 'uniform', minMs: 1, maxMs: rng.integer(20, 80) }
  return options
}

/** Runs seed `seed`; resolves with failure messages (empty when the run is clean). */
export async function sweepSeed(seed: number, real = false): Promise<string[]> {
  const options = sweepOptions(seed, real)
  const result = await runIbftSimulation(options)
  if (result.violations.length === 0) return []
  const messages = result.violations.slice(0, 5).map((violation) => violation.message)
  return [
    `seed ${seed} (${options.validators} validators, ${options.byzantine} ${options.behaviour}) failed: ${messages.join('; ')}`,
    `  reproduce: ${reproduceCommand(options)}`,
  ]
}

/** Seeds in the sweep: 1,000 by default, `IBFT_SIM_SEEDS` for the opt-in long run. */
export const TOTAL_SEEDS = Number(process.env.IBFT_SIM_SEEDS ?? 1000)
/** Seeds on the real Ed25519 + BLS scheme: 50 by default, `IBFT_SIM_REAL_SEEDS` for more. */
export const REAL_SEEDS = Number(process.env.IBFT_SIM_REAL_SEEDS ?? 50)
/** Real-scheme seeds start here, apart from the fast ones. */
export const REAL_SEED_BASE = 100_000
const CHUNK = 50

/** Chunks of `part` (of `parts`) of the seed range [`base`, `base` + `total`). */
export function seedChunks(part: number, parts: number, total: number, base = 0): number[][] {
  const from = base + Math.floor((part * total) / parts)
  const to = base + Math.floor(((part + 1) * total) / parts)
  const chunks: number[][] = []
  for (let start = from; start < to; start += CHUNK) {
    chunks.push(Array.from({ length: Math.min(CHUNK, to - start) }, (_, i) => start + i))
  }
  return chunks
}

/** Runs every seed of `seeds`; resolves with the failures of all of them. */
export async function sweepChunk(seeds: readonly number[], real = false): Promise<string[]> {
  const failures: string[] = []
  for (const seed of seeds) failures.push(...(await sweepSeed(seed, real)))
  return failures
}
