// Proposal-to-finality latency of 4 validators over real libp2p (TCP + Noise + Yamux +
// gossipsub) on 127.0.0.1, all in this process, with blockPeriodMs 0.
import { performance } from 'node:perf_hooks'
import { memoryStore, systemClock } from '@metanode/core'
import { type Libp2pTransport, libp2pTransport } from '@metanode/transport-libp2p'
import {
  createIbft,
  DEFAULT_IBFT_TOPIC,
  type IbftDissemination,
  type IbftEngine,
} from '../src/index.js'
import { makeValidators, timestampApplication } from './validators.js'

/** Latency samples of one libp2p run, in milliseconds. */
export interface Libp2pResult {
  /** The engine's `finalized` latencyMs on every node: its first sight of the proposal to its finality. */
  engineLatencies: number[]
  /** Per height, from the proposer building the payload to the last node finalizing it. */
  endToEndLatencies: number[]
  /** Heights measured (after the warm-up). */
  heights: number
  /** Heights decided in a round above 0 among those measured. */
  laterRounds: number
  wallMs: number
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Runs 4 validators for `warmup` + `heights` heights and returns the measured latencies. */
export async function libp2pLatency(
  heights: number,
  warmup: number,
  dissemination: IbftDissemination = 'gossip',
): Promise<Libp2pResult> {
  const n = 4
  const { keys, set } = makeValidators(n)
  const transports: Libp2pTransport[] = []
  for (const key of keys) {
    const bootstrap = transports.flatMap((transport) => transport.multiaddrs())
    const transport = libp2pTransport({ privateKey: key.ed25519SecretKey, bootstrap })()
    await transport.start()
    transports.push(transport)
  }
  await until(() => transports.every((t) => t.peers().length === n - 1), 20_000, 'connections')

  const last = warmup + heights
  const engineLatencies: number[] = []
  const endToEnd = new Map<number, { proposedAt: number; finalizedAt: number; count: number }>()
  let laterRounds = 0
  let finishedNodes = 0
  const engines: IbftEngine[] = keys.map((signer, i) => {
    let finalizedHeights = 0
    const application = timestampApplication(
      set,
      () => performance.now(),
      (height, proposedAt, round) => {
        if (height > warmup && height <= last) {
          const entry = endToEnd.get(height) ?? { proposedAt, finalizedAt: 0, count: 0 }
          entry.finalizedAt = Math.max(entry.finalizedAt, performance.now())
          entry.count++
          endToEnd.set(height, entry)
          if (i === 0 && round > 0) laterRounds++
        }
        if (++finalizedHeights === last) finishedNodes++
      },
    )
    const engine = createIbft({
      chainId: 'bench',
      application,
      signer,
      blockPeriodMs: 0,
      dissemination,
    })({
      clock: systemClock,
      transport: transports[i]!,
      store: memoryStore()(),
    })
    engine.on('finalized', ({ block, latencyMs }) => {
      if (block.height > warmup && block.height <= last) engineLatencies.push(latencyMs)
    })
    return engine
  })
  // everyone but the height-1 proposer subscribes first; gossipsub learns subscriptions
  // asynchronously, so wait until each of them can publish to the others
  for (const engine of engines.slice(1)) await engine.start()
  await until(
    () => transports.slice(1).every((t) => t.subscribers(DEFAULT_IBFT_TOPIC).length >= n - 2),
    10_000,
    'subscriptions',
  )
  const start = performance.now()
  await engines[0]!.start()
  await until(() => finishedNodes === n, 120_000, `${last} heights`)
  const wallMs = performance.now() - start
  for (const engine of engines) await engine.stop()
  await Promise.all(transports.map((transport) => transport.stop()))
  const endToEndLatencies = [...endToEnd.values()]
    .filter((entry) => entry.count === n)
    .map((entry) => entry.finalizedAt - entry.proposedAt)
  return { engineLatencies, endToEndLatencies, heights, laterRounds, wallMs }
}
