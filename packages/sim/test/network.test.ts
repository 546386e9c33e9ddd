import type { InboundMessage } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import type { LinkFaults } from '../src/faults.js'
import type { NetworkOptions } from '../src/network.js'
import { createSimulation, type Simulation } from '../src/simulation.js'
import { memoryTrace } from '../src/trace.js'
import type { SimTransport } from '../src/transport.js'

interface Received {
  at: number
  message: InboundMessage
}

const TOPIC = 'test/topic'

async function cluster(
  ids: readonly string[],
  options: NetworkOptions = {},
  seed = 1,
): Promise<{
  sim: Simulation
  net: ReturnType<Simulation['network']>
  nodes: Record<string, SimTransport>
  inbox: Record<string, Received[]>
  trace: ReturnType<typeof memoryTrace>
}> {
  const trace = memoryTrace()
  const sim = createSimulation({ seed, trace })
  const net = sim.network(options)
  const nodes: Record<string, SimTransport> = {}
  const inbox: Record<string, Received[]> = {}
  for (const id of ids) {
    const transport = net.transport(id)
    await transport.start()
    const received: Received[] = []
    transport.subscribe(TOPIC, (message) => {
      received.push({ at: sim.now, message })
      return 'accept'
    })
    nodes[id] = transport
    inbox[id] = received
  }
  return { sim, net, nodes, inbox, trace }
}

/** Sends `count` numbered messages a -> b, one per millisecond. */
function sendSeries(sim: Simulation, from: SimTransport, to: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(4)
    new DataView(data.buffer).setUint32(0, i)
    sim.schedule(sim.now + i, () => from.send(to, TOPIC, data))
  }
}

const sequence = (received: Received[]): number[] =>
  received.map(({ message }) => new DataView(message.data.buffer).getUint32(0))

