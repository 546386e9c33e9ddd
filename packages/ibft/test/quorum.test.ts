import type { ValidatorSet } from '@metanode/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  heightRoundProposer,
  indexValidators,
  maxFaulty,
  quorum,
  quorumThresholds,
  roundRobinProposer,
  weakQuorum,
} from '../src/index.js'

function setOf(powers: bigint[]): ValidatorSet {
  return {
    validators: powers.map((votingPower, i) => ({
      id: new Uint8Array(32).fill(i + 1),
      blsPublicKey: new Uint8Array(48).fill(i + 1),
      votingPower,
    })),
  }
}
const equal = (n: number) => setOf(Array.from({ length: n }, () => 1n))

describe('quorum by count (equal powers)', () => {
  it.each([
    [4, 3n, 2n],
    [5, 4n, 2n],
    [6, 4n, 2n],
    [7, 5n, 3n],
  ])('n = %i: quorum %i, weak quorum %i', (n, q, w) => {
    expect(quorum(equal(n))).toBe(q)
    expect(weakQuorum(equal(n))).toBe(w)
    const index = indexValidators(equal(n))
    const ids = index.set.validators.map((v) => v.id)
    expect(index.hasQuorum(ids.slice(0, Number(q)))).toBe(true)
    expect(index.hasQuorum(ids.slice(0, Number(q) - 1))).toBe(false)
    expect(index.hasWeakQuorum(ids.slice(0, Number(w)))).toBe(true)
    expect(index.hasWeakQuorum(ids.slice(0, Number(w) - 1))).toBe(false)
  })

  it('counts a duplicate signer once and ignores non-validators', () => {
    const index = indexValidators(equal(4))
    const [a, b] = index.set.validators.map((v) => v.id)
    expect(index.hasQuorum([a!, a!, b!, new Uint8Array(32).fill(99)])).toBe(false)
    expect(index.powerOf([a!, a!, a!])).toBe(1n)
  })

  it('scales with a common power', () => {
    expect(quorum(setOf([10n, 10n, 10n, 10n]))).toBe(30n)
  })

  it('two quorums share an honest validator and honest validators form a quorum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), (n) => {
        const q = Number(quorum(equal(n)))
        const f = maxFaulty(n)
        expect(2 * q - n).toBeGreaterThanOrEqual(f + 1)
        expect(n - f).toBeGreaterThanOrEqual(q)
        expect(Number(weakQuorum(equal(n)))).toBe(f + 1)
      }),
      { numRuns: 200 },
    )
  })
})

describe('quorum by power (unequal powers)', () => {
  it('needs more than 2/3 and more than 1/3 of the power, at the boundary', () => {
    const set = setOf([1n, 2n, 3n, 4n, 5n]) // total 15
    expect(quorum(set)).toBe(11n)
    expect(weakQuorum(set)).toBe(6n)
    const index = indexValidators(set)
    const ids = set.validators.map((v) => v.id)
    expect(index.hasQuorum([ids[4]!, ids[3]!, ids[1]!])).toBe(true) // 11
    expect(index.hasQuorum([ids[4]!, ids[3]!, ids[0]!])).toBe(false) // 10
    expect(index.hasWeakQuorum([ids[4]!, ids[0]!])).toBe(true) // 6
    expect(index.hasWeakQuorum([ids[4]!])).toBe(false) // 5
  })

  it('quorum intersections exceed a third of the power, for any weights', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 1000n }), { minLength: 2, maxLength: 30 }),
        (powers) => {
          const t = quorumThresholds(setOf(powers))
          expect(3n * (2n * t.quorum - t.totalPower)).toBeGreaterThan(t.totalPower)
          expect(3n * t.weakQuorum).toBeGreaterThan(t.totalPower)
          if (!t.equalPowers) expect(3n * t.quorum).toBeGreaterThan(2n * t.totalPower)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('refuses empty sets and non-positive powers', () => {
    expect(() => quorum({ validators: [] })).toThrow(RangeError)
    expect(() => quorum(setOf([1n, 0n]))).toThrow(RangeError)
    expect(() => quorum(setOf([1n, 1 as unknown as bigint]))).toThrow(TypeError)
  })
})

describe('proposer rotation', () => {
  const set = equal(4)
  it('starts at index 0 on the first height and rotates by round', () => {
    expect(
      [0, 1, 2, 3, 4].map((round) => roundRobinProposer({ height: 1, round, validators: set })),
    ).toEqual([0, 1, 2, 3, 0])
  })
  it('continues after the previous block proposer', () => {
    const previousProposer = set.validators[2]!.id
    expect(roundRobinProposer({ height: 5, round: 0, validators: set, previousProposer })).toBe(3)
    expect(roundRobinProposer({ height: 5, round: 1, validators: set, previousProposer })).toBe(0)
  })
  it('restarts at 0 when the previous proposer left the set', () => {
    const previousProposer = new Uint8Array(32).fill(77)
    expect(roundRobinProposer({ height: 5, round: 0, validators: set, previousProposer })).toBe(0)
  })
  it('is pluggable', () => {
    expect(heightRoundProposer({ height: 5, round: 2, validators: set })).toBe(3)
  })
})
