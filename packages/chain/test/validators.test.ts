import type { EquivocationEvidence, ProposalContext } from '@metanode/core'
import { equalBytes } from '@metanode/crypto/bytes'
import { encodeMessage, realScheme, signBody } from '@metanode/ibft'
import { describe, expect, it } from 'vitest'
import {
  type ChainApplication,
  decodeBlock,
  type EvidenceSlot,
  encodeBlock,
  evidenceKey,
  evidenceRoot,
  executeBlock,
  genesisState,
  prepareSignedTransaction,
  StateOverlay,
  toSlashingEvidence,
  verifySlashingEvidence,
} from '../src/index.js'
import {
  CHAIN_ID,
  GENESIS_TIME,
  makeGenesis,
  newChain,
  produceBlock,
  type TestValidator,
  tx,
  userKeys,
  validatorKeys,
} from './fixtures.js'

function equivocation(validator: TestValidator, height = 1, round = 0): EquivocationEvidence {
  const signer = realScheme.createSigner({
    ed25519SecretKey: validator.secretKey,
    blsSecretKey: validator.blsSecretKey,
  })
  const vote = (digestByte: number) =>
    encodeMessage({
      signed: signBody(CHAIN_ID, signer, {
        kind: 'PREPARE',
        height,
        round,
        digest: new Uint8Array(32).fill(digestByte),
      }),
      roundChanges: [],
      prepares: [],
    })
  return {
    validator: validator.publicKey,
    height,
    round,
    kind: 'PREPARE',
    messages: [vote(1), vote(2)],
  }
}

async function contextFor(app: ChainApplication): Promise<ProposalContext> {
  const height = app.height + 1
  const set = await app.validatorSet(height)
  return {
    height,
    round: 0,
    proposer: set.validators[(height - 1) % set.validators.length]?.id as Uint8Array,
    timestamp: GENESIS_TIME + height * 1_000,
  }
}

