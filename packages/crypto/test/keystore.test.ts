import { createHash, scryptSync } from 'node:crypto'
import { describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_ARGON2ID_PARAMS,
  DEFAULT_SCRYPT_PARAMS,
  decryptKeystore,
  type EncryptKeystoreOptions,
  encryptKeystore,
  type Keystore,
  type KeystoreCipherFunction,
  KeystoreCorruptError,
  KeystoreError,
  KeystoreFormatError,
  KeystorePasswordError,
  normalizePassword,
  parseKeystore,
  scryptBackend,
  serializeKeystore,
} from '../src/keystore.js'
import { bytesToHex, hexToBytes } from './helpers/vectors.js'

const SECRET = hexToBytes('000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f')
const PASSWORD = 'correct horse battery staple'

// Small KDF parameters keep the suite fast; they need the explicit opt-out.
const FAST_SCRYPT = {
  kdf: 'scrypt',
  kdfParams: { n: 1024, r: 8, p: 1 },
  insecureTestParams: true,
} as const satisfies EncryptKeystoreOptions
const FAST_ARGON2ID = {
  kdf: 'argon2id',
  kdfParams: { m: 256, t: 1, p: 1 },
  insecureTestParams: true,
} as const satisfies EncryptKeystoreOptions

const CIPHERS: KeystoreCipherFunction[] = ['xchacha20-poly1305', 'aes-256-gcm']
const KDFS = [FAST_SCRYPT, FAST_ARGON2ID]

// Schema tests write arbitrary values at arbitrary depths of the parsed JSON.
// biome-ignore lint/suspicious/noExplicitAny: JSON being deliberately broken has no useful type
type MutableJson = Record<string, any>

/** A deep copy to tamper with. */
function copy(keystore: Keystore): Keystore {
  return JSON.parse(JSON.stringify(keystore)) as Keystore
}

function flipHex(hex: string, byteIndex = 0): string {
  const bytes = hexToBytes(hex)
  bytes[byteIndex]! ^= 0x01
  return bytesToHex(bytes)
}

describe('round trip', () => {
  for (const kdfOptions of KDFS) {
    for (const cipher of CIPHERS) {
      it(`${kdfOptions.kdf} × ${cipher}`, async () => {
        const pubkey = new Uint8Array(48).fill(0xab)
        const keystore = await encryptKeystore(SECRET, PASSWORD, {
          ...kdfOptions,
          cipher,
          description: 'validator 7',
          pubkey,
          path: 'm/12381/3600/7/0/0',
        })
        expect(keystore.version).toBe(1)
        expect(keystore.uuid).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        )
        expect(keystore.description).toBe('validator 7')
        expect(keystore.pubkey).toBe(bytesToHex(pubkey))
        expect(keystore.path).toBe('m/12381/3600/7/0/0')
        expect(keystore.crypto.kdf.function).toBe(kdfOptions.kdf)
        expect(keystore.crypto.kdf.params).toEqual({ dklen: 32, ...kdfOptions.kdfParams })
        expect(keystore.crypto.kdf.salt).toHaveLength(64)
        expect(keystore.crypto.checksum.function).toBe('sha256')
        expect(keystore.crypto.cipher.function).toBe(cipher)
        expect(keystore.crypto.cipher.params.nonce).toHaveLength(cipher === 'aes-256-gcm' ? 24 : 48)
        expect(keystore.crypto.cipher.message).toHaveLength((SECRET.length + 16) * 2)

        const secret = await decryptKeystore(keystore, PASSWORD)
        expect(secret).toEqual(SECRET)
        expect(Object.getPrototypeOf(secret)).toBe(Uint8Array.prototype)
        // Through the JSON text as well, as files are read.
        const json = serializeKeystore(keystore)
        expect(parseKeystore(json)).toEqual(keystore)
        expect(await decryptKeystore(json, PASSWORD)).toEqual(SECRET)
      })
    }
  }

  it('draws a fresh salt, nonce and uuid every time', async () => {
    const a = await encryptKeystore(SECRET, PASSWORD, FAST_SCRYPT)
    const b = await encryptKeystore(SECRET, PASSWORD, FAST_SCRYPT)
    expect(a.uuid).not.toBe(b.uuid)
    expect(a.crypto.kdf.salt).not.toBe(b.crypto.kdf.salt)
    expect(a.crypto.cipher.params.nonce).not.toBe(b.crypto.cipher.params.nonce)
    expect(a.crypto.cipher.message).not.toBe(b.crypto.cipher.message)
  })

  it('accepts a byte password, used as given', async () => {
    const bytes = new TextEncoder().encode('abc')
    const keystore = await encryptKeystore(SECRET, bytes, FAST_SCRYPT)
    expect(await decryptKeystore(keystore, 'abc')).toEqual(SECRET)
    // Bytes are not normalised: a control byte stays part of the password.
    const withControl = await encryptKeystore(SECRET, Uint8Array.of(0x61, 0x07), FAST_SCRYPT)
    await expect(decryptKeystore(withControl, 'a\u0007')).rejects.toThrow(KeystorePasswordError)
    expect(await decryptKeystore(withControl, Uint8Array.of(0x61, 0x07))).toEqual(SECRET)
  })
})

