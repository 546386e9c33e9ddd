import { type FinalizedBlock, memoryStore } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import {
  blockIdOf,
  FinalizeFailedError,
  insecureTestScheme,
  type ProposalBody,
  verifyCommitCertificate,
} from '../src/index.js'
import {
  CHAIN,
  collect,
  flush,
  ManualClock,
  payloadOf,
  RecordingApp,
  scriptedEngine,
} from './harness.js'

const A = payloadOf('block A')
const DA = blockIdOf(A)
const ownBlock = (height: number, round: number) => payloadOf(`block ${height}/${round}`)

describe('engine, happy path', () => {
  it('as proposer: PROPOSAL and PREPARE, COMMIT on a prepare quorum, finality on a commit quorum', async () => {
    const h = await scriptedEngine({ me: 0 })
    const finalized = collect(h, 'finalized')
    const sent = h.sent()
    expect(sent.map((m) => m.signed.body.kind)).toEqual(['PROPOSAL', 'PREPARE'])
    const digest = blockIdOf(ownBlock(1, 0))
    expect(sent[0]!.signed.body).toMatchObject({ height: 1, round: 0, digest })
    expect(sent[0]!.payload).toEqual(ownBlock(1, 0))
    expect(sent[1]!.signed.body).toMatchObject({ height: 1, round: 0, digest })
    expect(await h.deliver(h.script.prepare(1, 1, 0, digest))).toBe('accept')
    expect(h.sent()).toEqual([])
    await h.deliver(h.script.prepare(2, 1, 0, digest))
    const commit = h.sent()
    expect(commit.map((m) => m.signed.body)).toMatchObject([
      { kind: 'COMMIT', height: 1, round: 0, digest },
    ])
    await h.deliver(h.script.commit(1, 1, 0, digest))
    expect(h.app.finalized).toEqual([])
    await h.deliver(h.script.commit(3, 1, 0, digest))
    expect(h.app.finalized).toHaveLength(1)
    const block = h.app.finalized[0]!
    expect(block.payload).toEqual(ownBlock(1, 0))
    expect(
      verifyCommitCertificate(block.certificate, digest, h.set, CHAIN, insecureTestScheme),
    ).toBe(true)
    expect(finalized).toHaveLength(1)
    expect(h.engine.height).toBe(2)
    // height 2's round-0 proposer is the one after this block's proposer
    expect(h.sent()).toEqual([])
    expect(await h.engine.finalizedBlock(1)).toEqual(block)
    await h.engine.stop()
  })

  it('as non-proposer: PREPARE on a valid proposal, then COMMIT and finality', async () => {
    const h = await scriptedEngine({ me: 1 })
    expect(h.sent()).toEqual([])
    expect(await h.deliver(h.script.proposal(0, 1, 0, A))).toBe('accept')
    expect(h.sentSummary()).toEqual(['PREPARE 1/0'])
    await h.deliver(h.script.prepare(0, 1, 0, DA))
    await h.deliver(h.script.prepare(2, 1, 0, DA))
    expect(h.sentSummary()).toEqual(['COMMIT 1/0'])
    await h.deliver(h.script.commit(0, 1, 0, DA))
    await h.deliver(h.script.commit(2, 1, 0, DA))
    expect(h.app.finalized.map((b) => b.height)).toEqual([1])
    // this engine proposes height 2 (rotation after validator 0)
    expect(h.sentSummary()).toEqual(['PROPOSAL 2/0', 'PREPARE 2/0'])
    await h.engine.stop()
  })
})

