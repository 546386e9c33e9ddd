// The application's optional hooks: its own block id (`blockId`) and the proposer a decided
// payload records (`proposerOf`), which the default proposer rotation follows.
import { type FinalizedBlock, memoryStore } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import {
  blockIdOf,
  insecureTestScheme,
  justifyRoundChange,
  verifyCommitCertificate,
} from '../src/index.js'
import { indexValidators } from '../src/validators.js'
import {
  CHAIN,
  collect,
  ManualClock,
  makeValidators,
  ProposerRecordingApp,
  payloadOf,
  RecordingApp,
  recordedPayload,
  scriptedEngine,
} from './harness.js'

const { set } = makeValidators(4)

/** An id that differs from `blockIdOf` and refuses payloads starting with "bad". */
function appBlockId(payload: Uint8Array): Uint8Array {
  if (new TextDecoder().decode(payload.subarray(0, 3)) === 'bad') {
    throw new Error('malformed payload')
  }
  return blockIdOf(Uint8Array.of(0x42, ...payload))
}

class AppIdApp extends RecordingApp {
  blockId(payload: Uint8Array): Uint8Array {
    return appBlockId(payload)
  }
}

const A = payloadOf('block A')

describe('Application.blockId', () => {
  it('is what proposals, PREPAREs, COMMITs and the certificate carry', async () => {
    const h = await scriptedEngine({ me: 1, app: new AppIdApp(set) })
    h.script.blockId = appBlockId
    const id = appBlockId(A)
    expect(id).not.toEqual(blockIdOf(A))
    expect(await h.deliver(h.script.proposal(0, 1, 0, A))).toBe('accept')
    expect(h.sent().map((m) => m.signed.body)).toMatchObject([{ kind: 'PREPARE', digest: id }])
    for (const i of [0, 2]) await h.deliver(h.script.prepare(i, 1, 0, id))
    expect(h.sent().map((m) => m.signed.body)).toMatchObject([{ kind: 'COMMIT', digest: id }])
    for (const i of [0, 2]) await h.deliver(h.script.commit(i, 1, 0, id))
    const [block] = h.app.finalized
    expect(block?.payload).toEqual(A)
    expect(block?.certificate.blockId).toEqual(id)
    expect(verifyCommitCertificate(block!.certificate, id, set, CHAIN, insecureTestScheme)).toBe(
      true,
    )
    // this engine proposes height 2 under the application's id
    const [proposal] = h.sent()
    expect(proposal?.signed.body).toMatchObject({
      kind: 'PROPOSAL',
      height: 2,
      digest: appBlockId(proposal!.payload!),
    })
    await h.engine.stop()
  })

  it('rejects a proposal whose digest is not the application id of its payload', async () => {
    const h = await scriptedEngine({ me: 1, app: new AppIdApp(set) })
    const rejected = collect(h, 'rejected')
    // signed over the default id: not what this application certifies
    expect(await h.deliver(h.script.proposal(0, 1, 0, A))).toBe('reject')
    expect(rejected).toMatchObject([{ code: 'bad-digest', action: 'reject' }])
    expect(h.sent()).toEqual([])
    await h.engine.stop()
  })

  it('treats a payload the application cannot id as invalid, without crashing', async () => {
    const h = await scriptedEngine({ me: 1, app: new AppIdApp(set) })
    h.script.blockId = blockIdOf
    const rejected = collect(h, 'rejected')
    const bad = payloadOf('bad block')
    expect(await h.deliver(h.script.proposal(0, 1, 0, bad))).toBe('reject')
    expect(rejected).toMatchObject([{ code: 'invalid-payload', action: 'reject' }])
    // a ROUND-CHANGE reporting such a block as prepared is not justified
    const roundChange = h.script.roundChangeMessage(2, 1, 1, {
      round: 0,
      payload: bad,
      preparers: [0, 2, 3],
    })
    expect(
      await h.deliver(
        h.script.roundChange(2, 1, 1, { round: 0, payload: bad, preparers: [0, 2, 3] }),
      ),
    ).toBe('reject')
    expect(rejected.at(-1)).toMatchObject({ code: 'bad-justification' })
    const context = {
      chainId: CHAIN,
      validators: indexValidators(set),
      scheme: insecureTestScheme,
    }
    expect(justifyRoundChange(roundChange, context).valid).toBe(true)
    expect(justifyRoundChange(roundChange, { ...context, blockId: appBlockId }).valid).toBe(false)
    // the engine goes on: it joins round 1 and, as its proposer, proposes a block of its own
    for (const i of [0, 3]) await h.deliver(h.script.roundChange(i, 1, 1))
    expect(h.sentSummary()).toEqual(['ROUND-CHANGE 1/1', 'PROPOSAL 1/1', 'PREPARE 1/1'])
    await h.engine.stop()
  })

  it('sends nothing when its own proposal has no id, and the round times out', async () => {
    class BadBuilder extends AppIdApp {
      override async buildProposal(): Promise<Uint8Array> {
        return payloadOf('bad own block')
      }
    }
    const h = await scriptedEngine({ me: 0, app: new BadBuilder(set) })
    expect(h.sent()).toEqual([])
    await h.clock.advance(1000)
    expect(h.sentSummary()).toEqual(['ROUND-CHANGE 1/1'])
    await h.engine.stop()
  })
  it('re-delivers a stored block by its application id, and halts on one the id does not match', async () => {
    class FailingOnce extends AppIdApp {
      fail = true
      override async finalize(block: FinalizedBlock): Promise<void> {
        if (this.fail) throw new Error('disk full')
        await super.finalize(block)
      }
    }
    const store = memoryStore()()
    const clock = new ManualClock()
    const app = new FailingOnce(set)
    const first = await scriptedEngine({ me: 1, app, store, clock })
    first.script.blockId = appBlockId
    await first.deliver(first.script.proposal(0, 1, 0, A))
    for (const i of [0, 2, 3]) await first.deliver(first.script.commit(i, 1, 0, appBlockId(A)))
    expect(first.engine.haltedAt).toBe(1)
    await first.engine.stop()

    // an application whose ids differ from the certified one (a corrupt store would do the same)
    const other = new RecordingApp(set)
    const wrong = await scriptedEngine({ me: 1, app: other, store, clock })
    expect(wrong.engine.haltedAt).toBe(1)
    expect(other.finalized).toEqual([])
    await wrong.engine.stop()

    app.fail = false
    const second = await scriptedEngine({ me: 1, app, store, clock })
    expect(second.engine.haltedAt).toBeUndefined()
    expect(app.finalized.map((block) => block.certificate.blockId)).toEqual([appBlockId(A)])
    await second.engine.stop()
  })
})