describe('slashing', () => {
  it('verifies equivocation evidence and refuses anything else', () => {
    const evidence = toSlashingEvidence(equivocation(validatorKeys(1))) as NonNullable<
      ReturnType<typeof toSlashingEvidence>
    >
    expect(verifySlashingEvidence(evidence, CHAIN_ID)).toEqual({
      height: 1,
      round: 0,
      kind: 'PREPARE',
    })
    expect(verifySlashingEvidence(evidence, 'another-chain')).toBeUndefined()
    expect(
      verifySlashingEvidence({ ...evidence, second: evidence.first }, CHAIN_ID),
    ).toBeUndefined()
    expect(
      verifySlashingEvidence({ ...evidence, validator: validatorKeys(2).publicKey }, CHAIN_ID),
    ).toBeUndefined()
    const otherRound = toSlashingEvidence(equivocation(validatorKeys(1), 1, 1))
    expect(
      verifySlashingEvidence(
        { ...evidence, second: otherRound?.second as typeof evidence.second },
        CHAIN_ID,
      ),
    ).toBeUndefined()
    const forged = { ...evidence.second, signature: new Uint8Array(64) }
    expect(verifySlashingEvidence({ ...evidence, second: forged }, CHAIN_ID)).toBeUndefined()
  })

  it('slashes and jails an equivocating validator once; every replica agrees and it leaves the set at the epoch boundary', async () => {
    const genesis = makeGenesis({ epochLength: 3 })
    const proposer = (await newChain(genesis)).app
    const replica = (await newChain(genesis)).app
    const offender = validatorKeys(1) // stake 10,001
    await proposer.reportEvidence?.(equivocation(offender))
    await proposer.reportEvidence?.(equivocation(offender)) // the same slot again: kept once
    const first = await produceBlock(proposer)
    expect(decodeBlock(first.payload).evidence).toHaveLength(1)
    await replica.finalize({ height: 1, ...first })
    expect(replica.stateRoot).toEqual(proposer.stateRoot)
    expect(proposer.account(offender.publicKey).stake).toBe(10_001n - 1_000n)
    // Reported again after it was counted: ignored, nothing slashed twice.
    await proposer.reportEvidence?.(equivocation(offender))
    for (let height = 2; height <= 3; height++) {
      const block = await produceBlock(proposer)
      expect(decodeBlock(block.payload).evidence).toHaveLength(0)
      await replica.finalize({ height, ...block })
    }
    expect(proposer.account(offender.publicKey).stake).toBe(9_001n)
    expect(replica.stateRoot).toEqual(proposer.stateRoot)
    const ids = (await proposer.validatorSet(4)).validators.map((v) => v.id)
    expect(ids).toHaveLength(3)
    expect(ids).not.toContainEqual(offender.publicKey)
    expect((await proposer.validatorSet(3)).validators).toHaveLength(4)
    // Out of the set, it may ask to leave jail, and rejoins at the next epoch boundary.
    await produceBlock(proposer)
    proposer.submitTransaction(tx(userKeys(1), 0, { kind: 'unjail' }))
    const fund = tx(userKeys(1), 1, {
      kind: 'transfer',
      to: offender.publicKey,
      amount: 1_000_000n,
    })
    proposer.submitTransaction(fund)
    await produceBlock(proposer)
    proposer.submitTransaction(tx(offender, 0, { kind: 'unjail' }))
    proposer.submitTransaction(tx(offender, 1, { kind: 'unjail' }))
    await produceBlock(proposer)
    expect((await proposer.block(5))?.receipts.map((r) => r.code ?? r.status)).toEqual([
      'not-a-validator',
      'success',
    ])
    expect((await proposer.block(6))?.receipts.map((r) => r.code ?? r.status)).toEqual([
      'success',
      'not-jailed',
    ])
    const rejoined = (await proposer.validatorSet(7)).validators.map((v) => v.id)
    expect(rejoined).toContainEqual(offender.publicKey)
  })

  it('refuses a block with forged or already counted evidence', async () => {
    const genesis = makeGenesis()
    const { app } = await newChain(genesis)
    const offender = validatorKeys(2)
    await app.reportEvidence?.(equivocation(offender))
    const context = await contextFor(app)
    const payload = await app.buildProposal(context)
    const block = decodeBlock(payload)
    const evidence = block.evidence[0]
    expect(evidence).toBeDefined()
    const forged = decodeBlock(payload)
    forged.evidence = [
      { ...(evidence as NonNullable<typeof evidence>), validator: validatorKeys(3).publicKey },
    ]
    expect(await app.validateProposal(context, encodeBlock(forged))).toMatchObject({
      valid: false,
      code: 'invalid-evidence',
    })
    const twice = decodeBlock(payload)
    twice.evidence = [
      evidence as NonNullable<typeof evidence>,
      evidence as NonNullable<typeof evidence>,
    ]
    expect(await app.validateProposal(context, encodeBlock(twice))).toMatchObject({
      valid: false,
      code: 'invalid-evidence',
    })
    expect(await app.validateProposal(context, payload)).toEqual({ valid: true })
  })
})

describe('performance and rewards', () => {
  it('counts the parent certificate signers and proposals, and pays the epoch reward by power × commits', async () => {
    const genesis = makeGenesis({ epochLength: 3 })
    genesis.parameters.epochReward = 1_000_000n
    const { app } = await newChain(genesis)
    const balances = async () =>
      (await app.validatorSet(1)).validators.map((v) => app.account(v.id).balance)
    const before = await balances()
    await produceBlock(app)
    await produceBlock(app)
    const set = await app.validatorSet(3)
    // Block 2 carried block 1's certificate (all four sealed); blocks 1 and 2 had two proposers.
    expect(set.validators.map((v) => app.performance(v.id))).toEqual([
      { commitsSigned: 1, proposals: 1 },
      { commitsSigned: 1, proposals: 1 },
      { commitsSigned: 1, proposals: 0 },
      { commitsSigned: 1, proposals: 0 },
    ])
    await produceBlock(app)
    const after = await balances()
    // Blocks 2 and 3 carry the certificates of 1 and 2, signed by all four: equal commits, so
    // the reward follows voting power; fees went to proposers too, so compare the minted part.
    const totalPower = set.validators.reduce((sum, v) => sum + v.votingPower, 0n)
    const minted = after.map((balance, i) => balance - (before[i] as bigint))
    const expected = set.validators.map((v) => (1_000_000n * v.votingPower) / totalPower)
    expect(minted).toEqual(expected)
    expect(minted.reduce((a, b) => a + b, 0n)).toBeLessThanOrEqual(1_000_000n)
    // A new epoch starts its counters from zero.
    expect(app.performance(set.validators[0]?.id as Uint8Array)).toEqual({
      commitsSigned: 0,
      proposals: 0,
    })
    // A new epoch starts its counters from zero.
    expect(app.performance(set.validators[0]?.id as Uint8Array)).toEqual({
      commitsSigned: 0,
      proposals: 0,
    })
  })

  it('refuses a block whose parent certificate does not prove the parent', async () => {
    const { app } = await newChain(makeGenesis())
    await produceBlock(app)
    const context = await contextFor(app)
    const payload = await app.buildProposal(context)
    const verdictOf = async (mutate: (block: ReturnType<typeof decodeBlock>) => void) => {
      const block = decodeBlock(payload)
      mutate(block)
      const verdict = await app.validateProposal(context, encodeBlock(block))
      return verdict.valid ? 'valid' : verdict.code
    }
    expect(await verdictOf(() => {})).toBe('valid')
    expect(await verdictOf((b) => (b.parentCertificate = null))).toBe('bad-parent-certificate')
    expect(
      await verdictOf((b) => {
        const certificate = b.parentCertificate as NonNullable<typeof b.parentCertificate>
        b.parentCertificate = { ...certificate, signature: new Uint8Array(96).fill(3) }
      }),
    ).toBe('bad-parent-certificate')
    expect(
      await verdictOf((b) => {
        const certificate = b.parentCertificate as NonNullable<typeof b.parentCertificate>
        b.parentCertificate = { ...certificate, blockId: new Uint8Array(32) }
      }),
    ).toBe('bad-parent-certificate')
  })
})