describe('engine, rounds', () => {
  it('times out into a ROUND-CHANGE that reports its prepared block', async () => {
    const h = await scriptedEngine({ me: 1 })
    const rounds = collect(h, 'round-change')
    await h.deliver(h.script.proposal(0, 1, 0, A))
    await h.deliver(h.script.prepare(0, 1, 0, DA))
    await h.deliver(h.script.prepare(2, 1, 0, DA))
    expect(h.sentSummary()).toEqual(['PREPARE 1/0', 'COMMIT 1/0'])
    await h.clock.advance(999)
    expect(h.sent()).toEqual([])
    await h.clock.advance(1)
    const [roundChange, ...rest] = h.sent()
    expect(rest).toEqual([])
    expect(roundChange!.signed.body).toEqual({
      kind: 'ROUND-CHANGE',
      height: 1,
      round: 1,
      preparedRound: 0,
      preparedDigest: DA,
    })
    expect(roundChange!.payload).toEqual(A)
    expect(roundChange!.prepares.map((p) => p.body.round)).toEqual([0, 0, 0])
    expect(rounds).toEqual([{ height: 1, round: 1 }])
    // round 1 waits twice as long
    await h.clock.advance(1999)
    expect(h.sent()).toEqual([])
    await h.clock.advance(1)
    expect(h.sentSummary()).toEqual(['ROUND-CHANGE 1/2'])
    await h.engine.stop()
  })

  it('moves to the smallest round of f+1 higher ROUND-CHANGEs', async () => {
    const h = await scriptedEngine({ me: 1 })
    await h.deliver(h.script.roundChange(2, 1, 3))
    expect(h.engine.round).toBe(0)
    expect(h.sent()).toEqual([])
    await h.deliver(h.script.roundChange(3, 1, 5))
    expect(h.engine.round).toBe(3)
    expect(h.sentSummary()).toEqual(['ROUND-CHANGE 1/3'])
    await h.engine.stop()
  })

  it('as the next proposer, re-proposes the highest prepared block after a ROUND-CHANGE quorum', async () => {
    const h = await scriptedEngine({ me: 1 })
    const prepared = { round: 0, payload: A, preparers: [0, 2, 3] }
    await h.deliver(h.script.roundChange(0, 1, 1, prepared))
    await h.deliver(h.script.roundChange(2, 1, 1))
    // f+1 moved us to round 1 (own ROUND-CHANGE), which with two others is a quorum
    const sent = h.sent()
    expect(sent.map((m) => `${m.signed.body.kind} ${m.signed.body.round}`)).toEqual([
      'ROUND-CHANGE 1',
      'PROPOSAL 1',
      'PREPARE 1',
    ])
    const proposal = sent[1]!
    expect(proposal.payload).toEqual(A)
    expect(proposal.signed.body).toMatchObject({ height: 1, round: 1, digest: DA })
    expect(proposal.roundChanges).toHaveLength(3)
    expect(proposal.prepares.map((p) => p.body)).toMatchObject([
      { round: 0, digest: DA },
      { round: 0, digest: DA },
      { round: 0, digest: DA },
    ])
    expect(h.app.built).toEqual([])
    await h.engine.stop()
  })

  it('builds a fresh block after an unprepared ROUND-CHANGE quorum', async () => {
    const h = await scriptedEngine({ me: 1 })
    await h.deliver(h.script.roundChange(0, 1, 1))
    await h.deliver(h.script.roundChange(2, 1, 1))
    expect(h.sentSummary()).toEqual(['ROUND-CHANGE 1/1', 'PROPOSAL 1/1', 'PREPARE 1/1'])
    expect(h.app.built).toMatchObject([{ height: 1, round: 1 }])
    await h.engine.stop()
  })

  it('follows a justified proposal for a higher round', async () => {
    const h = await scriptedEngine({ me: 3 })
    const justification = [0, 1, 2].map((i) => h.script.roundChangeMessage(i, 1, 2).signed)
    expect(await h.deliver(h.script.proposal(2, 1, 2, A, justification))).toBe('accept')
    expect(h.engine.round).toBe(2)
    expect(h.sentSummary()).toEqual(['PREPARE 1/2'])
    await h.engine.stop()
  })
})

