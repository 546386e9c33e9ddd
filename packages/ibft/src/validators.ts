/**
 * A validator set prepared for lookups: index by id, power of a group of signers, and a hash
 * that commits to the set's canonical order (the order of certificate bitmaps and proposer
 * rotation is the order the application returns).
 */
import type { Validator, ValidatorSet } from '@metanode/core'
import { encode } from '@metanode/core'
import { bytesToHex } from '@metanode/crypto/bytes'
import { domainHash } from '@metanode/crypto/hash'
import { type QuorumThresholds, quorumThresholds } from './quorum.js'

/** Length of a validator id (an Ed25519 public key). */
export const VALIDATOR_ID_LENGTH = 32
/** Length of a BLS12-381 G1 public key. */
export const BLS_PUBLIC_KEY_LENGTH = 48
/** Most validators one set may hold (bounds justification sizes). */
export const MAX_VALIDATORS = 1024

/** A checked, indexed validator set. Build one with {@link indexValidators}. */
export interface ValidatorIndex {
  /** The set as given, in canonical order. */
  readonly set: ValidatorSet
  /** Number of validators. */
  readonly size: number
  /** The quorum thresholds of the set. */
  readonly thresholds: QuorumThresholds
  /** Position of `id` in canonical order, or -1 when it is not a validator. */
  indexOf(id: Uint8Array): number
  /** The validator at `index` (throws `RangeError` outside the set). */
  at(index: number): Validator
  /** Summed power of the distinct validators among `ids` (non-validators count 0, duplicates once). */
  powerOf(ids: Iterable<Uint8Array>): bigint
  /** Whether the distinct validators among `ids` form a quorum. */
  hasQuorum(ids: Iterable<Uint8Array>): boolean
  /** Whether the distinct validators among `ids` form a weak quorum (f + 1). */
  hasWeakQuorum(ids: Iterable<Uint8Array>): boolean
}

/**
 * Checks `set` and indexes it.
 *
 * @throws TypeError for a malformed set; RangeError for an empty or oversized set, a key of the
 *   wrong length, a non-positive power, or a duplicate id.
 */
export function indexValidators(set: ValidatorSet): ValidatorIndex {
  const thresholds = quorumThresholds(set)
  const validators = set.validators
  if (validators.length > MAX_VALIDATORS) {
    throw new RangeError(`a validator set holds at most ${MAX_VALIDATORS} validators`)
  }
  const positions = new Map<string, number>()
  validators.forEach((validator, index) => {
    if (!(validator.id instanceof Uint8Array) || !(validator.blsPublicKey instanceof Uint8Array)) {
      throw new TypeError(`validators[${index}] keys must be Uint8Arrays`)
    }
    if (validator.id.length !== VALIDATOR_ID_LENGTH) {
      throw new RangeError(`validators[${index}].id must be ${VALIDATOR_ID_LENGTH} bytes long`)
    }
    if (validator.blsPublicKey.length !== BLS_PUBLIC_KEY_LENGTH) {
      throw new RangeError(
        `validators[${index}].blsPublicKey must be ${BLS_PUBLIC_KEY_LENGTH} bytes long`,
      )
    }
    const key = bytesToHex(validator.id)
    if (positions.has(key)) throw new RangeError(`validators[${index}].id is a duplicate`)
    positions.set(key, index)
  })
  const indexOf = (id: Uint8Array): number => positions.get(bytesToHex(id)) ?? -1
  const powerOf = (ids: Iterable<Uint8Array>): bigint => {
    const seen = new Set<number>()
    let power = 0n
    for (const id of ids) {
      const index = indexOf(id)
      if (index < 0 || seen.has(index)) continue
      seen.add(index)
      power += (validators[index] as Validator).votingPower
    }
    return power
  }
  return {
    set,
    size: validators.length,
    thresholds,
    indexOf,
    at(index) {
      const validator = validators[index]
      if (validator === undefined) throw new RangeError(`no validator at index ${index}`)
      return validator
    },
    powerOf,
    hasQuorum: (ids) => powerOf(ids) >= thresholds.quorum,
    hasWeakQuorum: (ids) => powerOf(ids) >= thresholds.weakQuorum,
  }
}

/**
 * A validator set sorted into the canonical order this package suggests to applications: by id,
 * bytewise. Any order works as long as every node uses the same one.
 */
export function sortValidators(validators: readonly Validator[]): ValidatorSet {
  const sorted = [...validators].sort((a, b) => {
    for (let i = 0; i < Math.min(a.id.length, b.id.length); i++) {
      const diff = (a.id[i] as number) - (b.id[i] as number)
      if (diff !== 0) return diff
    }
    return a.id.length - b.id.length
  })
  return { validators: sorted }
}

/** The 32-byte hash of `set` in its canonical order (ids, BLS keys and powers). */
export function validatorSetHash(set: ValidatorSet): Uint8Array {
  const encoded = encode(
    set.validators.map((validator) => [
      validator.id,
      validator.blsPublicKey,
      validator.votingPower,
    ]),
  )
  return domainHash('metanode/ibft/validator-set/v1', encoded)
}
