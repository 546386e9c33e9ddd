/**
 * The QBFT justification predicates (EEA QBFT spec, after Moniz's IBFT):
 *
 * - A ROUND-CHANGE that reports a prepared block is justified by a quorum of PREPAREs for that
 *   height, prepared round and digest, and carries the block itself.
 * - A PROPOSAL for round r > 0 is justified by a quorum of ROUND-CHANGEs for (height, r) from
 *   distinct validators. When none of them reports a prepared block, any valid block may be
 *   proposed. Otherwise, let pr be the highest prepared round they report: the proposal must
 *   re-propose the block some ROUND-CHANGE reported for pr, and carry a quorum of PREPAREs for
 *   (height, pr, that digest). This is what makes a block that may have been decided in an
 *   earlier round the only one a later round can decide.
 *
 * Every signature inside a justification is checked; an author counts once however many of its
 * messages appear; every message must be for the same height.
 */
import { equalBytes } from './bytes.js'
import {
  blockIdOf,
  checkedBlockId,
  type IbftMessage,
  type PrepareBody,
  type ProposalBody,
  type RoundChangeBody,
  type SignedBody,
  signingBytes,
} from './messages.js'
import type { SignatureScheme } from './signing.js'
import type { ValidatorIndex } from './validators.js'

/** What the predicates check signatures and powers against. */
export interface JustificationContext {
  /** The chain the signatures are bound to. */
  chainId: string
  /** The validators of the height. */
  validators: ValidatorIndex
  /** The signature scheme. */
  scheme: SignatureScheme
  /**
   * The block id of a payload (the application's `blockId`); default {@link blockIdOf}. A throw
   * makes the carried block, and so the message, invalid.
   */
  blockId?: (payload: Uint8Array) => Uint8Array
}

/** The result of a predicate: valid, or invalid with a reason for logs and rejections. */
export type JustificationVerdict = { valid: true } | { valid: false; reason: string }

const VALID: JustificationVerdict = Object.freeze({ valid: true })
const invalid = (reason: string): JustificationVerdict => ({ valid: false, reason })

/** Whether `signed` is signed by a validator of the set, with a valid signature. */
export function isAuthenticSigned(signed: SignedBody, context: JustificationContext): boolean {
  if (context.validators.indexOf(signed.author) < 0) return false
  return context.scheme.verify(
    signed.signature,
    signingBytes(context.chainId, signed.body.kind, signed.bodyBytes),
    signed.author,
  )
}

/**
 * Whether `prepares` are authentic PREPAREs for exactly (height, round, digest) whose distinct
 * authors hold a quorum of power.
 */
export function isPrepareQuorum(
  prepares: readonly SignedBody<PrepareBody>[],
  target: { height: number; round: number; digest: Uint8Array },
  context: JustificationContext,
): JustificationVerdict {
  for (const prepare of prepares) {
    const { body } = prepare
    if (body.kind !== 'PREPARE') return invalid('justification holds a non-PREPARE')
    if (body.height !== target.height) return invalid('PREPARE for another height')
    if (body.round !== target.round) return invalid('PREPARE for another round than prepared')
    if (!equalBytes(body.digest, target.digest)) return invalid('PREPARE for another block')
    if (!isAuthenticSigned(prepare, context)) return invalid('PREPARE with a bad signature')
  }
  if (!context.validators.hasQuorum(prepares.map((prepare) => prepare.author))) {
    return invalid('PREPAREs do not reach a quorum')
  }
  return VALID
}

/**
 * Whether a ROUND-CHANGE is justified: without a prepared block it carries nothing; with one, it
 * carries the block (matching the digest) and a PREPARE quorum for its prepared round.
 * The outer signature is not checked here.
 */
export function justifyRoundChange(
  message: IbftMessage<RoundChangeBody>,
  context: JustificationContext,
): JustificationVerdict {
  const { body } = message.signed
  if (message.roundChanges.length > 0) return invalid('a ROUND-CHANGE carries no ROUND-CHANGEs')
  if (body.preparedRound === undefined || body.preparedDigest === undefined) {
    if (message.payload !== undefined || message.prepares.length > 0) {
      return invalid('an unprepared ROUND-CHANGE carries no block and no PREPAREs')
    }
    return VALID
  }
  if (body.preparedRound >= body.round) return invalid('prepared round is not below the round')
  if (message.payload === undefined) return invalid('prepared block missing')
  let preparedId: Uint8Array
  try {
    preparedId = checkedBlockId(context.blockId ?? blockIdOf, message.payload)
  } catch (error) {
    return invalid(`prepared block has no valid id: ${(error as Error).message}`)
  }
  if (!equalBytes(preparedId, body.preparedDigest)) {
    return invalid('prepared block does not match its digest')
  }
  return isPrepareQuorum(
    message.prepares,
    { height: body.height, round: body.preparedRound, digest: body.preparedDigest },
    context,
  )
}

/** The highest prepared round reported by `roundChanges`, with the digest of the first report of it. */
export function highestPrepared(
  roundChanges: readonly SignedBody<RoundChangeBody>[],
): { round: number; digest: Uint8Array } | undefined {
  let best: { round: number; digest: Uint8Array } | undefined
  for (const { body } of roundChanges) {
    if (body.preparedRound === undefined || body.preparedDigest === undefined) continue
    if (best === undefined || body.preparedRound > best.round) {
      best = { round: body.preparedRound, digest: body.preparedDigest }
    }
  }
  return best
}

/**
 * Whether a PROPOSAL is justified (see the module description). Round 0 needs no justification
 * and must carry none. The proposal's own signature, proposer and digest are checked elsewhere.
 */
export function justifyProposal(
  message: IbftMessage<ProposalBody>,
  context: JustificationContext,
): JustificationVerdict {
  const { body } = message.signed
  if (body.round === 0) {
    return message.roundChanges.length === 0 && message.prepares.length === 0
      ? VALID
      : invalid('a round-0 PROPOSAL carries no justification')
  }
  for (const roundChange of message.roundChanges) {
    if (roundChange.body.kind !== 'ROUND-CHANGE')
      return invalid('justification holds a non-ROUND-CHANGE')
    if (roundChange.body.height !== body.height) return invalid('ROUND-CHANGE for another height')
    if (roundChange.body.round !== body.round) return invalid('ROUND-CHANGE for another round')
    if (!isAuthenticSigned(roundChange, context))
      return invalid('ROUND-CHANGE with a bad signature')
  }
  if (!context.validators.hasQuorum(message.roundChanges.map((item) => item.author))) {
    return invalid('ROUND-CHANGEs do not reach a quorum')
  }
  const highest = highestPrepared(message.roundChanges)
  if (highest === undefined) {
    return message.prepares.length === 0
      ? VALID
      : invalid('PREPAREs without any prepared ROUND-CHANGE')
  }
  const reported = message.roundChanges.some(
    ({ body: roundChange }) =>
      roundChange.preparedRound === highest.round &&
      roundChange.preparedDigest !== undefined &&
      equalBytes(roundChange.preparedDigest, body.digest),
  )
  if (!reported) return invalid('the highest prepared block is not re-proposed')
  return isPrepareQuorum(
    message.prepares,
    { height: body.height, round: highest.round, digest: body.digest },
    context,
  )
}
