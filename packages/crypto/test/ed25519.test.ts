import { createPublicKey, verify as opensslVerify } from 'node:crypto'
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js'
import { ed25519 as noble } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  createEd25519,
  type Ed25519,
  ed25519,
  ed25519Backend,
  MAX_PREPARED_KEY_CACHE_SIZE,
  PUBLIC_KEY_LENGTH,
  SECRET_KEY_LENGTH,
  SIGNATURE_LENGTH,
} from '../src/ed25519.js'
import { bytesToHex, hexToBytes, readVectorJson, readVectorText } from './helpers/vectors.js'

const nodeEd = createEd25519({ backend: 'node' })
const nobleEd = createEd25519({ backend: 'noble' })
const backends: readonly Ed25519[] = [nodeEd, nobleEd]

const Point = noble.Point
const L = Point.Fn.ORDER

/**
 * The verification policy restated independently of the implementation, with noble's point
 * decoding and group law: canonical A and R (strict decoding), neither of small order (cofactor
 * clearing gives the identity), S < L, and the cofactorless equation [S]B = R + [k]A as point
 * equality. The implementation instead uses byte tables and re-encodes R.
 */
function policyModel(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false
  let A: EdwardsPoint
  let R: EdwardsPoint
  try {
    A = Point.fromBytes(publicKey, false)
    R = Point.fromBytes(signature.subarray(0, 32), false)
  } catch {
    return false
  }
  if (A.isSmallOrder() || R.isSmallOrder()) return false
  const s = bytesToNumberLE(signature.subarray(32))
  if (s >= L) return false
  const k =
    bytesToNumberLE(
      sha512.create().update(signature.subarray(0, 32)).update(publicKey).update(message).digest(),
    ) % L
  return Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)))
}

/** The 8 points of order dividing 8, as the multiples of one point of order 8. */
const ORDER_8_POINT = Point.fromBytes(
  hexToBytes('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'),
)
const TORSION = Array.from({ length: 8 }, (_, i) =>
  i === 0 ? Point.ZERO : ORDER_8_POINT.multiplyUnsafe(BigInt(i)),
)

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice()
  out[bit >> 3]! ^= 1 << (bit & 7)
  return out
}

describe('ed25519 module', () => {
  it('uses node:crypto under Node.js and reports it', () => {
    expect(ed25519Backend).toBe('node')
    expect(ed25519.backend).toBe('node')
    expect(nodeEd.backend).toBe('node')
    expect(nobleEd.backend).toBe('noble')
    expect(createEd25519().backend).toBe(ed25519Backend)
  })

  it('exports the RFC 8032 lengths', () => {
    expect([SECRET_KEY_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH]).toEqual([32, 32, 64])
  })

  it('rejects an unknown backend name', () => {
    expect(() => createEd25519({ backend: 'openssl' as 'node' })).toThrow(TypeError)
    expect(() => createEd25519(null as unknown as object)).toThrow(TypeError)
  })

  it('takes a bounded prepared-key cache size and verifies the same with any size', () => {
    for (const bad of [0, -1, 1.5, MAX_PREPARED_KEY_CACHE_SIZE + 1, Number.NaN]) {
      expect(() => createEd25519({ preparedKeyCacheSize: bad })).toThrow(RangeError)
    }
    // a one-key cache evicts on every other call: results must not depend on hits or misses
    const tiny = createEd25519({ preparedKeyCacheSize: 1 })
    const pairs = [1, 2, 3].map((n) => tiny.keygen(new Uint8Array(32).fill(n)))
    const message = new Uint8Array([1, 2, 3])
    for (let round = 0; round < 2; round++) {
      for (const [index, pair] of pairs.entries()) {
        const signature = tiny.sign(message, pair.secretKey)
        expect(tiny.verify(signature, message, pair.publicKey)).toBe(true)
        const other = pairs[(index + 1) % pairs.length] as typeof pair
        expect(tiny.verify(signature, message, other.publicKey)).toBe(false)
      }
    }
  })
})

interface Rfc8032Vector {
  name: string
  secretKey: string
  publicKey: string
  message: string
  signature: string
}

