import { encodeTransaction, parseGenesis, signTransaction } from '@metanode/chain'
import { createMemoryNetwork, MemoryStore, type Metrics } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { realScheme } from '@metanode/ibft'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { promMetrics } from '../src/metrics.js'
import { createNode, type MetanodeNode } from '../src/node.js'
import type { NodeEvents } from '../src/service.js'

const validators = [1, 2, 3, 4].map((n) => realScheme.keygen(new Uint8Array(32).fill(n)))
const alice = ed25519.keygen(new Uint8Array(32).fill(20))
const bob = ed25519.keygen(new Uint8Array(32).fill(21))

const genesis = parseGenesis({
  chainId: 'node-test',
  genesisTime: 0,
  accounts: [{ address: bytesToHex(alice.publicKey), balance: '1000000000' }],
  validators: validators.map((k) => ({
    id: bytesToHex(k.id),
    blsPublicKey: bytesToHex(k.blsPublicKey),
    proofOfPossession: bytesToHex(bls.popProve(k.blsSecretKey)),
    stake: '5000',
  })),
  parameters: { epochLength: 50, minValidatorStake: '1000' },
})

function transfer(nonce: number, amount = 10n, chainId = 'node-test'): Uint8Array {
  return encodeTransaction(
    signTransaction(
      {
        chainId,
        sender: alice.publicKey,
        nonce,
        maxFee: 10n,
        maxPriorityFee: 1n,
        action: { kind: 'transfer', to: bob.publicKey, amount },
      },
      alice.secretKey,
    ),
  )
}

let running: MetanodeNode[] = []

afterEach(async () => {
  for (const node of running) await node.stop()
  running = []
})

async function startNetwork(metrics?: Metrics): Promise<MetanodeNode[]> {
  const network = createMemoryNetwork()
  const nodes = await Promise.all(
    validators.map((signer, i) =>
      createNode({
        genesis,
        signer,
        store: new MemoryStore(),
        transport: network.transport({ peerId: `node-${i}` }),
        blockPeriodMs: 5,
        ...(i === 0 && metrics !== undefined ? { metrics } : {}),
      }),
    ),
  )
  running = nodes
  for (const node of nodes.toReversed()) await node.start()
  return nodes
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('node', () => {
  it('admits a transaction on one node, gossips it, and every node finalizes it', async () => {
    const nodes = await startNetwork()
    const [first, second] = nodes as [MetanodeNode, MetanodeNode]
    const events: NodeEvents['transaction'][] = []
    second.on('transaction', (event) => events.push(event))

    const [outcome] = await first.submitTransactions([transfer(0, 250n)])
    expect(outcome?.status).toBe('pending')
    if (outcome?.status !== 'pending') throw new Error('not admitted')
    expect((await first.transaction(outcome.id)).status).toBe('pending')
    // the same bytes again are a duplicate, not an error
    expect((await first.submitTransactions([transfer(0, 250n)]))[0]?.status).toBe('duplicate')

    await until(
      async () => (await second.transaction(outcome.id)).status === 'finalized',
      'finality',
    )
    const found = await second.transaction(outcome.id)
    if (found.status !== 'finalized') throw new Error('not finalized')
    expect(found.receipt.status).toBe('success')
    expect(events.map((e) => e.status)).toContain('finalized')
    await until(() => nodes.every((node) => node.chain.height >= found.height), 'all nodes')
    for (const node of nodes) {
      expect(node.chain.account(bob.publicKey).balance).toBe(250n)
      expect((await node.block(found.height))?.block.header.stateRoot).toEqual(
        (await first.block(found.height))?.block.header.stateRoot,
      )
    }

    // a transaction waiting for an earlier nonce stays pooled, so its gossip is observable
    const [queued] = await first.submitTransactions([transfer(5)])
    expect(queued?.status).toBe('queued')
    if (queued?.status !== 'queued') throw new Error('not queued')
    await until(
      () => nodes.every((node) => node.chain.mempool.status(queued.id) === 'queued'),
      'gossip',
    )

    const status = second.status()
    expect(status.chainId).toBe('node-test')
    expect(status.totalTransactions).toBe(1)
    expect(status.activeValidators).toBe(4)
    expect(status.networkPeers).toBe(3)
    expect(status.height).toBeGreaterThanOrEqual(found.height)
    expect(second.healthy()).toBe(true)
    expect((await second.validators()).map((v) => bytesToHex(v.id)).sort()).toEqual(
      validators.map((v) => bytesToHex(v.id)).sort(),
    )
  })

  it('refuses bad transactions with typed codes and keeps running', async () => {
    const nodes = await startNetwork()
    const node = nodes[0] as MetanodeNode
    const forged = transfer(0)
    forged[forged.length - 3] = (forged[forged.length - 3] as number) ^ 1
    const outcomes = await node.submitTransactions([
      new Uint8Array([1, 2, 3]),
      forged,
      transfer(0, 1n, 'other-chain'),
      transfer(0),
    ])
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected', 'pending'])
    expect(outcomes.map((o) => (o.status === 'rejected' ? o.code : 'ok'))).toEqual([
      'malformed',
      'bad-signature',
      'wrong-chain',
      'ok',
    ])
    await until(() => node.status().totalTransactions === 1, 'the good transaction')
    expect(node.healthy()).toBe(true)
  })

  it("reports the engine's metrics through prom-client", async () => {
    const registry = new Registry()
    const nodes = await startNetwork(promMetrics(registry))
    await until(() => (nodes[0]?.chain.height ?? 0) >= 3, 'three blocks')
    const text = await registry.metrics()
    const height = /^metanode_ibft_finalized_height (\d+)$/m.exec(text)?.[1]
    expect(Number(height)).toBeGreaterThanOrEqual(3)
    expect(text).toMatch(/^metanode_ibft_finality_latency_ms_count [1-9]/m)
  })
})
