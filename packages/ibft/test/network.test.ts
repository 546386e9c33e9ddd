import { createMemoryNetwork, memoryStore, type ValidatorSet } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import { hexKey } from '../src/bytes.js'
import {
  blockIdOf,
  createIbft,
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

async function runNetwork(options: {
  silent: number[]
  heights: number
  app?: (set: ValidatorSet) => RecordingApp
}) {
  const clock = new ManualClock()
  const network = createMemoryNetwork({ clock })
  const { signers, set } = makeValidators(4, realScheme)
  const nodes: { engine: IbftEngine; app: RecordingApp }[] = []
  for (let i = 0; i < 4; i++) {
    if (options.silent.includes(i)) continue
    const app = options.app?.(set) ?? new RecordingApp(set)
    const transport = network.transport({ peerId: `node-${i}` })
    const engine = createIbft({
      chainId: CHAIN,
      application: app,
      signer: signers[i]!,
      roundTimeoutBaseMs: 1000,
      // with a zero period the network never idles, so the test could not tell when to stop
      blockPeriodMs: 100,
    })({ clock, transport, store: memoryStore()() })
    nodes.push({ engine, app })
    await transport.start()
  }
  await Promise.all(nodes.map(({ engine }) => engine.start()))
  const done = () => nodes.every(({ app }) => app.finalized.length >= options.heights)
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
