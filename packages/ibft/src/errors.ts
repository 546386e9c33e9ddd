/**
 * Why the engine refuses a message, as typed codes, and the named errors it throws.
 */
import { MetanodeError, type RejectionAction, RejectionError } from '@metanode/core'

/** Machine-readable reasons for refusing a consensus message. */
export const REJECTION_CODES = {
  /** Bytes that do not decode as a consensus message, or violate its shape or size limits. */
  malformed: 'malformed',
  /** A signature (of the message or of an embedded justification) that does not verify. */
  badSignature: 'bad-signature',
  /** An author that is not a validator of the message's height. */
  notValidator: 'not-validator',
  /** A PROPOSAL from a validator that is not the proposer of its round. */
  wrongProposer: 'wrong-proposer',
  /** A PROPOSAL or ROUND-CHANGE whose justification does not satisfy the QBFT rules. */
  badJustification: 'bad-justification',
  /** A PROPOSAL whose block digest does not match its payload. */
  badDigest: 'bad-digest',
  /** A PROPOSAL whose payload the application rejected. */
  invalidPayload: 'invalid-payload',
  /** A second, different message from one author for the same height, round and kind. */
  equivocation: 'equivocation',
  /** A message for a height or round already left behind. */
  stale: 'stale',
  /** A message already received. */
  duplicate: 'duplicate',
  /** A message too far ahead (height or round) to be kept, or buffered for a later height. */
  future: 'future',
  /** A message refused because a buffer cap was reached. */
  overloaded: 'overloaded',
} as const

/** One of {@link REJECTION_CODES}. */
export type RejectionCode = (typeof REJECTION_CODES)[keyof typeof REJECTION_CODES]

/** A refused consensus message: a core `RejectionError` with an IBFT {@link RejectionCode}. */
export type IbftRejectionError = RejectionError<RejectionCode>

/** Creates the {@link IbftRejectionError} for `code`, penalising the sender when `action` is `reject`. */
export function rejection(
  code: RejectionCode,
  action: RejectionAction,
  message: string,
  details: Record<string, unknown> = {},
): IbftRejectionError {
  return new RejectionError(code, action, message, { details })
}

/**
 * Thrown when the engine is asked to sign a message that conflicts with one it already signed
 * (same height, round and kind, different content). Signing it could make this validator
 * equivocate, so the engine refuses, even across a crash and restart.
 */
export class DoubleSignPreventedError extends MetanodeError {
  override name = 'DoubleSignPreventedError'
}

/**
 * `Application.finalize` threw (or the engine could not record that it succeeded) for the block
 * at `details.height`; the original error is the `cause`. The engine halts at that height rather
 * than let this node's application state silently miss a block the others applied; a restart over
 * the same store hands the block to `finalize` again.
 */
export class FinalizeFailedError extends MetanodeError {
  override name = 'FinalizeFailedError'
}