describe('delegation', () => {
  it('adds delegated stake to voting power, shares rewards after commission, and undelegates', async () => {
    const genesis = makeGenesis({ epochLength: 2 })
    genesis.parameters.epochReward = 1_000_000n
    const { app } = await newChain(genesis)
    const alice = userKeys(1)
    const validator = validatorKeys(0) // own stake 10,000, commission 500 bps
    app.submitTransaction(
      tx(alice, 0, { kind: 'stake', amount: 30_000n, validator: validator.publicKey }),
    )
    app.submitTransaction(tx(alice, 1, { kind: 'stake', amount: 5n, validator: alice.publicKey }))
    app.submitTransaction(
      tx(alice, 2, { kind: 'stake', amount: 5n, validator: userKeys(2).publicKey }),
    )
    app.submitTransaction(
      tx(alice, 3, { kind: 'unstake', amount: 40_000n, validator: validator.publicKey }),
    )
    await produceBlock(app)
    const receipts = (await app.block(1))?.receipts.map((r) => r.code ?? r.status)
    expect(receipts).toEqual(['success', 'success', 'not-a-validator', 'insufficient-balance'])
    expect(app.account(alice.publicKey).stake).toBe(5n)
    const aliceBefore = app.account(alice.publicKey).balance
    const validatorBefore = app.account(validator.publicKey).balance
    await produceBlock(app) // epoch boundary: rewards for 1 signed commit each, new set
    const next = await app.validatorSet(3)
    expect(next.validators[0]).toMatchObject({ id: validator.publicKey, votingPower: 40_000n })
    // Rewards follow the epoch's set (before the delegation counted): validator 0 had power
    // 10,000 of 40,006, and one commit like everyone.
    const reward = (1_000_000n * 10_000n) / 40_006n
    const commission = (reward * 500n) / 10_000n
    const shared = reward - commission
    expect(app.account(alice.publicKey).balance - aliceBefore).toBe((shared * 30_000n) / 40_000n)
    expect(app.account(validator.publicKey).balance - validatorBefore).toBe(
      commission + (shared * 10_000n) / 40_000n,
    )
    app.submitTransaction(
      tx(alice, 4, { kind: 'unstake', amount: 30_000n, validator: validator.publicKey }),
    )
    await produceBlock(app)
    expect((await app.block(3))?.receipts[0]?.status).toBe('success')
  })

  it('slashes delegations with the validator', async () => {
    const { app } = await newChain(makeGenesis())
    const alice = userKeys(1)
    const offender = validatorKeys(1)
    app.submitTransaction(
      tx(alice, 0, { kind: 'stake', amount: 20_000n, validator: offender.publicKey }),
    )
    await produceBlock(app)
    await app.reportEvidence?.(equivocation(offender, 2))
    await produceBlock(app)
    expect(app.account(offender.publicKey).stake).toBe(10_001n - 1_000n)
    const stored = await app.block(2)
    expect(stored?.block.evidence).toHaveLength(1)
    app.submitTransaction(
      tx(alice, 1, { kind: 'unstake', amount: 18_001n, validator: offender.publicKey }),
    )
    app.submitTransaction(
      tx(alice, 2, { kind: 'unstake', amount: 18_000n, validator: offender.publicKey }),
    )
    await produceBlock(app)
    expect((await app.block(3))?.receipts.map((r) => r.code ?? r.status)).toEqual([
      'insufficient-balance',
      'success',
    ])
  })
})

