import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { domainHash } from '../src/hash.js'
import {
  createX25519,
  InvalidKeyError,
  LowOrderPointError,
  mlkem768,
  X25519_MLKEM768_TAG,
  type X25519Backend,
  x25519,
  x25519Backend,
  x25519MlKem768,
} from '../src/kex.js'
import { bytesToHex, hexToBytes, readVectorJson } from './helpers/vectors.js'

interface XdhVector {
  tcId: number
  comment: string
  flags: string[]
  public: string
  private: string
  shared: string
  result: 'valid' | 'invalid' | 'acceptable'
}

const BACKENDS: X25519Backend[] = ['node', 'noble']
const xdhTests = readVectorJson<{ testGroups: { tests: XdhVector[] }[] }>(
  'wycheproof/x25519_test.json.gz',
).testGroups.flatMap((g) => g.tests)

const ALL_ZERO = '00'.repeat(32)

// Wycheproof leaves these cases to the implementation ('acceptable'). Where the RFC 7748 result is
// not all zero we compute and return it, as RFC 7748 prescribes, and pin that answer per flag:
const ACCEPTED_NON_ZERO_FLAGS: Record<string, string> = {
  // The point is on the quadratic twist: X25519 is defined there too and, with clamped scalars,
  // leaks nothing about the secret key (RFC 7748 §5, Curve25519 paper §3).
  Twist: 'computed',
  // u >= 2^255 - 19 or the top bit set: RFC 7748 §5 masks the top bit and reduces mod p, and §7
  // recommends accepting such keys.
  NonCanonicalPublic: 'reduced mod p and computed',
  // Descriptive flags that ride along with the two above; the result is still the RFC 7748 one.
  SpecialPublicKey: 'computed',
  EdgeCaseShared: 'computed',
  EdgeCaseMultiplication: 'computed',
  Ktv: 'computed',
}

describe.each(BACKENDS)('X25519 Wycheproof on the %s backend', (backend) => {
  const impl = createX25519({ backend })

  it('valid vectors give the exact shared secret', () => {
    const failures: number[] = []
    const valid = xdhTests.filter((t) => t.result === 'valid')
    for (const t of valid) {
      expect(t.shared).not.toBe(ALL_ZERO)
      const shared = impl.getSharedSecret(hexToBytes(t.private), hexToBytes(t.public))
      if (bytesToHex(shared) !== t.shared) failures.push(t.tcId)
    }
    expect(failures).toEqual([])
    expect(valid.length).toBeGreaterThan(200)
  })

  it('every case with an all-zero shared secret throws LowOrderPointError', () => {
    const zero = xdhTests.filter((t) => t.flags.includes('ZeroSharedSecret'))
    expect(zero.length).toBeGreaterThan(20)
    for (const t of zero) {
      expect(t.shared).toBe(ALL_ZERO)
      expect(() => impl.getSharedSecret(hexToBytes(t.private), hexToBytes(t.public))).toThrow(
        LowOrderPointError,
      )
    }
  })

  it("'acceptable' cases with a non-zero result give the RFC 7748 answer, pinned per flag", () => {
    const accepted = xdhTests.filter((t) => t.result === 'acceptable' && t.shared !== ALL_ZERO)
    expect(accepted.length).toBeGreaterThan(200)
    const seenFlags = new Set<string>()
    const failures: number[] = []
    for (const t of accepted) {
      for (const flag of t.flags) {
        // A flag we have not reviewed must fail here, not slip through.
        expect(ACCEPTED_NON_ZERO_FLAGS).toHaveProperty(flag)
        seenFlags.add(flag)
      }
      const shared = impl.getSharedSecret(hexToBytes(t.private), hexToBytes(t.public))
      if (bytesToHex(shared) !== t.shared) failures.push(t.tcId)
    }
    expect(failures).toEqual([])
    expect(seenFlags).toContain('Twist')
    expect(seenFlags).toContain('NonCanonicalPublic')
  })

  it('no vector is invalid outright', () => {
    // Every X25519 input is a valid computation; Wycheproof marks none 'invalid'. Should a future
    // version add one, this test makes us decide what to do with it.
    expect(xdhTests.filter((t) => t.result === 'invalid')).toEqual([])
  })

  it('derives public keys that agree with the other party', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (a, b) => {
          const alice = impl.keygen(a)
          const bob = impl.keygen(b)
          expect(impl.getSharedSecret(alice.secretKey, bob.publicKey)).toEqual(
            impl.getSharedSecret(bob.secretKey, alice.publicKey),
          )
        },
      ),
      { numRuns: 10 },
    )
  })
})

