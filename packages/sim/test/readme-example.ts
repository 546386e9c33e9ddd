import type { Startable } from '@metanode/core'
import { runScenario, type SimNodeComponents } from '../src/index.js'

/** Publishes a heartbeat every 100 ms of virtual time and counts the heartbeats it hears. */
class Heartbeat implements Startable {
  heard = 0
  constructor(private readonly components: SimNodeComponents) {}

  async start(): Promise<void> {
    const { transport, clock } = this.components
    transport.subscribe('heartbeat', () => {
      this.heard++
      return 'accept'
    })
    const beat = (): void => {
      void transport.publish('heartbeat', Uint8Array.of(1))
      clock.setTimeout(beat, 100)
    }
    clock.setTimeout(beat, 100)
  }

  async stop(): Promise<void> {}
}

export const result = await runScenario<Heartbeat>({
  seed: 42,
  nodes: ['a', 'b', 'c', 'd'].map((id) => ({ id, create: (c) => new Heartbeat(c) })),
  network: { dropProbability: 0.1, latency: { kind: 'uniform', minMs: 5, maxMs: 40 } },
  faults: [
    {
      atMs: 1_000,
      kind: 'partition',
      groups: [
        ['a', 'b'],
        ['c', 'd'],
      ],
      healAtMs: 2_000,
    },
    { atMs: 2_500, kind: 'crash', node: 'd', keepStore: true },
    { atMs: 3_000, kind: 'restart', node: 'd' },
  ],
  until: 5_000,
  check: ({ nodes }) =>
    [...nodes].filter(([, node]) => node.heard === 0).map(([id]) => `${id} heard nothing`),
})

result.violations // [] — and result.trace is the same JSONL on every run with seed 42