describe('link faults', () => {
  it('drops messages at the configured rate, reproducibly', async () => {
    const run = async (seed: number): Promise<number> => {
      const { sim, nodes, inbox } = await cluster(['a', 'b'], { dropProbability: 0.2 }, seed)
      sendSeries(sim, nodes.a!, 'b', 10_000)
      await sim.runUntil(20_000)
      expect(sim.stats().messages).toMatchObject({ sent: 10_000 })
      expect(sim.stats().drops.random + inbox.b!.length).toBe(10_000)
      return inbox.b!.length
    }
    const delivered = await run(11)
    // binomial(10,000, 0.8): standard deviation 40, so +-200 is five sigma
    expect(Math.abs(delivered - 8_000)).toBeLessThan(200)
    expect(await run(11)).toBe(delivered)
    expect(await run(12)).not.toBe(delivered)
  })

  it('keeps latencies within the distribution bounds', async () => {
    const cases: [LinkFaults['latency'], number, number][] = [
      [{ kind: 'fixed', ms: 7 }, 7, 7],
      [{ kind: 'uniform', minMs: 5, maxMs: 20 }, 5, 20],
      [{ kind: 'normal', meanMs: 30, stdDevMs: 20, minMs: 10, maxMs: 60 }, 10, 60],
      [{ kind: 'exponential', meanMs: 25, minMs: 5, maxMs: 500 }, 5, 500],
    ]
    for (const [latency, low, high] of cases) {
      const { sim, nodes, inbox } = await cluster(['a', 'b'], { latency })
      const sentAt = new Map<number, number>()
      for (let i = 0; i < 2_000; i++) {
        sim.schedule(i, () => {
          sentAt.set(i, sim.now)
          const data = new Uint8Array(4)
          new DataView(data.buffer).setUint32(0, i)
          return nodes.a!.send('b', TOPIC, data)
        })
      }
      await sim.runUntil(10_000)
      const latencies = inbox.b!.map(
        ({ at, message }) => at - sentAt.get(new DataView(message.data.buffer).getUint32(0))!,
      )
      expect(latencies).toHaveLength(2_000)
      expect(Math.min(...latencies)).toBeGreaterThanOrEqual(low)
      expect(Math.max(...latencies)).toBeLessThanOrEqual(high)
      if (latency.kind === 'uniform') {
        const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length
        expect(Math.abs(mean - 12.5)).toBeLessThan(0.5)
        expect(latencies.some((value) => value < 6)).toBe(true)
        expect(latencies.some((value) => value > 19)).toBe(true)
      }
      if (latency.kind === 'exponential') {
        const mean = latencies.reduce((sum, value) => sum + value, 0) / latencies.length
        expect(Math.abs(mean - 25)).toBeLessThan(2)
      }
    }
  })

  it('duplicates messages when asked to, never otherwise', async () => {
    const dup = await cluster(['a', 'b'], { duplicateProbability: 0.3 })
    sendSeries(dup.sim, dup.nodes.a!, 'b', 1_000)
    await dup.sim.runUntil(5_000)
    const counts = new Map<number, number>()
    for (const value of sequence(dup.inbox.b!)) counts.set(value, (counts.get(value) ?? 0) + 1)
    const twice = [...counts.values()].filter((count) => count === 2).length
    expect(counts.size).toBe(1_000)
    expect(twice).toBe(dup.sim.stats().messages.duplicated)
    expect(Math.abs(twice - 300)).toBeLessThan(75)
    expect(dup.trace.events().filter((event) => event.kind === 'duplicate')).toHaveLength(twice)

    const clean = await cluster(['a', 'b'])
    sendSeries(clean.sim, clean.nodes.a!, 'b', 1_000)
    await clean.sim.runUntil(5_000)
    expect(clean.inbox.b).toHaveLength(1_000)
  })

  it('reorders messages held back, and keeps FIFO order otherwise', async () => {
    const fifo = await cluster(['a', 'b'], { latency: { kind: 'fixed', ms: 10 } })
    sendSeries(fifo.sim, fifo.nodes.a!, 'b', 500)
    await fifo.sim.runUntil(5_000)
    const inOrder = sequence(fifo.inbox.b!)
    expect(inOrder).toEqual(Array.from({ length: 500 }, (_, i) => i))

    const jumbled = await cluster(['a', 'b'], {
      latency: { kind: 'fixed', ms: 10 },
      reorderProbability: 0.2,
      reorderDelayMs: 30,
    })
    sendSeries(jumbled.sim, jumbled.nodes.a!, 'b', 500)
    await jumbled.sim.runUntil(5_000)
    const received = sequence(jumbled.inbox.b!)
    expect([...received].sort((x, y) => x - y)).toEqual(inOrder)
    let inversions = 0
    for (let i = 1; i < received.length; i++) if (received[i]! < received[i - 1]!) inversions++
    expect(inversions).toBeGreaterThan(20)
  })

  it('resolves faults from network defaults, peer settings and link overrides', async () => {
    const { net } = await cluster(['a', 'b', 'c'], {
      dropProbability: 0.1,
      peers: [{ peer: 'a', duplicateProbability: 0.2 }],
      links: [{ from: 'a', to: 'b', dropProbability: 0.5 }],
    })
    expect(net.linkFaults('a', 'b').dropProbability).toBe(0.5)
    expect(net.linkFaults('c', 'a').duplicateProbability).toBe(0.2)
    expect(net.linkFaults('b', 'c').duplicateProbability).toBe(0)
    expect(net.linkFaults('b', 'a').dropProbability).toBe(0.1)
    net.setPeer('c', { latency: { kind: 'fixed', ms: 100 } })
    expect(net.linkFaults('a', 'c').latency).toEqual({ kind: 'fixed', ms: 100 })
    expect(net.linkFaults('c', 'b').latency).toEqual({ kind: 'fixed', ms: 100 })
    net.setLink('c', 'a', { latency: { kind: 'fixed', ms: 3 } }, { symmetric: true })
    expect(net.linkFaults('a', 'c').latency).toEqual({ kind: 'fixed', ms: 3 })
    net.setDefaults({ dropProbability: 0 })
    expect(net.linkFaults('b', 'a').dropProbability).toBe(0)
    net.clearOverrides()
    expect(net.linkFaults('a', 'b')).toMatchObject({ dropProbability: 0, latency: { ms: 1 } })
    expect(() => net.setLink('a', 'b', { dropProbability: 2 })).toThrow(RangeError)
    expect(() => net.setLink('a', 'b', { dropRate: 0.1 } as never)).toThrow(TypeError)
    expect(() => net.setDefaults({ latency: { kind: 'uniform', minMs: 5, maxMs: 1 } })).toThrow(
      RangeError,
    )
  })
})