describe.each(backends)('ed25519 ($backend backend)', (ed) => {
  it('matches rfc8032-ed25519/ed25519.json: keys, exact signatures, verification', () => {
    const vectors = readVectorJson<Rfc8032Vector[]>('rfc8032-ed25519/ed25519.json')
    expect(vectors.length).toBeGreaterThanOrEqual(4)
    for (const v of vectors) {
      const seed = hexToBytes(v.secretKey)
      const message = hexToBytes(v.message)
      const pair = ed.keygen(seed)
      expect(bytesToHex(pair.secretKey), v.name).toBe(v.secretKey)
      expect(bytesToHex(pair.publicKey), v.name).toBe(v.publicKey)
      expect(bytesToHex(ed.getPublicKey(seed)), v.name).toBe(v.publicKey)
      const signature = ed.sign(message, seed)
      expect(bytesToHex(signature), v.name).toBe(v.signature)
      expect(ed.verify(signature, message, pair.publicKey), v.name).toBe(true)
    }
  })

  it('signs and verifies the 1024 lines of ed25519-extra/vectors.txt.gz (DJB sign.input)', () => {
    const lines = readVectorText('ed25519-extra/vectors.txt.gz').trim().split('\n')
    expect(lines).toHaveLength(1024)
    for (const [i, line] of lines.entries()) {
      const [secretAndPublic, publicKeyHex, messageHex, signedMessage] = line.split(':')
      const seed = hexToBytes(secretAndPublic!.slice(0, 64))
      const publicKey = hexToBytes(publicKeyHex!)
      const message = hexToBytes(messageHex!)
      const expected = signedMessage!.slice(0, 128)
      expect(bytesToHex(ed.getPublicKey(seed)), `line ${i}`).toBe(publicKeyHex)
      expect(bytesToHex(ed.sign(message, seed)), `line ${i}`).toBe(expected)
      expect(ed.verify(hexToBytes(expected), message, publicKey), `line ${i}`).toBe(true)
    }
  })

  it('signer(secretKey) signs the RFC 8032 vectors exactly as sign() does, from a copy of the key', () => {
    const vectors = readVectorJson<Rfc8032Vector[]>('rfc8032-ed25519/ed25519.json')
    for (const v of vectors) {
      const seed = hexToBytes(v.secretKey)
      const signer = ed.signer(seed)
      seed.fill(0) // the signer keeps its own copy
      expect(bytesToHex(signer.publicKey), v.name).toBe(v.publicKey)
      const signature = signer.sign(hexToBytes(v.message))
      expect(signature.constructor, v.name).toBe(Uint8Array)
      expect(bytesToHex(signature), v.name).toBe(v.signature)
    }
    const signer = ed.signer(new Uint8Array(32).fill(5))
    expect(Object.isFrozen(signer)).toBe(true)
    expect(() => signer.sign('x' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => ed.signer(new Uint8Array(31))).toThrow(RangeError)
    expect(() => ed.signer(null as unknown as Uint8Array)).toThrow(TypeError)
  })

  it('returns plain Uint8Arrays, never Buffers', () => {
    const { secretKey, publicKey } = ed.keygen()
    for (const bytes of [secretKey, publicKey, ed.sign(new Uint8Array(3), secretKey)]) {
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
    }
    expect(publicKey.buffer.byteLength).toBe(32) // not a view into a shared pool
  })

  it('generates distinct random key pairs and copies a given seed', () => {
    const a = ed.keygen()
    const b = ed.keygen()
    expect(a.secretKey).toHaveLength(32)
    expect(a.publicKey).toHaveLength(32)
    expect(bytesToHex(a.secretKey)).not.toBe(bytesToHex(b.secretKey))
    const seed = new Uint8Array(32).fill(7)
    const pair = ed.keygen(seed)
    seed.fill(0)
    expect(pair.secretKey).toEqual(new Uint8Array(32).fill(7))
  })

  it('throws TypeError for wrong types and RangeError for wrong secret lengths', () => {
    const { secretKey, publicKey } = ed.keygen()
    const message = new Uint8Array(1)
    const signature = ed.sign(message, secretKey)
    const notBytes = [undefined, null, 'ab', [1, 2], 42, new Uint16Array(16), new ArrayBuffer(32)]
    for (const bad of notBytes) {
      const b = bad as unknown as Uint8Array
      expect(() => ed.keygen(bad === undefined ? (null as unknown as Uint8Array) : b)).toThrow(
        TypeError,
      )
      expect(() => ed.getPublicKey(b)).toThrow(TypeError)
      expect(() => ed.sign(b, secretKey)).toThrow(TypeError)
      expect(() => ed.sign(message, b)).toThrow(TypeError)
      expect(() => ed.verify(b, message, publicKey)).toThrow(TypeError)
      expect(() => ed.verify(signature, b, publicKey)).toThrow(TypeError)
      expect(() => ed.verify(signature, message, b)).toThrow(TypeError)
    }
    for (const length of [0, 31, 33, 64]) {
      expect(() => ed.keygen(new Uint8Array(length))).toThrow(RangeError)
      expect(() => ed.getPublicKey(new Uint8Array(length))).toThrow(RangeError)
      expect(() => ed.sign(message, new Uint8Array(length))).toThrow(RangeError)
    }
  })

  it('returns false, without throwing, for signatures or keys of the wrong length', () => {
    const { secretKey, publicKey } = ed.keygen()
    const message = new Uint8Array(5)
    const signature = ed.sign(message, secretKey)
    for (const length of [0, 1, 63, 65, 128]) {
      const resized = new Uint8Array(length)
      resized.set(signature.subarray(0, Math.min(length, 64)))
      expect(ed.verify(resized, message, publicKey)).toBe(false)
    }
    for (const length of [0, 31, 33, 64]) {
      const resized = new Uint8Array(length)
      resized.set(publicKey.subarray(0, Math.min(length, 32)))
      expect(ed.verify(signature, message, resized)).toBe(false)
    }
  })

  it('rejects S + L, the malleated twin of a valid signature', () => {
    const { secretKey, publicKey } = ed.keygen()
    const message = new Uint8Array([1, 2, 3])
    const signature = ed.sign(message, secretKey)
    const s = bytesToNumberLE(signature.subarray(32))
    const malleated = signature.slice()
    malleated.set(numberToBytesLE(s + L, 32), 32)
    expect(ed.verify(signature, message, publicKey)).toBe(true)
    expect(ed.verify(malleated, message, publicKey)).toBe(false)
  })

  it('rejects every small-order public key and R, canonical or not', () => {
    const encodings = readVectorJson<{ vk_bytes: string }[]>('ed25519-extra/zip215.json').map(
      (v) => v.vk_bytes,
    )
    const distinct = [...new Set(encodings)]
    expect(distinct).toHaveLength(14)
    const honest = ed.keygen()
    const message = new Uint8Array([9])
    const signature = ed.sign(message, honest.secretKey)
    for (const hex of distinct) {
      const point = Point.fromBytes(hexToBytes(hex), true) // lenient decoding reaches all 14
      expect(point.isSmallOrder(), hex).toBe(true)
      expect(ed.verify(signature, message, hexToBytes(hex)), hex).toBe(false)
      const withSmallR = signature.slice()
      withSmallR.set(hexToBytes(hex), 0)
      expect(ed.verify(withSmallR, message, honest.publicKey), hex).toBe(false)
    }
  })

  it('keys its public-key cache by content: mutating a key in place changes the answer', () => {
    const { secretKey, publicKey } = ed.keygen()
    const message = new Uint8Array([4, 2])
    const signature = ed.sign(message, secretKey)
    expect(ed.verify(signature, message, publicKey)).toBe(true)
    publicKey[0]! ^= 1
    expect(ed.verify(signature, message, publicKey)).toBe(false)
    publicKey[0]! ^= 1
    expect(ed.verify(signature, message, publicKey)).toBe(true)
  })

  it('verifyBatch: empty is false, non-arrays and malformed items throw TypeError', () => {
    const { secretKey, publicKey } = ed.keygen()
    const message = new Uint8Array([1])
    const signature = ed.sign(message, secretKey)
    const good = { signature, message, publicKey }
    expect(ed.verifyBatch([])).toBe(false)
    expect(ed.verifyBatch([good])).toBe(true)
    expect(ed.verifyBatch([good, { ...good, signature: signature.subarray(1) }])).toBe(false)
    type Items = Parameters<Ed25519['verifyBatch']>[0]
    for (const bad of [null, undefined, 'x', good, new Uint8Array(2)]) {
      expect(() => ed.verifyBatch(bad as unknown as Items)).toThrow(TypeError)
    }
    // A malformed item throws even when an earlier item already failed to verify.
    const invalid = { ...good, message: new Uint8Array([2]) }
    for (const item of [null, 7, { ...good, message: 'x' }, { signature, message }]) {
      expect(() => ed.verifyBatch([invalid, item] as unknown as Items)).toThrow(TypeError)
    }
  })
})

interface WycheproofFile {
  numberOfTests: number
  testGroups: {
    publicKey: { pk: string }
    tests: { tcId: number; comment: string; msg: string; sig: string; result: string }[]
  }[]
}

describe('wycheproof/ed25519_test.json.gz', () => {
  const file = readVectorJson<WycheproofFile>('wycheproof/ed25519_test.json.gz')
  const cases = file.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ ...test, publicKey: hexToBytes(group.publicKey.pk) })),
  )

  it('holds only valid and invalid cases (no "acceptable" to pin)', () => {
    expect(cases).toHaveLength(file.numberOfTests)
    expect(cases.filter((c) => c.result !== 'valid' && c.result !== 'invalid')).toEqual([])
  })

  it.each(backends)('accepts exactly the valid cases ($backend backend)', (ed) => {
    for (const c of cases) {
      const label = `tcId ${c.tcId}: ${c.comment}`
      const [signature, message] = [hexToBytes(c.sig), hexToBytes(c.msg)]
      expect(ed.verify(signature, message, c.publicKey), label).toBe(c.result === 'valid')
      expect(policyModel(signature, message, c.publicKey), label).toBe(c.result === 'valid')
    }
  })
})