describe('wrong password', () => {
  for (const kdfOptions of KDFS) {
    it(`is a KeystorePasswordError with ${kdfOptions.kdf}`, async () => {
      const keystore = await encryptKeystore(SECRET, PASSWORD, kdfOptions)
      const attempt = decryptKeystore(keystore, 'Correct horse battery staple')
      await expect(attempt).rejects.toThrow(KeystorePasswordError)
      await expect(decryptKeystore(keystore, '')).rejects.toBeInstanceOf(KeystoreError)
    })
  }
})

describe('tampering', () => {
  const keystorePromise = encryptKeystore(SECRET, PASSWORD, {
    ...FAST_SCRYPT,
    pubkey: Uint8Array.of(1, 2, 3),
    path: 'm/0',
    description: 'label',
  })

  // The checksum an attacker who knows the password would write: sha256(dk[16..32] ‖ message).
  function recomputedChecksum(keystore: Keystore): string {
    const { kdf, cipher } = keystore.crypto
    if (kdf.function !== 'scrypt') throw new Error('test helper handles scrypt only')
    const dk = scryptSync(normalizePassword(PASSWORD), hexToBytes(kdf.salt), 32, {
      N: kdf.params.n,
      r: kdf.params.r,
      p: kdf.params.p,
    })
    return createHash('sha256')
      .update(dk.subarray(16, 32))
      .update(hexToBytes(cipher.message))
      .digest('hex')
  }

  it('a ciphertext altered with the checksum recomputed is a KeystoreCorruptError', async () => {
    const keystore = await keystorePromise
    expect(recomputedChecksum(keystore)).toBe(keystore.crypto.checksum.message)
    for (const byteIndex of [0, SECRET.length - 1, SECRET.length + 15]) {
      const tampered = copy(keystore)
      tampered.crypto.cipher.message = flipHex(tampered.crypto.cipher.message, byteIndex)
      tampered.crypto.checksum.message = recomputedChecksum(tampered)
      await expect(decryptKeystore(tampered, PASSWORD)).rejects.toThrow(KeystoreCorruptError)
    }
  })

  it('a ciphertext altered without fixing the checksum reads as a wrong password (as EIP-2335)', async () => {
    const tampered = copy(await keystorePromise)
    tampered.crypto.cipher.message = flipHex(tampered.crypto.cipher.message, 3)
    await expect(decryptKeystore(tampered, PASSWORD)).rejects.toThrow(KeystorePasswordError)
  })

  it('authenticated fields: nonce, pubkey and path changes are KeystoreCorruptError', async () => {
    const keystore = await keystorePromise
    const edits: ((k: Keystore) => void)[] = [
      (k) => {
        k.crypto.cipher.params.nonce = flipHex(k.crypto.cipher.params.nonce)
      },
      (k) => {
        k.pubkey = '010204'
      },
      (k) => {
        delete k.pubkey
      },
      (k) => {
        k.path = 'm/1'
      },
      (k) => {
        delete k.path
      },
    ]
    for (const edit of edits) {
      const tampered = copy(keystore)
      edit(tampered)
      await expect(decryptKeystore(tampered, PASSWORD)).rejects.toThrow(KeystoreCorruptError)
    }
  })

  it('salt, KDF parameters and checksum changes are KeystorePasswordError', async () => {
    const keystore = await keystorePromise
    const edits: ((k: Keystore) => void)[] = [
      (k) => {
        k.crypto.kdf.salt = flipHex(k.crypto.kdf.salt)
      },
      (k) => {
        if (k.crypto.kdf.function === 'scrypt') k.crypto.kdf.params.n = 2048
      },
      (k) => {
        if (k.crypto.kdf.function === 'scrypt') k.crypto.kdf.params.p = 2
      },
      (k) => {
        k.crypto.checksum.message = flipHex(k.crypto.checksum.message, 31)
      },
    ]
    for (const edit of edits) {
      const tampered = copy(keystore)
      edit(tampered)
      await expect(decryptKeystore(tampered, PASSWORD)).rejects.toThrow(KeystorePasswordError)
    }
  })

  it('uuid and description are free labels, not authenticated', async () => {
    const relabelled = copy(await keystorePromise)
    relabelled.uuid = '00000000-0000-4000-8000-000000000000'
    relabelled.description = 'renamed'
    expect(await decryptKeystore(relabelled, PASSWORD)).toEqual(SECRET)
    // Hex case is not a change either: files are normalised to lowercase.
    const upper = copy(await keystorePromise)
    upper.crypto.cipher.message = upper.crypto.cipher.message.toUpperCase()
    expect(await decryptKeystore(upper, PASSWORD)).toEqual(SECRET)
  })
})

