import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type AeadBackend,
  type AeadCipher,
  AeadError,
  type AeadSuite,
  aeadBackend,
  aes256gcm,
  chacha20poly1305,
  createAeads,
  openRandom,
  RANDOM_NONCE_LENGTH,
  sealRandom,
  TAG_LENGTH,
  xchacha20poly1305,
} from '../src/aead.js'
import { bytesToHex, hexToBytes, readVectorJson } from './helpers/vectors.js'

interface AeadVector {
  tcId: number
  comment: string
  flags: string[]
  key: string
  iv: string
  aad: string
  msg: string
  ct: string
  tag: string
  result: 'valid' | 'invalid' | 'acceptable'
}

interface AeadGroup {
  keySize: number
  ivSize: number
  tagSize: number
  tests: AeadVector[]
}

const BACKENDS: AeadBackend[] = ['node', 'noble']
const CIPHERS = ['chacha20poly1305', 'xchacha20poly1305', 'aes256gcm'] as const
type CipherName = (typeof CIPHERS)[number]

const WYCHEPROOF: Record<CipherName, string> = {
  chacha20poly1305: 'wycheproof/chacha20_poly1305_test.json.gz',
  xchacha20poly1305: 'wycheproof/xchacha20_poly1305_test.json.gz',
  aes256gcm: 'wycheproof/aes_gcm_test.json.gz',
}

const groupsByCipher = Object.fromEntries(
  CIPHERS.map((name) => [
    name,
    readVectorJson<{ testGroups: AeadGroup[] }>(WYCHEPROOF[name]).testGroups,
  ]),
) as Record<CipherName, AeadGroup[]>

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(bytes)
  out[bit >>> 3]! ^= 1 << (bit & 7)
  return out
}

describe.each(BACKENDS)('Wycheproof on the %s backend', (backend) => {
  const suite = createAeads({ backend })

  describe.each(CIPHERS)('%s', (name) => {
    const cipher = suite[name]
    const groups = groupsByCipher[name]
    const supported = (g: AeadGroup): boolean =>
      g.keySize === 256 && g.ivSize === cipher.nonceLength * 8 && g.tagSize === 128

    it('valid vectors encrypt to the exact ciphertext and tag and decrypt back', () => {
      const failures: number[] = []
      let checked = 0
      for (const group of groups.filter(supported)) {
        for (const t of group.tests.filter((t) => t.result === 'valid')) {
          const key = hexToBytes(t.key)
          const iv = hexToBytes(t.iv)
          const aad = hexToBytes(t.aad)
          const sealed = cipher(key, iv, aad).encrypt(hexToBytes(t.msg))
          const opened = cipher(key, iv, aad).decrypt(hexToBytes(t.ct + t.tag))
          if (bytesToHex(sealed) !== t.ct + t.tag || bytesToHex(opened) !== t.msg) {
            failures.push(t.tcId)
          }
          checked++
        }
      }
      expect(failures).toEqual([])
      expect(checked).toBeGreaterThan(30)
    })

    it('invalid vectors fail authentication with AeadError', () => {
      const failures: number[] = []
      let checked = 0
      for (const group of groups.filter(supported)) {
        // No supported group has 'acceptable' cases, so valid/invalid covers them all.
        expect(group.tests.filter((t) => t.result === 'acceptable')).toEqual([])
        for (const t of group.tests.filter((t) => t.result === 'invalid')) {
          const aead = cipher(hexToBytes(t.key), hexToBytes(t.iv), hexToBytes(t.aad))
          try {
            aead.decrypt(hexToBytes(t.ct + t.tag))
            failures.push(t.tcId)
          } catch (error) {
            if (!(error instanceof AeadError)) failures.push(t.tcId)
          }
          checked++
        }
      }
      expect(failures).toEqual([])
      expect(checked).toBeGreaterThan(0)
    })

    it('unsupported key, nonce or tag sizes are rejected with RangeError, never answered', () => {
      const unsupported = groups.filter((g) => !supported(g))
      expect(unsupported.length).toBeGreaterThan(0)
      for (const group of unsupported) {
        for (const t of group.tests) {
          expect(() => cipher(hexToBytes(t.key), hexToBytes(t.iv), hexToBytes(t.aad))).toThrow(
            RangeError,
          )
        }
      }
    })
  })
})

