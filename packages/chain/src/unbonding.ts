/**
 * Unbonding: unstaked and undelegated coins wait `unbondingHeights` before they are spendable,
 * and evidence that lands meanwhile still slashes them, so stake cannot leave ahead of the
 * evidence of its offence.
 */
import { decode, encode } from '@metanode/core'
import { equalBytes, u64be } from './bytes.js'
import { STATE_PREFIX, type StateOverlay } from './state.js'
import { MAX_AMOUNT } from './transaction.js'

/** Coins on their way back to `account`'s balance. */
export interface UnbondingEntry {
  /** Who receives them. */
  account: Uint8Array
  /** The validator they were bonded to (the account itself for its own stake). */
  validator: Uint8Array
  /** How much. */
  amount: bigint
}

function unbondingKey(releaseHeight: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = STATE_PREFIX.unbonding
  key.set(u64be(releaseHeight), 1)
  return key
}

/** The entries released at the start of `releaseHeight`. */
export function readUnbonding(state: StateOverlay, releaseHeight: number): UnbondingEntry[] {
  const bytes = state.get(unbondingKey(releaseHeight))
  if (bytes === undefined) return []
  return (decode(bytes) as [Uint8Array, Uint8Array, number | bigint][]).map(
    ([account, validator, amount]) => ({ account, validator, amount: BigInt(amount) }),
  )
}

function writeUnbonding(
  state: StateOverlay,
  releaseHeight: number,
  entries: UnbondingEntry[],
): void {
  state.set(
    unbondingKey(releaseHeight),
    entries.length === 0
      ? undefined
      : encode(entries.map((entry) => [entry.account, entry.validator, entry.amount])),
  )
}

/**
 * Schedules `amount` for `account`, released at `height + unbondingHeights` (at once when
 * `unbondingHeights` is 0).
 */
export function startUnbonding(
  state: StateOverlay,
  height: number,
  unbondingHeights: number,
  entry: UnbondingEntry,
): void {
  if (unbondingHeights === 0) {
    credit(state, entry.account, entry.amount)
    return
  }
  const releaseHeight = height + unbondingHeights
  writeUnbonding(state, releaseHeight, [...readUnbonding(state, releaseHeight), entry])
}

function credit(state: StateOverlay, account: Uint8Array, amount: bigint): void {
  const target = state.account(account)
  // Supply never exceeds MAX_AMOUNT in practice; the cap keeps the codec's range regardless.
  target.balance += amount
  if (target.balance > MAX_AMOUNT) target.balance = MAX_AMOUNT
  state.setAccount(account, target)
}

/** Credits every entry released at `height` and forgets them. */
export function releaseUnbonding(state: StateOverlay, height: number): void {
  const entries = readUnbonding(state, height)
  for (const entry of entries) credit(state, entry.account, entry.amount)
  if (entries.length > 0) writeUnbonding(state, height, [])
}

/** Burns `fractionBps` of every entry bonded to `validator` still unbonding after `height`. */
export function slashUnbonding(
  state: StateOverlay,
  validator: Uint8Array,
  height: number,
  unbondingHeights: number,
  fractionBps: bigint,
): void {
  for (let release = height + 1; release <= height + unbondingHeights; release++) {
    const entries = readUnbonding(state, release)
    if (!entries.some((entry) => equalBytes(entry.validator, validator))) continue
    writeUnbonding(
      state,
      release,
      entries.map((entry) =>
        equalBytes(entry.validator, validator)
          ? { ...entry, amount: entry.amount - (entry.amount * fractionBps) / 10_000n }
          : entry,
      ),
    )
  }
}