describe('schema', () => {
  const validPromise = encryptKeystore(SECRET, PASSWORD, { ...FAST_SCRYPT, path: 'm/0' })

  it('rejects malformed files with KeystoreFormatError before any KDF work', async () => {
    const valid = await validPromise
    const mutations: [string, (k: MutableJson) => unknown][] = [
      ['version 2', (k) => (k.version = 2)],
      ['version as string', (k) => (k.version = '1')],
      ['missing uuid', (k) => delete k.uuid],
      ['bad uuid', (k) => (k.uuid = 'not-a-uuid')],
      ['unknown top-level field', (k) => (k.extra = true)],
      ['description not a string', (k) => (k.description = 5)],
      ['path not a string', (k) => (k.path = ['m', 0])],
      ['pubkey not hex', (k) => (k.pubkey = 'xyz')],
      ['pubkey with 0x', (k) => (k.pubkey = '0x0102')],
      ['crypto missing', (k) => delete k.crypto],
      ['crypto as array', (k) => (k.crypto = [])],
      ['unknown crypto field', (k) => (k.crypto.mac = {})],
      ['unknown kdf', (k) => (k.crypto.kdf.function = 'pbkdf2')],
      ['kdf argon2i', (k) => (k.crypto.kdf.function = 'argon2i')],
      ['scrypt params of argon2id', (k) => (k.crypto.kdf.function = 'argon2id')],
      ['unknown kdf param', (k) => (k.crypto.kdf.params.salt = k.crypto.kdf.salt)],
      ['missing kdf param', (k) => delete k.crypto.kdf.params.r],
      ['n not an integer', (k) => (k.crypto.kdf.params.n = 1024.5)],
      ['n as string', (k) => (k.crypto.kdf.params.n = '1024')],
      ['n not a power of two', (k) => (k.crypto.kdf.params.n = 1000)],
      ['n = 1', (k) => (k.crypto.kdf.params.n = 1)],
      ['r = 0', (k) => (k.crypto.kdf.params.r = 0)],
      ['dklen 64', (k) => (k.crypto.kdf.params.dklen = 64)],
      ['salt too short', (k) => (k.crypto.kdf.salt = '00'.repeat(15))],
      ['salt odd hex', (k) => (k.crypto.kdf.salt = `${k.crypto.kdf.salt}0`)],
      ['unknown checksum', (k) => (k.crypto.checksum.function = 'sha512')],
      ['checksum params', (k) => (k.crypto.checksum.params = {})],
      ['checksum too short', (k) => (k.crypto.checksum.message = '00'.repeat(31))],
      ['unknown cipher', (k) => (k.crypto.cipher.function = 'aes-128-ctr')],
      ['nonce of the other cipher', (k) => (k.crypto.cipher.function = 'aes-256-gcm')],
      ['nonce missing', (k) => (k.crypto.cipher.params = {})],
      ['iv instead of nonce', (k) => (k.crypto.cipher.params = { iv: '00'.repeat(24) })],
      ['message shorter than a tag', (k) => (k.crypto.cipher.message = '00'.repeat(16))],
      ['message not hex', (k) => (k.crypto.cipher.message = 'zz')],
    ]
    for (const [label, mutate] of mutations) {
      const broken = copy(valid) as unknown as MutableJson
      mutate(broken)
      expect(() => parseKeystore(broken), label).toThrow(KeystoreFormatError)
      expect(() => parseKeystore(JSON.stringify(broken)), label).toThrow(KeystoreFormatError)
      await expect(decryptKeystore(broken as unknown as Keystore, PASSWORD), label).rejects.toThrow(
        KeystoreFormatError,
      )
    }
  })

  it('rejects text that is not a JSON object', () => {
    for (const text of ['', 'not json', '[]', 'null', '42', '"keystore"', '{"version":1']) {
      expect(() => parseKeystore(text), text).toThrow(KeystoreFormatError)
    }
    for (const value of [null, undefined, 42, [], new Uint8Array(4)]) {
      expect(() => parseKeystore(value)).toThrow(KeystoreFormatError)
    }
  })

  it('serializeKeystore refuses malformed input and writes what parseKeystore reads', async () => {
    const valid = await validPromise
    const broken = copy(valid)
    broken.crypto.checksum.message = 'abc'
    expect(() => serializeKeystore(broken)).toThrow(KeystoreFormatError)
    expect(JSON.parse(serializeKeystore(valid))).toEqual(valid)
  })

  it('returns a normalised copy, not the input object', async () => {
    const valid = await validPromise
    const parsed = parseKeystore(valid)
    expect(parsed).toEqual(valid)
    expect(parsed).not.toBe(valid)
    expect(parsed.crypto).not.toBe(valid.crypto)
  })
})