describe('engine, refusals', () => {
  it('sends no PREPARE for a payload the application rejects', async () => {
    const h = await scriptedEngine({ me: 1 })
    const rejected = collect(h, 'rejected')
    h.app.validate = () => ({ valid: false, code: 'bad-tx', reason: 'bad transaction' })
    expect(await h.deliver(h.script.proposal(0, 1, 0, A))).toBe('reject')
    expect(h.sent()).toEqual([])
    expect(rejected.map((r) => r.code)).toEqual(['invalid-payload'])
    await h.engine.stop()
  })

  it('answers forged, foreign, misdirected, stale and repeated messages with typed reasons', async () => {
    const h = await scriptedEngine({ me: 1 })
    const rejected = collect(h, 'rejected')
    expect(await h.deliver(new Uint8Array([0xa0]))).toBe('reject')
    const forged = h.script.prepare(2, 1, 0, DA)
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1
    expect(await h.deliver(forged)).toBe('reject')
    const outsider = insecureTestScheme.createSigner(
      insecureTestScheme.keygen(new Uint8Array(32).fill(200)),
    )
    const { Script } = await import('./harness.js')
    expect(await h.deliver(new Script([outsider]).prepare(0, 1, 0, DA))).toBe('reject')
    expect(await h.deliver(h.script.proposal(2, 1, 0, A))).toBe('reject')
    const prepare = h.script.prepare(2, 1, 0, DA)
    expect(await h.deliver(prepare)).toBe('accept')
    expect(await h.deliver(prepare)).toBe('ignore')
    expect(rejected.map((r) => r.code)).toEqual([
      'malformed',
      'bad-signature',
      'not-validator',
      'wrong-proposer',
      'duplicate',
    ])
    await h.engine.stop()
  })

  it('keeps equivocation as evidence and hands it to the application', async () => {
    const h = await scriptedEngine({ me: 1 })
    const evidence = collect(h, 'evidence')
    expect(await h.deliver(h.script.prepare(2, 1, 0, DA))).toBe('accept')
    const other = blockIdOf(payloadOf('other'))
    expect(await h.deliver(h.script.prepare(2, 1, 0, other))).toBe('reject')
    expect(evidence).toHaveLength(1)
    expect(h.app.evidence).toHaveLength(1)
    expect(h.app.evidence[0]).toMatchObject({
      validator: h.signers[2]!.id,
      height: 1,
      round: 0,
      kind: 'PREPARE',
    })
    expect(h.app.evidence[0]!.messages[0]).toEqual(h.script.prepare(2, 1, 0, DA))
    await h.engine.stop()
  })
})

describe('engine, crash safety', () => {
  it('after a restart never signs a conflicting PREPARE and still reports its prepared block', async () => {
    const store = memoryStore()()
    const clock = new ManualClock()
    const first = await scriptedEngine({ me: 1, store, clock })
    await first.deliver(first.script.proposal(0, 1, 0, A))
    await first.deliver(first.script.prepare(0, 1, 0, DA))
    await first.deliver(first.script.prepare(2, 1, 0, DA))
    expect(first.sentSummary()).toEqual(['PREPARE 1/0', 'COMMIT 1/0'])
    await first.engine.stop()

    const second = await scriptedEngine({ me: 1, store, clock })
    // the proposer equivocates: the restarted engine has forgotten the first proposal
    const B = payloadOf('block B')
    await second.deliver(second.script.proposal(0, 1, 0, B))
    const DB = blockIdOf(B)
    await second.deliver(second.script.prepare(0, 1, 0, DB))
    await second.deliver(second.script.prepare(2, 1, 0, DB))
    await second.deliver(second.script.prepare(3, 1, 0, DB))
    expect(second.sent()).toEqual([])
    await clock.advance(1000)
    const [roundChange, ...rest] = second.sent()
    expect(rest).toEqual([])
    expect(roundChange!.signed.body).toMatchObject({
      kind: 'ROUND-CHANGE',
      round: 1,
      preparedRound: 0,
      preparedDigest: DA,
    })
    expect(roundChange!.payload).toEqual(A)
    await second.engine.stop()
  })

  it('resumes at the height after the last finalized block', async () => {
    const store = memoryStore()()
    const first = await scriptedEngine({ me: 1, store })
    await first.deliver(first.script.proposal(0, 1, 0, A))
    for (const i of [0, 2]) await first.deliver(first.script.commit(i, 1, 0, DA))
    await first.deliver(first.script.commit(3, 1, 0, DA))
    expect(first.engine.height).toBe(2)
    await first.engine.stop()
    const second = await scriptedEngine({ me: 1, store })
    expect(second.engine.height).toBe(2)
    // validator 1 follows validator 0, the proposer of the decided block
    expect(second.sentSummary()).toEqual(['PROPOSAL 2/0', 'PREPARE 2/0'])
    await second.engine.stop()
  })
})

/** An application whose `finalize` throws, or never resolves, while told to. */
class FlakyApp extends RecordingApp {
  readonly attempts: number[] = []
  mode: 'ok' | 'throw' | 'hang' = 'ok'
  override async finalize(block: FinalizedBlock): Promise<void> {
    this.attempts.push(block.height)
    if (this.mode === 'throw') throw new Error('disk full')
    if (this.mode === 'hang') await new Promise(() => {})
    await super.finalize(block)
  }
}

