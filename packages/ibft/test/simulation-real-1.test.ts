import { describe, expect, it } from 'vitest'
import { REAL_SEED_BASE, REAL_SEEDS, seedChunks, sweepChunk } from './simulation-sweep.js'

// Seeds on the real Ed25519 + BLS12-381 scheme, half of them in this file.
describe('seeded Byzantine simulation on Ed25519 + BLS, part 1 of 2', () => {
  for (const seeds of seedChunks(0, 2, REAL_SEEDS, REAL_SEED_BASE)) {
    it(`seeds ${seeds[0]}..${seeds.at(-1)}: agreement, certificates, liveness, no double signing`, async () => {
      expect(await sweepChunk(seeds, true)).toEqual([])
    }, 120_000)
  }
})
