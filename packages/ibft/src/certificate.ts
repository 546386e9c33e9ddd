/**
 * Commit certificates: a quorum of BLS commit seals aggregated into one signature with a signer
 * bitmap over the validator set's canonical order. {@link verifyCommitCertificate} is all a light
 * client or a bridge needs to check a decision.
 */
import type { CommitCertificate, ValidatorSet } from '@metanode/core'
import { equalBytes } from './bytes.js'
import { DIGEST_LENGTH } from './messages.js'
import { quorumThresholds } from './quorum.js'
import { commitSealBytes, realScheme, SEAL_LENGTH, type SignatureScheme } from './signing.js'
import { indexValidators } from './validators.js'

/** One validator's seal, by its index in canonical order. */
export interface IndexedSeal {
  /** Index of the validator in the set's canonical order. */
  index: number
  /** Its commit seal. */
  seal: Uint8Array
}

/** What {@link buildCommitCertificate} needs. */
export interface CertificateInput {
  /** Height decided. */
  height: number
  /** Round decided in. */
  round: number
  /** Block id decided. */
  blockId: Uint8Array
  /** Number of validators of the height (sets the bitmap length). */
  validatorCount: number
  /** Seals already verified (see {@link findInvalidSeals}); duplicates by index count once. */
  seals: readonly IndexedSeal[]
  /** Aggregation scheme. Default {@link realScheme}. */
  scheme?: SignatureScheme
  /**
   * The aggregate of exactly `seals` (one per index), when the caller already has it from
   * {@link checkSeals}: aggregating decompresses every seal again, a large part of finalizing.
   */
  aggregate?: Uint8Array
}

/** Length in bytes of a signer bitmap over `validatorCount` validators. */
export function bitmapLength(validatorCount: number): number {
  return Math.ceil(validatorCount / 8)
}

/** Indices set in a little-endian signer bitmap. */
export function bitmapIndices(signers: Uint8Array): number[] {
  const indices: number[] = []
  for (let index = 0; index < signers.length * 8; index++) {
    if (((signers[index >> 3] as number) >> (index & 7)) & 1) indices.push(index)
  }
  return indices
}

/** Aggregates seals into a certificate. Throws `RangeError` for no seals or an index out of the set. */
export function buildCommitCertificate(input: CertificateInput): CommitCertificate {
  const scheme = input.scheme ?? realScheme
  const signers = new Uint8Array(bitmapLength(input.validatorCount))
  const seals: Uint8Array[] = []
  // ascending index order makes the aggregate independent of arrival order
  for (const { index, seal } of [...input.seals].sort((a, b) => a.index - b.index)) {
    if (!Number.isSafeInteger(index) || index < 0 || index >= input.validatorCount) {
      throw new RangeError(`seal index ${index} is outside the validator set`)
    }
    const mask = 1 << (index & 7)
    if ((signers[index >> 3] as number) & mask) continue
    signers[index >> 3] = (signers[index >> 3] as number) | mask
    seals.push(seal)
  }
  if (seals.length === 0) throw new RangeError('a certificate needs at least one seal')
  if (input.aggregate !== undefined && seals.length !== input.seals.length) {
    throw new RangeError('an aggregate is only accepted for seals with distinct indices')
  }
  return {
    height: input.height,
    round: input.round,
    blockId: input.blockId.slice(),
    signers,
    // aggregation is commutative, so the caller's aggregate (in any order) is the same point
    signature: input.aggregate?.slice() ?? scheme.aggregate(seals),
  }
}

function checkCertificateTypes(certificate: CommitCertificate, blockId: Uint8Array): void {
  if (typeof certificate !== 'object' || certificate === null) {
    throw new TypeError('certificate must be an object')
  }
  for (const name of ['blockId', 'signers', 'signature'] as const) {
    if (!(certificate[name] instanceof Uint8Array)) {
      throw new TypeError(`certificate.${name} must be a Uint8Array`)
    }
  }
  for (const name of ['height', 'round'] as const) {
    if (typeof certificate[name] !== 'number')
      throw new TypeError(`certificate.${name} must be a number`)
  }
  if (!(blockId instanceof Uint8Array)) throw new TypeError('blockId must be a Uint8Array')
}

