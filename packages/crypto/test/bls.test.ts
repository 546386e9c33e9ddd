// The behaviour of @metanode/crypto/bls that callers rely on beyond the conformance vectors:
// argument checking, key derivation, the never-throw verification contract, and the key cache.
import { describe, expect, it } from 'vitest'
import {
  type BlsBackend,
  createBls,
  bls as defaultBls,
  hashToG2,
  MIN_IKM_LENGTH,
  POP_DST,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_DST,
  SIGNATURE_LENGTH,
} from '../src/bls.js'
import { cacheKey, LruCache } from '../src/bls-noble.js'
import { bytesToHex, hexToBytes } from './helpers/vectors.js'

const backends: BlsBackend[] = ['blst', 'noble']
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const isPlainUint8Array = (value: unknown): boolean =>
  value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype

const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n
const scalarBytes = (value: bigint): Uint8Array => hexToBytes(value.toString(16).padStart(64, '0'))
const G1_INFINITY = hexToBytes(`c0${'00'.repeat(47)}`)
const G2_INFINITY = hexToBytes(`c0${'00'.repeat(95)}`)
// On the curve but outside G2: ethereum-bls12-381-tests deserialization_fails_not_in_G2.json
const G2_NOT_IN_SUBGROUP = hexToBytes(
  `8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef`,
)

// EIP-2333 test cases 0 and 1: derive_master_SK(seed), which is IETF KeyGen with empty key_info.
const EIP2333_CASES = [
  {
    seed: 'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
    masterSecretKey: 6083874454709270928345386274498605044986640685124978867557563392430687146096n,
  },
  {
    seed: '3141592653589793238462643383279502884197169399375105820974944592',
    masterSecretKey: 29757020647961307431480504535336562678282505419141012933316116377660817309383n,
  },
]

describe('bls module', () => {
  it('exposes the ciphersuite sizes and tags', () => {
    expect([SECRET_KEY_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, MIN_IKM_LENGTH]).toEqual([
      32, 48, 96, 32,
    ])
    expect(SIGNATURE_DST).toBe('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_')
    expect(POP_DST).toBe('BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_')
  })

  it('defaults to the native blst backend on this platform', () => {
    expect(defaultBls.backend).toBe('blst')
    expect(createBls().backend).toBe('blst')
    expect(createBls({ backend: 'noble' }).backend).toBe('noble')
  })

  it('rejects unknown options', () => {
    expect(() => createBls(null as never)).toThrow(TypeError)
    expect(() => createBls({ backend: 'openssl' as never })).toThrow(RangeError)
  })

  it('hashToG2 defaults to the signing DST, so sign with sk = 1 equals the hash', () => {
    const message = utf8('hash me')
    const one = scalarBytes(1n)
    expect(bytesToHex(hashToG2(message))).toBe(bytesToHex(defaultBls.sign(message, one)))
    expect(bytesToHex(hashToG2(message, SIGNATURE_DST))).toBe(bytesToHex(hashToG2(message)))
    expect(bytesToHex(hashToG2(message, POP_DST))).not.toBe(bytesToHex(hashToG2(message)))
    expect(hashToG2(message).length).toBe(SIGNATURE_LENGTH)
    expect(isPlainUint8Array(hashToG2(message))).toBe(true)
  })

  it('hashToG2 checks its arguments', () => {
    expect(() => hashToG2('text' as never)).toThrow(TypeError)
    expect(() => hashToG2(new Uint8Array(1), 42 as never)).toThrow(TypeError)
    expect(() => hashToG2(new Uint8Array(1), '')).toThrow(RangeError)
    expect(() => hashToG2(new Uint8Array(1), new Uint8Array(0))).toThrow(RangeError)
  })
})

