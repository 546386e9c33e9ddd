/**
 * The error classes of Metanode. One base, {@link MetanodeError}, carries a short message,
 * structured details and a `cause` chain; each condition has its own subclass, matched by `name`
 * (stable across bundlers and realms) rather than by `instanceof`.
 */

/** Structured, JSON-friendly context attached to an error. */
export type ErrorDetails = Readonly<Record<string, unknown>>

/** Options accepted by every {@link MetanodeError}. */
export interface MetanodeErrorOptions {
  /** Structured context: what was being done, with which ids and sizes. Never secrets. */
  details?: ErrorDetails
  /** The lower-level error that caused this one. */
  cause?: unknown
}

/** Base of every error Metanode throws on purpose. */
export class MetanodeError extends Error {
  /** Stable machine-readable name of the condition, e.g. `StoreClosedError`. */
  override name = 'MetanodeError'
  /** Structured context of the failure. */
  readonly details: ErrorDetails

  constructor(message: string, options: MetanodeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.details = options.details ?? {}
  }
}

/**
 * What a transport does with the sender of a rejected message: `ignore` drops it silently (the
 * sender may be honest but late), `reject` drops it and penalises the sender (it sent something
 * no honest peer sends).
 */
export type RejectionAction = 'ignore' | 'reject'

/** A refused message or request, with a typed code and the action to take against the sender. */
export class RejectionError<Code extends string = string> extends MetanodeError {
  override name = 'RejectionError'
  /** Machine-readable reason, e.g. `invalid-signature`. */
  readonly code: Code
  /** Whether the sender is to be ignored or penalised. */
  readonly action: RejectionAction

  constructor(
    code: Code,
    action: RejectionAction,
    message: string,
    options: MetanodeErrorOptions = {},
  ) {
    super(message, options)
    this.code = code
    this.action = action
  }
}

/** Bytes that do not decode as the expected value. */
export class DecodeError extends MetanodeError {
  override name = 'DecodeError'
}

/** A value that cannot be encoded deterministically (unsupported type, undefined, NaN, ...). */
export class EncodeError extends MetanodeError {
  override name = 'EncodeError'
}

/** A message, block or value larger than the configured limit. */
export class MessageTooLargeError extends MetanodeError {
  override name = 'MessageTooLargeError'
}

/** An operation on a store that is not open. */
export class StoreClosedError extends MetanodeError {
  override name = 'StoreClosedError'
}

/** An operation on a component that has not been started, or has been stopped. */
export class NotStartedError extends MetanodeError {
  override name = 'NotStartedError'
}

/** A peer that is not connected, or is unknown to the transport. */
export class PeerUnreachableError extends MetanodeError {
  override name = 'PeerUnreachableError'
}

/** A topic name or protocol id that is malformed or not handled. */
export class UnknownTopicError extends MetanodeError {
  override name = 'UnknownTopicError'
}

/** A request that got no answer within its deadline. */
export class TimeoutError extends MetanodeError {
  override name = 'TimeoutError'
}

/** Configuration or arguments that violate a documented limit or shape. */
export class InvalidArgumentError extends MetanodeError {
  override name = 'InvalidArgumentError'
}

/** True when `error` is a {@link MetanodeError} with the given `name` (works across realms and copies of this package). */
export function isMetanodeError(error: unknown, name?: string): error is MetanodeError {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as { name?: unknown; details?: unknown }
  if (typeof candidate.name !== 'string' || typeof candidate.details !== 'object') return false
  return name === undefined || candidate.name === name
}
