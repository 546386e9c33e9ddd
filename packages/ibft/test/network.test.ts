import { createMemoryNetwork, memoryStore, type ValidatorSet } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import { hexKey } from '../src/bytes.js'
import {
  blockIdOf,
  createIbft,
  type IbftDissemination,
  type IbftEngine,
  realScheme,
  verifyCommitCertificate,
} from '../src/index.js'
import {
  CHAIN,
  flush,
  ManualClock,
  makeValidators,
  ProposerRecordingApp,
  RecordingApp,
} from './harness.js'

interface TransportCalls {
  publish: number
  send: number
  /** Distinct payloads sent directly, with how many peers each went to. */
  sentTo: Map<string, number>
}

async function runNetwork(options: {
  silent: number[]
  heights: number
  app?: (set: ValidatorSet) => RecordingApp
  dissemination?: (index: number) => IbftDissemination
  /** Direct sends to this peer never complete and deliver nothing (a peer that stopped reading). */
  stuckPeer?: string
}) {
  const clock = new ManualClock()
  const network = createMemoryNetwork({ clock })
  const { signers, set } = makeValidators(4, realScheme)
  const nodes: { engine: IbftEngine; app: RecordingApp; calls: TransportCalls }[] = []
  for (let i = 0; i < 4; i++) {
    if (options.silent.includes(i)) continue
    const app = options.app?.(set) ?? new RecordingApp(set)
    const transport = network.transport({ peerId: `node-${i}` })
    const calls: TransportCalls = { publish: 0, send: 0, sentTo: new Map() }
    const publish = transport.publish.bind(transport)
    const send = transport.send.bind(transport)
    transport.publish = (topic, data) => {
      calls.publish++
      return publish(topic, data)
    }
    transport.send = (peer, topic, data) => {
      calls.send++
      const key = hexKey(data)
      calls.sentTo.set(key, (calls.sentTo.get(key) ?? 0) + 1)
      if (peer === options.stuckPeer) return new Promise<void>(() => {})
      return send(peer, topic, data)
    }
    const engine = createIbft({
      chainId: CHAIN,
      application: app,
      signer: signers[i]!,
      ...(options.dissemination === undefined ? {} : { dissemination: options.dissemination(i) }),
      roundTimeoutBaseMs: 1000,
      // with a zero period the network never idles, so the test could not tell when to stop
      blockPeriodMs: 100,
    })({ clock, transport, store: memoryStore()() })
    nodes.push({ engine, app, calls })
    await transport.start()
  }
  await Promise.all(nodes.map(({ engine }) => engine.start()))
  // a node no message reaches is not waited for
  const awaited = nodes.filter((_, index) => `node-${index}` !== options.stuckPeer)
  const done = () => awaited.every(({ app }) => app.finalized.length >= options.heights)
  for (let step = 0; step < 10_000 && !done(); step++) {
    await network.settle()
    await flush(3)
    if (done()) break
    const before = nodes.map(({ app }) => app.finalized.length).join()
    await network.settle()
    await flush(3)
    if (nodes.map(({ app }) => app.finalized.length).join() !== before) continue
    const next = clock.nextAt()
    if (next === undefined) break
    await clock.advance(next - clock.now())
  }
  await Promise.all(nodes.map(({ engine }) => engine.stop()))
  return { nodes, set }
}

function expectAgreement(
  nodes: { app: RecordingApp }[],
  set: Parameters<typeof verifyCommitCertificate>[2],
  heights: number,
) {
  const reference = nodes[0]!.app.finalized.slice(0, heights)
  expect(reference.map((block) => block.height)).toEqual(
    Array.from({ length: heights }, (_, i) => i + 1),
  )
  for (const { app } of nodes) {
    expect(app.finalized.slice(0, heights).map((b) => b.payload)).toEqual(
      reference.map((b) => b.payload),
    )
  }
  for (const { app } of nodes) {
    for (const block of app.finalized.slice(0, heights)) {
      expect(verifyCommitCertificate(block.certificate, blockIdOf(block.payload), set, CHAIN)).toBe(
        true,
      )
    }
  }
}

