import type { ProposalContext } from '@metanode/core'
import { signInclusionList } from '@metanode/mempool'
import { describe, expect, it } from 'vitest'
import {
  CHAIN_STORE_KEYS,
  createChainApplication,
  decodeBlock,
  encodeBlock,
  prepareSignedTransaction,
  replayChain,
} from '../src/index.js'
import {
  GENESIS_TIME,
  makeGenesis,
  newChain,
  produceBlock,
  tx,
  userKeys,
  validatorKeys,
} from './fixtures.js'

const alice = userKeys(1)
const bob = userKeys(2)
const carol = userKeys(3)

async function contextFor(
  app: Awaited<ReturnType<typeof newChain>>['app'],
): Promise<ProposalContext> {
  const height = app.height + 1
  const set = await app.validatorSet(height)
  return {
    height,
    round: 0,
    proposer: set.validators[(height - 1) % set.validators.length]?.id as Uint8Array,
    timestamp: GENESIS_TIME + height * 1_000,
  }
}

describe('chain application', () => {
  it('builds, validates and finalizes blocks from the mempool, evicting what was included', async () => {
    const { app, store } = await newChain(makeGenesis())
    for (let nonce = 0; nonce < 3; nonce++) {
      app.submitTransaction(tx(alice, nonce, { kind: 'transfer', to: bob.publicKey, amount: 100n }))
    }
    app.submitTransaction(tx(bob, 0, { kind: 'stake', amount: 50n }))
    expect(app.mempool.stats().pending).toBe(4)
    await produceBlock(app)
    expect(app.height).toBe(1)
    expect(app.mempool.stats().pending).toBe(0)
    expect(app.account(alice.publicKey).nonce).toBe(3)
    expect(app.account(bob.publicKey).stake).toBe(50n)
    const stored = await app.block(1)
    expect(stored?.block.txs).toHaveLength(4)
    expect(stored?.receipts.every((r) => r.status === 'success')).toBe(true)
    expect(stored?.block.header.stateRoot).toEqual(app.stateRoot)
    expect(await store.get(CHAIN_STORE_KEYS.head)).toBeDefined()
    await produceBlock(app)
    expect(app.height).toBe(2)
    expect((await app.block(2))?.block.header.parentId).toBeDefined()
  })

  it('finds finalized transactions by id and counts them across a restart', async () => {
    const genesis = makeGenesis()
    const { app, store } = await newChain(genesis)
    const first = prepareSignedTransaction(
      tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 100n }),
    )
    app.submitTransaction(first.bytes)
    await produceBlock(app)
    const second = prepareSignedTransaction(
      tx(alice, 1, { kind: 'transfer', to: carol.publicKey, amount: 7n }),
    )
    const third = prepareSignedTransaction(tx(bob, 0, { kind: 'stake', amount: 5n }))
    app.submitTransaction(second.bytes)
    app.submitTransaction(third) // prepared: not decoded again
    expect(await app.transaction(second.id)).toBeUndefined()
    await produceBlock(app)
    expect(app.transactionCount).toBe(3)
    const found = await app.transaction(first.id)
    expect(found?.height).toBe(1)
    expect(found?.index).toBe(0)
    expect(found?.receipt.status).toBe('success')
    expect(found?.transaction.body.nonce).toBe(0)
    const later = await app.transaction(second.id)
    expect(later?.height).toBe(2)
    expect(later?.transaction.body.action).toEqual({
      kind: 'transfer',
      to: carol.publicKey,
      amount: 7n,
    })
    expect(await app.transaction(new Uint8Array(36))).toBeUndefined()
    await expect(app.transaction(new Uint8Array(0))).rejects.toThrow(RangeError)
    const resumed = await createChainApplication({ genesis, store })
    expect(resumed.transactionCount).toBe(3)
    expect((await resumed.transaction(third.id))?.height).toBe(2)
  })

  it('refuses transactions with a bad signature or for another chain at submission', async () => {
    const { app } = await newChain(makeGenesis())
    const good = tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 1n })
    expect(() => app.submitTransaction({ ...good, signature: new Uint8Array(64) })).toThrow(
      expect.objectContaining({ code: 'bad-signature' }),
    )
    expect(() =>
      app.submitTransaction(tx(alice, 0, { kind: 'stake', amount: 1n }, { chainId: 'elsewhere' })),
    ).toThrow(expect.objectContaining({ code: 'wrong-chain' }))
    expect(() => app.submitTransaction(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'malformed' }),
    )
  })

  it('rejects tampered proposals with a typed code', async () => {
    const { app } = await newChain(makeGenesis())
    app.submitTransaction(tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 100n }))
    const context = await contextFor(app)
    const payload = await app.buildProposal(context)
    const block = decodeBlock(payload)
    const verdictOf = async (mutate: (b: typeof block) => void, ctx = context) => {
      const copy = decodeBlock(payload)
      mutate(copy)
      const verdict = await app.validateProposal(ctx, encodeBlock(copy))
      return verdict.valid ? 'valid' : verdict.code
    }
    expect(await verdictOf(() => {})).toBe('valid')
    expect(await verdictOf((b) => (b.header.stateRoot = new Uint8Array(32)))).toBe('state-mismatch')
    expect(await verdictOf((b) => (b.header.txRoot = new Uint8Array(32)))).toBe('state-mismatch')
    expect(await verdictOf((b) => (b.header.receiptsRoot = new Uint8Array(32)))).toBe(
      'state-mismatch',
    )
    expect(await verdictOf((b) => (b.header.nextValidatorSetHash = new Uint8Array(32)))).toBe(
      'state-mismatch',
    )
    // the header commits to the whole body: evidence and parent certificate too
    expect(await verdictOf((b) => (b.header.evidenceRoot = new Uint8Array(32)))).toBe(
      'state-mismatch',
    )
    expect(await verdictOf((b) => (b.header.parentCertificateHash = new Uint8Array(32)))).toBe(
      'state-mismatch',
    )
    expect(await verdictOf((b) => (b.header.parentId = new Uint8Array(32)))).toBe('bad-header')
    expect(await verdictOf((b) => (b.header.height = 2))).toBe('bad-header')
    expect(await verdictOf((b) => (b.header.timestamp = GENESIS_TIME))).toBe('bad-timestamp')
    expect(await verdictOf((b) => (b.header.timestamp += 60_000))).toBe('bad-timestamp')
    expect(await verdictOf((b) => (b.header.timestamp = context.timestamp + 11_000))).toBe(
      'bad-timestamp',
    )
    expect(await verdictOf((b) => (b.header.proposer = alice.publicKey))).toBe('bad-header')
    // A round > 0 may re-propose a block another validator built: its proposer still earns the fees.
    const later = {
      ...context,
      round: 1,
      proposer: validatorKeys(2).publicKey,
      timestamp: context.timestamp + 30_000,
    }
    expect(await app.validateProposal(later, payload)).toEqual({ valid: true })
    expect(await verdictOf((b) => b.txs.push(b.txs[0] as Uint8Array))).toBe('duplicate-transaction')
    expect(await verdictOf((b) => (b.txs[0] = new Uint8Array([1])))).toBe('malformed')
    const badNonce = prepareSignedTransaction(tx(carol, 5, { kind: 'stake', amount: 1n }))
    expect(await verdictOf((b) => b.txs.push(badNonce.bytes))).toBe('bad-nonce')
    expect((await app.validateProposal(context, new Uint8Array([0xa0]))).valid).toBe(false)
    expect(block.header.height).toBe(1)
  })

  it('leaves out of its own proposal what would invalidate the block', async () => {
    const { app } = await newChain(makeGenesis())
    app.submitTransaction(
      tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 999_000_000n }),
    )
    // Admitted against the old balance; after the first transfer it can no longer pay its fee.
    app.submitTransaction(
      tx(
        alice,
        1,
        { kind: 'transfer', to: carol.publicKey, amount: 1n },
        { maxFee: 1_000n, maxPriorityFee: 999n },
      ),
    )
    await produceBlock(app)
    expect((await app.block(1))?.block.txs).toHaveLength(1)
  })

  it('enforces inclusion lists: a block that leaves out a listed, valid transaction is refused', async () => {
    const genesis = makeGenesis()
    const censor = (await newChain(genesis)).app
    const honest = (await newChain(genesis)).app
    const listed = prepareSignedTransaction(
      tx(carol, 0, { kind: 'transfer', to: bob.publicKey, amount: 7n }),
    )
    const chainIdBytes = new TextEncoder().encode(genesis.chainId)
    const list = signInclusionList(
      { height: 2, txIds: [listed.id] },
      validatorKeys(0).secretKey,
      chainIdBytes,
    )
    censor.submitTransaction(tx(alice, 0, { kind: 'submit-inclusion-list', list }))
    const first = await produceBlock(censor)
    await honest.finalize({ height: 1, ...first })
    expect(honest.stateRoot).toEqual(censor.stateRoot)
    honest.submitTransaction(listed.bytes)
    const context = await contextFor(censor)
    const censored = await censor.buildProposal(context)
    expect(decodeBlock(censored).txs).toHaveLength(0)
    expect(await honest.validateProposal(context, censored)).toMatchObject({
      valid: false,
      code: 'censorship',
    })
    // A validator that never saw the listed transaction cannot judge it and excuses it.
    expect(await censor.validateProposal(context, censored)).toEqual({ valid: true })
    const including = await honest.buildProposal(context)
    expect(decodeBlock(including).txs).toContainEqual(listed.bytes)
    expect(await censor.validateProposal(context, including)).toEqual({ valid: true })
  })

  it('replays the stored blocks from genesis to every state root, and resumes from the store', async () => {
    const genesis = makeGenesis({ epochLength: 2 })
    const { app, store } = await newChain(genesis)
    const roots = [app.stateRoot]
    for (let height = 1; height <= 5; height++) {
      app.submitTransaction(
        tx(alice, height - 1, { kind: 'transfer', to: bob.publicKey, amount: BigInt(height) }),
      )
      app.submitTransaction(tx(bob, height - 1, { kind: 'stake', amount: 10n }))
      await produceBlock(app)
      roots.push(app.stateRoot)
    }
    expect(await replayChain(genesis, store)).toEqual(roots)
    const resumed = await createChainApplication({ genesis, store })
    expect(resumed.height).toBe(5)
    expect(resumed.stateRoot).toEqual(app.stateRoot)
    expect(resumed.account(bob.publicKey)).toEqual(app.account(bob.publicKey))
    expect(await resumed.validatorSet(6)).toEqual(await app.validatorSet(6))
    await produceBlock(resumed)
    expect(resumed.height).toBe(6)
  })

  it('detects a stored block that no longer reproduces its state root', async () => {
    const genesis = makeGenesis()
    const { app, store } = await newChain(genesis)
    app.submitTransaction(tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 1n }))
    await produceBlock(app)
    const key = new Uint8Array([...CHAIN_STORE_KEYS.block, 0, 0, 0, 0, 0, 0, 0, 1])
    const block = decodeBlock((await store.get(key)) as Uint8Array)
    block.header.stateRoot = new Uint8Array(32).fill(9)
    await store.put(key, encodeBlock(block))
    await expect(replayChain(genesis, store)).rejects.toMatchObject({ name: 'ReplayMismatchError' })
  })

  it('ignores a height it already applied', async () => {
    const { app } = await newChain(makeGenesis())
    const { payload, certificate } = await produceBlock(app)
    const root = app.stateRoot
    await app.finalize({ height: 1, payload, certificate })
    expect(app.stateRoot).toEqual(root)
    expect(app.height).toBe(1)
  })

  it('refuses to start over a store of another chain', async () => {
    const { app, store } = await newChain(makeGenesis())
    await produceBlock(app)
    await expect(
      createChainApplication({ genesis: makeGenesis({ users: 2 }), store }),
    ).rejects.toMatchObject({
      name: 'GenesisError',
    })
  })

  it('refuses to start over a store whose state was altered', async () => {
    const genesis = makeGenesis()
    const { app, store } = await newChain(genesis)
    await produceBlock(app)
    await store.put(new Uint8Array([...CHAIN_STORE_KEYS.state, 9]), new Uint8Array([1]))
    await expect(createChainApplication({ genesis, store })).rejects.toMatchObject({
      name: 'ReplayMismatchError',
    })
  })
})
