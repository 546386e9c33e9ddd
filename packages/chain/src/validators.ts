/**
 * The validator registry and the active set as kept in state.
 */
import type { ValidatorSet } from '@metanode/core'
import { decode, decodeAs, encode, shape } from '@metanode/core'
import { compareBytes, u64be } from './bytes.js'
import { totalDelegated } from './delegation.js'
import type { ChainParameters } from './genesis.js'
import { STATE_PREFIX, type StateOverlay } from './state.js'
import type { ValidatorMetadata } from './transaction.js'

/** A registered validator's record (its stake is its account's stake). */
export interface ValidatorRecord {
  /** BLS public key (48 bytes), whose proof of possession was checked at registration. */
  blsPublicKey: Uint8Array
  /** Commission in basis points. */
  commissionBps: number
  /** Public description. */
  metadata: ValidatorMetadata
  /** Jailed validators are never selected into the active set. */
  jailed: boolean
  /**
   * The height whose evidence jailed it, present only while jailed: `unjail` succeeds from
   * `jailedHeight + minJailHeights` on. Absent from records written before it existed, which
   * count as having served their time.
   */
  jailedHeight?: number
}

const RecordShape = shape.object({
  blsPublicKey: shape.bytes({ length: 48 }),
  commissionBps: shape.uint({ max: 10_000 }),
  metadata: shape.object({
    moniker: shape.string(),
    website: shape.string(),
    details: shape.string(),
  }),
  jailed: shape.boolean(),
  // Optional so an unjailed record encodes exactly as before the field existed.
  jailedHeight: shape.optional(shape.uint()),
})

/** The state key of validator `id`'s record. */
export function validatorKey(id: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + id.length)
  key[0] = STATE_PREFIX.validator
  key.set(id, 1)
  return key
}

const VALIDATOR_IDS_KEY = Uint8Array.of(STATE_PREFIX.validatorIds)
const ACTIVE_SET_KEY = Uint8Array.of(STATE_PREFIX.activeSet)

/** The state key of `validator`'s inclusion list for `height`. */
export function inclusionListKey(height: number, validator: Uint8Array): Uint8Array {
  const key = new Uint8Array(9 + validator.length)
  key[0] = STATE_PREFIX.inclusionList
  key.set(u64be(height), 1)
  key.set(validator, 9)
  return key
}

/** Reads validator `id`'s record from state. */
export function readValidator(state: StateOverlay, id: Uint8Array): ValidatorRecord | undefined {
  const bytes = state.get(validatorKey(id))
  return bytes === undefined ? undefined : decodeAs(bytes, RecordShape)
}

/** Writes validator `id`'s record, adding the id to the registry. */
export function writeValidator(state: StateOverlay, id: Uint8Array, record: ValidatorRecord): void {
  const ids = readValidatorIds(state)
  if (!ids.some((known) => compareBytes(known, id) === 0)) {
    ids.push(id)
    ids.sort(compareBytes)
    state.set(VALIDATOR_IDS_KEY, encode(ids))
  }
  state.set(validatorKey(id), encode(record))
}

/** Every registered validator id, in byte order. */
export function readValidatorIds(state: StateOverlay): Uint8Array[] {
  const bytes = state.get(VALIDATOR_IDS_KEY)
  return bytes === undefined ? [] : (decode(bytes) as Uint8Array[])
}

/** The active set stored in state (the set that decides the next height). */
export function readActiveSet(state: StateOverlay): ValidatorSet {
  const bytes = state.get(ACTIVE_SET_KEY)
  if (bytes === undefined) return { validators: [] }
  const rows = decode(bytes) as [Uint8Array, Uint8Array, number | bigint][]
  return {
    validators: rows.map(([id, blsPublicKey, power]) => ({
      id,
      blsPublicKey,
      votingPower: BigInt(power),
    })),
  }
}

/** Stores the active set. */
export function writeActiveSet(state: StateOverlay, set: ValidatorSet): void {
  state.set(
    ACTIVE_SET_KEY,
    encode(set.validators.map((v) => [v.id, v.blsPublicKey, v.votingPower])),
  )
}

/**
 * The set the registry selects now: unjailed validators whose own stake reaches the minimum, by
 * voting power (own stake + delegated) descending then id ascending, at most `maxValidators`. When none
 * qualifies the current set stays, so the chain cannot lose every validator at once.
 */
export function selectActiveSet(state: StateOverlay, parameters: ChainParameters): ValidatorSet {
  const candidates = []
  for (const id of readValidatorIds(state)) {
    const record = readValidator(state, id)
    if (record === undefined || record.jailed) continue
    const { stake } = state.account(id)
    if (stake < parameters.minValidatorStake) continue
    const votingPower = stake + totalDelegated(state, id)
    candidates.push({ id, blsPublicKey: record.blsPublicKey, votingPower })
  }
  if (candidates.length === 0) return readActiveSet(state)
  candidates.sort((a, b) =>
    a.votingPower === b.votingPower
      ? compareBytes(a.id, b.id)
      : a.votingPower > b.votingPower
        ? -1
        : 1,
  )
  return { validators: candidates.slice(0, parameters.maxValidators) }
}

/** Whether `id` is in `set`. */
export function inSet(set: ValidatorSet, id: Uint8Array): boolean {
  return set.validators.some((validator) => compareBytes(validator.id, id) === 0)
}
