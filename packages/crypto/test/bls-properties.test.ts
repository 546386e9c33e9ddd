// Property tests for @metanode/crypto/bls. noble pairings cost ~10-20 ms, so runs stay small;
// the cross-backend properties sign with one backend and check with the other.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Bls, type BlsBackend, createBls } from '../src/bls.js'
import { keygenScalar } from '../src/bls-noble.js'
import { bytesToHex } from './helpers/vectors.js'

const blst = createBls({ backend: 'blst' })
const noble = createBls({ backend: 'noble' })
const instances: Record<BlsBackend, Bls> = { blst, noble }
const runs: Record<BlsBackend, number> = { blst: 20, noble: 4 }

const ikm = fc.uint8Array({ minLength: 32, maxLength: 64 })
const message = fc.uint8Array({ minLength: 0, maxLength: 64 })
const distinctIkms = (min: number, max: number) =>
  fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
    minLength: min,
    maxLength: max,
    selector: bytesToHex,
  })

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice()
  const index = bit % (out.length * 8)
  out[index >> 3]! ^= 1 << (index & 7)
  return out
}

describe.each(['blst', 'noble'] as const)('%s backend properties', (backend) => {
  const bls = instances[backend]
  const numRuns = runs[backend]

  it('verifies what it signs', () => {
    fc.assert(
      fc.property(ikm, message, (seed, msg) => {
        const { secretKey, publicKey } = bls.keygen(seed)
        expect(bls.verify(bls.sign(msg, secretKey), msg, publicKey)).toBe(true)
      }),
      { numRuns },
    )
  })

  it('rejects a signature after any single bit flip of signature, message or key', () => {
    fc.assert(
      fc.property(
        ikm,
        fc.uint8Array({ minLength: 1, maxLength: 48 }),
        fc.nat(),
        fc.constantFrom('signature', 'message', 'publicKey'),
        (seed, msg, bit, target) => {
          const { secretKey, publicKey } = bls.keygen(seed)
          const signature = bls.sign(msg, secretKey)
          const verified =
            target === 'signature'
              ? bls.verify(flipBit(signature, bit), msg, publicKey)
              : target === 'message'
                ? bls.verify(signature, flipBit(msg, bit), publicKey)
                : bls.verify(signature, msg, flipBit(publicKey, bit))
          expect(verified).toBe(false)
        },
      ),
      { numRuns: numRuns * 2 },
    )
  })

  it('fastAggregateVerify(agg(sigs), m, pks) ⇔ verify(agg(sigs), m, aggregatePublicKeys(pks))', () => {
    fc.assert(
      fc.property(distinctIkms(1, 4), message, fc.boolean(), (seeds, msg, dropOne) => {
        const keys = seeds.map((seed) => bls.keygen(seed))
        const signers = dropOne && keys.length > 1 ? keys.slice(1) : keys
        const aggregate = bls.aggregateSignatures(signers.map((k) => bls.sign(msg, k.secretKey)))
        const publicKeys = keys.map((k) => k.publicKey)
        const fast = bls.fastAggregateVerify(aggregate, msg, publicKeys)
        expect(fast).toBe(signers === keys)
        expect(bls.verify(aggregate, msg, bls.aggregatePublicKeys(publicKeys))).toBe(fast)
      }),
      { numRuns },
    )
  })

  it('aggregateVerify accepts distinct messages in order and rejects them reordered', () => {
    fc.assert(
      fc.property(
        distinctIkms(2, 4),
        fc.uniqueArray(message, { minLength: 4, maxLength: 4, selector: bytesToHex }),
        (seeds, messages) => {
          const keys = seeds.map((seed) => bls.keygen(seed))
          const signed = messages.slice(0, keys.length)
          const aggregate = bls.aggregateSignatures(
            keys.map((k, i) => bls.sign(signed[i]!, k.secretKey)),
          )
          const publicKeys = keys.map((k) => k.publicKey)
          expect(bls.aggregateVerify(aggregate, signed, publicKeys)).toBe(true)
          const rotated = [...signed.slice(1), signed[0]!]
          expect(bls.aggregateVerify(aggregate, rotated, publicKeys)).toBe(false)
        },
      ),
      { numRuns },
    )
  })

  it('popVerify accepts a proof for its own key and rejects it for any other', () => {
    fc.assert(
      fc.property(distinctIkms(2, 2), ([first, second]) => {
        const prover = bls.keygen(first!)
        const other = bls.keygen(second!)
        const proof = bls.popProve(prover.secretKey)
        expect(bls.popVerify(proof, prover.publicKey)).toBe(true)
        expect(bls.popVerify(proof, other.publicKey)).toBe(false)
      }),
      // Proofs run on noble under either backend.
      { numRuns: runs.noble },
    )
  })

  it('verifyBatch finds one bad set among many', () => {
    fc.assert(
      fc.property(
        distinctIkms(3, backend === 'blst' ? 12 : 5),
        fc.nat(),
        fc.constantFrom('wrong key', 'wrong message', 'wrong signature'),
        (seeds, badIndex, fault) => {
          const keys = seeds.map((seed) => blst.keygen(seed))
          // Half the sets share a message, as consensus votes do; the rest sign their own.
          const messages = keys.map((_, i) =>
            new TextEncoder().encode(`vote ${i % 2 === 0 ? 0 : i}`),
          )
          const sets = keys.map((k, i) => ({
            signature: blst.sign(messages[i]!, k.secretKey),
            message: messages[i]!,
            publicKey: k.publicKey,
          }))
          expect(bls.verifyBatch(sets)).toBe(true)
          const bad = badIndex % sets.length
          const neighbour = sets[(bad + 1) % sets.length]!
          const set = sets[bad]!
          sets[bad] =
            fault === 'wrong key'
              ? { ...set, publicKey: neighbour.publicKey }
              : fault === 'wrong message'
                ? { ...set, message: new TextEncoder().encode('forged') }
                : {
                    ...set,
                    signature: blst.sign(set.message, keys[(bad + 1) % keys.length]!.secretKey),
                  }
          expect(bls.verifyBatch(sets)).toBe(false)
        },
      ),
      { numRuns },
    )
  })
})

