import { encode } from '@metanode/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeTransaction,
  encodeTransaction,
  prepareSignedTransaction,
  prepareTransaction,
  transactionId,
  transactionIdOfBytes,
  transactionSigningBytes,
  verifyTransactionSignature,
} from '../src/index.js'
import { tx, userKeys } from './fixtures.js'

const alice = userKeys(1)
const bob = userKeys(2)

describe('transactions', () => {
  it('round-trip through the codec and keep a valid signature and a stable id', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000_000 }),
        fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 1000n }),
        (nonce, amount, tip) => {
          const signed = tx(
            alice,
            nonce,
            { kind: 'transfer', to: bob.publicKey, amount },
            {
              maxFee: 1000n,
              maxPriorityFee: tip,
            },
          )
          const decoded = decodeTransaction(encodeTransaction(signed))
          expect(decoded).toEqual(signed)
          expect(verifyTransactionSignature(decoded)).toBe(true)
          expect(transactionId(decoded)).toEqual(transactionId(signed))
          expect(prepareTransaction(encodeTransaction(signed)).id).toEqual(transactionId(signed))
          expect(transactionIdOfBytes(encodeTransaction(signed))).toEqual(transactionId(signed))
        },
      ),
      { numRuns: 25 },
    )
  })

  it('binds the signature to the chain id and to every field', () => {
    const signed = tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 5n })
    expect(
      verifyTransactionSignature({ ...signed, body: { ...signed.body, chainId: 'other' } }),
    ).toBe(false)
    expect(verifyTransactionSignature({ ...signed, body: { ...signed.body, nonce: 1 } })).toBe(
      false,
    )
    const other = tx(
      alice,
      0,
      { kind: 'transfer', to: bob.publicKey, amount: 5n },
      { chainId: 'other' },
    )
    expect(transactionSigningBytes(other.body)).not.toEqual(transactionSigningBytes(signed.body))
  })

  it('refuses to sign for another sender', () => {
    const signed = tx(alice, 0, { kind: 'stake', amount: 5n })
    expect(() =>
      tx({ publicKey: alice.publicKey, secretKey: bob.secretKey }, 0, {
        kind: 'stake',
        amount: 5n,
      }),
    ).toThrow(RangeError)
    expect(signed.body.sender).toEqual(alice.publicKey)
  })

  it('rejects malformed, non-canonical and oversized encodings with typed codes', () => {
    const signed = tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 5n })
    const bytes = encodeTransaction(signed)
    expect(() => decodeTransaction(bytes.subarray(0, bytes.length - 1))).toThrow(
      expect.objectContaining({ name: 'ChainRejectionError', code: 'malformed' }),
    )
    const zeroAmount = encode({
      ...signed,
      body: { ...signed.body, action: { kind: 'transfer', to: bob.publicKey, amount: 0 } },
    })
    expect(() => decodeTransaction(zeroAmount)).toThrow(
      expect.objectContaining({ code: 'malformed' }),
    )
    const unknownKind = encode({
      ...signed,
      body: { ...signed.body, action: { kind: 'mint', amount: 1 } },
    })
    expect(() => decodeTransaction(unknownKind)).toThrow(
      expect.objectContaining({ code: 'malformed' }),
    )
    const extraField = encode({ ...signed, extra: 1 })
    expect(() => decodeTransaction(extraField)).toThrow(
      expect.objectContaining({ code: 'malformed' }),
    )
    expect(() => decodeTransaction(new Uint8Array(70 * 1024))).toThrow(
      expect.objectContaining({ code: 'oversized' }),
    )
    const bigPayload = tx(alice, 0, {
      kind: 'app',
      route: 'kv',
      payload: new Uint8Array(40 * 1024),
    })
    expect(() => encodeTransaction(bigPayload)).not.toThrow()
    expect(() =>
      decodeTransaction(
        encode({
          ...bigPayload,
          body: {
            ...bigPayload.body,
            action: { kind: 'app', route: 'kv', payload: new Uint8Array(33 * 1024) },
          },
        }),
      ),
    ).toThrow(expect.objectContaining({ code: 'malformed' }))
  })

  it('prices a transaction by kind and size', () => {
    const small = prepareSignedTransaction(
      tx(alice, 0, { kind: 'transfer', to: bob.publicKey, amount: 5n }),
    )
    const app = prepareSignedTransaction(
      tx(alice, 0, { kind: 'app', route: 'kv', payload: new Uint8Array(100) }),
    )
    expect(small.cost).toBe(1_000n + BigInt(small.bytes.length))
    expect(app.cost).toBe(2_000n + BigInt(app.bytes.length))
  })
})
