import { describe, expect, it } from 'vitest'
import {
  bitmapIndices,
  blockIdOf,
  buildCommitCertificate,
  checkSeals,
  commitSealBytes,
  findInvalidSeals,
  realScheme,
  type SignatureScheme,
  verifyCommitCertificate,
} from '../src/index.js'
import { CHAIN, makeValidators, payloadOf } from './harness.js'

const { signers, set } = makeValidators(4, realScheme)
const blockId = blockIdOf(payloadOf('block 7'))
const message = commitSealBytes(CHAIN, 7, 1, blockId)
const seals = signers.map((signer) => signer.seal(message))

function certify(indices: number[]) {
  return buildCommitCertificate({
    height: 7,
    round: 1,
    blockId,
    validatorCount: 4,
    seals: indices.map((index) => ({ index, seal: seals[index]! })),
  })
}

describe('commit certificates', () => {
  it('a quorum of seals verifies, with a little-endian signer bitmap', () => {
    const certificate = certify([3, 0, 2])
    expect(bitmapIndices(certificate.signers)).toEqual([0, 2, 3])
    expect(certificate.signers).toEqual(Uint8Array.of(0b1101))
    expect(verifyCommitCertificate(certificate, blockId, set, CHAIN)).toBe(true)
  })

  it('rejects insufficient power, forged, tampered and mismatched certificates', () => {
    expect(verifyCommitCertificate(certify([0, 1]), blockId, set, CHAIN)).toBe(false)
    const good = certify([0, 1, 2])
    // a signer claimed in the bitmap that did not seal
    expect(
      verifyCommitCertificate({ ...good, signers: Uint8Array.of(0b1111) }, blockId, set, CHAIN),
    ).toBe(false)
    // bits beyond the set
    expect(
      verifyCommitCertificate({ ...good, signers: Uint8Array.of(0b10111) }, blockId, set, CHAIN),
    ).toBe(false)
    expect(verifyCommitCertificate({ ...good, round: 2 }, blockId, set, CHAIN)).toBe(false)
    expect(verifyCommitCertificate(good, blockId, set, 'other-chain')).toBe(false)
    const otherBlock = blockIdOf(payloadOf('other'))
    expect(verifyCommitCertificate({ ...good, blockId: otherBlock }, otherBlock, set, CHAIN)).toBe(
      false,
    )
    expect(verifyCommitCertificate(good, otherBlock, set, CHAIN)).toBe(false)
    const forged = new Uint8Array(good.signature)
    forged[5] = (forged[5] as number) ^ 1
    expect(verifyCommitCertificate({ ...good, signature: forged }, blockId, set, CHAIN)).toBe(false)
    expect(() =>
      verifyCommitCertificate({ ...good, signers: 'x' as never }, blockId, set, CHAIN),
    ).toThrow(TypeError)
  })

  it('weighs signers by power', () => {
    const weighted = {
      validators: set.validators.map((v, i) => ({ ...v, votingPower: i === 3 ? 10n : 1n })),
    } // total 13, quorum 9
    expect(verifyCommitCertificate(certify([0, 1, 2]), blockId, weighted, CHAIN)).toBe(false)
    expect(verifyCommitCertificate(certify([3]), blockId, weighted, CHAIN)).toBe(true)
  })

  it('finds a bad seal only after the optimistic aggregate check fails', () => {
    const items = signers.map((signer, i) => ({
      seal: seals[i]!,
      blsPublicKey: signer.blsPublicKey,
    }))
    expect(findInvalidSeals(items, message)).toEqual([])
    const wrong = signers[2]!.seal(commitSealBytes(CHAIN, 7, 0, blockId))
    const withBad = items.map((item, i) => (i === 2 ? { ...item, seal: wrong } : item))
    expect(findInvalidSeals(withBad, message)).toEqual([2])
    const garbage = items.map((item, i) =>
      i === 1 ? { ...item, seal: new Uint8Array(96).fill(3) } : item,
    )
    expect(findInvalidSeals(garbage, message)).toEqual([1])
  })

  it('checkSeals gives the same verdicts and aggregate with and without the one-step fast path', () => {
    const { verifyAndAggregate: _fast, ...rest } = realScheme
    const twoStep: SignatureScheme = rest
    const items = signers.map((signer, i) => ({
      seal: seals[i]!,
      blsPublicKey: signer.blsPublicKey,
    }))
    const fast = checkSeals(items, message, realScheme)
    const slow = checkSeals(items, message, twoStep)
    expect(fast.invalid).toEqual([])
    expect(fast.aggregate).toEqual(realScheme.aggregate(seals))
    expect(slow).toEqual(fast)
    const withBad = items.map((item, i) =>
      i === 0 ? { ...item, seal: signers[0]!.seal(commitSealBytes(CHAIN, 8, 1, blockId)) } : item,
    )
    expect(checkSeals(withBad, message, realScheme)).toEqual({ invalid: [0] })
    expect(checkSeals(withBad, message, twoStep)).toEqual({ invalid: [0] })
  })
})
