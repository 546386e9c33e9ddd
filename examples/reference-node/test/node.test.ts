import { bytesToHex } from '@metanode/crypto/bytes'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { promMetrics } from '../src/metrics.js'
import type { MetanodeNode } from '../src/node.js'
import type { NodeEvents } from '../src/service.js'
import {
  CHAIN_ID,
  startNetwork,
  type TestNetwork,
  transferBytes,
  until,
  userKeys,
  validatorKeys,
} from './helpers.js'

const alice = userKeys(1)
const bob = userKeys(60)

const transfer = (nonce: number, amount = 10n, chainId = CHAIN_ID) =>
  transferBytes(alice, nonce, bob.publicKey, amount, chainId)

let network: TestNetwork | undefined

afterEach(async () => {
  await network?.stop()
  network = undefined
})

async function start(options: Parameters<typeof startNetwork>[1] = {}): Promise<MetanodeNode[]> {
  network = await startNetwork(4, { blockPeriodMs: 5, ...options })
  return network.nodes
}

describe('node', () => {
  it('admits a transaction on one node, gossips it, and every node finalizes it', async () => {
    const nodes = await start()
    const [first, second] = nodes as [MetanodeNode, MetanodeNode]
    const events: NodeEvents['transaction'][] = []
    second.on('transaction', (event) => events.push(event))

    const [outcome] = await first.submitTransactions([transfer(0, 250n)])
    expect(outcome?.status).toBe('pending')
    if (outcome?.status !== 'pending') throw new Error('not admitted')
    // the same bytes again are a duplicate, not an error
    expect((await first.submitTransactions([transfer(0, 250n)]))[0]?.status).toBe('duplicate')

    const found = await until(
      () => second.transaction(outcome.id),
      (lookup) => lookup.status === 'finalized',
      'finality',
    )
    if (found.status !== 'finalized') throw new Error('not finalized')
    expect(found.receipt.status).toBe('success')
    expect(events.map((e) => e.status)).toContain('finalized')
    await until(
      () => nodes.every((node) => node.chain.height >= found.height),
      Boolean,
      'all nodes',
    )
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
      Boolean,
      'gossip',
    )

    const status = second.status()
    expect(status.chainId).toBe(CHAIN_ID)
    expect(status.totalTransactions).toBe(1)
    expect(status.activeValidators).toBe(4)
    expect(status.networkPeers).toBe(3)
    expect(status.height).toBeGreaterThanOrEqual(found.height)
    expect(second.healthy()).toBe(true)
    expect((await second.validators()).map((v) => bytesToHex(v.id)).sort()).toEqual(
      validatorKeys(4)
        .map((v) => bytesToHex(v.id))
        .sort(),
    )
  })

  it('refuses bad transactions with typed codes and keeps running', async () => {
    const [node] = (await start()) as [MetanodeNode]
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
    await until(
      () => node.status().totalTransactions,
      (n) => n === 1,
      'the good transaction',
    )
    expect(node.healthy()).toBe(true)
  })

  it("reports the engine's metrics through prom-client", async () => {
    const registry = new Registry()
    const [node] = (await start({ metrics: promMetrics(registry) })) as [MetanodeNode]
    await until(
      () => node.chain.height,
      (height) => height >= 3,
      'three blocks',
    )
    const text = await registry.metrics()
    const height = /^metanode_ibft_finalized_height (\d+)$/m.exec(text)?.[1]
    expect(Number(height)).toBeGreaterThanOrEqual(3)
    expect(text).toMatch(/^metanode_ibft_finality_latency_ms_count [1-9]/m)
  })
})
