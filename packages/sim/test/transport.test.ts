import { performance } from 'node:perf_hooks'
import { transportSuite } from '@metanode/core/compliance'
import { describe, expect, it } from 'vitest'
import { createSimulation, type Simulation } from '../src/simulation.js'

/**
 * Drives a simulation in the background with virtual time following real time, so a suite that
 * polls with real timers (the compliance suite) sees deliveries, timeouts and bans happen at the
 * virtual delays it expects.
 */
function pacedDriver(sim: Simulation): { settle(): Promise<void>; stop(): Promise<void> } {
  const startReal = performance.now()
  const startVirtual = sim.now
  let running = true
  let failure: unknown
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
  const loop = (async () => {
    while (running) {
      const target = startVirtual + Math.floor(performance.now() - startReal)
      if (target > sim.now) {
        try {
          await sim.runUntil(target)
        } catch (error) {
          failure ??= error
        }
      }
      await sleep(1)
    }
  })()
  return {
    // Every link has at most 5 ms of latency: 20 ms of virtual time lets everything land.
    async settle() {
      const until = sim.now + 20
      while (sim.now < until) await sleep(2)
    },
    async stop() {
      running = false
      await loop
      if (failure !== undefined) throw failure
    },
  }
}

transportSuite('SimTransport (virtual time paced by real time)', async (count) => {
  const sim = createSimulation({ seed: 'compliance' })
  const network = sim.network({ latency: { kind: 'uniform', minMs: 1, maxMs: 5 } })
  const transports = Array.from({ length: count }, (_, i) => network.transport(`peer-${i}`))
  for (const transport of transports) await transport.start()
  const driver = pacedDriver(sim)
  return {
    transports,
    settle: () => driver.settle(),
    cleanup: async () => {
      await Promise.all(transports.map((transport) => transport.stop()))
      await driver.stop()
    },
  }
})

describe('SimTransport specifics', () => {
  it('refuses operations before start with NotStartedError', async () => {
    const sim = createSimulation({ seed: 1 })
    const transport = sim.network().transport('a')
    expect(transport.status).toBe('stopped')
    await expect(transport.publish('t', Uint8Array.of(1))).rejects.toMatchObject({
      name: 'NotStartedError',
    })
    await expect(transport.send('b', 't', Uint8Array.of(1))).rejects.toMatchObject({
      name: 'NotStartedError',
    })
    await expect(transport.request('b', 't', Uint8Array.of(1))).rejects.toMatchObject({
      name: 'NotStartedError',
    })
    expect(transport.peers()).toEqual([])
  })

  it('allows one running transport per peer id, replacing stopped ones', async () => {
    const sim = createSimulation({ seed: 1 })
    const network = sim.network()
    const first = network.transport('a')
    await first.start()
    expect(() => network.transport('a')).toThrow('already has a running transport')
    await first.stop()
    const second = network.transport('a')
    await second.start()
    await expect(first.start()).rejects.toMatchObject({ name: 'InvalidArgumentError' })
    expect(network.peerIds()).toEqual(['a'])
    expect(() => sim.network({ name: 'default' })).toThrow('network with this name exists')
  })

  it('drops inbound messages over the receiver limit and counts them against the sender', async () => {
    const sim = createSimulation({ seed: 1 })
    const network = sim.network({ rejectThreshold: 2 })
    const big = network.transport('big', { maxMessageBytes: 1_000 })
    const small = network.transport('small', { maxMessageBytes: 10 })
    await big.start()
    await small.start()
    const received: number[] = []
    small.subscribe('t', (message) => {
      received.push(message.data.length)
      return 'accept'
    })
    await big.send('small', 't', new Uint8Array(100))
    await big.send('small', 't', new Uint8Array(5))
    await sim.runUntil(10)
    expect(received).toEqual([5])
    expect(small.rejections('big')).toBe(1)
    expect(sim.stats().drops['too-large']).toBe(1)
  })

  it('counts throwing handlers and rejects on RejectionError', async () => {
    const sim = createSimulation({ seed: 1 })
    const network = sim.network()
    const a = network.transport('a')
    const b = network.transport('b')
    await a.start()
    await b.start()
    const { RejectionError } = await import('@metanode/core')
    b.subscribe('t', (message) => {
      if (message.data[0] === 0) throw new Error('bug')
      throw new RejectionError('bad', 'reject', 'invalid')
    })
    await a.send('b', 't', Uint8Array.of(0))
    await a.send('b', 't', Uint8Array.of(1))
    await sim.runUntil(10)
    expect(sim.stats().messages).toMatchObject({ handlerErrors: 1, rejected: 1 })
    expect(b.rejections('a')).toBe(1)
  })
})
