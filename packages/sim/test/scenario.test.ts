import type { Startable } from '@metanode/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { randomFaultPlan } from '../src/fault-plan.js'
import { getScenario, listScenarios, registerScenario } from '../src/registry.js'
import { SeededRng } from '../src/rng.js'
import { runScenario } from '../src/scenario.js'
import { gossipScenario } from '../src/scenarios/gossip.js'
import type { SimNodeComponents } from '../src/simulation.js'
import { memoryTrace } from '../src/trace.js'

async function gossipTrace(seed: number | string): Promise<string> {
  const trace = memoryTrace()
  const result = await gossipScenario({
    seed,
    nodes: 5,
    durationMs: 4_000,
    network: {
      dropProbability: 0.1,
      duplicateProbability: 0.05,
      reorderProbability: 0.1,
      reorderDelayMs: 30,
      latency: { kind: 'exponential', meanMs: 15, minMs: 2 },
    },
    crashes: 2,
    partitionUntilMs: 800,
    trace,
    options: {},
  })
  expect(result.violations).toEqual([])
  return trace.text()
}

describe('determinism', () => {
  it('gives a byte-identical trace for the same seed and a different one otherwise', async () => {
    const first = await gossipTrace(2024)
    const second = await gossipTrace(2024)
    const other = await gossipTrace(2025)
    expect(first.length).toBeGreaterThan(10_000)
    expect(second).toBe(first)
    // the first line names the seed; the runs themselves must differ too
    const body = (trace: string): string => trace.slice(trace.indexOf('\n'))
    expect(body(other)).not.toBe(body(first))
    const kinds = new Set(
      first
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).kind),
    )
    for (const kind of ['deliver', 'drop', 'duplicate', 'crash', 'restart', 'partition', 'heal']) {
      expect(kinds).toContain(kind)
    }
  })
})

class Counter implements Startable {
  count = 0
  constructor(readonly components: SimNodeComponents) {}
  async start(): Promise<void> {
    const { transport, clock } = this.components
    transport.subscribe('count', () => {
      this.count++
      return 'accept'
    })
    const tick = (): void => {
      void transport.publish('count', Uint8Array.of(1))
      clock.setTimeout(tick, 100)
    }
    clock.setTimeout(tick, 100)
  }
  async stop(): Promise<void> {}
}

describe('runScenario', () => {
  it('runs nodes under faults and reports checks, summaries and stats', async () => {
    const result = await runScenario<Counter>({
      seed: 5,
      nodes: ['a', 'b', 'c'].map((id) => ({ id, create: (c) => new Counter(c) })),
      faults: [
        { atMs: 450, kind: 'crash', node: 'c', keepStore: false },
        { atMs: 650, kind: 'restart', node: 'c' },
        { atMs: 700, kind: 'partition', groups: [['a'], ['b', 'c']], healAtMs: 800 },
        { atMs: 900, kind: 'link', from: 'a', to: 'b', faults: { dropProbability: 1 } },
        { atMs: 950, kind: 'peer', node: 'c', faults: { latency: { kind: 'fixed', ms: 5 } } },
      ],
      until: 1_050,
      check: ({ nodes, run }) => {
        expect(run.reason).toBe('time')
        return nodes.size === 3 ? ['example violation'] : []
      },
      summarize: ({ nodes }) => ({ countA: nodes.get('a')!.count }),
    })
    expect(result.violations.map((v) => v.message)).toEqual(['example violation'])
    expect(result.stats).toMatchObject({ crashes: 1, restarts: 1, partitions: 1, heals: 1 })
    expect(result.stats.aliveNodes).toBe(3)
    expect(result.summary.countA).toBeGreaterThan(10)
    expect(result.trace[0]).toBe('{"t":0,"kind":"simulation","seed":5,"epochMs":0}')
    expect(result.error).toBeUndefined()
    const kinds = result.trace.map((line) => JSON.parse(line).kind)
    expect(kinds).toContain('link-faults')
    expect(kinds).toContain('peer-faults')
  })

  it('turns an error in node code into a violation', async () => {
    const result = await runScenario({
      seed: 1,
      nodes: [
        {
          id: 'a',
          create: (components) => ({
            start: async () => {
              components.clock.setTimeout(() => {
                throw new Error('node bug')
              }, 10)
            },
            stop: async () => {},
          }),
        },
      ],
      until: 100,
      trace: 'none',
    })
    expect(result.trace).toEqual([])
    expect(result.violations.map((v) => v.message)).toEqual(['scenario failed: Error: node bug'])
    expect(result.error).toBeInstanceOf(Error)
    expect(result.stats.nowMs).toBe(10)
  })

  it('refuses invalid configuration', async () => {
    const create = (c: SimNodeComponents) => new Counter(c)
    await expect(
      runScenario({
        seed: 1,
        nodes: [
          { id: 'a', create },
          { id: 'a', create },
        ],
        until: 1,
      }),
    ).rejects.toThrow('duplicate node id')
    await expect(
      runScenario({
        seed: 1,
        nodes: [{ id: 'a', create }],
        faults: [{ atMs: 1, kind: 'crash', node: 'x', keepStore: true }],
        until: 1,
      }),
    ).rejects.toThrow(RangeError)
  })
})

describe('randomFaultPlan', () => {
  it('never overlaps downtimes of one node and respects the concurrency limit', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        (seed, nodeCount, crashes, maxConcurrent) => {
          const nodes = Array.from({ length: nodeCount }, (_, i) => `n${i}`)
          const plan = randomFaultPlan(new SeededRng(seed), {
            nodes,
            crashes,
            fromMs: 1_000,
            toMs: 9_000,
            maxConcurrent,
          })
          const down = new Set<string>()
          let maxDown = 0
          for (const fault of plan) {
            expect(fault.atMs).toBeGreaterThanOrEqual(1_000)
            expect(fault.atMs).toBeLessThanOrEqual(9_000)
            if (fault.kind === 'crash') {
              expect(down.has(fault.node)).toBe(false)
              down.add(fault.node)
              maxDown = Math.max(maxDown, down.size)
            } else if (fault.kind === 'restart') {
              expect(down.delete(fault.node)).toBe(true)
            }
          }
          expect(down.size).toBe(0)
          expect(maxDown).toBeLessThanOrEqual(maxConcurrent)
          expect(plan.length).toBeLessThanOrEqual(2 * crashes)
          expect(
            randomFaultPlan(new SeededRng(seed), {
              nodes,
              crashes,
              fromMs: 1_000,
              toMs: 9_000,
              maxConcurrent,
            }),
          ).toEqual(plan)
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe('registry', () => {
  it('ships the gossip scenario and registers others by name', async () => {
    expect(listScenarios().map((s) => s.name)).toContain('gossip')
    const run = async () => ({
      seed: 1,
      trace: [],
      stats: (await runScenario({ seed: 1, nodes: [], until: 1, trace: 'none' })).stats,
      violations: [],
      summary: {},
      run: undefined,
    })
    registerScenario('test-noop', run, { description: 'does nothing' })
    expect(getScenario('test-noop')?.description).toBe('does nothing')
    expect(() => registerScenario('test-noop', run)).toThrow('registered')
    registerScenario('test-noop', run, { replace: true })
    expect(() => registerScenario('Bad Name', run)).toThrow(TypeError)
  })
})