describe('KDF limits', () => {
  const withParams = async (kdf: Keystore['crypto']['kdf']): Promise<Keystore> => {
    const keystore = copy(await encryptKeystore(SECRET, PASSWORD, FAST_SCRYPT))
    keystore.crypto.kdf = kdf
    return keystore
  }
  const salt = '11'.repeat(32)

  it('refuses hostile files that would exhaust memory or CPU, without running the KDF', async () => {
    const hostile: Keystore['crypto']['kdf'][] = [
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 21, r: 8, p: 1 }, salt },
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 30, r: 1, p: 1 }, salt },
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 20, r: 16, p: 1 }, salt }, // 2 GiB
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 18, r: 64, p: 1 }, salt },
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 18, r: 8, p: 16 }, salt }, // work 2^25
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 10, r: 8, p: 2 ** 20 }, salt },
      { function: 'argon2id', params: { dklen: 32, m: 2 ** 19, t: 1, p: 1 }, salt }, // 512 MiB
      { function: 'argon2id', params: { dklen: 32, m: 19_456, t: 11, p: 1 }, salt },
      { function: 'argon2id', params: { dklen: 32, m: 262_144, t: 5, p: 1 }, salt }, // m·t > 2^20
      { function: 'argon2id', params: { dklen: 32, m: 19_456, t: 2, p: 64 }, salt },
      { function: 'argon2id', params: { dklen: 32, m: 4, t: 1, p: 1 }, salt }, // m < 8p
    ]
    for (const kdf of hostile) {
      const keystore = await withParams(kdf)
      const label = JSON.stringify(kdf.params)
      expect(() => parseKeystore(keystore), label).toThrow(KeystoreFormatError)
      await expect(decryptKeystore(keystore, PASSWORD), label).rejects.toThrow(KeystoreFormatError)
    }
  })

  it('accepts files at the limits and with weak parameters (decryption only checks maximums)', async () => {
    const atLimits: Keystore['crypto']['kdf'][] = [
      { function: 'scrypt', params: { dklen: 32, n: 2 ** 20, r: 8, p: 2 }, salt },
      { function: 'scrypt', params: { dklen: 32, n: 2, r: 1, p: 1 }, salt },
      { function: 'argon2id', params: { dklen: 32, m: 262_144, t: 4, p: 16 }, salt },
      { function: 'argon2id', params: { dklen: 32, m: 8, t: 1, p: 1 }, salt },
    ]
    for (const kdf of atLimits) {
      expect(parseKeystore(await withParams(kdf)).crypto.kdf).toEqual(kdf)
    }
  })

  it('refuses weak parameters when encrypting unless insecureTestParams is set', async () => {
    const weak: EncryptKeystoreOptions[] = [
      { kdfParams: { n: 2 ** 16 } },
      { kdfParams: { r: 4 } },
      { kdf: 'argon2id', kdfParams: { m: 16_384 } },
      { kdf: 'argon2id', kdfParams: { t: 1 } },
    ]
    for (const options of weak) {
      await expect(encryptKeystore(SECRET, PASSWORD, options)).rejects.toThrow(RangeError)
    }
    // OWASP's equivalent: more memory, one pass.
    const oneLongPass = { kdf: 'argon2id', kdfParams: { m: 2 * 19_456, t: 1 } } as const
    const keystore = await encryptKeystore(SECRET, PASSWORD, oneLongPass)
    expect(keystore.crypto.kdf.params).toEqual({ dklen: 32, m: 38_912, t: 1, p: 1 })
  })

  it('refuses parameters above the limits even with insecureTestParams, and bad option types', async () => {
    const rejected: [EncryptKeystoreOptions, typeof RangeError | typeof TypeError][] = [
      [{ kdfParams: { n: 2 ** 21 }, insecureTestParams: true }, RangeError],
      [{ kdfParams: { n: 1000 }, insecureTestParams: true }, RangeError],
      [{ kdf: 'argon2id', kdfParams: { m: 2 ** 19 }, insecureTestParams: true }, RangeError],
      [{ kdfParams: { n: 1024.5 }, insecureTestParams: true }, TypeError],
      [{ kdfParams: { N: 1024 } as never, insecureTestParams: true }, TypeError],
      [{ kdf: 'pbkdf2' } as never, TypeError],
      [{ ...FAST_SCRYPT, cipher: 'aes-128-ctr' as never }, TypeError],
      [{ ...FAST_SCRYPT, description: 5 as never }, TypeError],
      [{ ...FAST_SCRYPT, pubkey: 'abcd' as never }, TypeError],
    ]
    for (const [options, errorType] of rejected) {
      await expect(
        encryptKeystore(SECRET, PASSWORD, options),
        JSON.stringify(options),
      ).rejects.toThrow(errorType)
    }
  })

  it('checks the secret and password', async () => {
    await expect(encryptKeystore(new Uint8Array(0), PASSWORD, FAST_SCRYPT)).rejects.toThrow(
      RangeError,
    )
    await expect(encryptKeystore(new Uint8Array(65_537), PASSWORD, FAST_SCRYPT)).rejects.toThrow(
      RangeError,
    )
    await expect(
      encryptKeystore(bytesToHex(SECRET) as unknown as Uint8Array, PASSWORD, FAST_SCRYPT),
    ).rejects.toThrow(TypeError)
    await expect(encryptKeystore(SECRET, 1234 as unknown as string, FAST_SCRYPT)).rejects.toThrow(
      TypeError,
    )
    const keystore = await encryptKeystore(SECRET, PASSWORD, FAST_SCRYPT)
    await expect(decryptKeystore(keystore, null as unknown as string)).rejects.toThrow(TypeError)
  })
})