describe('engine, finalize failure', () => {
  async function decideHeightOne(h: Awaited<ReturnType<typeof scriptedEngine>>): Promise<void> {
    await h.deliver(h.script.proposal(0, 1, 0, A))
    for (const i of [0, 2, 3]) await h.deliver(h.script.commit(i, 1, 0, DA))
  }

  it('halts at the height whose finalize threw, emits a typed error and decides nothing more', async () => {
    const { set } = await scriptedEngine({ me: 1 })
    const app = new FlakyApp(set)
    app.mode = 'throw'
    const h = await scriptedEngine({ me: 1, app })
    const errors = collect(h, 'error')
    const finalized = collect(h, 'finalized')
    await decideHeightOne(h)
    expect(app.attempts).toEqual([1])
    expect(finalized).toEqual([])
    expect(errors).toHaveLength(1)
    expect(errors[0]!.height).toBe(1)
    expect(errors[0]!.error).toBeInstanceOf(FinalizeFailedError)
    expect((errors[0]!.error.cause as Error).message).toBe('disk full')
    expect(h.engine.haltedAt).toBe(1)
    expect(h.engine.height).toBe(1)
    // validator 1 would propose height 2 now; a halted engine stays silent
    expect(h.sentSummary()).toEqual(['PREPARE 1/0'])
    const D2 = blockIdOf(payloadOf('block 2'))
    expect(await h.deliver(h.script.proposal(1, 2, 0, payloadOf('block 2')))).toBe('ignore')
    for (const i of [0, 2, 3]) expect(await h.deliver(h.script.commit(i, 2, 0, D2))).toBe('ignore')
    await h.clock.advance(10_000)
    expect(h.sent()).toEqual([])
    expect(app.attempts).toEqual([1])
    // the block stays stored, to be applied after a restart
    expect((await h.engine.finalizedBlock(1))?.payload).toEqual(A)
    await h.engine.stop()
  })

  it('re-delivers the stored block once after a restart over the same store, then goes on', async () => {
    const store = memoryStore()()
    const { set } = await scriptedEngine({ me: 1 })
    const app = new FlakyApp(set)
    app.mode = 'throw'
    const first = await scriptedEngine({ me: 1, app, store })
    await decideHeightOne(first)
    expect(first.engine.haltedAt).toBe(1)
    await first.engine.stop()

    app.mode = 'ok'
    const second = await scriptedEngine({ me: 1, app, store })
    expect(app.attempts).toEqual([1, 1])
    expect(app.finalized.map((block) => block.height)).toEqual([1])
    expect(app.finalized[0]!.payload).toEqual(A)
    expect(
      verifyCommitCertificate(app.finalized[0]!.certificate, DA, set, CHAIN, insecureTestScheme),
    ).toBe(true)
    expect(second.engine.haltedAt).toBeUndefined()
    // it continues: validator 1 proposes height 2 and decides it
    const sent = second.sent()
    expect(sent.map((m) => `${m.signed.body.kind} ${m.signed.body.height}`)).toEqual([
      'PROPOSAL 2',
      'PREPARE 2',
    ])
    const D2 = (sent[0]!.signed.body as ProposalBody).digest
    for (const i of [0, 2]) await second.deliver(second.script.prepare(i, 2, 0, D2))
    for (const i of [0, 2, 3]) await second.deliver(second.script.commit(i, 2, 0, D2))
    expect(app.finalized.map((block) => block.height)).toEqual([1, 2])
    await second.engine.stop()

    // applied blocks are not handed over again
    const third = await scriptedEngine({ me: 1, app, store })
    expect(app.attempts).toEqual([1, 1, 2])
    expect(third.engine.height).toBe(3)
    await third.engine.stop()
  })

  it('re-delivers a block whose finalize never returned before the process died', async () => {
    const store = memoryStore()()
    const { set } = await scriptedEngine({ me: 1 })
    const dying = new FlakyApp(set)
    dying.mode = 'hang'
    const first = await scriptedEngine({ me: 1, app: dying, store })
    await first.deliver(first.script.proposal(0, 1, 0, A))
    for (const i of [0, 2]) await first.deliver(first.script.commit(i, 1, 0, DA))
    // the quorum-completing COMMIT's processing never ends: finalize hangs
    void first.engine.submit('peer', first.script.commit(3, 1, 0, DA))
    await flush()
    expect(dying.attempts).toEqual([1])
    // the process dies here: the first engine is abandoned, not stopped

    const app = new FlakyApp(set)
    const second = await scriptedEngine({ me: 1, app, store })
    expect(app.finalized.map((block) => block.height)).toEqual([1])
    expect(second.engine.height).toBe(2)
    await second.engine.stop()
  })

  it('halts again when the re-delivered block fails again', async () => {
    const store = memoryStore()()
    const { set } = await scriptedEngine({ me: 1 })
    const app = new FlakyApp(set)
    app.mode = 'throw'
    const first = await scriptedEngine({ me: 1, app, store })
    await decideHeightOne(first)
    await first.engine.stop()
    const second = await scriptedEngine({ me: 1, app, store })
    expect(app.attempts).toEqual([1, 1])
    expect(second.engine.haltedAt).toBe(1)
    expect(second.sent()).toEqual([])
    await second.engine.stop()
  })
})

