import type { Startable } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import { createSimulation, type SimNodeComponents } from '../src/simulation.js'
import { memoryTrace } from '../src/trace.js'

const key = (text: string): Uint8Array => new TextEncoder().encode(text)

class IdleNode implements Startable {
  started = 0
  stopped = 0
  constructor(readonly components: SimNodeComponents) {}
  async start(): Promise<void> {
    this.started++
  }
  async stop(): Promise<void> {
    this.stopped++
  }
}

describe('running', () => {
  it('advances virtual time to the target even without events', async () => {
    const sim = createSimulation({ seed: 1 })
    const result = await sim.runUntil(5_000)
    expect(result).toEqual({ reason: 'time', nowMs: 5_000, events: 0 })
    expect(sim.clock.now()).toBe(5_000)
    await sim.runFor(250)
    expect(sim.now).toBe(5_250)
    expect(await sim.step()).toBe(false)
  })

  it('runs events in time order and stops at a predicate or an event budget', async () => {
    const sim = createSimulation({ seed: 1 })
    const order: number[] = []
    for (const at of [30, 10, 20, 40]) sim.schedule(at, () => order.push(at))
    expect(await sim.runUntil(() => order.length === 2)).toMatchObject({
      reason: 'predicate',
      nowMs: 20,
      events: 2,
    })
    expect(await sim.runUntil(() => false, { maxEvents: 1 })).toMatchObject({
      reason: 'max-events',
      events: 1,
    })
    expect(await sim.step()).toBe(true)
    expect(await sim.runUntil(() => false)).toMatchObject({ reason: 'idle', nowMs: 40, events: 0 })
    expect(order).toEqual([10, 20, 30, 40])
  })

  it('finishes the async work an event starts before running the next event', async () => {
    const sim = createSimulation({ seed: 1 })
    const log: string[] = []
    const store = new Map<string, number>()
    const slowWrite = async (name: string, value: number): Promise<void> => {
      for (let i = 0; i < 20; i++) await Promise.resolve()
      store.set(name, value)
    }
    sim.schedule(10, async () => {
      log.push('first starts')
      await slowWrite('x', 1)
      await new Promise<void>((resolve) => queueMicrotask(resolve))
      log.push(`first done, x=${store.get('x')}`)
    })
    sim.schedule(10, () => log.push(`second sees x=${store.get('x')}`))
    await sim.runUntil(10)
    expect(log).toEqual(['first starts', 'first done, x=1', 'second sees x=1'])
  })

  it('reports progress every N events', async () => {
    const sim = createSimulation({ seed: 1 })
    for (let i = 1; i <= 25; i++) sim.schedule(i, () => {})
    const reports: number[] = []
    await sim.runUntil(100, { progressEvery: 10, onProgress: (p) => reports.push(p.events) })
    expect(reports).toEqual([10, 20, 25])
  })

  it('rejects with the error of a failing event, sync or async', async () => {
    const sim = createSimulation({ seed: 1 })
    sim.schedule(1, () => {
      throw new RangeError('sync failure')
    })
    await expect(sim.runUntil(10)).rejects.toThrow('sync failure')
    sim.schedule(20, async () => {
      await Promise.resolve()
      throw new TypeError('async failure')
    })
    sim.clock.setTimeout(() => {}, 100)
    await expect(sim.runUntil(200)).rejects.toThrow('async failure')
    expect(sim.now).toBe(20)
    // the simulation stays usable after reporting the failure
    await sim.runUntil(200)
    expect(sim.now).toBe(200)
  })

  it('refuses a second run while one is in progress', async () => {
    const sim = createSimulation({ seed: 1 })
    let nested: unknown
    sim.schedule(1, async () => {
      nested = await sim.runUntil(5).catch((error: unknown) => error)
    })
    await sim.runUntil(10)
    expect(nested).toMatchObject({ name: 'InvalidArgumentError' })
  })

  it('checks its arguments', async () => {
    const sim = createSimulation({ seed: 1 })
    await sim.runUntil(10)
    await expect(sim.runUntil(5)).rejects.toThrow(RangeError)
    await expect(sim.runUntil('soon' as unknown as number)).rejects.toThrow(TypeError)
    await expect(sim.runFor(-1)).rejects.toThrow(RangeError)
    expect(() => sim.schedule(5, () => {})).toThrow(RangeError)
    expect(() => createSimulation({ seed: 0.5 })).toThrow(RangeError)
    expect(() => createSimulation({ seed: 1, logLevel: 'loud' as 'info' })).toThrow(TypeError)
  })
})

