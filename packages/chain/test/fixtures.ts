// Shared test helpers: keys, a genesis, signed transactions and a block producer.
import type { CommitCertificate, ProposalContext, ValidatorSet } from '@metanode/core'
import { MemoryStore } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { buildCommitCertificate, commitSealBytes, realScheme } from '@metanode/ibft'
import {
  type ChainApplication,
  createChainApplication,
  decodeBlock,
  type Genesis,
  headerId,
  parseGenesis,
  type SignedTransaction,
  signTransaction,
  type TransactionAction,
} from '../src/index.js'

export interface TestKeys {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export interface TestValidator extends TestKeys {
  blsSecretKey: Uint8Array
  blsPublicKey: Uint8Array
  proofOfPossession: Uint8Array
}

export const CHAIN_ID = 'test-chain'
export const GENESIS_TIME = 1_700_000_000_000

export function userKeys(seed: number): TestKeys {
  const pair = ed25519.keygen(new Uint8Array(32).fill(seed))
  return { publicKey: pair.publicKey, secretKey: pair.secretKey }
}

const validatorCache = new Map<number, TestValidator>()
export function validatorKeys(seed: number): TestValidator {
  const cached = validatorCache.get(seed)
  if (cached !== undefined) return cached
  const keys = realScheme.keygen(new Uint8Array(32).fill(200 + seed))
  const validator = {
    publicKey: keys.id,
    secretKey: keys.ed25519SecretKey,
    blsSecretKey: keys.blsSecretKey,
    blsPublicKey: keys.blsPublicKey,
    proofOfPossession: bls.popProve(keys.blsSecretKey),
  }
  validatorCache.set(seed, validator)
  registerTestValidators([validator])
  return validator
}

export interface GenesisOptions {
  validators?: number
  users?: number
  balance?: bigint
  epochLength?: number
  maxValidators?: number
  maxCandidates?: number
  minValidatorStake?: bigint
  stake?: bigint
  unbondingHeights?: number
  minJailHeights?: number
  evidenceMaxAgeHeights?: number
}

export function genesisJson(options: GenesisOptions = {}): Record<string, unknown> {
  const validators = Array.from({ length: options.validators ?? 4 }, (_, i) => validatorKeys(i))
  const users = Array.from({ length: options.users ?? 4 }, (_, i) => userKeys(i + 1))
  return {
    chainId: CHAIN_ID,
    genesisTime: GENESIS_TIME,
    accounts: users.map((user) => ({
      address: bytesToHex(user.publicKey),
      balance: String(options.balance ?? 1_000_000_000n),
    })),
    validators: validators.map((validator, i) => ({
      id: bytesToHex(validator.publicKey),
      blsPublicKey: bytesToHex(validator.blsPublicKey),
      proofOfPossession: bytesToHex(validator.proofOfPossession),
      stake: String((options.stake ?? 10_000n) + BigInt(i)),
      commissionBps: 500,
      metadata: { moniker: `validator-${i}` },
    })),
    parameters: {
      epochLength: options.epochLength ?? 100,
      maxValidators: options.maxValidators ?? 10,
      ...(options.maxCandidates === undefined ? {} : { maxCandidates: options.maxCandidates }),
      minValidatorStake: String(options.minValidatorStake ?? 1_000n),
      baseFee: '1',
      maxBlockTxs: 1_000,
      maxBlockBytes: 512 * 1024,
      maxClockDriftMs: 10_000,
      // Unbonding must cover the evidence window; short windows keep the tests' heights small.
      unbondingHeights: options.unbondingHeights ?? options.evidenceMaxAgeHeights ?? 100,
      minJailHeights: options.minJailHeights ?? 0,
      evidenceMaxAgeHeights: options.evidenceMaxAgeHeights ?? options.unbondingHeights ?? 100,
    },
  }
}

export function makeGenesis(options: GenesisOptions = {}): Genesis {
  return parseGenesis(genesisJson(options))
}

export function tx(
  signer: TestKeys,
  nonce: number,
  action: TransactionAction,
  fees: { maxFee?: bigint; maxPriorityFee?: bigint; chainId?: string } = {},
): SignedTransaction {
  return signTransaction(
    {
      chainId: fees.chainId ?? CHAIN_ID,
      sender: signer.publicKey,
      nonce,
      maxFee: fees.maxFee ?? 10n,
      maxPriorityFee: fees.maxPriorityFee ?? 1n,
      action,
    },
    signer.secretKey,
  )
}

export async function newChain(
  genesis: Genesis,
): Promise<{ app: ChainApplication; store: MemoryStore }> {
  const store = new MemoryStore()
  await store.open()
  return { app: await createChainApplication({ genesis, store }), store }
}

const validatorsById = new Map<string, TestValidator>()
export function registerTestValidators(validators: TestValidator[]): void {
  for (const validator of validators) validatorsById.set(bytesToHex(validator.publicKey), validator)
}

/** A real BLS certificate of the block's header id by every member of `set` whose keys the tests know. */
export function certify(
  set: ValidatorSet,
  height: number,
  payload: Uint8Array,
  chainId = CHAIN_ID,
): CommitCertificate {
  const blockId = headerId(decodeBlock(payload).header)
  const message = commitSealBytes(chainId, height, 0, blockId)
  const seals = set.validators.flatMap((validator, index) => {
    const keys = validatorsById.get(bytesToHex(validator.id))
    return keys === undefined ? [] : [{ index, seal: bls.sign(message, keys.blsSecretKey) }]
  })
  return buildCommitCertificate({
    height,
    round: 0,
    blockId,
    validatorCount: set.validators.length,
    seals,
  })
}

/** Proposes, validates and finalizes one block on `app` (the proposer is the set's first). */
export async function produceBlock(
  app: ChainApplication,
  options: { timestamp?: number } = {},
): Promise<{ payload: Uint8Array; certificate: CommitCertificate }> {
  const height = app.height + 1
  const set = await app.validatorSet(height)
  const proposer = set.validators[(height - 1) % set.validators.length]?.id as Uint8Array
  const context: ProposalContext = {
    height,
    round: 0,
    proposer,
    timestamp: options.timestamp ?? GENESIS_TIME + height * 1_000,
  }
  const payload = await app.buildProposal(context)
  const verdict = await app.validateProposal(context, payload)
  if (!verdict.valid) throw new Error(`own proposal invalid: ${verdict.code} ${verdict.reason}`)
  const certificate = certify(set, height, payload)
  await app.finalize({ height, payload, certificate })
  return { payload, certificate }
}