describe('unbonding', () => {
  it('returns unstaked coins after the unbonding period, slashed if evidence lands meanwhile', async () => {
    const { app } = await newChain(makeGenesis({ unbondingHeights: 3 }))
    const alice = userKeys(1)
    const bob = userKeys(2)
    const offender = validatorKeys(1)
    app.submitTransaction(
      tx(alice, 0, { kind: 'stake', amount: 10_000n, validator: offender.publicKey }),
    )
    app.submitTransaction(tx(bob, 0, { kind: 'stake', amount: 10_000n }))
    await produceBlock(app)
    app.submitTransaction(
      tx(alice, 1, { kind: 'unstake', amount: 10_000n, validator: offender.publicKey }),
    )
    app.submitTransaction(tx(bob, 1, { kind: 'unstake', amount: 10_000n }))
    await produceBlock(app) // height 2: both start unbonding until height 5
    const aliceAfterUnstake = app.account(alice.publicKey).balance
    const bobAfterUnstake = app.account(bob.publicKey).balance
    await app.reportEvidence?.(equivocation(offender, 2))
    await produceBlock(app) // height 3: slashes the offender, and alice's unbonding delegation
    await produceBlock(app) // height 4
    expect(app.account(alice.publicKey).balance).toBe(aliceAfterUnstake)
    expect(app.account(bob.publicKey).balance).toBe(bobAfterUnstake)
    await produceBlock(app) // height 5: released
    expect(app.account(alice.publicKey).balance - aliceAfterUnstake).toBe(9_000n)
    expect(app.account(bob.publicKey).balance - bobAfterUnstake).toBe(10_000n)
  })
})

describe('candidate cap', () => {
  const register = (seed: number) => {
    const keys = validatorKeys(seed)
    return tx({ publicKey: keys.publicKey, secretKey: keys.secretKey }, 0, {
      kind: 'register-validator',
      blsPublicKey: keys.blsPublicKey,
      proofOfPossession: keys.proofOfPossession,
      stake: 5_000n,
      commissionBps: 100,
      metadata: { moniker: `candidate-${seed}`, website: '', details: '' },
    })
  }

  it('fails registrations beyond maxCandidates with a typed receipt, charging the fee', async () => {
    const genesis = makeGenesis({ validators: 4, maxValidators: 4, maxCandidates: 5 })
    expect(genesis.parameters.maxCandidates).toBe(5)
    const { app } = await newChain(genesis)
    // fund the candidates from a user account
    const funder = userKeys(1)
    for (const [nonce, seed] of [30, 31].entries()) {
      app.submitTransaction(
        tx(funder, nonce, {
          kind: 'transfer',
          to: validatorKeys(seed).publicKey,
          amount: 1_000_000n,
        }),
      )
    }
    await produceBlock(app)
    const first = prepareSignedTransaction(register(30))
    app.submitTransaction(first.bytes)
    await produceBlock(app)
    expect((await app.transaction(first.id))?.receipt.status).toBe('success')
    const second = prepareSignedTransaction(register(31))
    app.submitTransaction(second.bytes)
    await produceBlock(app)
    const included = await app.transaction(second.id)
    expect(included?.receipt).toMatchObject({ status: 'failed', code: 'too-many-candidates' })
    expect(included?.receipt.fee).toBeGreaterThan(0n)
    expect(app.account(validatorKeys(31).publicKey).stake).toBe(0n)
    expect(app.account(validatorKeys(30).publicKey).stake).toBe(5_000n)
    // the registry lists the four active validators and the candidate, not the refused one
    const listed = app.validators()
    expect(listed).toHaveLength(5)
    const candidate = listed.find((v) => equalBytes(v.id, validatorKeys(30).publicKey))
    expect(candidate).toMatchObject({ active: false, jailed: false, stake: 5_000n })
    expect(candidate?.votingPower).toBe(5_000n)
    expect(listed.filter((v) => v.active)).toHaveLength(4)
    expect(listed.some((v) => equalBytes(v.id, validatorKeys(31).publicKey))).toBe(false)
  })

  it('is a genesis parameter of at least maxValidators and the genesis validators', async () => {
    expect(makeGenesis().parameters.maxCandidates).toBe(10_000)
    expect(() => makeGenesis({ maxValidators: 4, maxCandidates: 3 })).toThrow(
      expect.objectContaining({ name: 'GenesisError' }),
    )
    expect(() => makeGenesis({ validators: 4, maxValidators: 2, maxCandidates: 3 })).toThrow(
      expect.objectContaining({ name: 'GenesisError', details: { field: 'validators' } }),
    )
  })
})

