/**
 * The state transition: applying a block's transactions to state.
 *
 * A transaction that no honest proposer would include makes the whole block invalid: a wrong
 * chain id, a bad signature, a nonce other than the account's, a fee cap below the base fee, a
 * tip cap above the fee cap, or a balance that cannot pay the fee. Every other failure (the
 * action's amount not covered, stake below the minimum, an invalid proof of possession, ...)
 * charges the fee, consumes the nonce and yields a `failed` receipt, with the action's effects
 * undone.
 */
import type { ValidatorSet } from '@metanode/core'
import { decode, encode } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import type { SignatureScheme } from '@metanode/ibft'
import { encodeInclusionList, verifyInclusionList } from '@metanode/mempool'
import type { Receipt } from './block.js'
import { equalBytes, hexKey, utf8 } from './bytes.js'
import { readDelegation, readDelegators, writeDelegation } from './delegation.js'
import { type ChainRejectionCode, ChainRejectionError } from './errors.js'
import {
  type EvidenceSlot,
  evidenceKey,
  forgetExpiredEvidence,
  isEvidenceExpired,
  markEvidenceCounted,
  type SlashingEvidence,
  verifySlashingEvidence,
} from './evidence.js'
import type { ChainParameters } from './genesis.js'
import { STATE_PREFIX, type StateOverlay } from './state.js'
import { MAX_AMOUNT, type PreparedTransaction, verifyTransactionSignature } from './transaction.js'
import { releaseUnbonding, slashUnbonding, startUnbonding } from './unbonding.js'
import {
  inclusionListKey,
  inSet,
  readActiveSet,
  readValidator,
  readValidatorIds,
  selectActiveSet,
  type ValidatorRecord,
  writeActiveSet,
  writeValidator,
} from './validators.js'

/** Key-value state of one application route, handed to its handler. */
export interface AppState {
  /** The value under `key` in this route's namespace. */
  get(key: Uint8Array): Uint8Array | undefined
  /** Writes (or with `undefined`, deletes) `key` in this route's namespace. */
  set(key: Uint8Array, value: Uint8Array | undefined): void
}

/** What an application handler receives for one `app` transaction. */
export interface AppCall {
  /** The sender's public key. */
  sender: Uint8Array
  /** The opaque payload. */
  payload: Uint8Array
  /** The height being executed. */
  height: number
  /** The route's namespaced state. */
  state: AppState
}

/**
 * A custom chain's handler of `app` transactions. It must be deterministic; throwing fails the
 * transaction (receipt code `app-rejected`) and undoes its writes.
 */
export type AppHandler = (call: AppCall) => void

/** What executing a block needs besides state. */
export interface ExecutionContext {
  /** The chain id. */
  chainId: string
  /** The chain parameters. */
  parameters: ChainParameters
  /** Height being executed. */
  height: number
  /** The proposer, who receives the fees. */
  proposer: Uint8Array
  /** Handlers of `app` transactions by route. */
  appHandlers?: Readonly<Record<string, AppHandler>>
  /** Signature check; pass a cached one to verify each transaction once per node. */
  verifySignature?: (tx: PreparedTransaction) => boolean
  /** Validators that signed the parent's certificate carried by the block (none at height 1). */
  parentSigners?: readonly Uint8Array[]
  /** Slashing evidence carried by the block. */
  evidence?: readonly SlashingEvidence[]
  /** Scheme of consensus message signatures, for evidence. Default ibft's `realScheme`. */
  scheme?: SignatureScheme
}

/** A validator's counters over the current epoch. */
export interface ValidatorPerformance {
  /** Parent certificates (one per height) that carried its commit seal. */
  commitsSigned: number
  /** Blocks it proposed. */
  proposals: number
}

/** One payment of an epoch's reward. */
export interface EpochReward {
  /** The validator whose reward it is part of. */
  validator: Uint8Array
  /** Who was paid: the validator (commission and own share) or one of its delegators. */
  recipient: Uint8Array
  /** The amount minted to the recipient's balance. */
  amount: bigint
}

