/**
 * The one quorum rule of the engine.
 *
 * Equal voting powers (the common permissioned case) use the QBFT counts: with n validators and
 * f = floor((n - 1) / 3) tolerated faults, a quorum is ceil(2n / 3) validators and a weak quorum
 * is f + 1. Unequal powers use power thresholds: a quorum is more than 2/3 of the total power, a
 * weak quorum more than 1/3. Both are expressed as a minimum power, so callers only ever compare
 * the summed power of distinct signers with {@link quorum} or {@link weakQuorum}.
 *
 * Why this is safe (the faulty validators hold at most f of n, or less than 1/3 of the power):
 *
 * - Equal powers, quorum q = ceil(2n/3): two quorums share at least 2q - n >= 2(2n/3) - n = n/3
 *   validators. f = floor((n-1)/3) < n/3, and 2q - n is an integer, so 2q - n >= f + 1: every two
 *   quorums share an honest validator, who never votes for two blocks in one round. Liveness:
 *   n - f >= q for every n >= 1 (honest validators alone form a quorum), which is why n = 6 uses
 *   q = 4 (= 2n/3 exactly) rather than "more than 2/3" (5).
 * - Equal powers, weak quorum f + 1: any f + 1 validators include an honest one.
 * - Unequal powers, quorum = floor(2T/3) + 1 (> 2T/3): two quorums overlap in more than T/3 of
 *   the power, more than the faulty validators hold, so in an honest validator.
 * - Unequal powers, weak quorum = floor(T/3) + 1 (> T/3): more than the faulty power, so it
 *   includes an honest validator.
 *
 * The property tests in `test/quorum.test.ts` check these inequalities over many sets.
 */
import type { ValidatorSet } from '@metanode/core'

/** The thresholds of one validator set. */
export interface QuorumThresholds {
  /** Sum of all voting powers. */
  totalPower: bigint
  /** Smallest power of distinct signers that forms a quorum. */
  quorum: bigint
  /** Smallest power of distinct signers that surely includes an honest validator (f + 1). */
  weakQuorum: bigint
  /** Whether every validator has the same power (the count-based rule applies). */
  equalPowers: boolean
}

function powersOf(set: ValidatorSet): bigint[] {
  if (typeof set !== 'object' || set === null || !Array.isArray(set.validators)) {
    throw new TypeError('validator set must be an object with a validators array')
  }
  if (set.validators.length === 0) throw new RangeError('validator set must not be empty')
  return set.validators.map((validator, index) => {
    const power = validator?.votingPower
    if (typeof power !== 'bigint') {
      throw new TypeError(`validators[${index}].votingPower must be a bigint`)
    }
    if (power <= 0n) throw new RangeError(`validators[${index}].votingPower must be positive`)
    return power
  })
}

/** Thresholds of `set` under the rule described in this module. */
export function quorumThresholds(set: ValidatorSet): QuorumThresholds {
  const powers = powersOf(set)
  const first = powers[0] as bigint
  const totalPower = powers.reduce((sum, power) => sum + power, 0n)
  const equalPowers = powers.every((power) => power === first)
  if (equalPowers) {
    const n = BigInt(powers.length)
    const quorumCount = (2n * n + 2n) / 3n // ceil(2n / 3)
    const faults = (n - 1n) / 3n
    return {
      totalPower,
      quorum: quorumCount * first,
      weakQuorum: (faults + 1n) * first,
      equalPowers,
    }
  }
  return {
    totalPower,
    quorum: (2n * totalPower) / 3n + 1n,
    weakQuorum: totalPower / 3n + 1n,
    equalPowers,
  }
}

/** Smallest signer power that forms a quorum of `set` (ceil(2n/3) validators, or > 2/3 of the power). */
export function quorum(set: ValidatorSet): bigint {
  return quorumThresholds(set).quorum
}

/** Smallest signer power that surely includes an honest validator of `set` (f + 1, or > 1/3 of the power). */
export function weakQuorum(set: ValidatorSet): bigint {
  return quorumThresholds(set).weakQuorum
}

/** Number of faulty validators an equal-power set of `n` tolerates: floor((n - 1) / 3). */
export function maxFaulty(n: number): number {
  if (!Number.isSafeInteger(n)) throw new TypeError('n must be a safe integer')
  if (n < 1) throw new RangeError('n must be at least 1')
  return Math.floor((n - 1) / 3)
}