describe('engine, buffers and caps', () => {
  it('buffers messages of the next height and replays them on arrival', async () => {
    const h = await scriptedEngine({ me: 1 })
    const D2 = blockIdOf(payloadOf('block 2/0'))
    expect(await h.deliver(h.script.prepare(2, 2, 0, D2))).toBe('ignore')
    expect(await h.deliver(h.script.prepare(3, 2, 0, D2))).toBe('ignore')
    await h.deliver(h.script.proposal(0, 1, 0, A))
    for (const i of [0, 2, 3]) await h.deliver(h.script.commit(i, 1, 0, DA))
    expect(h.sentSummary()).toEqual(['PREPARE 1/0', 'PROPOSAL 2/0', 'PREPARE 2/0', 'COMMIT 2/0'])
    await h.engine.stop()
  })

  it('enforces the height window and the per-sender cap', async () => {
    const h = await scriptedEngine({
      me: 1,
      overrides: { limits: { maxHeightsAhead: 2, maxPerSender: 2 } },
    })
    const rejected = collect(h, 'rejected')
    expect(await h.deliver(h.script.prepare(2, 4, 0, DA))).toBe('ignore')
    for (const round of [0, 1])
      expect(await h.deliver(h.script.prepare(2, 2, round, DA), 'p')).toBe('ignore')
    expect(await h.deliver(h.script.prepare(2, 2, 2, DA), 'p')).toBe('ignore')
    expect(await h.deliver(h.script.prepare(2, 2, 2, DA), 'q')).toBe('ignore')
    expect(rejected.map((r) => r.code)).toEqual(['future', 'overloaded'])
    await h.engine.stop()
  })

  it('ignores ROUND-CHANGEs beyond the round window', async () => {
    const h = await scriptedEngine({ me: 1, overrides: { limits: { maxRoundsAhead: 5 } } })
    const rejected = collect(h, 'rejected')
    expect(await h.deliver(h.script.roundChange(2, 1, 6))).toBe('ignore')
    expect(await h.deliver(h.script.roundChange(3, 1, 6))).toBe('ignore')
    expect(h.engine.round).toBe(0)
    expect(rejected.map((r) => r.code)).toEqual(['future', 'future'])
    await h.deliver(h.script.roundChange(2, 1, 5))
    await h.deliver(h.script.roundChange(3, 1, 5))
    expect(h.engine.round).toBe(5)
    await h.engine.stop()
  })
})

describe('engine, block period', () => {
  it('waits the block period after finality before proposing', async () => {
    const app = new RecordingApp((await scriptedEngine({ me: 1 })).set)
    const h = await scriptedEngine({ me: 1, app, overrides: { blockPeriodMs: 500 } })
    await h.deliver(h.script.proposal(0, 1, 0, A))
    for (const i of [0, 2, 3]) await h.deliver(h.script.commit(i, 1, 0, DA))
    expect(h.sentSummary()).toEqual(['PREPARE 1/0'])
    await h.clock.advance(499)
    expect(h.sent()).toEqual([])
    await h.clock.advance(1)
    expect(h.sentSummary()).toEqual(['PROPOSAL 2/0', 'PREPARE 2/0'])
    await h.engine.stop()
  })
})