/** The result of {@link executeBlock}. */
export interface BlockExecution {
  /** One receipt per transaction. */
  receipts: Receipt[]
  /** The set that decided this height (the active set before the block). */
  validatorSet: ValidatorSet
  /** The set that decides the next height (changed only after an epoch's last height). */
  nextValidatorSet: ValidatorSet
  /** Validators slashed and jailed by the block's evidence. */
  slashed: Uint8Array[]
  /** Rewards paid at the end of an epoch (empty otherwise). */
  rewards: EpochReward[]
}

function performanceKey(id: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + id.length)
  key[0] = STATE_PREFIX.performance
  key.set(id, 1)
  return key
}

/** A validator's counters over the current epoch (zeros when it has none). */
export function readPerformance(state: StateOverlay, id: Uint8Array): ValidatorPerformance {
  const bytes = state.get(performanceKey(id))
  if (bytes === undefined) return { commitsSigned: 0, proposals: 0 }
  const [commitsSigned, proposals] = decode(bytes) as [number, number]
  return { commitsSigned, proposals }
}

function writePerformance(state: StateOverlay, id: Uint8Array, value: ValidatorPerformance): void {
  state.set(performanceKey(id), encode([value.commitsSigned, value.proposals]))
}

function applyEvidence(state: StateOverlay, context: ExecutionContext): Uint8Array[] {
  const slashed: Uint8Array[] = []
  const evidenceList = context.evidence ?? []
  evidenceList.forEach((evidence, index) => {
    const refuse = (
      message: string,
      code: 'invalid-evidence' | 'evidence-expired' = 'invalid-evidence',
    ): never => {
      throw new ChainRejectionError(code, 'reject', `evidence ${index}: ${message}`, {
        details: { evidenceIndex: index },
      })
    }
    const slot = verifySlashingEvidence(evidence, context.chainId, context.scheme)
    if (slot === undefined) refuse('not a valid equivocation')
    const { height: offenceHeight } = slot as EvidenceSlot
    // Counted marks of expired heights are forgotten, so only the age check keeps an old slot
    // from slashing a second time.
    if (
      isEvidenceExpired(offenceHeight, context.height, context.parameters.evidenceMaxAgeHeights)
    ) {
      refuse(`offence at height ${offenceHeight} is too old`, 'evidence-expired')
    }
    const record = readValidator(state, evidence.validator)
    if (record === undefined) refuse('not a registered validator')
    // One slash per offender until it is out: a jailed validator still in the epoch's set is not
    // slashed again for equivocating on later slots.
    if ((record as ValidatorRecord).jailed) refuse('validator already jailed')
    // Each slot slashes once, however many times its evidence is reported.
    if (state.get(evidenceKey(evidence.validator, slot as EvidenceSlot)) !== undefined) {
      refuse('already counted')
    }
    markEvidenceCounted(state, evidence.validator, slot as EvidenceSlot)
    const fraction = BigInt(context.parameters.slashFractionBps)
    const account = state.account(evidence.validator)
    account.stake -= (account.stake * fraction) / 10_000n
    state.setAccount(evidence.validator, account)
    for (const delegator of readDelegators(state, evidence.validator)) {
      const delegated = readDelegation(state, evidence.validator, delegator)
      writeDelegation(
        state,
        evidence.validator,
        delegator,
        delegated - (delegated * fraction) / 10_000n,
      )
    }
    slashUnbonding(
      state,
      evidence.validator,
      context.height,
      context.parameters.unbondingHeights,
      fraction,
    )
    writeValidator(state, evidence.validator, {
      ...(record as ValidatorRecord),
      jailed: true,
      jailedHeight: context.height,
    })
    slashed.push(evidence.validator)
  })
  return slashed
}

function countPerformance(state: StateOverlay, context: ExecutionContext): void {
  for (const id of context.parentSigners ?? []) {
    if (readValidator(state, id) === undefined) continue
    const performance = readPerformance(state, id)
    writePerformance(state, id, { ...performance, commitsSigned: performance.commitsSigned + 1 })
  }
  if (readValidator(state, context.proposer) !== undefined) {
    const performance = readPerformance(state, context.proposer)
    writePerformance(state, context.proposer, {
      ...performance,
      proposals: performance.proposals + 1,
    })
  }
}

/**
 * Mints `epochReward` to the epoch's validators in proportion to voting power × commits signed
 * (floor division: remainders are not minted). Each validator keeps its commission; the rest is
 * shared between its own stake and its delegators' in proportion to stake. Then every
 * validator's counters reset.
 */
