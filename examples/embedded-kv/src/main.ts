/**
 * `pnpm start [--transport memory|libp2p] [--replicas 4] [--data <dir>]`: starts a cluster,
 * writes through several replicas and prints every replica's state.
 */
import { startCluster } from './cluster.js'

const flag = (name: string) => process.argv.find((_, i, argv) => argv[i - 1] === `--${name}`)
const transport = flag('transport') ?? 'memory'
if (transport !== 'memory' && transport !== 'libp2p') throw new TypeError('unknown --transport')
const replicas = Number(flag('replicas') ?? 4)
const cluster = await startCluster({ transport, replicas, dataDir: flag('data') })
const [first, second, third] = cluster
await Promise.all([first?.set('greeting', 'hello'), second?.set('answer', '42')])
await third?.delete('greeting')
await first?.set('visits', String(Number(first.get('visits') ?? 0) + 1))
// a write resolves where it was made; the others apply the same block moments later
const target = Math.max(...cluster.map((replica) => replica.height))
while (cluster.some((replica) => replica.height < target)) {
  await new Promise((resolve) => setTimeout(resolve, 10))
}
for (const [i, replica] of cluster.entries()) {
  process.stdout.write(`replica ${i} @ ${replica.height}: ${JSON.stringify(replica.entries())}\n`)
}
await Promise.all(cluster.map((replica) => replica.stop()))