describe('nodes', () => {
  it('builds a node from started components', async () => {
    const sim = createSimulation({ seed: 1, epochMs: 1_700_000_000_000 })
    const node = await sim.addNode('a', (components) => new IdleNode(components))
    const { components } = node
    expect(node.started).toBe(1)
    expect(components.peerId).toBe('a')
    expect(components.incarnation).toBe(0)
    expect(components.transport.status).toBe('started')
    expect(components.transport.peerId).toBe('a')
    expect(components.store.status).toBe('open')
    expect(components.clock.now()).toBe(1_700_000_000_000)
    expect(sim.node('a')).toBe(node)
    expect(sim.nodeStatus('a')).toBe('running')
    expect(sim.nodeIds()).toEqual(['a'])
    await expect(sim.addNode('a', (c) => new IdleNode(c))).rejects.toMatchObject({
      name: 'InvalidArgumentError',
    })
    await expect(sim.addNode('b', () => ({}) as unknown as Startable)).rejects.toThrow(TypeError)
  })

  it('gives each node its own random stream, stable when nodes are added', async () => {
    const first = createSimulation({ seed: 9 })
    const a1 = await first.addNode('a', (c) => new IdleNode(c))
    const second = createSimulation({ seed: 9 })
    await second.addNode('z', (c) => new IdleNode(c))
    const a2 = await second.addNode('a', (c) => new IdleNode(c))
    expect(a2.components.rng.bytes(16)).toEqual(a1.components.rng.bytes(16))
  })

  it('keeps or loses the store across a crash and restart', async () => {
    const sim = createSimulation({ seed: 1 })
    const a = await sim.addNode('a', (c) => new IdleNode(c))
    const b = await sim.addNode('b', (c) => new IdleNode(c))
    await a.components.store.put(key('height'), Uint8Array.of(7))
    await b.components.store.put(key('height'), Uint8Array.of(7))
    sim.crash('a', { keepStore: true })
    sim.crash('b', { keepStore: false })
    expect(sim.node('a')).toBeUndefined()
    expect(sim.nodeStatus('a')).toBe('crashed')
    expect(a.stopped).toBe(0)
    const a2 = await sim.restart<IdleNode>('a')
    const b2 = await sim.restart<IdleNode>('b')
    expect(a2).not.toBe(a)
    expect(a2.components.incarnation).toBe(1)
    expect(await a2.components.store.get(key('height'))).toEqual(Uint8Array.of(7))
    expect(await b2.components.store.get(key('height'))).toBeUndefined()
    expect(a2.components.rng.bytes(8)).not.toEqual(a.components.rng.bytes(8))
    expect(() => sim.crash('zz', { keepStore: true })).toThrow('unknown node')
    await expect(sim.restart('a')).rejects.toMatchObject({ name: 'InvalidArgumentError' })
  })

  it('freezes a crashed node: its timers never fire and its pending work never resumes', async () => {
    const sim = createSimulation({ seed: 1 })
    const writes: string[] = []
    const node = await sim.addNode('a', (c) => new IdleNode(c))
    const { clock, store } = node.components
    clock.setTimeout(() => writes.push('timer'), 100)
    sim.schedule(50, async () => {
      writes.push('before crash')
      sim.crash('a', { keepStore: true })
      // the dead incarnation's store never answers again, so this never completes
      await store.put(key('late'), Uint8Array.of(1))
      writes.push('after crash')
    })
    await sim.runUntil(1_000)
    expect(writes).toEqual(['before crash'])
    const restarted = await sim.restart<IdleNode>('a')
    expect(await restarted.components.store.get(key('late'))).toBeUndefined()
    expect(sim.stats()).toMatchObject({ crashes: 1, restarts: 1, discardedEvents: 1 })
  })

  it('stops nodes gracefully and restarts them', async () => {
    const sim = createSimulation({ seed: 1 })
    const node = await sim.addNode('a', (c) => new IdleNode(c))
    await node.components.store.put(key('k'), Uint8Array.of(1))
    await sim.stopNode('a')
    expect(node.stopped).toBe(1)
    expect(node.components.transport.status).toBe('stopped')
    expect(sim.nodeStatus('a')).toBe('stopped')
    const again = await sim.restart<IdleNode>('a')
    expect(await again.components.store.get(key('k'))).toEqual(Uint8Array.of(1))
    await sim.stop()
    expect(again.stopped).toBe(1)
    await sim.stop()
  })
})

describe('trace', () => {
  it('records node events, violations and logs with virtual time', async () => {
    const trace = memoryTrace()
    const sim = createSimulation({ seed: 1, trace, logLevel: 'info' })
    const node = await sim.addNode('a', (c) => new IdleNode(c))
    sim.schedule(25, () => {
      node.components.trace('finalized', { height: 3n, hash: Uint8Array.of(0xab, 0xcd) })
      node.components.logger.child({ component: 'ibft' }).info({ round: 1 }, 'round change')
      node.components.logger.debug({}, 'not recorded')
      node.components.violation('two blocks at height 3', { height: 3 })
      sim.record('client-request', { id: 1 })
    })
    await sim.runUntil(30)
    await sim.stop()
    const events = trace.events()
    expect(events[0]).toEqual({ t: 0, kind: 'simulation', seed: 1, epochMs: 0 })
    expect(events.slice(-5)).toEqual([
      {
        t: 25,
        kind: 'event',
        node: 'a',
        event: 'finalized',
        data: { height: '3', hash: 'abcd' },
      },
      {
        t: 25,
        kind: 'log',
        node: 'a',
        incarnation: 0,
        level: 'info',
        msg: 'round change',
        data: { component: 'ibft', round: 1 },
      },
      {
        t: 25,
        kind: 'violation',
        node: 'a',
        message: 'two blocks at height 3',
        data: { height: 3 },
      },
      { t: 25, kind: 'event', event: 'client-request', data: { id: 1 } },
      { t: 30, kind: 'stop', node: 'a', incarnation: 0 },
    ])
    expect(sim.violations).toEqual([
      { t: 25, message: 'two blocks at height 3', node: 'a', details: { height: 3 } },
    ])
    expect(trace.text().endsWith('\n')).toBe(true)
  })
})