function payRewards(
  state: StateOverlay,
  context: ExecutionContext,
  set: ValidatorSet,
): EpochReward[] {
  const { epochReward } = context.parameters
  const weights = set.validators.map((validator) => ({
    validator: validator.id,
    weight: validator.votingPower * BigInt(readPerformance(state, validator.id).commitsSigned),
  }))
  const total = weights.reduce((sum, { weight }) => sum + weight, 0n)
  const rewards: EpochReward[] = []
  const pay = (validator: Uint8Array, recipient: Uint8Array, amount: bigint): void => {
    const account = state.account(recipient)
    const paid = account.balance + amount > MAX_AMOUNT ? MAX_AMOUNT - account.balance : amount
    if (paid <= 0n) return
    account.balance += paid
    state.setAccount(recipient, account)
    rewards.push({ validator, recipient, amount: paid })
  }
  if (epochReward > 0n && total > 0n) {
    for (const { validator, weight } of weights) {
      const reward = (epochReward * weight) / total
      const record = readValidator(state, validator)
      const commission = (reward * BigInt(record?.commissionBps ?? 0)) / 10_000n
      const shared = reward - commission
      const ownStake = state.account(validator).stake
      const delegations = readDelegators(state, validator).map((delegator) => ({
        delegator,
        amount: readDelegation(state, validator, delegator),
      }))
      const bonded = delegations.reduce((sum, { amount }) => sum + amount, ownStake)
      const ownShare = bonded === 0n ? shared : (shared * ownStake) / bonded
      pay(validator, validator, commission + ownShare)
      if (bonded === 0n) continue
      for (const { delegator, amount } of delegations) {
        pay(validator, delegator, (shared * amount) / bonded)
      }
    }
  }
  for (const id of readValidatorIds(state)) {
    if (state.get(performanceKey(id)) !== undefined) state.set(performanceKey(id), undefined)
  }
  return rewards
}

class ActionFailure extends Error {
  constructor(readonly code: ChainRejectionCode) {
    super(code)
  }
}

function invalid(code: ChainRejectionCode, message: string, index: number): never {
  throw new ChainRejectionError(code, 'reject', `transaction ${index}: ${message}`, {
    details: { index },
  })
}

/**
 * Checks what makes a block invalid and charges the fee, returning it.
 *
 * @throws ChainRejectionError with the block-invalidating code.
 */
export function chargeTransaction(
  state: StateOverlay,
  prepared: PreparedTransaction,
  context: ExecutionContext,
  index = 0,
): bigint {
  const { body } = prepared.tx
  if (body.chainId !== context.chainId) invalid('wrong-chain', 'wrong chain id', index)
  const verify = context.verifySignature ?? ((tx) => verifyTransactionSignature(tx.tx))
  if (!verify(prepared)) invalid('bad-signature', 'bad signature', index)
  const account = state.account(body.sender)
  if (body.nonce !== account.nonce) {
    invalid('bad-nonce', `nonce ${body.nonce}, account expects ${account.nonce}`, index)
  }
  const { baseFee } = context.parameters
  if (body.maxPriorityFee > body.maxFee) invalid('malformed', 'tip cap above fee cap', index)
  if (body.maxFee < baseFee) invalid('fee-too-low', 'fee cap below the base fee', index)
  // EIP-1559 effective price: the tip on top of the base fee, capped by the fee cap.
  let price = baseFee + body.maxPriorityFee
  if (price > body.maxFee) price = body.maxFee
  const fee = price * prepared.cost
  if (account.balance < fee) invalid('cannot-pay-fee', 'balance cannot pay the fee', index)
  account.balance -= fee
  account.nonce += 1
  state.setAccount(body.sender, account)
  const proposer = state.account(context.proposer)
  proposer.balance += fee
  if (proposer.balance > MAX_AMOUNT) invalid('malformed', 'proposer balance overflows', index)
  state.setAccount(context.proposer, proposer)
  return fee
}

