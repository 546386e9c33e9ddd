// Heights per wall-clock second of n validators with real cryptography, run by @metanode/sim in
// virtual time: network delays cost no wall time, so what is measured is the CPU the engines
// spend (signing, verifying, aggregating, encoding, the state machine) plus the simulator's
// small per-event overhead.
import { performance } from 'node:perf_hooks'
import { createSimulation } from '@metanode/sim'
import { createIbft } from '../src/index.js'
import { makeValidators, timestampApplication } from './validators.js'

/** Outcome of one simulated run. */
export interface SimulationResult {
  validators: number
  /** Heights every validator finalized. */
  heights: number
  wallMs: number
  virtualMs: number
  heightsPerSecond: number
  /** Heights decided in a round above 0 (0 expected on a fault-free network). */
  laterRounds: number
  /** Messages delivered by the simulated network. */
  deliveries: number
}

/** Runs `n` validators until each finalized `targetHeights` or `wallBudgetMs` ran out. */
export async function simulateHeights(
  n: number,
  targetHeights: number,
  wallBudgetMs: number,
): Promise<SimulationResult> {
  const { keys, set } = makeValidators(n)
  const sim = createSimulation({ seed: `ibft-bench-${n}` })
  sim.network({ latency: { kind: 'fixed', ms: 1 } })
  const finalized = new Array<number>(n).fill(0)
  let laterRounds = 0
  let done = 0
  // the height-1 proposer (index 0) joins last, so its first proposal reaches everyone
  for (let i = n - 1; i >= 0; i--) {
    await sim.addNode(`v${i}`, (components) =>
      createIbft({
        chainId: 'bench',
        signer: keys[i]!,
        blockPeriodMs: 0,
        application: timestampApplication(
          set,
          () => components.clock.now(),
          (_height, _at, round) => {
            finalized[i]! += 1
            if (i === 0 && round > 0) laterRounds++
            if (finalized[i] === targetHeights) done++
          },
        ),
      })(components),
    )
  }
  const start = performance.now()
  const deadline = start + wallBudgetMs
  await sim.runUntil(() => done === n || performance.now() > deadline)
  const wallMs = performance.now() - start
  const virtualMs = sim.now
  const heights = Math.min(...finalized)
  const deliveries = sim.stats().messages.delivered
  await sim.stop()
  return {
    validators: n,
    heights,
    wallMs,
    virtualMs,
    heightsPerSecond: (heights / wallMs) * 1000,
    laterRounds,
    deliveries,
  }
}
