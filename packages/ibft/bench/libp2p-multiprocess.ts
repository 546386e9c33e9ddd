// Proposal-to-finality latency of 4 validators over real libp2p (TCP + Noise + Yamux +
// gossipsub) on 127.0.0.1, each validator in its own child process (as real validators run),
// blockPeriodMs 0. The children report every `finalized` event over IPC.
import { type ChildProcess, fork } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { IbftDissemination } from '../src/index.js'
import type { Libp2pResult } from './libp2p.js'
import type { FromValidator, ToValidator } from './libp2p-validator.js'

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

interface Child {
  process: ChildProcess
  multiaddrs: string[]
  peers: number
  subscribers: number
  engineStarted: boolean
  finalizedHeights: number
  stopped: boolean
}

/** Runs `n` validator processes for `warmup` + `heights` heights and returns the latencies. */
export async function libp2pMultiProcessLatency(
  heights: number,
  warmup: number,
  n = 4,
  dissemination: IbftDissemination = 'gossip',
): Promise<Libp2pResult> {
  const last = warmup + heights
  const engineLatencies: number[] = []
  const endToEnd = new Map<number, { proposedAt: number; finalizedAt: number; count: number }>()
  let laterRounds = 0
  const children: Child[] = []
  const command = (child: Child, message: ToValidator) => child.process.send(message)
  try {
    for (let i = 0; i < n; i++) {
      const child: Child = {
        process: fork(new URL('./libp2p-validator.ts', import.meta.url), [], {
          execArgv: ['--import', 'tsx'],
          env: {
            ...process.env,
            IBFT_BENCH_INDEX: String(i),
            IBFT_BENCH_VALIDATORS: String(n),
            IBFT_BENCH_DISSEMINATION: dissemination,
          },
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
        multiaddrs: [],
        peers: 0,
        subscribers: 0,
        engineStarted: false,
        finalizedHeights: 0,
        stopped: false,
      }
      child.process.on('message', (message: FromValidator) => {
        switch (message.type) {
          case 'listening':
            child.multiaddrs = message.multiaddrs
            break
          case 'status':
            child.peers = message.peers
            child.subscribers = message.subscribers
            break
          case 'engine-started':
            child.engineStarted = true
            break
          case 'finalized': {
            child.finalizedHeights = Math.max(child.finalizedHeights, message.height)
            if (message.height <= warmup || message.height > last) break
            engineLatencies.push(message.latencyMs)
            const entry = endToEnd.get(message.height) ?? {
              proposedAt: message.proposedAt,
              finalizedAt: 0,
              count: 0,
            }
            entry.finalizedAt = Math.max(entry.finalizedAt, message.finalizedAt)
            entry.count++
            endToEnd.set(message.height, entry)
            if (i === 0 && message.round > 0) laterRounds++
            break
          }
          case 'stopped':
            child.stopped = true
            break
        }
      })
      children.push(child)
      const bootstrap = children.slice(0, i).flatMap((earlier) => earlier.multiaddrs)
      command(child, { type: 'listen', bootstrap })
      await until(() => child.multiaddrs.length > 0, 30_000, `validator ${i} to listen`)
    }
    await until(() => children.every((c) => c.peers === n - 1), 30_000, 'connections')
    // everyone but the height-1 proposer subscribes first, so its first proposal reaches all
    for (const child of children.slice(1)) command(child, { type: 'start-engine' })
    await until(
      () => children.slice(1).every((c) => c.engineStarted && c.subscribers >= n - 2),
      20_000,
      'subscriptions',
    )
    const start = performance.now()
    command(children[0]!, { type: 'start-engine' })
    await until(() => children.every((c) => c.finalizedHeights >= last), 180_000, `${last} heights`)
    const wallMs = performance.now() - start
    for (const child of children) command(child, { type: 'stop' })
    await until(() => children.every((c) => c.stopped), 20_000, 'validators to stop')
    const endToEndLatencies = [...endToEnd.values()]
      .filter((entry) => entry.count === n)
      .map((entry) => entry.finalizedAt - entry.proposedAt)
    return { engineLatencies, endToEndLatencies, heights, laterRounds, wallMs }
  } finally {
    for (const child of children) if (child.process.exitCode === null) child.process.kill()
  }
}
