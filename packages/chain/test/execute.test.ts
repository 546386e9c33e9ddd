import { bls } from '@metanode/crypto/bls'
import { signInclusionList } from '@metanode/mempool'
import { describe, expect, it } from 'vitest'
import {
  type AppHandler,
  type ExecutionContext,
  executeBlock,
  executeTransaction,
  genesisState,
  prepareSignedTransaction,
  readActiveSet,
  readValidator,
  type SignedTransaction,
  StateOverlay,
  type TransactionAction,
} from '../src/index.js'
import { makeGenesis, type TestKeys, tx, userKeys, validatorKeys } from './fixtures.js'

const genesis = makeGenesis({ validators: 4, users: 3, epochLength: 2, maxValidators: 4 })
const alice = userKeys(1)
const bob = userKeys(2)
const proposer = validatorKeys(0)
const counter: AppHandler = ({ payload, state }) => {
  if (payload[0] === 0xff) throw new Error('refused')
  const key = Uint8Array.of(1)
  const count = state.get(key)?.[0] ?? 0
  state.set(key, Uint8Array.of(count + 1))
}

function setup(height = 1) {
  const state = new StateOverlay(genesisState(genesis))
  const context: ExecutionContext = {
    chainId: genesis.chainId,
    parameters: genesis.parameters,
    height,
    proposer: proposer.publicKey,
    appHandlers: { counter },
  }
  return { state, context }
}

function run(signed: SignedTransaction, height = 1) {
  const { state, context } = setup(height)
  const prepared = prepareSignedTransaction(signed)
  const before = {
    sender: state.account(signed.body.sender),
    proposer: state.account(proposer.publicKey),
  }
  const receipt = executeTransaction(state, prepared, context)
  return { state, receipt, before, prepared }
}

const send = (signer: TestKeys, action: TransactionAction, nonce = 0, fees = {}) =>
  run(tx(signer, nonce, action, fees))

function expectInvalid(signed: SignedTransaction, code: string) {
  expect(() => run(signed)).toThrow(expect.objectContaining({ name: 'ChainRejectionError', code }))
}