interface Zip215Case {
  vk_bytes: string
  sig_bytes: string
  valid_legacy: boolean
  valid_zip215: boolean
}

describe('ed25519-extra/zip215.json', () => {
  // ZIP-215 fixes the signed message of every case to the ASCII string "Zcash".
  const message = new TextEncoder().encode('Zcash')
  const cases = readVectorJson<Zip215Case[]>('ed25519-extra/zip215.json').map((c) => ({
    ...c,
    publicKey: hexToBytes(c.vk_bytes),
    signature: hexToBytes(c.sig_bytes),
  }))

  it('gets the strict answer on every case, identically on both backends', () => {
    // Every case pairs a small-order A with a small-order R (S = 0), so the policy rejects all
    // 196; the valid_zip215 column (all true, cofactored and lenient) is not our policy.
    expect(cases).toHaveLength(196)
    for (const c of cases) {
      const expected = policyModel(c.signature, message, c.publicKey)
      expect(expected, c.sig_bytes).toBe(false)
      expect(nodeEd.verify(c.signature, message, c.publicKey), c.vk_bytes).toBe(expected)
      expect(nobleEd.verify(c.signature, message, c.publicKey), c.vk_bytes).toBe(expected)
    }
  })

  it('differs from valid_legacy only by the small-order rule', () => {
    // valid_legacy is libsodium 1.0.15: canonical encodings, cofactorless equation, and an
    // incomplete small-order blacklist. Where it accepts, the encodings are canonical and the
    // cofactorless equation holds (raw OpenSSL, which has no small-order rule, agrees); we
    // reject solely because A and R are small order.
    const legacyAccepted = cases.filter((c) => c.valid_legacy)
    expect(legacyAccepted).toHaveLength(3)
    for (const c of legacyAccepted) {
      const A = Point.fromBytes(c.publicKey, false) // throws unless canonical
      const R = Point.fromBytes(c.signature.subarray(0, 32), false)
      expect([A.isSmallOrder(), R.isSmallOrder()]).toEqual([true, true])
      const k =
        bytesToNumberLE(
          sha512.create().update(R.toBytes()).update(c.publicKey).update(message).digest(),
        ) % L
      expect(Point.ZERO.equals(R.add(A.multiplyUnsafe(k))), c.vk_bytes).toBe(true) // [0]B
      expect(rawOpenSslVerify(c.signature, message, c.publicKey)).toBe(true)
    }
  })
})