describe.each(backends)('%s backend', (backend) => {
  const bls = createBls({ backend })
  const alice = bls.keygen(new Uint8Array(32).fill(1))
  const bob = bls.keygen(new Uint8Array(32).fill(2))
  const message = utf8('commit block 7')
  const aliceSignature = bls.sign(message, alice.secretKey)
  const bobSignature = bls.sign(message, bob.secretKey)

  describe('keys', () => {
    it.each(EIP2333_CASES)('keygen matches EIP-2333 derive_master_SK (seed $seed)', (vector) => {
      const { secretKey, publicKey } = bls.keygen(hexToBytes(vector.seed))
      expect(secretKey).toEqual(scalarBytes(vector.masterSecretKey))
      expect(publicKey).toEqual(bls.getPublicKey(secretKey))
    })

    it('keygen without ikm gives fresh, valid key pairs', () => {
      const first = bls.keygen()
      const second = bls.keygen()
      expect(first.secretKey.length).toBe(SECRET_KEY_LENGTH)
      expect(first.publicKey.length).toBe(PUBLIC_KEY_LENGTH)
      expect(bytesToHex(first.secretKey)).not.toBe(bytesToHex(second.secretKey))
      expect(bls.isValidPublicKey(first.publicKey)).toBe(true)
      expect(isPlainUint8Array(first.secretKey)).toBe(true)
      expect(isPlainUint8Array(first.publicKey)).toBe(true)
    })

    it('keygen needs at least 32 bytes of ikm', () => {
      expect(() => bls.keygen(new Uint8Array(31))).toThrow(RangeError)
      expect(() => bls.keygen('seed' as never)).toThrow(TypeError)
      expect(bls.keygen(new Uint8Array(64)).secretKey.length).toBe(SECRET_KEY_LENGTH)
    })

    it('accepts every scalar in [1, r) and nothing else as a secret key', () => {
      expect(bls.getPublicKey(scalarBytes(1n)).length).toBe(PUBLIC_KEY_LENGTH)
      expect(bls.isValidPublicKey(bls.getPublicKey(scalarBytes(CURVE_ORDER - 1n)))).toBe(true)
      for (const bad of [scalarBytes(0n), scalarBytes(CURVE_ORDER), new Uint8Array(32).fill(255)]) {
        expect(() => bls.getPublicKey(bad)).toThrow(RangeError)
        expect(() => bls.sign(message, bad)).toThrow(RangeError)
        expect(() => bls.popProve(bad)).toThrow(RangeError)
      }
      expect(() => bls.getPublicKey(new Uint8Array(31).fill(1))).toThrow(RangeError)
      expect(() => bls.getPublicKey(new Uint8Array(33).fill(1))).toThrow(RangeError)
      expect(() => bls.getPublicKey([1, 2, 3] as never)).toThrow(TypeError)
    })
  })

  describe('sign and verify', () => {
    it('signs deterministically and returns plain 96-byte arrays', () => {
      expect(bls.sign(message, alice.secretKey)).toEqual(aliceSignature)
      expect(aliceSignature.length).toBe(SIGNATURE_LENGTH)
      expect(isPlainUint8Array(aliceSignature)).toBe(true)
    })

    it('verifies a signature only for its own key and message', () => {
      expect(bls.verify(aliceSignature, message, alice.publicKey)).toBe(true)
      expect(bls.verify(aliceSignature, message, bob.publicKey)).toBe(false)
      expect(bls.verify(aliceSignature, utf8('commit block 8'), alice.publicKey)).toBe(false)
    })

    it('signs and verifies the empty message', () => {
      const signature = bls.sign(new Uint8Array(0), alice.secretKey)
      expect(bls.verify(signature, new Uint8Array(0), alice.publicKey)).toBe(true)
    })

    it('returns false, never throws, for wrong lengths and invalid points', () => {
      expect(bls.verify(aliceSignature.subarray(0, 95), message, alice.publicKey)).toBe(false)
      expect(bls.verify(aliceSignature, message, alice.publicKey.subarray(1))).toBe(false)
      expect(bls.verify(new Uint8Array(96), message, alice.publicKey)).toBe(false)
      expect(bls.verify(aliceSignature, message, new Uint8Array(48))).toBe(false)
      expect(bls.verify(G2_INFINITY, message, alice.publicKey)).toBe(false)
      expect(bls.verify(G2_INFINITY, message, G1_INFINITY)).toBe(false)
      expect(bls.verify(aliceSignature, message, G1_INFINITY)).toBe(false)
    })

    it('throws TypeError for arguments that are not byte arrays', () => {
      expect(() => bls.verify('sig' as never, message, alice.publicKey)).toThrow(TypeError)
      expect(() => bls.verify(aliceSignature, 'msg' as never, alice.publicKey)).toThrow(TypeError)
      expect(() => bls.verify(aliceSignature, message, null as never)).toThrow(TypeError)
      expect(() => bls.sign('msg' as never, alice.secretKey)).toThrow(TypeError)
    })

    it('validates public keys and signatures, rejecting the identity', () => {
      expect(bls.isValidPublicKey(alice.publicKey)).toBe(true)
      expect(bls.isValidSignature(aliceSignature)).toBe(true)
      expect(bls.isValidPublicKey(G1_INFINITY)).toBe(false)
      expect(bls.isValidSignature(G2_INFINITY)).toBe(false)
      expect(bls.isValidPublicKey(aliceSignature)).toBe(false)
      expect(bls.isValidSignature(alice.publicKey)).toBe(false)
      expect(bls.isValidPublicKey(new Uint8Array(48))).toBe(false)
      expect(() => bls.isValidPublicKey('00' as never)).toThrow(TypeError)
      expect(() => bls.isValidSignature(undefined as never)).toThrow(TypeError)
    })
  })

  describe('aggregation', () => {
    const aggregate = bls.aggregateSignatures([aliceSignature, bobSignature])

    it('aggregates signatures and keys over one message', () => {
      const keys = [alice.publicKey, bob.publicKey]
      expect(bls.fastAggregateVerify(aggregate, message, keys)).toBe(true)
      expect(bls.verify(aggregate, message, bls.aggregatePublicKeys(keys))).toBe(true)
      expect(bls.fastAggregateVerify(aggregate, message, [alice.publicKey])).toBe(false)
      expect(bls.aggregateSignatures([aliceSignature])).toEqual(aliceSignature)
      expect(bls.aggregatePublicKeys([alice.publicKey])).toEqual(alice.publicKey)
    })

    it('refuses to aggregate nothing or invalid points', () => {
      expect(() => bls.aggregateSignatures([])).toThrow(RangeError)
      expect(() => bls.aggregatePublicKeys([])).toThrow(RangeError)
      expect(() => bls.aggregateSignatures([aliceSignature, new Uint8Array(96)])).toThrow(
        /signatures\[1\]/,
      )
      expect(() => bls.aggregatePublicKeys([alice.publicKey, G1_INFINITY])).toThrow(RangeError)
      expect(() => bls.aggregateSignatures([aliceSignature.subarray(1)])).toThrow(RangeError)
      expect(() => bls.aggregatePublicKeys([alice.publicKey.subarray(1)])).toThrow(RangeError)
      expect(() => bls.aggregateSignatures(aliceSignature as never)).toThrow(TypeError)
      expect(() => bls.aggregatePublicKeys(['ab'] as never)).toThrow(TypeError)
    })

    it('fastAggregateVerify is false without keys or with a bad one', () => {
      expect(bls.fastAggregateVerify(aggregate, message, [])).toBe(false)
      expect(bls.fastAggregateVerify(aggregate, message, [alice.publicKey, G1_INFINITY])).toBe(
        false,
      )
      expect(
        bls.fastAggregateVerify(aggregate, message, [alice.publicKey, bob.publicKey.subarray(1)]),
      ).toBe(false)
      expect(bls.fastAggregateVerify(aggregate.subarray(1), message, [alice.publicKey])).toBe(false)
      expect(() => bls.fastAggregateVerify(aggregate, message, 'keys' as never)).toThrow(TypeError)
    })

    it('verifyAndAggregate returns the aggregate exactly when aggregate + fastAggregateVerify accept', () => {
      const keys = [alice.publicKey, bob.publicKey]
      const result = bls.verifyAndAggregate([aliceSignature, bobSignature], message, keys)
      expect(result).toEqual(aggregate)
      expect(isPlainUint8Array(result)).toBe(true)
      // order-independent, like the sum it is
      expect(bls.verifyAndAggregate([bobSignature, aliceSignature], message, keys)).toEqual(
        aggregate,
      )
      expect(bls.verifyAndAggregate([aliceSignature], message, [alice.publicKey])).toEqual(
        aliceSignature,
      )
      // a seal under the wrong key, the wrong message, a missing or extra key
      expect(bls.verifyAndAggregate([aliceSignature, aliceSignature], message, keys)).toBe(
        undefined,
      )
      expect(bls.verifyAndAggregate([aliceSignature, bobSignature], utf8('x'), keys)).toBe(
        undefined,
      )
      expect(bls.verifyAndAggregate([aliceSignature], message, keys)).toBe(undefined)
      expect(bls.verifyAndAggregate([], message, [])).toBe(undefined)
    })

    it('verifyAndAggregate refuses points outside G2, off the curve, infinity and bad keys', () => {
      const keys = [alice.publicKey, bob.publicKey]
      expect(bls.isValidSignature(G2_NOT_IN_SUBGROUP)).toBe(false)
      expect(bls.verifyAndAggregate([aliceSignature, G2_NOT_IN_SUBGROUP], message, keys)).toBe(
        undefined,
      )
      const offCurve = bobSignature.slice()
      offCurve[95] = (offCurve[95] as number) ^ 1
      expect(bls.verifyAndAggregate([aliceSignature, offCurve], message, keys)).toBe(undefined)
      expect(bls.verifyAndAggregate([G2_INFINITY], message, [alice.publicKey])).toBe(undefined)
      expect(bls.verifyAndAggregate([aliceSignature, G2_INFINITY], message, keys)).toBe(undefined)
      expect(
        bls.verifyAndAggregate([aliceSignature, bobSignature], message, [
          alice.publicKey,
          G1_INFINITY,
        ]),
      ).toBe(undefined)
      expect(
        bls.verifyAndAggregate([aliceSignature.subarray(1), bobSignature], message, keys),
      ).toBe(undefined)
      expect(() => bls.verifyAndAggregate('x' as never, message, keys)).toThrow(TypeError)
      expect(() => bls.verifyAndAggregate([aliceSignature], 'm' as never, keys)).toThrow(TypeError)
    })

    it('aggregateVerify needs equal-length, non-empty lists and allows repeated messages', () => {
      const other = utf8('other')
      const mixed = bls.aggregateSignatures([aliceSignature, bls.sign(other, bob.secretKey)])
      const keys = [alice.publicKey, bob.publicKey]
      expect(bls.aggregateVerify(mixed, [message, other], keys)).toBe(true)
      expect(bls.aggregateVerify(mixed, [other, message], keys)).toBe(false)
      expect(bls.aggregateVerify(aggregate, [message, message], keys)).toBe(true)
      expect(bls.aggregateVerify(mixed, [message], keys)).toBe(false)
      expect(bls.aggregateVerify(mixed, [], [])).toBe(false)
      expect(bls.aggregateVerify(mixed, [message, other], [alice.publicKey, G1_INFINITY])).toBe(
        false,
      )
      expect(() => bls.aggregateVerify(mixed, message as never, keys)).toThrow(TypeError)
    })
  })

  describe('verifyBatch', () => {
    const sets = [
      { signature: aliceSignature, message, publicKey: alice.publicKey },
      { signature: bobSignature, message, publicKey: bob.publicKey },
      {
        signature: bls.sign(utf8('other'), bob.secretKey),
        message: utf8('other'),
        publicKey: bob.publicKey,
      },
    ]

    it('accepts only a non-empty list of valid sets', () => {
      expect(bls.verifyBatch(sets)).toBe(true)
      expect(bls.verifyBatch([])).toBe(false)
      expect(bls.verifyBatch([{ ...sets[0]!, publicKey: bob.publicKey }, ...sets.slice(1)])).toBe(
        false,
      )
      expect(bls.verifyBatch([...sets, { ...sets[0]!, signature: G2_INFINITY }])).toBe(false)
      expect(bls.verifyBatch([...sets, { ...sets[0]!, publicKey: G1_INFINITY }])).toBe(false)
      expect(bls.verifyBatch([{ ...sets[0]!, signature: aliceSignature.subarray(2) }])).toBe(false)
    })

    it('rejects two invalid sets whose errors cancel in an unblinded sum', () => {
      // Swapping the signatures of two keys on one message keeps Σσ = σ_A + σ_B, which a naive
      // aggregate check would accept; the random scalars make the swap fail.
      const swapped = [
        { signature: bobSignature, message, publicKey: alice.publicKey },
        { signature: aliceSignature, message, publicKey: bob.publicKey },
      ]
      expect(bls.verifyBatch(swapped)).toBe(false)
    })

    it('throws TypeError for malformed sets', () => {
      expect(() => bls.verifyBatch('sets' as never)).toThrow(TypeError)
      expect(() => bls.verifyBatch([null] as never)).toThrow(TypeError)
      expect(() => bls.verifyBatch([{ ...sets[0]!, message: 'm' }] as never)).toThrow(TypeError)
    })
  })

  describe('proof of possession', () => {
    const proof = bls.popProve(alice.secretKey)

    it('proves possession of exactly the prover key', () => {
      expect(proof.length).toBe(SIGNATURE_LENGTH)
      expect(bls.popProve(alice.secretKey)).toEqual(proof)
      expect(bls.popVerify(proof, alice.publicKey)).toBe(true)
      expect(bls.popVerify(proof, bob.publicKey)).toBe(false)
    })

    it('is domain-separated from signatures over the public key', () => {
      const signatureOverKey = bls.sign(alice.publicKey, alice.secretKey)
      expect(bls.popVerify(signatureOverKey, alice.publicKey)).toBe(false)
      expect(bls.verify(proof, alice.publicKey, alice.publicKey)).toBe(false)
    })

    it('returns false for malformed input and TypeError for wrong types', () => {
      expect(bls.popVerify(proof.subarray(1), alice.publicKey)).toBe(false)
      expect(bls.popVerify(G2_INFINITY, alice.publicKey)).toBe(false)
      expect(bls.popVerify(proof, G1_INFINITY)).toBe(false)
      expect(() => bls.popVerify('proof' as never, alice.publicKey)).toThrow(TypeError)
    })
  })
})

