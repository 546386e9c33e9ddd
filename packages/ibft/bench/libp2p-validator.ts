// One validator of the multi-process libp2p benchmark, run as a child process by
// bench/libp2p-multiprocess.ts: its own libp2p transport on 127.0.0.1 and its own engine,
// driven and observed over the IPC channel.
import { performance } from 'node:perf_hooks'
import { memoryStore, systemClock } from '@metanode/core'
import { libp2pTransport } from '@metanode/transport-libp2p'
import {
  createIbft,
  DEFAULT_IBFT_TOPIC,
  type IbftDissemination,
  type IbftEngine,
} from '../src/index.js'
import { makeValidators, timestampApplication } from './validators.js'

/** Messages from the parent. */
export type ToValidator =
  | { type: 'listen'; bootstrap: string[] }
  | { type: 'start-engine' }
  | { type: 'stop' }

/** Messages to the parent. */
export type FromValidator =
  | { type: 'listening'; multiaddrs: string[] }
  | { type: 'status'; peers: number; subscribers: number }
  | { type: 'engine-started' }
  | {
      type: 'finalized'
      height: number
      round: number
      latencyMs: number
      proposedAt: number
      finalizedAt: number
    }
  | { type: 'stopped' }

const index = Number(process.env.IBFT_BENCH_INDEX)
const count = Number(process.env.IBFT_BENCH_VALIDATORS)
const dissemination = (process.env.IBFT_BENCH_DISSEMINATION ?? 'gossip') as IbftDissemination
// wall-clock milliseconds with sub-millisecond resolution, comparable across processes
const epochNow = () => performance.timeOrigin + performance.now()
const send = (message: FromValidator) => process.send?.(message)

const { keys, set } = makeValidators(count)
const key = keys[index]!
let engine: IbftEngine | undefined
let transport: ReturnType<ReturnType<typeof libp2pTransport>> | undefined
let statusTimer: NodeJS.Timeout | undefined

process.on('message', async (message: ToValidator) => {
  if (message.type === 'listen') {
    transport = libp2pTransport({
      privateKey: key.ed25519SecretKey,
      bootstrap: message.bootstrap,
    })()
    await transport.start()
    send({ type: 'listening', multiaddrs: transport.multiaddrs() })
    statusTimer = setInterval(() => {
      send({
        type: 'status',
        peers: transport!.peers().length,
        subscribers: transport!.subscribers(DEFAULT_IBFT_TOPIC).length,
      })
    }, 20)
  } else if (message.type === 'start-engine') {
    const application = timestampApplication(set, epochNow, (height, proposedAt, round) => {
      pending.set(height, { proposedAt, round, finalizedAt: epochNow() })
    })
    const pending = new Map<number, { proposedAt: number; round: number; finalizedAt: number }>()
    engine = createIbft({
      chainId: 'bench',
      application,
      signer: key,
      blockPeriodMs: 0,
      dissemination,
    })({
      clock: systemClock,
      transport: transport!,
      store: memoryStore()(),
    })
    engine.on('finalized', ({ block, latencyMs }) => {
      // the parent reads status only while setting up: stop polling once heights are decided,
      // so that the IPC traffic is not part of what is measured
      clearInterval(statusTimer)
      const seen = pending.get(block.height)
      pending.delete(block.height)
      if (seen === undefined) return
      send({ type: 'finalized', height: block.height, latencyMs, ...seen })
    })
    await engine.start()
    send({ type: 'engine-started' })
  } else if (message.type === 'stop') {
    clearInterval(statusTimer)
    await engine?.stop()
    await transport?.stop()
    send({ type: 'stopped' })
    process.disconnect()
  }
})
