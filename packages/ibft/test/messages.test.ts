import { encode } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import {
  blockIdOf,
  decodeMessage,
  encodeBody,
  encodeMessage,
  insecureTestScheme,
  MalformedMessageError,
  realScheme,
  signBody,
  signingBytes,
} from '../src/index.js'
import { CHAIN, makeValidators, payloadOf, Script } from './harness.js'

const { signers } = makeValidators(4)
const script = new Script(signers)

describe('message encoding', () => {
  it('round-trips every kind', () => {
    const payload = payloadOf('block')
    const digest = blockIdOf(payload)
    const rc = script.roundChangeMessage(1, 3, 2, { round: 1, payload, preparers: [0, 1, 2] })
    const wires = [
      script.proposal(0, 3, 0, payload),
      script.proposal(0, 3, 2, payload, [rc.signed], rc.prepares),
      script.prepare(1, 3, 0, digest),
      script.commit(2, 3, 0, digest),
      encodeMessage(rc),
      script.roundChange(3, 3, 1),
    ]
    for (const wire of wires) {
      const decoded = decodeMessage(wire)
      expect(encodeMessage(decoded)).toEqual(wire)
    }
    const decodedRc = decodeMessage(encodeMessage(rc))
    expect(decodedRc.signed.body).toEqual(rc.signed.body)
    expect(decodedRc.prepares).toHaveLength(3)
  })

  it('rejects garbage, unknown kinds, extras on the wrong kind, and oversized input', () => {
    expect(() => decodeMessage(new Uint8Array([1, 2, 3]))).toThrow(MalformedMessageError)
    const good = decodeMessage(script.prepare(1, 1, 0, new Uint8Array(32)))
    const badKind = encode({
      body: encode({ kind: 'VOTE', height: 1, round: 0 }),
      signature: good.signed.signature,
      author: good.signed.author,
    })
    expect(() => decodeMessage(badKind)).toThrow(MalformedMessageError)
    const prepareWithPayload = encode({
      body: good.signed.bodyBytes,
      signature: good.signed.signature,
      author: good.signed.author,
      payload: new Uint8Array(3),
    })
    expect(() => decodeMessage(prepareWithPayload)).toThrow(/carries no extras/)
    const shortDigest = encode({
      body: encode({ kind: 'PREPARE', height: 1, round: 0, digest: new Uint8Array(31) }),
      signature: good.signed.signature,
      author: good.signed.author,
    })
    expect(() => decodeMessage(shortDigest)).toThrow(MalformedMessageError)
    const zeroHeight = encode({
      body: encode({ kind: 'PREPARE', height: 0, round: 0, digest: new Uint8Array(32) }),
      signature: good.signed.signature,
      author: good.signed.author,
    })
    expect(() => decodeMessage(zeroHeight)).toThrow(MalformedMessageError)
    const big = script.proposal(0, 1, 0, new Uint8Array(2000))
    expect(() =>
      decodeMessage(big, { maxMessageBytes: 1000, maxPayloadBytes: 500, maxRoundNumber: 10 }),
    ).toThrow(MalformedMessageError)
    expect(() =>
      decodeMessage(big, { maxMessageBytes: 10_000, maxPayloadBytes: 500, maxRoundNumber: 10 }),
    ).toThrow(MalformedMessageError)
  })

  it('rejects a round-change whose prepared round is not below its round', () => {
    const wire = encode({
      body: encode({
        kind: 'ROUND-CHANGE',
        height: 1,
        round: 1,
        preparedRound: 1,
        preparedDigest: new Uint8Array(32),
      }),
      signature: new Uint8Array(64),
      author: new Uint8Array(32),
    })
    expect(() => decodeMessage(wire)).toThrow(MalformedMessageError)
  })
})

describe('signing domain separation', () => {
  for (const scheme of [realScheme, insecureTestScheme]) {
    it(`${scheme.name}: a PREPARE signature never verifies as a COMMIT or on another chain`, () => {
      const signer = scheme.createSigner(scheme.keygen(new Uint8Array(32).fill(9)))
      const body = { kind: 'PREPARE', height: 1, round: 0, digest: new Uint8Array(32) } as const
      const signed = signBody(CHAIN, signer, body)
      const bytes = encodeBody(body)
      expect(
        scheme.verify(signed.signature, signingBytes(CHAIN, 'PREPARE', bytes), signer.id),
      ).toBe(true)
      expect(scheme.verify(signed.signature, signingBytes(CHAIN, 'COMMIT', bytes), signer.id)).toBe(
        false,
      )
      expect(
        scheme.verify(signed.signature, signingBytes('other', 'PREPARE', bytes), signer.id),
      ).toBe(false)
      const other = scheme.createSigner(scheme.keygen(new Uint8Array(32).fill(8)))
      expect(scheme.verify(signed.signature, signingBytes(CHAIN, 'PREPARE', bytes), other.id)).toBe(
        false,
      )
    })
  }
})