function appState(state: StateOverlay, route: string): AppState {
  const routeBytes = utf8(route)
  const prefix = new Uint8Array(2 + routeBytes.length)
  prefix[0] = STATE_PREFIX.app
  prefix[1] = routeBytes.length
  prefix.set(routeBytes, 2)
  const keyOf = (key: Uint8Array): Uint8Array => {
    if (!(key instanceof Uint8Array)) throw new TypeError('key must be a Uint8Array')
    const full = new Uint8Array(prefix.length + key.length)
    full.set(prefix)
    full.set(key, prefix.length)
    return full
  }
  return {
    get: (key) => state.get(keyOf(key)),
    set: (key, value) => {
      if (value !== undefined && !(value instanceof Uint8Array)) {
        throw new TypeError('value must be a Uint8Array or undefined')
      }
      state.set(keyOf(key), value)
    },
  }
}

function applyAction(
  state: StateOverlay,
  prepared: PreparedTransaction,
  context: ExecutionContext,
  activeSet: ValidatorSet,
): void {
  const { sender, action } = prepared.tx.body
  const { parameters } = context
  switch (action.kind) {
    case 'transfer': {
      const from = state.account(sender)
      if (from.balance < action.amount) throw new ActionFailure('insufficient-balance')
      from.balance -= action.amount
      state.setAccount(sender, from)
      const to = state.account(action.to)
      to.balance += action.amount
      state.setAccount(action.to, to)
      return
    }
    case 'register-validator': {
      if (readValidator(state, sender) !== undefined) throw new ActionFailure('already-registered')
      if (readValidatorIds(state).length >= parameters.maxCandidates) {
        throw new ActionFailure('too-many-candidates')
      }
      const account = state.account(sender)
      if (account.balance < action.stake) throw new ActionFailure('insufficient-balance')
      if (account.stake + action.stake < parameters.minValidatorStake) {
        throw new ActionFailure('stake-below-minimum')
      }
      if (!bls.popVerify(action.proofOfPossession, action.blsPublicKey)) {
        throw new ActionFailure('invalid-proof-of-possession')
      }
      account.balance -= action.stake
      account.stake += action.stake
      state.setAccount(sender, account)
      writeValidator(state, sender, {
        blsPublicKey: action.blsPublicKey,
        commissionBps: action.commissionBps,
        metadata: action.metadata,
        jailed: false,
      })
      return
    }
    case 'stake': {
      const account = state.account(sender)
      if (account.balance < action.amount) throw new ActionFailure('insufficient-balance')
      account.balance -= action.amount
      const target = action.validator
      if (target === undefined || equalBytes(target, sender)) {
        account.stake += action.amount
        state.setAccount(sender, account)
        return
      }
      const record = readValidator(state, target)
      if (record === undefined || record.jailed) throw new ActionFailure('not-a-validator')
      state.setAccount(sender, account)
      try {
        writeDelegation(
          state,
          target,
          sender,
          readDelegation(state, target, sender) + action.amount,
        )
      } catch {
        throw new ActionFailure('too-many-delegators')
      }
      return
    }
    case 'unstake': {
      const account = state.account(sender)
      const target = action.validator
      if (target !== undefined && !equalBytes(target, sender)) {
        const delegated = readDelegation(state, target, sender)
        if (delegated < action.amount) throw new ActionFailure('insufficient-balance')
        writeDelegation(state, target, sender, delegated - action.amount)
        startUnbonding(state, context.height, parameters.unbondingHeights, {
          account: sender,
          validator: target,
          amount: action.amount,
        })
        return
      }
      if (account.stake < action.amount) throw new ActionFailure('insufficient-balance')
      const remaining = account.stake - action.amount
      // An active validator keeps its minimum bonded until the set it sits in is replaced.
      const floor = inSet(activeSet, sender)
        ? parameters.minValidatorStake
        : readValidator(state, sender) !== undefined && remaining > 0n
          ? parameters.minValidatorStake
          : 0n
      if (remaining < floor) throw new ActionFailure('stake-below-minimum')
      account.stake = remaining
      state.setAccount(sender, account)
      startUnbonding(state, context.height, parameters.unbondingHeights, {
        account: sender,
        validator: sender,
        amount: action.amount,
      })
      return
    }
    case 'unjail': {
      const record = readValidator(state, sender)
      if (record === undefined) throw new ActionFailure('not-a-validator')
      if (!record.jailed) throw new ActionFailure('not-jailed')
      if (
        record.jailedHeight !== undefined &&
        context.height < record.jailedHeight + parameters.minJailHeights
      ) {
        throw new ActionFailure('jail-time-not-served')
      }
      // It sits out at least until the set chosen without it takes over.
      if (inSet(activeSet, sender)) throw new ActionFailure('still-active')
      if (state.account(sender).stake < parameters.minValidatorStake) {
        throw new ActionFailure('stake-below-minimum')
      }
      // Rebuilt without `jailedHeight`: an unjailed record encodes as one never jailed.
      writeValidator(state, sender, {
        blsPublicKey: record.blsPublicKey,
        commissionBps: record.commissionBps,
        metadata: record.metadata,
        jailed: false,
      })
      return
    }
    case 'submit-inclusion-list': {
      const { list } = action
      if (list.height !== context.height + 1) throw new ActionFailure('invalid-inclusion-list')
      if (!inSet(activeSet, list.validator)) throw new ActionFailure('not-a-validator')
      if (!verifyInclusionList(list, utf8(context.chainId))) {
        throw new ActionFailure('invalid-inclusion-list')
      }
      const key = inclusionListKey(list.height, list.validator)
      // The first list of a publisher for a height binds; a later, different one is refused.
      if (state.get(key) !== undefined) throw new ActionFailure('invalid-inclusion-list')
      state.set(key, encodeInclusionList(list))
      return
    }
    case 'app': {
      const handler = context.appHandlers?.[action.route]
      if (handler === undefined) throw new ActionFailure('no-app-handler')
      try {
        handler({
          sender,
          payload: action.payload,
          height: context.height,
          state: appState(state, action.route),
        })
      } catch {
        throw new ActionFailure('app-rejected')
      }
      return
    }
  }
}