describe('partitions', () => {
  it('blocks cross-group delivery until the partition heals, then delivers', async () => {
    const { sim, net, nodes, inbox, trace } = await cluster(['a', 'b', 'c', 'd'], {
      latency: { kind: 'fixed', ms: 5 },
    })
    net.partition([['a', 'b'], ['c']], { healAtMs: 1_000 })
    expect(net.isPartitioned('a', 'c')).toBe(true)
    expect(net.isPartitioned('c', 'd')).toBe(true)
    expect(net.isPartitioned('a', 'b')).toBe(false)
    sim.schedule(100, () => nodes.a!.publish(TOPIC, Uint8Array.of(1)))
    sim.schedule(1_000, () => nodes.a!.publish(TOPIC, Uint8Array.of(2)))
    await sim.runUntil(2_000)
    expect(inbox.b!.map((r) => r.message.data[0])).toEqual([1, 2])
    expect(inbox.c!.map((r) => r.message.data[0])).toEqual([2])
    expect(inbox.d!.map((r) => r.message.data[0])).toEqual([2])
    expect(net.partitioned).toBe(false)
    expect(sim.stats()).toMatchObject({ partitions: 1, heals: 1, drops: { partition: 2 } })
    const kinds = trace.events().map((event) => event.kind)
    expect(kinds.indexOf('partition')).toBeLessThan(kinds.indexOf('heal'))
  })

  it('loses messages in flight when a partition starts', async () => {
    const { sim, net, nodes, inbox } = await cluster(['a', 'b'], {
      latency: { kind: 'fixed', ms: 50 },
    })
    sim.schedule(0, () => nodes.a!.send('b', TOPIC, Uint8Array.of(1)))
    sim.schedule(10, () => net.partition([['a'], ['b']]))
    sim.schedule(200, () => net.heal())
    sim.schedule(300, () => nodes.a!.send('b', TOPIC, Uint8Array.of(2)))
    await sim.runUntil(1_000)
    expect(inbox.b!.map((r) => r.message.data[0])).toEqual([2])
    expect(() => net.partition([['a'], ['a']])).toThrow('more than one partition group')
    expect(() => net.partition([['a']], { healAtMs: 5 })).toThrow(RangeError)
  })
})

describe('crashes', () => {
  it('loses messages in flight to a crashed node, even after it restarts', async () => {
    const { sim, net, nodes, inbox } = await cluster(['a', 'b'], {
      latency: { kind: 'fixed', ms: 100 },
    })
    const disconnects: string[] = []
    nodes.a!.on('peer:disconnect', ({ peer, reason }) => disconnects.push(`${peer}:${reason}`))
    sim.schedule(0, () => nodes.a!.send('b', TOPIC, Uint8Array.of(1)))
    sim.schedule(0, () => nodes.b!.send('a', TOPIC, Uint8Array.of(9)))
    sim.schedule(50, () => net.crash('b'))
    let restarted: SimTransport | undefined
    const late: number[] = []
    sim.schedule(60, async () => {
      restarted = net.transport('b')
      restarted.subscribe(TOPIC, (message) => {
        late.push(message.data[0]!)
        return 'accept'
      })
      await restarted.start()
    })
    sim.schedule(70, () => nodes.a!.send('b', TOPIC, Uint8Array.of(2)))
    await sim.runUntil(1_000)
    expect(inbox.b).toEqual([])
    expect(late).toEqual([2])
    // what b sent before it died was already on the wire
    expect(inbox.a!.map((r) => r.message.data[0])).toEqual([9])
    expect(disconnects).toEqual(['b:remote-crash'])
    expect(sim.stats().drops['receiver-down']).toBe(1)
    expect(nodes.b!.status).toBe('crashed')
  })

  it('never settles anything a crashed transport is asked to do', async () => {
    const { sim, net, nodes } = await cluster(['a', 'b'])
    net.crash('a')
    const outcomes: string[] = []
    const watch = (promise: Promise<unknown>, label: string): void => {
      promise.then(
        () => outcomes.push(`${label} resolved`),
        () => outcomes.push(`${label} rejected`),
      )
    }
    watch(nodes.a!.publish(TOPIC, Uint8Array.of(1)), 'publish')
    watch(nodes.a!.send('b', TOPIC, Uint8Array.of(1)), 'send')
    watch(nodes.a!.request('b', 'proto', Uint8Array.of(1), { timeoutMs: 10 }), 'request')
    await sim.runUntil(1_000)
    expect(outcomes).toEqual([])
    expect(nodes.a!.peers()).toEqual([])
    expect(nodes.b!.peers()).toEqual([])
  })
})