describe('x25519', () => {
  it('uses node:crypto under Node; createX25519 picks a backend', () => {
    expect(x25519Backend).toBe('node')
    expect(x25519).toBe(createX25519({ backend: 'node' }))
    expect(createX25519({ backend: 'noble' })).not.toBe(x25519)
    expect(() => createX25519({ backend: 'wasm' as X25519Backend })).toThrow(TypeError)
  })

  it('backends agree on public keys and shared secrets', () => {
    const node = createX25519({ backend: 'node' })
    const noble = createX25519({ backend: 'noble' })
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (secretKey, peerPublicKey) => {
          expect(bytesToHex(node.getPublicKey(secretKey))).toBe(
            bytesToHex(noble.getPublicKey(secretKey)),
          )
          let fromNode: unknown
          let fromNoble: unknown
          try {
            fromNode = bytesToHex(node.getSharedSecret(secretKey, peerPublicKey))
          } catch (error) {
            fromNode = (error as Error).name
          }
          try {
            fromNoble = bytesToHex(noble.getSharedSecret(secretKey, peerPublicKey))
          } catch (error) {
            fromNoble = (error as Error).name
          }
          expect(fromNode).toBe(fromNoble)
        },
      ),
      { numRuns: 30 },
    )
  })

  it('keygen with a seed uses the seed as the secret key; without, it is random', () => {
    const seed = new Uint8Array(32).fill(1)
    const pair = x25519.keygen(seed)
    expect(pair.secretKey).toEqual(seed)
    expect(pair.secretKey).not.toBe(seed) // a copy, the caller may wipe its seed
    expect(pair.publicKey).toEqual(x25519.getPublicKey(seed))
    expect(x25519.keygen(seed)).toEqual(pair)
    const a = x25519.keygen()
    const b = x25519.keygen()
    expect(a.secretKey).toHaveLength(32)
    expect(bytesToHex(a.secretKey)).not.toBe(bytesToHex(b.secretKey))
  })

  it('rejects known low-order points as LowOrderPointError, an InvalidKeyError', () => {
    const secretKey = x25519.keygen().secretKey
    const lowOrder = [
      ALL_ZERO,
      `01${'00'.repeat(31)}`,
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p, i.e. 0
    ]
    for (const backend of BACKENDS) {
      for (const point of lowOrder) {
        try {
          createX25519({ backend }).getSharedSecret(secretKey, hexToBytes(point))
          expect.unreachable(`${backend} accepted low-order point ${point}`)
        } catch (error) {
          expect(error).toBeInstanceOf(LowOrderPointError)
          expect(error).toBeInstanceOf(InvalidKeyError)
          expect((error as Error).name).toBe('LowOrderPointError')
        }
      }
    }
  })

  it('checks argument types and lengths, and returns plain Uint8Arrays', () => {
    const { secretKey, publicKey } = x25519.keygen()
    for (const backend of BACKENDS) {
      const impl = createX25519({ backend })
      expect(() => impl.keygen(new Uint8Array(31))).toThrow(RangeError)
      expect(() => impl.getPublicKey(new Uint8Array(33))).toThrow(RangeError)
      expect(() => impl.getSharedSecret(secretKey, new Uint8Array(31))).toThrow(RangeError)
      expect(() => impl.getSharedSecret(new Uint8Array(64), publicKey)).toThrow(RangeError)
      expect(() => impl.getPublicKey('00'.repeat(32) as unknown as Uint8Array)).toThrow(TypeError)
      expect(() =>
        impl.getSharedSecret(secretKey, [...publicKey] as unknown as Uint8Array),
      ).toThrow(TypeError)
      const shared = impl.getSharedSecret(Buffer.from(secretKey), Buffer.from(publicKey))
      expect(Object.getPrototypeOf(shared)).toBe(Uint8Array.prototype)
      expect(Object.getPrototypeOf(impl.getPublicKey(secretKey))).toBe(Uint8Array.prototype)
    }
  })
})