/** OpenSSL's own answer, without our policy checks in front of it. */
function rawOpenSslVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) {
  const key = createPublicKey({
    key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]),
    format: 'der',
    type: 'spki',
  })
  return opensslVerify(null, message, key, signature)
}

describe('ed25519-extra/edge-cases.json (eprint 2020/1244, ed25519-speccheck)', () => {
  const cases = readVectorJson<{ message: string; pub_key: string; signature: string }[]>(
    'ed25519-extra/edge-cases.json',
  ).map((c) => ({
    message: hexToBytes(c.message),
    publicKey: hexToBytes(c.pub_key),
    signature: hexToBytes(c.signature),
  }))

  // Our answer for each case, pinned: the paper's cases 0, 1 and 6-11 must be rejected by any
  // strict verifier; 2-5 are where strict verifiers differ.
  const expected = [
    false, // 0: small-order A and R, S = 0
    false, // 1: small-order A, mixed-order R
    false, // 2: mixed-order A, small-order R (rejected for R alone, as libsodium does)
    true, // 3: mixed-order A and R, the cofactorless equation holds
    false, // 4: mixed-order A and R, only the cofactored equation holds
    false, // 5: mixed-order A, only the cofactored equation holds
    false, // 6: L <= S < 2^253
    false, // 7: S >= 2^253
    false, // 8: R = (0, -1) with the x sign bit set: non-canonical and small order
    false, // 9: the same R with another S
    false, // 10: A = (0, -1) with the x sign bit set: non-canonical and small order
    false, // 11: the same A; raw OpenSSL accepts this one
  ]

  it('matches the pinned strict answers on both backends and the policy model', () => {
    expect(cases).toHaveLength(12)
    for (const [i, c] of cases.entries()) {
      expect(policyModel(c.signature, c.message, c.publicKey), `case ${i}`).toBe(expected[i])
      expect(nodeEd.verify(c.signature, c.message, c.publicKey), `case ${i}`).toBe(expected[i])
      expect(nobleEd.verify(c.signature, c.message, c.publicKey), `case ${i}`).toBe(expected[i])
    }
  })
})

