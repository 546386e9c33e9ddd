import { InvalidArgumentError, RejectionError } from '@metanode/core'

/**
 * Why a transaction or a block is refused. Some transaction codes make a block that contains the
 * transaction invalid, others only fail its receipt (see `executeBlock`).
 */
export type ChainRejectionCode =
  | 'malformed'
  | 'oversized'
  | 'bad-signature'
  | 'wrong-chain'
  | 'bad-nonce'
  | 'fee-too-low'
  | 'cannot-pay-fee'
  | 'insufficient-balance'
  | 'stake-below-minimum'
  | 'already-registered'
  | 'not-a-validator'
  | 'invalid-proof-of-possession'
  | 'invalid-inclusion-list'
  | 'app-rejected'
  | 'no-app-handler'
  | 'bad-header'
  | 'bad-timestamp'
  | 'state-mismatch'
  | 'too-many-transactions'
  | 'duplicate-transaction'
  | 'censorship'
  | 'invalid-evidence'
  | 'evidence-expired'
  | 'bad-parent-certificate'
  | 'too-many-delegators'
  | 'too-many-candidates'
  | 'not-jailed'
  | 'jail-time-not-served'
  | 'still-active'

/** A transaction or block the chain refuses, with a typed code. */
export class ChainRejectionError extends RejectionError<ChainRejectionCode> {
  override name = 'ChainRejectionError'
}

/** A genesis document that is malformed; `details.field` names the offending field. */
export class GenesisError extends InvalidArgumentError {
  override name = 'GenesisError'
}

/** Stored chain data that does not reproduce (a state root or a block that does not match). */
export class ReplayMismatchError extends InvalidArgumentError {
  override name = 'ReplayMismatchError'
}
