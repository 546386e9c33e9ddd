import { describe, expect, it } from 'vitest'
import { seedChunks, sweepChunk, TOTAL_SEEDS } from './simulation-sweep.js'

// One quarter of the seed sweep (insecure test scheme); the quarters run in parallel files.
describe('seeded Byzantine simulation, part 2 of 4', () => {
  for (const seeds of seedChunks(1, 4, TOTAL_SEEDS)) {
    it(`seeds ${seeds[0]}..${seeds.at(-1)}: agreement, certificates, liveness, no double signing`, async () => {
      expect(await sweepChunk(seeds)).toEqual([])
    }, 120_000)
  }
})