describe('password normalisation (EIP-2335)', () => {
  it('is NFKD without C0, DEL and C1 control codes, UTF-8 encoded', () => {
    const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
    expect(text(normalizePassword('𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑'))).toBe('testpassword🔑')
    expect(text(normalizePassword('a\u0000b\u001fc\u007fd\u0080e\u009ff\u00a0g'))).toBe(
      'abcdef g', // U+00A0 is not a control code; NFKD maps it to a plain space
    )
    expect(text(normalizePassword('e\u0301'))).toBe('e\u0301')
    expect(text(normalizePassword('\u00e9'))).toBe('e\u0301') // é decomposes
    expect(text(normalizePassword('ﬁ'))).toBe('fi') // compatibility ligature
    expect(normalizePassword(Uint8Array.of(0, 0x7f))).toEqual(Uint8Array.of(0, 0x7f))
    expect(() => normalizePassword(5 as unknown as string)).toThrow(TypeError)
  })

  it('lets equivalent spellings of a password open the same keystore', async () => {
    const keystore = await encryptKeystore(SECRET, '𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑', FAST_ARGON2ID)
    expect(await decryptKeystore(keystore, 'testpassword🔑')).toEqual(SECRET)
    expect(await decryptKeystore(keystore, 'test\u0007pass\u007fword\u0085🔑')).toEqual(SECRET)
    await expect(decryptKeystore(keystore, 'testpassword')).rejects.toThrow(KeystorePasswordError)
    const accented = await encryptKeystore(SECRET, 'caf\u00e9', FAST_ARGON2ID)
    expect(await decryptKeystore(accented, 'cafe\u0301')).toEqual(SECRET)
  })
})