describe('backend selection', () => {
  it('uses node:crypto under Node and exposes both backends', () => {
    expect(aeadBackend).toBe('node')
    expect(createAeads()).toBe(createAeads({ backend: 'node' }))
    expect(createAeads({ backend: 'noble' })).not.toBe(createAeads({ backend: 'node' }))
    expect(chacha20poly1305).toBe(createAeads().chacha20poly1305)
    expect(xchacha20poly1305).toBe(createAeads().xchacha20poly1305)
    expect(aes256gcm).toBe(createAeads().aes256gcm)
  })

  it('rejects an unknown backend name', () => {
    expect(() => createAeads({ backend: 'openssl' as AeadBackend })).toThrow(TypeError)
  })

  it('describes each cipher', () => {
    const shape = (c: AeadCipher) => [c.algorithm, c.keyLength, c.nonceLength, c.tagLength]
    expect(shape(chacha20poly1305)).toEqual(['chacha20-poly1305', 32, 12, 16])
    expect(shape(xchacha20poly1305)).toEqual(['xchacha20-poly1305', 32, 24, 16])
    expect(shape(aes256gcm)).toEqual(['aes-256-gcm', 32, 12, 16])
  })
})

const suites: [AeadBackend, CipherName, AeadCipher][] = BACKENDS.flatMap((backend) =>
  CIPHERS.map((name): [AeadBackend, CipherName, AeadCipher] => [
    backend,
    name,
    createAeads({ backend })[name],
  ]),
)

