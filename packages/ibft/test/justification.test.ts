import { describe, expect, it } from 'vitest'
import {
  blockIdOf,
  highestPrepared,
  indexValidators,
  insecureTestScheme,
  justifyProposal,
  justifyRoundChange,
} from '../src/index.js'
import { CHAIN, makeValidators, payloadOf, Script } from './harness.js'

const { signers, set } = makeValidators(4)
const script = new Script(signers)
const context = { chainId: CHAIN, validators: indexValidators(set), scheme: insecureTestScheme }
const A = payloadOf('A')
const B = payloadOf('B')
const H = 5

describe('justifyRoundChange', () => {
  it('accepts unprepared and properly prepared round-changes', () => {
    expect(justifyRoundChange(script.roundChangeMessage(1, H, 2), context).valid).toBe(true)
    const prepared = script.roundChangeMessage(1, H, 2, {
      round: 1,
      payload: A,
      preparers: [0, 1, 2],
    })
    expect(justifyRoundChange(prepared, context).valid).toBe(true)
  })

  it('rejects a missing quorum, duplicates counted once, a wrong block, and prepares of another round', () => {
    const short = script.roundChangeMessage(1, H, 2, { round: 1, payload: A, preparers: [0, 1] })
    expect(justifyRoundChange(short, context).valid).toBe(false)
    const dup = script.roundChangeMessage(1, H, 2, { round: 1, payload: A, preparers: [0, 1, 1] })
    expect(justifyRoundChange(dup, context)).toMatchObject({ valid: false })
    const wrongBlock = {
      ...script.roundChangeMessage(1, H, 2, { round: 1, payload: A, preparers: [0, 1, 2] }),
      payload: B,
    }
    expect(justifyRoundChange(wrongBlock, context).valid).toBe(false)
    const lower = script.roundChangeMessage(1, H, 2, { round: 1, payload: A, preparers: [0, 1, 2] })
    lower.prepares = [0, 1, 2].map((i) => script.prepareSigned(i, H, 0, blockIdOf(A)))
    expect(justifyRoundChange(lower, context).valid).toBe(false)
    const otherHeight = script.roundChangeMessage(1, H, 2, {
      round: 1,
      payload: A,
      preparers: [0, 1, 2],
    })
    otherHeight.prepares = [0, 1, 2].map((i) => script.prepareSigned(i, H + 1, 1, blockIdOf(A)))
    expect(justifyRoundChange(otherHeight, context).valid).toBe(false)
  })
})

describe('justifyProposal', () => {
  const rcs = (round: number, who: number[]) =>
    who.map((i) => script.roundChangeMessage(i, H, round).signed)

  it('round 0 needs nothing; round > 0 needs a round-change quorum', () => {
    expect(justifyProposal(script.proposalMessage(0, H, 0, A) as never, context).valid).toBe(true)
    expect(
      justifyProposal(script.proposalMessage(2, H, 2, A, rcs(2, [0, 1, 2])) as never, context)
        .valid,
    ).toBe(true)
    expect(
      justifyProposal(script.proposalMessage(2, H, 2, A, rcs(2, [0, 1])) as never, context).valid,
    ).toBe(false)
    expect(
      justifyProposal(script.proposalMessage(2, H, 2, A, rcs(2, [0, 1, 1])) as never, context)
        .valid,
    ).toBe(false)
  })

  it('rejects round-changes for another round or height, or with forged signatures', () => {
    const wrongRound = [...rcs(2, [0, 1]), script.roundChangeMessage(2, H, 1).signed]
    expect(
      justifyProposal(script.proposalMessage(2, H, 2, A, wrongRound) as never, context).valid,
    ).toBe(false)
    const mixed = [...rcs(2, [0, 1]), script.roundChangeMessage(2, H + 1, 2).signed]
    expect(justifyProposal(script.proposalMessage(2, H, 2, A, mixed) as never, context).valid).toBe(
      false,
    )
    const forged = rcs(2, [0, 1, 2])
    forged[2] = { ...forged[2]!, author: signers[3]!.id }
    expect(
      justifyProposal(script.proposalMessage(2, H, 2, A, forged) as never, context).valid,
    ).toBe(false)
  })

  it('requires re-proposing the highest prepared block with its prepare quorum', () => {
    const preparedA = script.roundChangeMessage(0, H, 3, {
      round: 1,
      payload: A,
      preparers: [0, 1, 2],
    })
    const preparedB = script.roundChangeMessage(1, H, 3, {
      round: 2,
      payload: B,
      preparers: [1, 2, 3],
    })
    const plain = script.roundChangeMessage(2, H, 3)
    const justification = [preparedA.signed, preparedB.signed, plain.signed]
    expect(highestPrepared(justification)).toMatchObject({ round: 2 })
    const good = script.proposalMessage(3, H, 3, B, justification, preparedB.prepares)
    expect(justifyProposal(good as never, context).valid).toBe(true)
    // the lower prepared block instead of the highest
    const stale = script.proposalMessage(3, H, 3, A, justification, preparedA.prepares)
    expect(justifyProposal(stale as never, context)).toMatchObject({ valid: false })
    // a fresh block instead of the prepared one
    const fresh = script.proposalMessage(3, H, 3, payloadOf('C'), justification, preparedB.prepares)
    expect(justifyProposal(fresh as never, context).valid).toBe(false)
    // prepares for a lower round than reported
    const lowPrepares = [1, 2, 3].map((i) => script.prepareSigned(i, H, 1, blockIdOf(B)))
    const low = script.proposalMessage(3, H, 3, B, justification, lowPrepares)
    expect(justifyProposal(low as never, context).valid).toBe(false)
    // prepared reported but no prepares carried
    const none = script.proposalMessage(3, H, 3, B, justification, [])
    expect(justifyProposal(none as never, context).valid).toBe(false)
    // prepares carried although nothing was prepared
    const unprepared = rcs(3, [0, 1, 2])
    const extra = script.proposalMessage(3, H, 3, B, unprepared, preparedB.prepares)
    expect(justifyProposal(extra as never, context).valid).toBe(false)
  })
})