describe('default parameters', () => {
  it('scrypt defaults (N = 2^18, r = 8, p = 1) match EIP-2335 and round-trip', async () => {
    // EIP-2335's scrypt test vector: its KDF, normalisation and checksum are ours, so with the right
    // password the checksum matches and only our AEAD (which its AES-128-CTR ciphertext is not)
    // fails: KeystoreCorruptError, never KeystorePasswordError.
    const eip2335: Keystore = {
      version: 1,
      uuid: '1d85ae20-35c5-4611-98e8-aa14a633906f',
      crypto: {
        kdf: {
          function: 'scrypt',
          params: { dklen: 32, n: 262_144, r: 8, p: 1 },
          salt: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
        },
        checksum: {
          function: 'sha256',
          message: 'd2217fe5f3e9a1e34581ef8a78f7c9928e436d36dacc5e846690a5581e8ea484',
        },
        cipher: {
          function: 'xchacha20-poly1305',
          params: { nonce: '00'.repeat(24) },
          message: '06ae90d55fe0a6e9c5c3bc5b170827b2e5cce3929ed3f116c2811e6366dfe20f',
        },
      },
    }
    expect(eip2335.crypto.kdf.params).toEqual(DEFAULT_SCRYPT_PARAMS)
    await expect(decryptKeystore(eip2335, '𝔱𝔢𝔰𝔱𝔭𝔞𝔰𝔰𝔴𝔬𝔯𝔡🔑')).rejects.toThrow(KeystoreCorruptError)

    const keystore = await encryptKeystore(SECRET, PASSWORD)
    expect(keystore.crypto.kdf).toMatchObject({ function: 'scrypt', params: DEFAULT_SCRYPT_PARAMS })
    expect(keystore.crypto.cipher.function).toBe('xchacha20-poly1305')
    expect(await decryptKeystore(keystore, PASSWORD)).toEqual(SECRET)
  })

  it('argon2id defaults are m = 19 MiB, t = 2, p = 1', async () => {
    const keystore = await encryptKeystore(SECRET, PASSWORD, { kdf: 'argon2id' })
    expect(keystore.crypto.kdf).toMatchObject({
      function: 'argon2id',
      params: DEFAULT_ARGON2ID_PARAMS,
    })
    expect(DEFAULT_ARGON2ID_PARAMS).toEqual({ dklen: 32, m: 19_456, t: 2, p: 1 })
    expect(await decryptKeystore(keystore, PASSWORD)).toEqual(SECRET)
  })
})

describe('without node:crypto', () => {
  it('falls back to noble scrypt and ciphers, reading and writing the same files', async () => {
    expect(scryptBackend).toBe('node')
    const fromNode = await encryptKeystore(SECRET, PASSWORD, {
      ...FAST_SCRYPT,
      cipher: 'aes-256-gcm',
    })
    const proc = process as unknown as { getBuiltinModule: (id: string) => unknown }
    const original = proc.getBuiltinModule
    vi.resetModules()
    proc.getBuiltinModule = (id) => (id === 'node:crypto' ? undefined : original.call(process, id))
    try {
      const fallback = await import('../src/keystore.js')
      const aead = await import('../src/aead.js')
      expect(fallback.scryptBackend).toBe('noble')
      expect(aead.aeadBackend).toBe('noble')
      expect(await fallback.decryptKeystore(fromNode, PASSWORD)).toEqual(SECRET)
      const fromNoble = await fallback.encryptKeystore(SECRET, PASSWORD, FAST_SCRYPT)
      expect(await decryptKeystore(fromNoble, PASSWORD)).toEqual(SECRET)
      await expect(fallback.decryptKeystore(fromNode, 'wrong')).rejects.toThrow(/wrong password/)
    } finally {
      proc.getBuiltinModule = original
      vi.resetModules()
    }
  })
})

describe('errors', () => {
  it('are named subclasses of KeystoreError', () => {
    for (const [ErrorClass, name] of [
      [KeystorePasswordError, 'KeystorePasswordError'],
      [KeystoreCorruptError, 'KeystoreCorruptError'],
      [KeystoreFormatError, 'KeystoreFormatError'],
    ] as const) {
      const error = new ErrorClass('x')
      expect(error).toBeInstanceOf(KeystoreError)
      expect(error).toBeInstanceOf(Error)
      expect(error.name).toBe(name)
    }
  })
})