describe.each(suites)('%s %s', (_backend, _name, cipher) => {
  const key = new Uint8Array(32).fill(7)
  const nonce = new Uint8Array(cipher.nonceLength).fill(9)
  const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const nonceArb = fc.uint8Array({ minLength: cipher.nonceLength, maxLength: cipher.nonceLength })
  const dataArb = fc.uint8Array({ maxLength: 300 })

  it('round-trips any plaintext and associated data', () => {
    fc.assert(
      fc.property(keyArb, nonceArb, dataArb, dataArb, (k, n, aad, plaintext) => {
        const sealed = cipher(k, n, aad).encrypt(plaintext)
        expect(sealed.length).toBe(plaintext.length + TAG_LENGTH)
        expect(cipher(k, n, aad).decrypt(sealed)).toEqual(plaintext)
      }),
      { numRuns: 50 },
    )
  })

  it('rejects any flipped bit in ciphertext, tag or associated data', () => {
    fc.assert(
      fc.property(dataArb, dataArb, fc.nat(), fc.boolean(), (aad, plaintext, bitSeed, inAad) => {
        const sealed = cipher(key, nonce, aad).encrypt(plaintext)
        if (inAad && aad.length > 0) {
          const tampered = flipBit(aad, bitSeed % (aad.length * 8))
          expect(() => cipher(key, nonce, tampered).decrypt(sealed)).toThrow(AeadError)
        } else {
          const tampered = flipBit(sealed, bitSeed % (sealed.length * 8))
          expect(() => cipher(key, nonce, aad).decrypt(tampered)).toThrow(AeadError)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('rejects a wrong key or nonce, or a truncated or extended ciphertext', () => {
    const plaintext = new Uint8Array(40).fill(1)
    const sealed = cipher(key, nonce, undefined).encrypt(plaintext)
    expect(() => cipher(flipBit(key, 0), nonce).decrypt(sealed)).toThrow(AeadError)
    expect(() => cipher(key, flipBit(nonce, 5)).decrypt(sealed)).toThrow(AeadError)
    expect(() => cipher(key, nonce).decrypt(sealed.subarray(1))).toThrow(AeadError)
    expect(() => cipher(key, nonce).decrypt(sealed.subarray(0, -1))).toThrow(AeadError)
    const extended = new Uint8Array(sealed.length + 1)
    extended.set(sealed)
    expect(() => cipher(key, nonce).decrypt(extended)).toThrow(AeadError)
    // Omitted and empty associated data are the same thing.
    expect(cipher(key, nonce, new Uint8Array(0)).decrypt(sealed)).toEqual(plaintext)
  })

  it('throws AeadError for inputs shorter than the tag, and decrypts an empty plaintext', () => {
    for (let length = 0; length < TAG_LENGTH; length++) {
      expect(() => cipher(key, nonce).decrypt(new Uint8Array(length))).toThrow(AeadError)
    }
    const sealed = cipher(key, nonce).encrypt(new Uint8Array(0))
    expect(sealed.length).toBe(TAG_LENGTH)
    expect(cipher(key, nonce).decrypt(sealed)).toEqual(new Uint8Array(0))
  })

  it('checks argument types and lengths', () => {
    for (const badLength of [0, 16, 24, 31, 33, 64]) {
      expect(() => cipher(new Uint8Array(badLength), nonce)).toThrow(RangeError)
    }
    for (const badLength of [0, 8, 11, 13, 16, 23, 25, 32].filter(
      (n) => n !== cipher.nonceLength,
    )) {
      expect(() => cipher(key, new Uint8Array(badLength))).toThrow(RangeError)
    }
    const notBytes: unknown[] = [
      '00'.repeat(32),
      Array(32).fill(0),
      null,
      undefined,
      new Uint16Array(16),
    ]
    for (const bad of notBytes) {
      expect(() => cipher(bad as Uint8Array, nonce)).toThrow(TypeError)
      expect(() => cipher(key, bad as Uint8Array)).toThrow(TypeError)
      if (bad !== undefined) expect(() => cipher(key, nonce, bad as Uint8Array)).toThrow(TypeError)
      expect(() => cipher(key, nonce).encrypt(bad as Uint8Array)).toThrow(TypeError)
      expect(() => cipher(key, nonce).decrypt(bad as Uint8Array)).toThrow(TypeError)
    }
  })

  it('refuses a second encrypt under the same key and nonce', () => {
    const aead = cipher(key, nonce)
    aead.encrypt(new Uint8Array(3))
    expect(() => aead.encrypt(new Uint8Array(3))).toThrow(/twice/)
  })

  it('copies its inputs and returns plain Uint8Arrays for Buffer inputs', () => {
    const callerKey = Buffer.from(key)
    const callerNonce = Buffer.from(nonce)
    const aead = cipher(callerKey, callerNonce)
    callerKey.fill(0)
    callerNonce.fill(0)
    const sealed = aead.encrypt(Buffer.from('hello'))
    expect(Object.getPrototypeOf(sealed)).toBe(Uint8Array.prototype)
    const opened = cipher(key, nonce).decrypt(Buffer.from(sealed))
    expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype)
    expect(new TextDecoder().decode(opened)).toBe('hello')
  })
})

describe.each(CIPHERS)('%s backends agree', (name) => {
  const node: AeadSuite = createAeads({ backend: 'node' })
  const noble: AeadSuite = createAeads({ backend: 'noble' })

  it('byte for byte, and each opens the other', () => {
    const nonceLength = node[name].nonceLength
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: nonceLength, maxLength: nonceLength }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 600 }),
        (key, nonce, aad, plaintext) => {
          const fromNode = node[name](key, nonce, aad).encrypt(plaintext)
          const fromNoble = noble[name](key, nonce, aad).encrypt(plaintext)
          expect(bytesToHex(fromNode)).toBe(bytesToHex(fromNoble))
          expect(noble[name](key, nonce, aad).decrypt(fromNode)).toEqual(plaintext)
          expect(node[name](key, nonce, aad).decrypt(fromNoble)).toEqual(plaintext)
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('sealRandom / openRandom', () => {
  const key = new Uint8Array(32).fill(3)
  const message = new TextEncoder().encode('attack at dawn')

  it('round-trips with a fresh random nonce prefixed to every output', () => {
    const a = sealRandom(key, message)
    const b = sealRandom(key, message)
    expect(a.length).toBe(RANDOM_NONCE_LENGTH + message.length + TAG_LENGTH)
    expect(bytesToHex(a.subarray(0, RANDOM_NONCE_LENGTH))).not.toBe(
      bytesToHex(b.subarray(0, RANDOM_NONCE_LENGTH)),
    )
    expect(openRandom(key, a)).toEqual(message)
    expect(openRandom(key, b)).toEqual(message)
  })

  it('is XChaCha20-Poly1305 under the prefixed nonce', () => {
    const sealed = sealRandom(key, message, Uint8Array.of(1))
    const nonce = sealed.subarray(0, RANDOM_NONCE_LENGTH)
    const body = createAeads({ backend: 'noble' })
      .xchacha20poly1305(key, nonce, Uint8Array.of(1))
      .decrypt(sealed.subarray(RANDOM_NONCE_LENGTH))
    expect(body).toEqual(message)
  })

  it('rejects tampering, wrong associated data and short input with AeadError', () => {
    const sealed = sealRandom(key, message, Uint8Array.of(1, 2))
    expect(() => openRandom(key, sealed)).toThrow(AeadError)
    expect(() => openRandom(key, flipBit(sealed, 3), Uint8Array.of(1, 2))).toThrow(AeadError)
    expect(() =>
      openRandom(key, flipBit(sealed, sealed.length * 8 - 1), Uint8Array.of(1, 2)),
    ).toThrow(AeadError)
    expect(() => openRandom(key, new Uint8Array(RANDOM_NONCE_LENGTH + TAG_LENGTH - 1))).toThrow(
      AeadError,
    )
    expect(() => openRandom(new Uint8Array(16), sealed)).toThrow(RangeError)
    expect(() => sealRandom(key, 'text' as unknown as Uint8Array)).toThrow(TypeError)
  })
})

describe('AeadError', () => {
  it('is a named Error', () => {
    const error = new AeadError()
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe('AeadError')
    expect(error.message).toMatch(/authentication failed/)
  })
})