describe('properties', () => {
  const seed = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const message = fc.uint8Array({ minLength: 0, maxLength: 96 })

  it.each(backends)('sign then verify round-trips ($backend backend)', (ed) => {
    fc.assert(
      fc.property(seed, message, (secretKey, msg) => {
        const publicKey = ed.getPublicKey(secretKey)
        expect(ed.verify(ed.sign(msg, secretKey), msg, publicKey)).toBe(true)
      }),
      { numRuns: 25 },
    )
  })

  it.each(backends)(
    'any flipped bit in signature, message or key fails ($backend backend)',
    (ed) => {
      fc.assert(
        fc.property(
          seed,
          fc.uint8Array({ minLength: 1, maxLength: 64 }),
          fc.constantFrom('signature', 'message', 'publicKey'),
          fc.nat(),
          (secretKey, msg, target, n) => {
            const publicKey = ed.getPublicKey(secretKey)
            const signature = ed.sign(msg, secretKey)
            const args: Record<typeof target, Uint8Array> = { signature, message: msg, publicKey }
            args[target] = flipBit(args[target], n % (args[target].length * 8))
            expect(ed.verify(args.signature, args.message, args.publicKey)).toBe(false)
          },
        ),
        { numRuns: 40 },
      )
    },
  )

  it('both backends produce the same keys and signatures', () => {
    fc.assert(
      fc.property(seed, message, (secretKey, msg) => {
        expect(nodeEd.getPublicKey(secretKey)).toEqual(nobleEd.getPublicKey(secretKey))
        expect(nodeEd.sign(msg, secretKey)).toEqual(nobleEd.sign(msg, secretKey))
      }),
      { numRuns: 25 },
    )
  })

  it('both backends agree on random garbage signatures and keys', () => {
    const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length })
    fc.assert(
      fc.property(seed, message, bytes(64), bytes(32), (secretKey, msg, garbage, garbageKey) => {
        const publicKey = nodeEd.getPublicKey(secretKey)
        const signature = nodeEd.sign(msg, secretKey)
        // garbage R with the real S, the real R with garbage S, all garbage; real and garbage key
        const candidates = [
          Uint8Array.of(...garbage.subarray(0, 32), ...signature.subarray(32)),
          Uint8Array.of(...signature.subarray(0, 32), ...garbage.subarray(32)),
          garbage,
        ]
        for (const candidate of candidates) {
          for (const key of [publicKey, garbageKey]) {
            const answer = nodeEd.verify(candidate, msg, key)
            expect(nobleEd.verify(candidate, msg, key)).toBe(answer)
            expect(policyModel(candidate, msg, key)).toBe(answer)
          }
        }
      }),
      { numRuns: 20 },
    )
  })

  it('mixed-order keys and commitments verify exactly when the torsion cancels', () => {
    // A signer that knows a can sign under A' = aB + T_i with R' = rB + T_j. Then
    // R' + [k]A' - [S]B = T_j + [k]T_i: the cofactorless equation holds iff that is the identity,
    // while the cofactored one (noble's own verify) would always hold.
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: L - 1n }),
        fc.bigInt({ min: 1n, max: L - 1n }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        message,
        (a, r, i, j, msg) => {
          const publicKey = Point.BASE.multiply(a).add(TORSION[i]!).toBytes()
          const encodedR = Point.BASE.multiply(r).add(TORSION[j]!).toBytes()
          const digest = sha512.create().update(encodedR).update(publicKey).update(msg).digest()
          const k = bytesToNumberLE(digest) % L
          const signature = Uint8Array.of(...encodedR, ...numberToBytesLE((r + k * a) % L, 32))
          const expected = TORSION[j]!.add(TORSION[i]!.multiplyUnsafe(k)).is0()
          expect(nodeEd.verify(signature, msg, publicKey)).toBe(expected)
          expect(nobleEd.verify(signature, msg, publicKey)).toBe(expected)
          expect(noble.verify(signature, msg, publicKey, { zip215: false })).toBe(true)
        },
      ),
      { numRuns: 40 },
    )
  })

  it.each(backends)(
    'verifyBatch equals the AND of verify over a non-empty batch ($backend backend)',
    (ed) => {
      const keys = [ed.keygen(), ed.keygen()]
      const item = fc.record({
        signer: fc.integer({ min: 0, max: 1 }),
        claimed: fc.integer({ min: 0, max: 1 }),
        msg: message,
        tamper: fc.boolean(),
      })
      fc.assert(
        fc.property(fc.array(item, { maxLength: 4 }), (specs) => {
          const items = specs.map(({ signer, claimed, msg, tamper }) => {
            const signature = ed.sign(msg, keys[signer]!.secretKey)
            if (tamper) signature[0]! ^= 0x40
            return { signature, message: msg, publicKey: keys[claimed]!.publicKey }
          })
          const each = items.map((x) => ed.verify(x.signature, x.message, x.publicKey))
          expect(ed.verifyBatch(items)).toBe(items.length > 0 && each.every(Boolean))
        }),
        { numRuns: 30 },
      )
    },
  )
})

describe('public-key cache', () => {
  it('stays correct beyond its 1,024 entries (eviction and re-import)', () => {
    const ed = createEd25519({ backend: 'node' })
    const message = new Uint8Array([1])
    const pairs = Array.from({ length: 1100 }, () => ed.keygen())
    const signatures = pairs.map((p) => ed.sign(message, p.secretKey))
    for (const [i, p] of pairs.entries()) {
      expect(ed.verify(signatures[i]!, message, p.publicKey)).toBe(true)
    }
    // The first keys were evicted; they verify again, and not for another key's signature.
    expect(ed.verify(signatures[0]!, message, pairs[0]!.publicKey)).toBe(true)
    expect(ed.verify(signatures[1]!, message, pairs[0]!.publicKey)).toBe(false)
  })
})
