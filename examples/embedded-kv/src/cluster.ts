/**
 * Starts a cluster of {@link KvReplica}s in one process, over the in-memory network or over
 * libp2p on 127.0.0.1, with in-memory or LevelDB stores.
 */
import { join } from 'node:path'
import { createMemoryNetwork, memoryStore, type ValidatorSet } from '@metanode/core'
import { blake3 } from '@metanode/crypto/hash'
import { realScheme } from '@metanode/ibft'
import { levelStore } from '@metanode/store-level'
import { libp2pTransport } from '@metanode/transport-libp2p'
import { KvReplica } from './kv.js'

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Number of replicas, each a validator (default 4: it tolerates one faulty replica). */
  replicas?: number
  /** `memory` (default) or `libp2p` (TCP on 127.0.0.1, ports chosen by the OS). */
  transport?: 'memory' | 'libp2p'
  /** Keep each replica's blocks in LevelDB under `<dataDir>/replica-<i>`; in memory without it. */
  dataDir?: string | undefined
}

/** Starts the replicas, each a validator, and resolves once they are connected and running. */
export async function startCluster(options: ClusterOptions = {}): Promise<KvReplica[]> {
  const { replicas = 4, dataDir, transport: kind = 'memory' } = options
  if (!Number.isSafeInteger(replicas) || replicas < 1) throw new RangeError('replicas must be >= 1')
  // demo keys derived from the index, so a data directory restarts as the same validators;
  // real validators generate random keys and keep them in a keystore (@metanode/crypto/keystore)
  const seed = (i: number) => blake3(new TextEncoder().encode(`embedded-kv demo validator ${i}`))
  const keys = Array.from({ length: replicas }, (_, i) => realScheme.keygen(seed(i)))
  const validators: ValidatorSet = {
    validators: keys.map(({ id, blsPublicKey }) => ({ id, blsPublicKey, votingPower: 1n })),
  }
  const network = createMemoryNetwork()
  const addresses: string[] = []
  const cluster = []
  for (const [i, signer] of keys.entries()) {
    // the validator's Ed25519 key doubles as its libp2p identity; each dials all earlier ones
    const { ed25519SecretKey: privateKey } = signer
    const bootstrap = [...addresses]
    const libp2p = kind === 'libp2p' ? libp2pTransport({ privateKey, bootstrap })() : undefined
    const transport = libp2p ?? network.transport({ peerId: `replica-${i}` })
    await transport.start()
    addresses.push(...(libp2p?.multiaddrs() ?? []))
    const location = dataDir && join(dataDir, `replica-${i}`)
    const store = location ? levelStore({ location })() : memoryStore()()
    cluster.push(new KvReplica({ signer, validators, transport, store }))
  }
  for (let waited = 0; cluster.some((r) => r.transport.peers().length < replicas - 1); waited++) {
    if (waited > 1_000) throw new Error('replicas did not connect within 20 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  // the proposer of height 1 starts last, so its first proposal finds everyone listening
  for (const replica of cluster.toReversed()) await replica.start()
  return cluster
}