/**
 * Whether `certificate` proves that the validators of `validatorSet` decided `blockId` at the
 * certificate's height and round on chain `chainId`: the bitmap has the set's length with no bit
 * beyond it, the signers hold a quorum of power ({@link quorumThresholds}), and the aggregate
 * signature verifies over {@link commitSealBytes} with their BLS keys (one fast-aggregate-verify).
 *
 * Returns `false` for a well-typed but invalid certificate; throws `TypeError` for wrong types and
 * for a malformed validator set.
 */
export function verifyCommitCertificate(
  certificate: CommitCertificate,
  blockId: Uint8Array,
  validatorSet: ValidatorSet,
  chainId: string,
  scheme: SignatureScheme = realScheme,
): boolean {
  checkCertificateTypes(certificate, blockId)
  if (typeof chainId !== 'string') throw new TypeError('chainId must be a string')
  const validators = indexValidators(validatorSet)
  const { height, round, signers, signature } = certificate
  if (!Number.isSafeInteger(height) || height < 1 || !Number.isSafeInteger(round) || round < 0) {
    return false
  }
  if (blockId.length !== DIGEST_LENGTH || !equalBytes(certificate.blockId, blockId)) return false
  if (signature.length !== SEAL_LENGTH) return false
  if (signers.length !== bitmapLength(validators.size)) return false
  const indices = bitmapIndices(signers)
  if (indices.length === 0 || (indices.at(-1) as number) >= validators.size) return false
  const members = indices.map((index) => validators.at(index))
  const power = members.reduce((sum, validator) => sum + validator.votingPower, 0n)
  if (power < quorumThresholds(validatorSet).quorum) return false
  return scheme.verifyAggregate(
    signature,
    commitSealBytes(chainId, height, round, blockId),
    members.map((validator) => validator.blsPublicKey),
  )
}

/** A seal to check, with the key that should have made it. */
export interface SealToCheck {
  /** The seal. */
  seal: Uint8Array
  /** The BLS public key of its claimed author. */
  blsPublicKey: Uint8Array
}

/** What {@link checkSeals} found. */
export interface SealCheck {
  /** Positions (in the seals checked) of the seals that do not verify. */
  invalid: number[]
  /** When all verify: their aggregate, to pass to {@link buildCommitCertificate}. */
  aggregate?: Uint8Array
}

/**
 * Positions (in `seals`) of the seals that do not verify over `message`. Optimistic: one
 * aggregate verification when all are good (the common case); only when it fails is each seal
 * checked on its own to find the bad ones.
 */
export function findInvalidSeals(
  seals: readonly SealToCheck[],
  message: Uint8Array,
  scheme: SignatureScheme = realScheme,
): number[] {
  return checkSeals(seals, message, scheme).invalid
}

/**
 * {@link findInvalidSeals} that also returns the verified aggregate when every seal is good, so
 * that building the certificate does not aggregate the same seals a second time.
 */
export function checkSeals(
  seals: readonly SealToCheck[],
  message: Uint8Array,
  scheme: SignatureScheme = realScheme,
): SealCheck {
  if (seals.length === 0) return { invalid: [] }
  const sealList = seals.map((item) => item.seal)
  const keys = seals.map((item) => item.blsPublicKey)
  if (scheme.verifyAndAggregate !== undefined) {
    const aggregate = scheme.verifyAndAggregate(sealList, message, keys)
    if (aggregate !== undefined) return { invalid: [], aggregate }
  } else {
    let aggregate: Uint8Array | undefined
    try {
      aggregate = scheme.aggregate(sealList)
    } catch {
      // a seal that is not even a curve point: fall through to checking one by one
    }
    if (aggregate !== undefined && scheme.verifyAggregate(aggregate, message, keys)) {
      return { invalid: [], aggregate }
    }
  }
  const invalid: number[] = []
  seals.forEach((item, position) => {
    if (!scheme.verifySeal(item.seal, message, item.blsPublicKey)) invalid.push(position)
  })
  return { invalid }
}