describe('4-node network over the in-memory transport', () => {
  it('finalizes 20 heights, every node agreeing and every certificate verifying', async () => {
    const { nodes, set } = await runNetwork({ silent: [], heights: 20 })
    expectAgreement(nodes, set, 20)
    // no timeouts were needed: every height decided in round 0
    expect(nodes[0]!.app.finalized.slice(0, 20).every((b) => b.certificate.round === 0)).toBe(true)
  })

  it('finalizes 20 heights with one silent validator, skipping its turns by round change', async () => {
    const { nodes, set } = await runNetwork({ silent: [3], heights: 20 })
    expectAgreement(nodes, set, 20)
    expect(nodes[0]!.app.finalized.slice(0, 20).some((b) => b.certificate.round > 0)).toBe(true)
  })

  it('direct dissemination: each message goes once to every connected peer, none is published', async () => {
    const { nodes, set } = await runNetwork({
      silent: [3],
      heights: 12,
      dissemination: () => 'direct',
    })
    expectAgreement(nodes, set, 12)
    for (const { calls } of nodes) {
      expect(calls.publish).toBe(0)
      expect(calls.send).toBeGreaterThan(0)
      // the three live nodes are each connected to the two others
      expect(new Set(calls.sentTo.values())).toEqual(new Set([2]))
    }
    // the silent validator's turns were skipped by round change, whose messages went direct too
    expect(nodes[0]!.app.finalized.slice(0, 12).some((b) => b.certificate.round > 0)).toBe(true)
  })

  it('direct dissemination: a peer that never takes its messages does not hold the others up', async () => {
    const { nodes, set } = await runNetwork({
      silent: [],
      heights: 8,
      dissemination: () => 'direct',
      stuckPeer: 'node-2',
    })
    // the three others are a quorum and keep deciding; node 2 hears nobody and catches up
    expectAgreement(
      nodes.filter((_, index) => index !== 2),
      set,
      8,
    )
  })

  it('nodes gossiping and nodes sending directly finalize together', async () => {
    const { nodes, set } = await runNetwork({
      silent: [],
      heights: 12,
      dissemination: (index) => (index % 2 === 0 ? 'direct' : 'gossip'),
    })
    expectAgreement(nodes, set, 12)
    expect(nodes.map(({ calls }) => calls.publish > 0)).toEqual([false, true, false, true])
  })

  it('refuses an unknown dissemination mode', () => {
    const { signers, set } = makeValidators(4, realScheme)
    const network = createMemoryNetwork({ clock: new ManualClock() })
    expect(() =>
      createIbft({
        chainId: CHAIN,
        application: new RecordingApp(set),
        signer: signers[0]!,
        dissemination: 'flood' as IbftDissemination,
      })({
        clock: new ManualClock(),
        transport: network.transport({ peerId: 'x' }),
        store: memoryStore()(),
      }),
    ).toThrow(RangeError)
  })

  it('rotates from the proposer each decided block records, every node agreeing across round changes', async () => {
    const { nodes, set } = await runNetwork({
      silent: [3],
      heights: 20,
      app: (validators) => new ProposerRecordingApp(validators),
    })
    expectAgreement(nodes, set, 20)
    const blocks = nodes[0]!.app.finalized.slice(0, 20)
    const ids = set.validators.map((validator) => hexKey(validator.id))
    const proposerIndex = (payload: Uint8Array) =>
      ids.indexOf(hexKey(payload.subarray(payload.length - 32)))
    let previous = -1
    for (const block of blocks) {
      // the payload names the round it was built in ("block h/r") and its builder, that round's
      // proposer: the one `round` places after the previous block's recorded proposer
      const builtRound = Number(/\/(\d+)/.exec(new TextDecoder().decode(block.payload))?.[1])
      const recorded = proposerIndex(block.payload)
      expect(recorded).toBe((previous + 1 + builtRound) % 4)
      expect(recorded).not.toBe(3)
      previous = recorded
    }
    expect(blocks.some((block) => block.certificate.round > 0)).toBe(true)
  })
})