describe('blst and noble agree', () => {
  it('derive the same keys, as the reference KeyGen does', () => {
    fc.assert(
      fc.property(ikm, (seed) => {
        const fromBlst = blst.keygen(seed)
        const fromNoble = noble.keygen(seed)
        expect(bytesToHex(fromNoble.secretKey)).toBe(bytesToHex(fromBlst.secretKey))
        expect(bytesToHex(keygenScalar(seed))).toBe(bytesToHex(fromBlst.secretKey))
        expect(bytesToHex(fromNoble.publicKey)).toBe(bytesToHex(fromBlst.publicKey))
      }),
      { numRuns: 20 },
    )
  })

  it('produce byte-identical signatures, proofs and aggregates', () => {
    fc.assert(
      fc.property(distinctIkms(1, 3), message, (seeds, msg) => {
        const keys = seeds.map((seed) => blst.keygen(seed))
        const signatures = keys.map((k) => blst.sign(msg, k.secretKey))
        const nobleSignatures = keys.map((k) => noble.sign(msg, k.secretKey))
        expect(nobleSignatures.map(bytesToHex)).toEqual(signatures.map(bytesToHex))
        expect(bytesToHex(noble.aggregateSignatures(signatures))).toBe(
          bytesToHex(blst.aggregateSignatures(signatures)),
        )
        const publicKeys = keys.map((k) => k.publicKey)
        expect(bytesToHex(noble.aggregatePublicKeys(publicKeys))).toBe(
          bytesToHex(blst.aggregatePublicKeys(publicKeys)),
        )
        expect(bytesToHex(noble.popProve(keys[0]!.secretKey))).toBe(
          bytesToHex(blst.popProve(keys[0]!.secretKey)),
        )
      }),
      { numRuns: 4 },
    )
  })

  it('give the same verify answer for valid and corrupted signatures', () => {
    fc.assert(
      fc.property(ikm, message, fc.option(fc.nat(), { nil: undefined }), (seed, msg, bit) => {
        const { secretKey, publicKey } = blst.keygen(seed)
        const signed = blst.sign(msg, secretKey)
        const signature = bit === undefined ? signed : flipBit(signed, bit)
        const answer = blst.verify(signature, msg, publicKey)
        expect(answer).toBe(bit === undefined)
        expect(noble.verify(signature, msg, publicKey)).toBe(answer)
        expect(noble.isValidSignature(signature)).toBe(blst.isValidSignature(signature))
      }),
      { numRuns: 8 },
    )
  })
})