describe('minimum jail time', () => {
  it('refuses unjail before the jail height + minJailHeights with a typed receipt, charging fee and nonce, and accepts it at that height', async () => {
    const { app } = await newChain(makeGenesis({ epochLength: 2, minJailHeights: 5 }))
    const offender = validatorKeys(1)
    const funder = userKeys(1)
    await app.reportEvidence?.(equivocation(offender))
    await produceBlock(app) // height 1: jailed
    const jailed = app.validators().find((v) => equalBytes(v.id, offender.publicKey))
    expect(jailed).toMatchObject({ jailed: true, jailedHeight: 1 })
    app.submitTransaction(
      tx(funder, 0, { kind: 'transfer', to: offender.publicKey, amount: 1_000_000n }),
    )
    await produceBlock(app) // height 2: funded; the set after it leaves the offender out
    await produceBlock(app)
    await produceBlock(app)
    const before = app.account(offender.publicKey)
    const early = prepareSignedTransaction(tx(offender, 0, { kind: 'unjail' }))
    app.submitTransaction(early.bytes)
    await produceBlock(app) // height 5 = 1 + 5 - 1: one height short
    const refused = await app.transaction(early.id)
    expect(refused?.height).toBe(5)
    expect(refused?.receipt).toMatchObject({ status: 'failed', code: 'jail-time-not-served' })
    const after = app.account(offender.publicKey)
    expect(after.nonce).toBe(before.nonce + 1)
    expect(after.balance).toBe(before.balance - (refused?.receipt.fee as bigint))
    expect(refused?.receipt.fee).toBeGreaterThan(0n)
    expect(app.validators().find((v) => equalBytes(v.id, offender.publicKey))?.jailed).toBe(true)
    const served = prepareSignedTransaction(tx(offender, 1, { kind: 'unjail' }))
    app.submitTransaction(served.bytes)
    await produceBlock(app) // height 6 = 1 + 5
    const accepted = await app.transaction(served.id)
    expect(accepted?.height).toBe(6)
    expect(accepted?.receipt.status).toBe('success')
    const free = app.validators().find((v) => equalBytes(v.id, offender.publicKey))
    expect(free?.jailed).toBe(false)
    expect(free).not.toHaveProperty('jailedHeight')
    // Eligible again at the next epoch boundary (after height 6).
    expect((await app.validatorSet(7)).validators.map((v) => v.id)).toContainEqual(
      offender.publicKey,
    )
  })
})