describe('mlkem768', () => {
  const seed = Uint8Array.from({ length: 64 }, (_, i) => i)
  const keys = mlkem768.keygen(seed)

  it('round-trips with the FIPS 203 sizes', () => {
    expect(mlkem768.lengths).toMatchObject({
      publicKey: 1184,
      secretKey: 2400,
      cipherText: 1088,
      sharedSecret: 32,
      keygenSeed: 64,
      encapsulateSeed: 32,
    })
    expect(keys.publicKey).toHaveLength(1184)
    expect(keys.secretKey).toHaveLength(2400)
    const { cipherText, sharedSecret } = mlkem768.encapsulate(keys.publicKey)
    expect(cipherText).toHaveLength(1088)
    expect(sharedSecret).toHaveLength(32)
    expect(mlkem768.decapsulate(cipherText, keys.secretKey)).toEqual(sharedSecret)
  })

  it('derives keys deterministically from the 64-byte seed d ‖ z, as FIPS 203 KeyGen_internal', () => {
    expect(mlkem768.keygen(seed)).toEqual(keys)
    expect(mlkem768.keygen(seed)).toEqual(ml_kem768.keygen(seed))
    const other = mlkem768.keygen(Uint8Array.from({ length: 64 }, (_, i) => i + 1))
    expect(bytesToHex(other.publicKey)).not.toBe(bytesToHex(keys.publicKey))
    expect(bytesToHex(mlkem768.keygen().publicKey)).not.toBe(
      bytesToHex(mlkem768.keygen().publicKey),
    )
  })

  it('encapsulates deterministically from a 32-byte seed, randomly without one', () => {
    const m = new Uint8Array(32).fill(5)
    const a = mlkem768.encapsulate(keys.publicKey, m)
    expect(mlkem768.encapsulate(keys.publicKey, m)).toEqual(a)
    expect(a).toEqual(ml_kem768.encapsulate(keys.publicKey, m))
    const b = mlkem768.encapsulate(keys.publicKey)
    expect(bytesToHex(b.sharedSecret)).not.toBe(bytesToHex(a.sharedSecret))
  })

  it('answers a tampered ciphertext with a different secret, not an error (implicit rejection)', () => {
    const { cipherText, sharedSecret } = mlkem768.encapsulate(keys.publicKey)
    for (const index of [0, 500, 1087]) {
      const tampered = new Uint8Array(cipherText)
      tampered[index]! ^= 0x01
      const rejected = mlkem768.decapsulate(tampered, keys.secretKey)
      expect(rejected).toHaveLength(32)
      expect(bytesToHex(rejected)).not.toBe(bytesToHex(sharedSecret))
      // Deterministic: the same bad ciphertext always maps to the same pseudorandom secret.
      expect(mlkem768.decapsulate(tampered, keys.secretKey)).toEqual(rejected)
    }
    const stranger = mlkem768.keygen()
    expect(bytesToHex(mlkem768.decapsulate(cipherText, stranger.secretKey))).not.toBe(
      bytesToHex(sharedSecret),
    )
  })

  it('rejects wrong lengths with RangeError and non-bytes with TypeError', () => {
    const { cipherText } = mlkem768.encapsulate(keys.publicKey)
    expect(() => mlkem768.keygen(new Uint8Array(32))).toThrow(RangeError)
    expect(() => mlkem768.encapsulate(keys.publicKey.subarray(1))).toThrow(RangeError)
    expect(() => mlkem768.encapsulate(keys.publicKey, new Uint8Array(31))).toThrow(RangeError)
    expect(() => mlkem768.decapsulate(cipherText.subarray(1), keys.secretKey)).toThrow(RangeError)
    expect(() => mlkem768.decapsulate(cipherText, keys.secretKey.subarray(1))).toThrow(RangeError)
    expect(() => mlkem768.encapsulate([...keys.publicKey] as unknown as Uint8Array)).toThrow(
      TypeError,
    )
    expect(() => mlkem768.decapsulate(cipherText, 'key' as unknown as Uint8Array)).toThrow(
      TypeError,
    )
    expect(() => mlkem768.keygen(null as unknown as Uint8Array)).toThrow(TypeError)
  })

  it('rejects a public key failing the modulus check and a secret key failing the hash check', () => {
    const badPublicKey = new Uint8Array(keys.publicKey)
    badPublicKey[0] = 0xff // the first 12-bit coefficient becomes >= q = 3329
    badPublicKey[1] = 0xff
    expect(() => mlkem768.encapsulate(badPublicKey)).toThrow(InvalidKeyError)
    const { cipherText } = mlkem768.encapsulate(keys.publicKey)
    const badSecretKey = new Uint8Array(keys.secretKey)
    badSecretKey[1500]! ^= 1 // inside the embedded public key, so H(ek) no longer matches
    expect(() => mlkem768.decapsulate(cipherText, badSecretKey)).toThrow(InvalidKeyError)
  })
})