describe('Application.proposerOf and the default rotation', () => {
  /** Height 1 decided in round 1 with a fresh block built by validator 1 (the round-1 proposer). */
  async function decideHeightOneInRoundOne(h: Awaited<ReturnType<typeof scriptedEngine>>) {
    for (const i of [0, 1, 2]) await h.deliver(h.script.roundChange(i, 1, 1))
    expect(h.engine.round).toBe(1)
    const justification = [0, 1, 2].map((i) => h.script.roundChangeMessage(i, 1, 1).signed)
    const payload = recordedPayload(payloadOf('block 1/1'), h.signers[1]!.id)
    expect(await h.deliver(h.script.proposal(1, 1, 1, payload, justification))).toBe('accept')
    const id = blockIdOf(payload)
    for (const i of [0, 1, 2]) await h.deliver(h.script.prepare(i, 1, 1, id))
    for (const i of [0, 1, 2]) await h.deliver(h.script.commit(i, 1, 1, id))
    expect(h.app.finalized.map((block) => [block.height, block.certificate.round])).toEqual([
      [1, 1],
    ])
    h.sent()
  }

  it('after a height decided in round 1, round 0 of the next belongs to the one after the recorded proposer', async () => {
    const h = await scriptedEngine({ me: 3, app: new ProposerRecordingApp(set) })
    const rejected = collect(h, 'rejected')
    await decideHeightOneInRoundOne(h)
    // validator 1 proposed block 1, so validator 2 proposes height 2 (a rotation by height alone
    // would pick validator 1 again)
    const next = recordedPayload(payloadOf('block 2/0'), h.signers[1]!.id)
    expect(await h.deliver(h.script.proposal(1, 2, 0, next))).toBe('reject')
    expect(rejected.at(-1)).toMatchObject({ code: 'wrong-proposer' })
    const fromTwo = recordedPayload(payloadOf('block 2/0'), h.signers[2]!.id)
    expect(await h.deliver(h.script.proposal(2, 2, 0, fromTwo))).toBe('accept')
    expect(h.sentSummary()).toEqual(['PREPARE 2/0'])
    await h.engine.stop()
  })

  it('the next proposer builds at once; it rotates from the recorded proposer, not the deciding round', async () => {
    const h = await scriptedEngine({ me: 2, app: new ProposerRecordingApp(set) })
    await decideHeightOneInRoundOne(h)
    expect(h.app.built.at(-1)).toMatchObject({ height: 2, round: 0, proposer: h.signers[2]!.id })
    await h.engine.stop()

    // block 1 prepared in round 1 (built by validator 1), re-proposed by this engine and
    // decided in round 2: it rotates from validator 1 (a rotation from the deciding round's
    // proposer would pick validator 3, one by height alone validator 1)
    const g = await scriptedEngine({ me: 2, app: new ProposerRecordingApp(set) })
    const prepared = recordedPayload(payloadOf('block 1/1'), g.signers[1]!.id)
    const id = blockIdOf(prepared)
    await g.deliver(
      g.script.roundChange(0, 1, 2, { round: 1, payload: prepared, preparers: [0, 1, 3] }),
    )
    await g.deliver(g.script.roundChange(1, 1, 2))
    expect(g.sentSummary()).toEqual(['ROUND-CHANGE 1/2', 'PROPOSAL 1/2', 'PREPARE 1/2'])
    for (const i of [0, 1]) await g.deliver(g.script.prepare(i, 1, 2, id))
    for (const i of [0, 1]) await g.deliver(g.script.commit(i, 1, 2, id))
    expect(g.app.finalized.map((block) => block.certificate.round)).toEqual([2])
    expect(g.sentSummary()).toEqual(['COMMIT 1/2', 'PROPOSAL 2/0', 'PREPARE 2/0'])
    expect(g.app.built.at(-1)).toMatchObject({ height: 2, round: 0 })
    await g.engine.stop()
  })

  it('keeps the rotation across a restart over the same store', async () => {
    const store = memoryStore()()
    const clock = new ManualClock()
    const first = await scriptedEngine({ me: 3, store, clock, app: new ProposerRecordingApp(set) })
    await decideHeightOneInRoundOne(first)
    await first.engine.stop()

    const second = await scriptedEngine({ me: 3, store, clock, app: new ProposerRecordingApp(set) })
    expect(second.engine.height).toBe(2)
    const rejected = collect(second, 'rejected')
    const fromOne = recordedPayload(payloadOf('block 2/0'), second.signers[1]!.id)
    expect(await second.deliver(second.script.proposal(1, 2, 0, fromOne))).toBe('reject')
    expect(rejected).toMatchObject([{ code: 'wrong-proposer' }])
    const fromTwo = recordedPayload(payloadOf('block 2/0'), second.signers[2]!.id)
    expect(await second.deliver(second.script.proposal(2, 2, 0, fromTwo))).toBe('accept')
    await second.engine.stop()
  })

  it('without proposerOf the rotation depends on height and round only', async () => {
    const h = await scriptedEngine({ me: 3 })
    await decideHeightOneInRoundOne(h)
    const rejected = collect(h, 'rejected')
    expect(await h.deliver(h.script.proposal(2, 2, 0, payloadOf('block 2/0')))).toBe('reject')
    expect(rejected).toMatchObject([{ code: 'wrong-proposer' }])
    expect(await h.deliver(h.script.proposal(1, 2, 0, payloadOf('block 2/0')))).toBe('accept')
    await h.engine.stop()
  })
})