describe('evidence expiry', () => {
  const maxAge = 3

  it('includes evidence exactly evidenceMaxAgeHeights old and refuses a block with older evidence', async () => {
    const genesis = makeGenesis({ evidenceMaxAgeHeights: maxAge })
    const { app } = await newChain(genesis)
    const replica = (await newChain(genesis)).app
    for (let height = 1; height <= 5; height++) {
      const block = await produceBlock(app)
      await replica.finalize({ height, ...block })
    }
    // The next block is at height 6: offences at 3 are exactly maxAge old, at 2 one older.
    const atMaxAge = toSlashingEvidence(equivocation(validatorKeys(1), 6 - maxAge))
    const tooOld = toSlashingEvidence(equivocation(validatorKeys(2), 6 - maxAge - 1))
    const context = await contextFor(app)
    const verdictWith = async (evidence: NonNullable<typeof atMaxAge>) => {
      const block = decodeBlock(await app.buildProposal(context))
      block.evidence = [evidence]
      block.header.evidenceRoot = evidenceRoot(block.evidence)
      return replica.validateProposal(context, encodeBlock(block))
    }
    expect(await verdictWith(tooOld as NonNullable<typeof tooOld>)).toMatchObject({
      valid: false,
      code: 'evidence-expired',
    })
    // Only the slot's age differs: the same evidence slashes when it is within the window
    // (the state root then no longer matches the unchanged header, which is checked after).
    expect(await verdictWith(atMaxAge as NonNullable<typeof atMaxAge>)).toMatchObject({
      valid: false,
      code: 'state-mismatch',
    })
    // reportEvidence keeps the one within the window and ignores the expired one.
    await app.reportEvidence?.(equivocation(validatorKeys(2), 6 - maxAge - 1))
    await app.reportEvidence?.(equivocation(validatorKeys(1), 6 - maxAge))
    const block = await produceBlock(app)
    const included = decodeBlock(block.payload).evidence
    expect(included.map((e) => e.validator)).toEqual([validatorKeys(1).publicKey])
    expect(await replica.validateProposal(context, block.payload)).toEqual({ valid: true })
    await replica.finalize({ height: 6, ...block })
    expect(replica.stateRoot).toEqual(app.stateRoot)
    expect(app.account(validatorKeys(1).publicKey).stake).toBe(10_001n - 1_000n)
    expect(app.account(validatorKeys(2).publicKey).stake).toBe(10_002n)
  })

  it('drops pending evidence from the proposal once it expires', async () => {
    const genesis = makeGenesis({ evidenceMaxAgeHeights: maxAge })
    const { app } = await newChain(genesis)
    const holder = (await newChain(genesis)).app
    const offender = validatorKeys(1)
    // Offence at height 1: usable up to a block at height 1 + maxAge.
    await holder.reportEvidence?.(equivocation(offender, 1))
    for (let height = 1; height < 1 + maxAge; height++) {
      const block = await produceBlock(app)
      await holder.finalize({ height, ...block })
    }
    const last = decodeBlock(await holder.buildProposal(await contextFor(holder)))
    expect(last.header.height).toBe(1 + maxAge)
    expect(last.evidence).toHaveLength(1)
    const block = await produceBlock(app)
    await holder.finalize({ height: 1 + maxAge, ...block })
    const context = await contextFor(holder)
    const payload = await holder.buildProposal(context)
    expect(decodeBlock(payload).evidence).toHaveLength(0)
    expect(await app.validateProposal(context, payload)).toEqual({ valid: true })
    // Reported again now, it is ignored.
    await holder.reportEvidence?.(equivocation(offender, 1))
    expect(decodeBlock(await holder.buildProposal(context)).evidence).toHaveLength(0)
  })

  it('forgets a counted slot once its evidence has expired', () => {
    const genesis = makeGenesis({ evidenceMaxAgeHeights: maxAge })
    const state = new StateOverlay(genesisState(genesis))
    const offender = validatorKeys(1)
    const evidence = toSlashingEvidence(equivocation(offender, 2)) as NonNullable<
      ReturnType<typeof toSlashingEvidence>
    >
    const slot = verifySlashingEvidence(evidence, CHAIN_ID) as EvidenceSlot
    const context = (height: number, blockEvidence: (typeof evidence)[] = []) => ({
      chainId: CHAIN_ID,
      parameters: genesis.parameters,
      height,
      proposer: validatorKeys(0).publicKey,
      evidence: blockEvidence,
    })
    expect(executeBlock(state, [], context(2 + maxAge, [evidence])).slashed).toEqual([
      offender.publicKey,
    ])
    expect(state.get(evidenceKey(offender.publicKey, slot))).toBeDefined()
    executeBlock(state, [], context(2 + maxAge))
    expect(state.get(evidenceKey(offender.publicKey, slot))).toBeDefined()
    // At 2 + maxAge + 1 evidence of height 2 is too old to count, so its mark can go.
    executeBlock(state, [], context(2 + maxAge + 1))
    expect(state.get(evidenceKey(offender.publicKey, slot))).toBeUndefined()
    expect(() => executeBlock(state, [], context(2 + maxAge + 2, [evidence]))).toThrow(
      expect.objectContaining({ code: 'evidence-expired', details: { evidenceIndex: 0 } }),
    )
  })
})
