/**
 * Delegation: accounts bond stake to a validator. A validator's voting power is its own stake
 * plus what is delegated to it; its rewards, after its commission, are shared with its
 * delegators in proportion to their stake, and slashing burns the same fraction of both.
 */
import { decode, encode } from '@metanode/core'
import { compareBytes } from './bytes.js'
import { STATE_PREFIX, type StateOverlay } from './state.js'

/** Most delegators one validator may have. */
export const MAX_DELEGATORS = 1024

/** The state key of `delegator`'s stake delegated to `validator`. */
export function delegationKey(validator: Uint8Array, delegator: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + validator.length + delegator.length)
  key[0] = STATE_PREFIX.delegation
  key.set(validator, 1)
  key.set(delegator, 1 + validator.length)
  return key
}

function delegatorsKey(validator: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + validator.length)
  key[0] = STATE_PREFIX.delegators
  key.set(validator, 1)
  return key
}

/** The stake `delegator` has delegated to `validator` (0 when none). */
export function readDelegation(
  state: StateOverlay,
  validator: Uint8Array,
  delegator: Uint8Array,
): bigint {
  const bytes = state.get(delegationKey(validator, delegator))
  return bytes === undefined ? 0n : BigInt(decode(bytes) as number | bigint)
}

/** The accounts delegating to `validator`, in byte order. */
export function readDelegators(state: StateOverlay, validator: Uint8Array): Uint8Array[] {
  const bytes = state.get(delegatorsKey(validator))
  return bytes === undefined ? [] : (decode(bytes) as Uint8Array[])
}

/**
 * Sets `delegator`'s delegation to `validator` to `amount`, keeping the delegator index.
 *
 * @throws RangeError when a new delegator would exceed {@link MAX_DELEGATORS}.
 */
export function writeDelegation(
  state: StateOverlay,
  validator: Uint8Array,
  delegator: Uint8Array,
  amount: bigint,
): void {
  const delegators = readDelegators(state, validator)
  const index = delegators.findIndex((known) => compareBytes(known, delegator) === 0)
  if (amount === 0n) {
    state.set(delegationKey(validator, delegator), undefined)
    if (index >= 0) {
      delegators.splice(index, 1)
      state.set(delegatorsKey(validator), delegators.length === 0 ? undefined : encode(delegators))
    }
    return
  }
  if (index < 0) {
    if (delegators.length >= MAX_DELEGATORS) throw new RangeError('too many delegators')
    delegators.push(delegator)
    delegators.sort(compareBytes)
    state.set(delegatorsKey(validator), encode(delegators))
  }
  state.set(delegationKey(validator, delegator), encode(amount))
}

/** Total stake delegated to `validator`. */
export function totalDelegated(state: StateOverlay, validator: Uint8Array): bigint {
  let total = 0n
  for (const delegator of readDelegators(state, validator)) {
    total += readDelegation(state, validator, delegator)
  }
  return total
}