describe('executing transactions', () => {
  it('transfers, charging the effective price times cost to the sender and paying it to the proposer', () => {
    const { state, receipt, before, prepared } = send(
      alice,
      { kind: 'transfer', to: bob.publicKey, amount: 500n },
      0,
      {
        maxFee: 10n,
        maxPriorityFee: 3n,
      },
    )
    const fee = (1n + 3n) * prepared.cost // base fee 1 + tip 3, under the cap of 10
    expect(receipt).toEqual({ txId: prepared.id, status: 'success', fee })
    expect(state.account(alice.publicKey)).toEqual({
      balance: before.sender.balance - 500n - fee,
      nonce: 1,
      stake: 0n,
    })
    expect(state.account(bob.publicKey).balance).toBe(1_000_000_000n + 500n)
    expect(state.account(proposer.publicKey).balance).toBe(before.proposer.balance + fee)
  })

  it('caps the price at maxFee', () => {
    const { receipt, prepared } = send(alice, { kind: 'stake', amount: 1n }, 0, {
      maxFee: 2n,
      maxPriorityFee: 2n,
    })
    expect(receipt.fee).toBe(2n * prepared.cost)
  })

  it('fails a transfer above the balance but still charges the fee and the nonce', () => {
    const { state, receipt, before } = send(alice, {
      kind: 'transfer',
      to: bob.publicKey,
      amount: 2_000_000_000n,
    })
    expect(receipt.status).toBe('failed')
    expect(receipt.code).toBe('insufficient-balance')
    expect(state.account(alice.publicKey)).toEqual({
      balance: before.sender.balance - receipt.fee,
      nonce: 1,
      stake: 0n,
    })
    expect(state.account(bob.publicKey).balance).toBe(1_000_000_000n)
  })

  it('makes the block invalid for a bad signature, a wrong chain id, a wrong nonce or an unpayable fee', () => {
    const good = tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 1n })
    const forged = {
      ...good,
      signature: good.signature.map((byte, i) => (i === 0 ? byte ^ 1 : byte)),
    }
    expectInvalid(forged, 'bad-signature')
    expectInvalid(
      tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 1n }, { chainId: 'other' }),
      'wrong-chain',
    )
    expectInvalid(tx(alice, 1, { kind: 'transfer', to: bob.publicKey, amount: 1n }), 'bad-nonce')
    expectInvalid(
      tx(alice, 0, { kind: 'stake', amount: 1n }, { maxFee: 0n, maxPriorityFee: 0n }),
      'fee-too-low',
    )
    expectInvalid(
      tx(alice, 0, { kind: 'stake', amount: 1n }, { maxFee: 2n, maxPriorityFee: 3n }),
      'malformed',
    )
    const pauper = userKeys(99)
    expectInvalid(
      tx(pauper, 0, { kind: 'transfer', to: bob.publicKey, amount: 1n }),
      'cannot-pay-fee',
    )
  })

  it('stakes and unstakes, refusing more than the balance or the stake', () => {
    const staked = send(alice, { kind: 'stake', amount: 700n })
    expect(staked.receipt.status).toBe('success')
    expect(staked.state.account(alice.publicKey).stake).toBe(700n)
    expect(send(alice, { kind: 'stake', amount: 2_000_000_000n }).receipt.code).toBe(
      'insufficient-balance',
    )
    expect(send(alice, { kind: 'unstake', amount: 1n }).receipt.code).toBe('insufficient-balance')
  })

  it('keeps an active validator at the minimum stake', () => {
    const validator = validatorKeys(1) // stake 10,001
    const { state, context } = setup()
    state.setAccount(validator.publicKey, {
      ...state.account(validator.publicKey),
      balance: 1_000_000n,
    })
    const txs = [
      tx(validator, 0, { kind: 'unstake', amount: 9_500n }),
      tx(validator, 1, { kind: 'unstake', amount: 10_001n }),
      tx(validator, 2, { kind: 'unstake', amount: 9_001n }),
    ].map(prepareSignedTransaction)
    const { receipts } = executeBlock(state, txs, context)
    expect(receipts.map((r) => r.code ?? r.status)).toEqual([
      'stake-below-minimum',
      'stake-below-minimum',
      'success',
    ])
    expect(state.account(validator.publicKey).stake).toBe(1_000n)
  })

  it('registers a validator with a proof of possession and at least the minimum stake', () => {
    const keys = validatorKeys(10)
    const candidate = alice
    const register = (stake: bigint, proof = keys.proofOfPossession) =>
      send(candidate, {
        kind: 'register-validator',
        blsPublicKey: keys.blsPublicKey,
        proofOfPossession: proof,
        stake,
        commissionBps: 1_000,
        metadata: { moniker: 'alice', website: '', details: '' },
      })
    const ok = register(5_000n)
    expect(ok.receipt.status).toBe('success')
    expect(ok.state.account(candidate.publicKey).stake).toBe(5_000n)
    expect(readValidator(ok.state, candidate.publicKey)?.blsPublicKey).toEqual(keys.blsPublicKey)
    expect(register(999n).receipt.code).toBe('stake-below-minimum')
    expect(register(2_000_000_000n).receipt.code).toBe('insufficient-balance')
    expect(register(5_000n, validatorKeys(11).proofOfPossession).receipt.code).toBe(
      'invalid-proof-of-possession',
    )
  })

  it('refuses a second registration and lets a registered validator unstake only to zero or above the minimum', () => {
    const keys = validatorKeys(10)
    const { state, context } = setup()
    const txs = [
      tx(alice, 0, {
        kind: 'register-validator',
        blsPublicKey: keys.blsPublicKey,
        proofOfPossession: keys.proofOfPossession,
        stake: 5_000n,
        commissionBps: 0,
        metadata: { moniker: 'alice', website: '', details: '' },
      }),
      tx(alice, 1, {
        kind: 'register-validator',
        blsPublicKey: keys.blsPublicKey,
        proofOfPossession: keys.proofOfPossession,
        stake: 5_000n,
        commissionBps: 0,
        metadata: { moniker: 'alice', website: '', details: '' },
      }),
      tx(alice, 2, { kind: 'unstake', amount: 4_500n }),
      tx(alice, 3, { kind: 'unstake', amount: 5_000n }),
    ].map(prepareSignedTransaction)
    const { receipts } = executeBlock(state, txs, context)
    expect(receipts.map((r) => r.code ?? r.status)).toEqual([
      'success',
      'already-registered',
      'stake-below-minimum',
      'success',
    ])
    expect(state.account(alice.publicKey).stake).toBe(0n)
  })

  it('records inclusion lists of active validators for the next height only', () => {
    const validator = validatorKeys(2)
    const list = signInclusionList(
      { height: 2, txIds: [new Uint8Array(36).fill(1)] },
      validator.secretKey,
      new TextEncoder().encode(genesis.chainId),
    )
    expect(send(alice, { kind: 'submit-inclusion-list', list }).receipt.status).toBe('success')
    const stale = signInclusionList(
      { height: 5, txIds: [] },
      validator.secretKey,
      new TextEncoder().encode(genesis.chainId),
    )
    expect(send(alice, { kind: 'submit-inclusion-list', list: stale }).receipt.code).toBe(
      'invalid-inclusion-list',
    )
    const outsider = signInclusionList(
      { height: 2, txIds: [] },
      alice.secretKey,
      new TextEncoder().encode(genesis.chainId),
    )
    expect(send(alice, { kind: 'submit-inclusion-list', list: outsider }).receipt.code).toBe(
      'not-a-validator',
    )
    const forged = { ...list, txIds: [new Uint8Array(36).fill(2)] }
    expect(send(alice, { kind: 'submit-inclusion-list', list: forged }).receipt.code).toBe(
      'invalid-inclusion-list',
    )
  })

  it('routes app payloads to their handler, undoing the writes of a failed call', () => {
    const { state, context } = setup()
    const txs = [
      tx(alice, 0, { kind: 'app', route: 'counter', payload: Uint8Array.of(1) }),
      tx(alice, 1, { kind: 'app', route: 'counter', payload: Uint8Array.of(0xff) }),
      tx(alice, 2, { kind: 'app', route: 'missing', payload: Uint8Array.of(1) }),
      tx(alice, 3, { kind: 'app', route: 'counter', payload: Uint8Array.of(1) }),
    ].map(prepareSignedTransaction)
    const { receipts } = executeBlock(state, txs, context)
    expect(receipts.map((r) => r.code ?? r.status)).toEqual([
      'success',
      'app-rejected',
      'no-app-handler',
      'success',
    ])
    const counterKey = Uint8Array.of(6, 7, ...new TextEncoder().encode('counter'), 1)
    expect(state.get(counterKey)).toEqual(Uint8Array.of(2))
  })

  it('rejects a block that repeats a transaction', () => {
    const { state, context } = setup()
    const once = prepareSignedTransaction(tx(alice, 0, { kind: 'stake', amount: 1n }))
    expect(() => executeBlock(state, [once, once], context)).toThrow(
      expect.objectContaining({ code: 'duplicate-transaction' }),
    )
  })

  it('changes the active set only after the last height of an epoch, ordered by stake and capped', () => {
    const keys = validatorKeys(10)
    const registration = prepareSignedTransaction(
      tx(alice, 0, {
        kind: 'register-validator',
        blsPublicKey: keys.blsPublicKey,
        proofOfPossession: keys.proofOfPossession,
        stake: 50_000n,
        commissionBps: 0,
        metadata: { moniker: 'alice', website: '', details: '' },
      }),
    )
    const mid = setup(1)
    const first = executeBlock(mid.state, [registration], mid.context)
    expect(first.nextValidatorSet).toEqual(first.validatorSet)
    const end = setup(2)
    const second = executeBlock(end.state, [registration], end.context)
    expect(second.nextValidatorSet.validators.map((v) => v.votingPower)).toEqual([
      50_000n,
      10_003n,
      10_002n,
      10_001n,
    ])
    expect(second.nextValidatorSet.validators[0]?.id).toEqual(alice.publicKey)
    expect(readActiveSet(end.state)).toEqual(second.nextValidatorSet)
    expect(bls.isValidPublicKey(keys.blsPublicKey)).toBe(true)
  })
})