describe('public key cache', () => {
  it('never holds more than its capacity', () => {
    const cache = new LruCache<number>(8)
    for (let i = 0; i < 100; i++) {
      cache.set(`key ${i}`, i)
      expect(cache.size).toBeLessThanOrEqual(8)
    }
    expect(cache.get('key 99')).toBe(99)
    expect(cache.get('key 0')).toBeUndefined()
  })

  it('keeps an entry that is used while many others stream through', () => {
    const cache = new LruCache<string>(8)
    cache.set('validator', 'hot')
    for (let i = 0; i < 100; i++) {
      cache.set(`one-off ${i}`, 'cold')
      expect(cache.get('validator')).toBe('hot')
    }
    expect(cache.get('one-off 0')).toBeUndefined()
  })

  it('keys distinct byte strings apart', () => {
    const keys = [
      new Uint8Array([0]),
      new Uint8Array([0, 0]),
      new Uint8Array([1]),
      new Uint8Array(0),
    ]
    expect(new Set(keys.map(cacheKey)).size).toBe(keys.length)
    const long = new Uint8Array(10_000).map((_, i) => i & 0xff)
    const longer = long.slice()
    longer[9_999]! ^= 1
    expect(cacheKey(long)).not.toBe(cacheKey(longer))
    expect(cacheKey(long).length).toBe(10_000)
  })
})