describe('penalties and requests', () => {
  it('disconnects a sender after repeated rejections and reconnects after the ban', async () => {
    const { sim, net, nodes } = await cluster(['a', 'b', 'c'], { rejectThreshold: 3, banMs: 500 })
    nodes.b!.subscribe('bad', () => 'reject')
    const events: string[] = []
    nodes.b!.on('peer:disconnect', ({ peer, reason }) =>
      events.push(`${sim.now} -${peer} ${reason}`),
    )
    nodes.b!.on('peer:connect', ({ peer }) => events.push(`${sim.now} +${peer}`))
    for (let i = 0; i < 3; i++) sim.schedule(i, () => nodes.a!.send('b', 'bad', Uint8Array.of(i)))
    await sim.runUntil(100)
    expect(events).toEqual(['0 +a', '0 +c', '3 -a penalised'])
    expect(net.isBanned('b', 'a')).toBe(true)
    expect(nodes.a!.peers()).toEqual(['c'])
    expect(nodes.b!.peers()).toEqual(['c'])
    await expect(nodes.a!.send('b', 'bad', Uint8Array.of(9))).rejects.toMatchObject({
      name: 'PeerUnreachableError',
    })
    await sim.runUntil(1_000)
    expect(events).toEqual(['0 +a', '0 +c', '3 -a penalised', '503 +a'])
    expect(nodes.b!.peers()).toEqual(['a', 'c'])
    expect(nodes.b!.rejections('a')).toBe(0)
    expect(sim.stats().messages).toMatchObject({ rejected: 3, disconnects: 1 })
  })

  it('answers requests through faulty links and times out in virtual time', async () => {
    const { sim, nodes } = await cluster(['a', 'b'], { latency: { kind: 'fixed', ms: 40 } })
    nodes.b!.handle('echo', async ({ data }) => Uint8Array.from(data).reverse())
    nodes.b!.handle('never', () => new Promise<Uint8Array>(() => {}))
    let answeredAt = -1
    let answer: Uint8Array | undefined
    let timeoutAt = -1
    sim.schedule(0, async () => {
      answer = await nodes.a!.request('b', 'echo', Uint8Array.of(1, 2))
      answeredAt = sim.now
    })
    sim.schedule(0, async () => {
      await nodes.a!.request('b', 'never', Uint8Array.of(1), { timeoutMs: 300 }).catch((error) => {
        expect(error).toMatchObject({ name: 'TimeoutError' })
        timeoutAt = sim.now
      })
    })
    await sim.runUntil(1_000)
    expect(answer).toEqual(Uint8Array.of(2, 1))
    expect(answeredAt).toBe(80)
    expect(timeoutAt).toBe(300)
  })

  it('reports remote failures like core memory transport does', async () => {
    const { sim, nodes } = await cluster(['a', 'b'])
    const { RejectionError } = await import('@metanode/core')
    nodes.b!.handle('refuse', async () => {
      throw new RejectionError('bad-proof', 'ignore', 'internal detail')
    })
    nodes.b!.handle('crash', async () => {
      throw new Error('internal detail')
    })
    const results: unknown[] = []
    sim.schedule(0, async () => {
      for (const protocol of ['refuse', 'crash', 'missing']) {
        results.push(await nodes.a!.request('b', protocol, Uint8Array.of(1)).catch((e) => e))
      }
    })
    await sim.runUntil(100)
    expect(results).toMatchObject([
      { name: 'RejectionError', code: 'bad-proof', action: 'ignore' },
      { name: 'RejectionError', code: 'request-failed', action: 'ignore' },
      { name: 'UnknownTopicError' },
    ])
    expect((results[0] as Error).message).not.toContain('internal detail')
  })
})
