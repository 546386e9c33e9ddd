/**
 * The typed rejections of the pool. Each is a `RejectionError` from `@metanode/core` with a
 * stable `code` and the action a gossip layer takes against the peer that relayed the
 * transaction: only {@link InvalidTransactionError} penalises (`reject`); the others describe
 * transactions an honest peer may relay (its pool may be emptier, its limits different), so
 * they are `ignore`.
 */
import { type MetanodeErrorOptions, RejectionError } from '@metanode/core'

/** Every reason the pool refuses a transaction. */
export const MEMPOOL_REJECTION_CODES = [
  'nonce-too-low',
  'replacement-underpriced',
  'underpriced',
  'pool-full',
  'sender-limit',
  'oversized',
  'already-known',
  'insufficient-funds',
  'invalid',
] as const

/** A reason the pool refuses a transaction; the `code` of a {@link MempoolRejectionError}. */
export type MempoolRejectionCode = (typeof MEMPOOL_REJECTION_CODES)[number]

/** Base of the pool's rejections; match on `name` or `code`. */
export class MempoolRejectionError extends RejectionError<MempoolRejectionCode> {
  /** Always `MempoolRejectionError`. */
  override name = 'MempoolRejectionError'
}

/** The nonce is below the sender's account nonce: the transaction can never execute. */
export class NonceTooLowError extends MempoolRejectionError {
  /** Always `NonceTooLowError`. */
  override name = 'NonceTooLowError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('nonce-too-low', 'ignore', message, options)
  }
}

/** A transaction with the same sender and nonce is pooled and the new one does not bid enough more. */
export class ReplacementUnderpricedError extends MempoolRejectionError {
  /** Always `ReplacementUnderpricedError`. */
  override name = 'ReplacementUnderpricedError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('replacement-underpriced', 'ignore', message, options)
  }
}

/** The bid is below the pool's floor, or the pool is full and the bid outbids nothing evictable. */
export class UnderpricedError extends MempoolRejectionError {
  /** Always `UnderpricedError`. */
  override name = 'UnderpricedError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('underpriced', 'ignore', message, options)
  }
}

/** The pool is full and nothing may be evicted for this transaction. */
export class PoolFullError extends MempoolRejectionError {
  /** Always `PoolFullError`. */
  override name = 'PoolFullError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('pool-full', 'ignore', message, options)
  }
}

/** The sender already holds as many transactions as the pool allows one sender. */
export class SenderLimitError extends MempoolRejectionError {
  /** Always `SenderLimitError`. */
  override name = 'SenderLimitError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('sender-limit', 'ignore', message, options)
  }
}

/** The transaction is larger than the pool's per-transaction byte limit. */
export class OversizedError extends MempoolRejectionError {
  /** Always `OversizedError`. */
  override name = 'OversizedError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('oversized', 'ignore', message, options)
  }
}

/** A transaction with the same id is already pooled. */
export class AlreadyKnownError extends MempoolRejectionError {
  /** Always `AlreadyKnownError`. */
  override name = 'AlreadyKnownError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('already-known', 'ignore', message, options)
  }
}

/** The sender's balance does not cover the transaction's value plus its maximum fee. */
export class InsufficientFundsError extends MempoolRejectionError {
  /** Always `InsufficientFundsError`. */
  override name = 'InsufficientFundsError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('insufficient-funds', 'ignore', message, options)
  }
}

/**
 * The transaction is malformed (fields out of range, priority fee above the fee cap) or failed
 * the pool's verifier hook: no honest peer relays it.
 */
export class InvalidTransactionError extends MempoolRejectionError {
  /** Always `InvalidTransactionError`. */
  override name = 'InvalidTransactionError'
  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super('invalid', 'reject', message, options)
  }
}