/**
 * Applies one transaction: charges the fee (or throws for a block-invalidating failure), then
 * runs the action, undoing it on failure.
 *
 * @throws ChainRejectionError when the transaction makes the block invalid.
 */
export function executeTransaction(
  state: StateOverlay,
  prepared: PreparedTransaction,
  context: ExecutionContext,
  activeSet: ValidatorSet = readActiveSet(state),
  index = 0,
): Receipt {
  const fee = chargeTransaction(state, prepared, context, index)
  const mark = state.checkpoint()
  try {
    applyAction(state, prepared, context, activeSet)
    return { txId: prepared.id, status: 'success', fee }
  } catch (error) {
    if (!(error instanceof ActionFailure)) throw error
    state.revert(mark)
    return { txId: prepared.id, status: 'failed', fee, code: error.code }
  }
}

/**
 * Applies a block: forgets the counted evidence slots that expire at its height, slashes and
 * jails for its evidence (each slot once, none older than `evidenceMaxAgeHeights`), counts the
 * parent certificate's signers and the proposer, applies the transactions in order, drops the
 * inclusion lists that bound this height, and after an epoch's last height pays the epoch's
 * rewards and selects the next active set.
 *
 * @throws ChainRejectionError when a transaction makes the block invalid (`duplicate-transaction`
 *   included), or its evidence does (`invalid-evidence`, `evidence-expired`, with
 *   `details.evidenceIndex`).
 */
export function executeBlock(
  state: StateOverlay,
  txs: readonly PreparedTransaction[],
  context: ExecutionContext,
): BlockExecution {
  const validatorSet = readActiveSet(state)
  releaseUnbonding(state, context.height)
  forgetExpiredEvidence(state, context.height, context.parameters.evidenceMaxAgeHeights)
  const slashed = applyEvidence(state, context)
  countPerformance(state, context)
  const seen = new Set<string>()
  const receipts = txs.map((prepared, index) => {
    const key = hexKey(prepared.id)
    if (seen.has(key)) invalid('duplicate-transaction', 'repeated transaction', index)
    seen.add(key)
    return executeTransaction(state, prepared, context, validatorSet, index)
  })
  for (const validator of validatorSet.validators) {
    const key = inclusionListKey(context.height, validator.id)
    if (state.get(key) !== undefined) state.set(key, undefined)
  }
  let nextValidatorSet = validatorSet
  let rewards: EpochReward[] = []
  if (context.height % context.parameters.epochLength === 0) {
    rewards = payRewards(state, context, validatorSet)
    nextValidatorSet = selectActiveSet(state, context.parameters)
    writeActiveSet(state, nextValidatorSet)
  }
  return { receipts, validatorSet, nextValidatorSet, slashed, rewards }
}
