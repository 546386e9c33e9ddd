import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { blockIdOf, verifyCommitCertificate } from '@metanode/ibft'
import { afterEach, describe, expect, it } from 'vitest'
import { type ClusterOptions, startCluster } from '../src/cluster.js'
import type { KvReplica } from '../src/kv.js'

let running: KvReplica[] = []
const stopCluster = (cluster: readonly KvReplica[]) => Promise.all(cluster.map((r) => r.stop()))
afterEach(async () => {
  await stopCluster(running)
  running = []
})

async function start(options: ClusterOptions): Promise<KvReplica[]> {
  running = await startCluster(options)
  return running
}

/** Waits until every replica has applied the highest height any of them reached. */
async function converged(cluster: readonly KvReplica[]): Promise<void> {
  const target = Math.max(...cluster.map((replica) => replica.height))
  while (cluster.some((replica) => replica.height < target)) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Writes through every replica in turn and checks all of them against a plain Map. */
async function writeAndCompare(cluster: readonly KvReplica[], writes: number): Promise<void> {
  const expected = new Map<string, string>()
  for (let i = 0; i < writes; i++) {
    const replica = cluster[i % cluster.length] as KvReplica
    const key = `key-${i % 5}`
    if (i % 4 === 3) {
      await replica.delete(key)
      expected.delete(key)
    } else {
      await replica.set(key, `value-${i}`)
      expected.set(key, `value-${i}`)
    }
    // a write resolves once it is applied where it was made
    expect(replica.get(key)).toBe(expected.get(key))
  }
  // concurrent writes from all replicas land too, in one order every replica agrees on
  await Promise.all(cluster.map((replica, i) => replica.set(`concurrent-${i}`, String(i))))
  for (const i of cluster.keys()) expected.set(`concurrent-${i}`, String(i))
  await converged(cluster)
  const sorted = [...expected].sort(([a], [b]) => (a < b ? -1 : 1))
  for (const replica of cluster) expect(replica.entries()).toEqual(sorted)
}

describe('embedded key-value store', () => {
  it('4 replicas over the in-memory transport converge on a sequence of writes', async () => {
    const cluster = await start({ transport: 'memory' })
    await writeAndCompare(cluster, 12)
  })

  it('4 replicas over libp2p on loopback converge on a sequence of writes', async () => {
    const cluster = await start({ transport: 'libp2p' })
    await writeAndCompare(cluster, 8)
  }, 60_000)

  it('every decided block carries a certificate that verifies against the validator set', async () => {
    const cluster = await start({ transport: 'memory' })
    const replica = cluster[0] as KvReplica
    const decided = new Promise<boolean>((resolve) => {
      replica.engine.on('finalized', ({ block }) => {
        const set = replica.validators
        resolve(
          verifyCommitCertificate(block.certificate, blockIdOf(block.payload), set, 'embedded-kv'),
        )
      })
    })
    await replica.set('k', 'v')
    expect(await decided).toBe(true)
  })

  it('restarts from LevelDB with its state and keeps deciding', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'embedded-kv-'))
    try {
      const first = await start({ dataDir })
      await first[0]?.set('persisted', 'yes')
      await first[1]?.set('gone', 'soon')
      await first[2]?.delete('gone')
      await converged(first)
      const height = Math.max(...first.map((replica) => replica.height))
      await stopCluster(first)
      running = []
      const second = await start({ dataDir })
      for (const replica of second) {
        expect(replica.height).toBeGreaterThanOrEqual(height)
        expect(replica.entries()).toEqual([['persisted', 'yes']])
      }
      await second[3]?.set('after', 'restart')
      await converged(second)
      for (const replica of second) expect(replica.get('after')).toBe('restart')
    } finally {
      await stopCluster(running)
      running = []
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('refuses a value over the size limit without submitting it', async () => {
    const cluster = await start({ transport: 'memory' })
    await expect(cluster[0]?.set('big', 'x'.repeat(64 * 1024 + 1))).rejects.toThrow(/string/)
    expect(cluster[0]?.get('big')).toBeUndefined()
  })
})