describe('x25519MlKem768', () => {
  const seed = new Uint8Array(32).fill(0x33)
  const recipient = x25519MlKem768.keygen(seed)

  it('round-trips with the documented sizes', () => {
    expect(x25519MlKem768.lengths).toMatchObject({
      publicKey: 32 + 1184,
      secretKey: 32 + 2400,
      cipherText: 32 + 1088,
      sharedSecret: 32,
      keygenSeed: 32,
      encapsulateSeed: 32,
    })
    expect(recipient.publicKey).toHaveLength(1216)
    expect(recipient.secretKey).toHaveLength(2432)
    const { cipherText, sharedSecret } = x25519MlKem768.encapsulate(recipient.publicKey)
    expect(cipherText).toHaveLength(1120)
    expect(sharedSecret).toHaveLength(32)
    expect(x25519MlKem768.decapsulate(cipherText, recipient.secretKey)).toEqual(sharedSecret)
  })

  it('is the documented combiner over both shared secrets, both X25519 keys and ML-KEM', () => {
    const { cipherText, sharedSecret } = x25519MlKem768.encapsulate(recipient.publicKey)
    const x25519Sk = recipient.secretKey.subarray(0, 32)
    const mlkemSk = recipient.secretKey.subarray(32)
    const ephemeralPk = cipherText.subarray(0, 32)
    const mlkemCt = cipherText.subarray(32)
    // Component key pairs: the public key is their concatenation.
    expect(recipient.publicKey.subarray(0, 32)).toEqual(x25519.getPublicKey(x25519Sk))
    const mlkemPk = recipient.publicKey.subarray(32)
    const expected = domainHash(
      X25519_MLKEM768_TAG,
      mlkem768.decapsulate(mlkemCt, mlkemSk),
      x25519.getSharedSecret(x25519Sk, ephemeralPk),
      ephemeralPk,
      recipient.publicKey.subarray(0, 32),
      mlkemCt,
      mlkemPk,
    )
    expect(X25519_MLKEM768_TAG).toBe('metanode/kex/x25519-mlkem768/v1')
    expect(sharedSecret).toEqual(expected)
  })

  it('is deterministic with seeds, random without', () => {
    expect(x25519MlKem768.keygen(seed)).toEqual(recipient)
    const other = x25519MlKem768.keygen(new Uint8Array(32).fill(0x34))
    expect(bytesToHex(other.publicKey)).not.toBe(bytesToHex(recipient.publicKey))
    const encapsulationSeed = new Uint8Array(32).fill(9)
    const a = x25519MlKem768.encapsulate(recipient.publicKey, encapsulationSeed)
    expect(x25519MlKem768.encapsulate(recipient.publicKey, encapsulationSeed)).toEqual(a)
    const b = x25519MlKem768.encapsulate(recipient.publicKey)
    expect(bytesToHex(b.cipherText)).not.toBe(bytesToHex(a.cipherText))
    expect(bytesToHex(b.sharedSecret)).not.toBe(bytesToHex(a.sharedSecret))
    const fresh = x25519MlKem768.keygen()
    expect(
      x25519MlKem768.decapsulate(
        x25519MlKem768.encapsulate(fresh.publicKey).cipherText,
        fresh.secretKey,
      ),
    ).toHaveLength(32)
  })

  it('tampering with either half of the ciphertext changes the secret', () => {
    const { cipherText, sharedSecret } = x25519MlKem768.encapsulate(recipient.publicKey)
    // Byte 31's top bit is ignored by X25519 itself: only the combiner's binding of the ephemeral
    // key makes the secret change there. Byte 0 changes the X25519 point; the rest is ML-KEM's.
    for (const [index, bit] of [
      [31, 0x80],
      [0, 0x01],
      [32, 0x01],
      [600, 0x10],
      [1119, 0x80],
    ] as const) {
      const tampered = new Uint8Array(cipherText)
      tampered[index]! ^= bit
      const secret = x25519MlKem768.decapsulate(tampered, recipient.secretKey)
      expect(bytesToHex(secret)).not.toBe(bytesToHex(sharedSecret))
    }
  })

  it('a different recipient key does not agree', () => {
    const { cipherText, sharedSecret } = x25519MlKem768.encapsulate(recipient.publicKey)
    const stranger = x25519MlKem768.keygen()
    const theirs = x25519MlKem768.decapsulate(cipherText, stranger.secretKey)
    expect(bytesToHex(theirs)).not.toBe(bytesToHex(sharedSecret))
    // Mixing halves of two key pairs fails too: both halves must belong to the recipient.
    const mixed = new Uint8Array(recipient.secretKey)
    mixed.set(stranger.secretKey.subarray(0, 32))
    expect(bytesToHex(x25519MlKem768.decapsulate(cipherText, mixed))).not.toBe(
      bytesToHex(sharedSecret),
    )
  })

  it('rejects low-order X25519 keys in the public key or the ciphertext', () => {
    const badPublicKey = new Uint8Array(recipient.publicKey)
    badPublicKey.fill(0, 0, 32)
    expect(() => x25519MlKem768.encapsulate(badPublicKey)).toThrow(LowOrderPointError)
    const { cipherText } = x25519MlKem768.encapsulate(recipient.publicKey)
    const badCipherText = new Uint8Array(cipherText)
    badCipherText.fill(0, 0, 32)
    expect(() => x25519MlKem768.decapsulate(badCipherText, recipient.secretKey)).toThrow(
      LowOrderPointError,
    )
  })

  it('rejects an ML-KEM public key failing the modulus check', () => {
    const badPublicKey = new Uint8Array(recipient.publicKey)
    badPublicKey[32] = 0xff
    badPublicKey[33] = 0xff
    expect(() => x25519MlKem768.encapsulate(badPublicKey)).toThrow(InvalidKeyError)
  })

  it('rejects wrong lengths with RangeError and non-bytes with TypeError', () => {
    const { cipherText } = x25519MlKem768.encapsulate(recipient.publicKey)
    expect(() => x25519MlKem768.keygen(new Uint8Array(64))).toThrow(RangeError)
    expect(() => x25519MlKem768.encapsulate(recipient.publicKey.subarray(32))).toThrow(RangeError)
    expect(() => x25519MlKem768.encapsulate(recipient.publicKey, new Uint8Array(64))).toThrow(
      RangeError,
    )
    expect(() => x25519MlKem768.decapsulate(cipherText.subarray(32), recipient.secretKey)).toThrow(
      RangeError,
    )
    expect(() => x25519MlKem768.decapsulate(cipherText, recipient.secretKey.subarray(32))).toThrow(
      RangeError,
    )
    expect(() => x25519MlKem768.encapsulate('pk' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => x25519MlKem768.decapsulate(cipherText, {} as Uint8Array)).toThrow(TypeError)
  })
})
