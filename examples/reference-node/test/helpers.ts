// Test helpers: a genesis with funded users, real nodes over the in-memory plug-ins, signed
// transactions, and polling.
import {
  encodeTransaction,
  type Genesis,
  parseGenesis,
  type SignedTransaction,
  signTransaction,
  type TransactionAction,
} from '@metanode/chain'
import { createMemoryNetwork, MemoryStore, type Metrics } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { realScheme, type ValidatorKeys } from '@metanode/ibft'
import { createNode, type MetanodeNode } from '../src/node.js'

export const CHAIN_ID = 'api-test'

export interface UserKeys {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

export function userKeys(seed: number): UserKeys {
  return ed25519.keygen(new Uint8Array(32).fill(seed))
}

export function validatorKeys(count: number): ValidatorKeys[] {
  return Array.from({ length: count }, (_, i) =>
    realScheme.keygen(new Uint8Array(32).fill(100 + i)),
  )
}

/** Funded users are `userKeys(1)` .. `userKeys(users)`. */
export function makeGenesis(validators: ValidatorKeys[], users = 4): Genesis {
  return parseGenesis({
    chainId: CHAIN_ID,
    genesisTime: 0,
    accounts: Array.from({ length: users }, (_, i) => ({
      address: bytesToHex(userKeys(i + 1).publicKey),
      balance: '1000000000000',
    })),
    validators: validators.map((keys) => ({
      id: bytesToHex(keys.id),
      blsPublicKey: bytesToHex(keys.blsPublicKey),
      proofOfPossession: bytesToHex(bls.popProve(keys.blsSecretKey)),
      stake: '5000',
    })),
    // A long epoch keeps a validator registered by a test out of the active set.
    parameters: { epochLength: 10_000, minValidatorStake: '1000' },
  })
}

export function signed(
  sender: UserKeys,
  nonce: number,
  action: TransactionAction,
  chainId = CHAIN_ID,
): SignedTransaction {
  return signTransaction(
    { chainId, sender: sender.publicKey, nonce, maxFee: 10n, maxPriorityFee: 1n, action },
    sender.secretKey,
  )
}

export function transferBytes(
  sender: UserKeys,
  nonce: number,
  to: Uint8Array,
  amount = 1n,
  chainId = CHAIN_ID,
): Uint8Array {
  return encodeTransaction(signed(sender, nonce, { kind: 'transfer', to, amount }, chainId))
}

export interface TestNetwork {
  genesis: Genesis
  nodes: MetanodeNode[]
  stop(): Promise<void>
}

/** Creates `validators` real nodes over one memory network; starts them unless told not to. */
export async function startNetwork(
  validators: number,
  options: { start?: boolean; blockPeriodMs?: number; metrics?: Metrics } = {},
): Promise<TestNetwork> {
  const keys = validatorKeys(validators)
  const genesis = makeGenesis(keys)
  const network = createMemoryNetwork()
  const nodes = await Promise.all(
    keys.map((signer, i) =>
      createNode({
        genesis,
        signer,
        store: new MemoryStore(),
        transport: network.transport({ peerId: `node-${i}` }),
        blockPeriodMs: options.blockPeriodMs ?? 20,
        // the first node reports to `metrics`; one registry cannot hold two engines' metrics
        ...(i === 0 && options.metrics !== undefined ? { metrics: options.metrics } : {}),
      }),
    ),
  )
  if (options.start !== false) for (const node of nodes) await node.start()
  return {
    genesis,
    nodes,
    async stop() {
      for (const node of nodes) await node.stop()
    },
  }
}

export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
