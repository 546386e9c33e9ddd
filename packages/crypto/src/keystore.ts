/**
 * Password-encrypted key files in an EIP-2335-like JSON format: a memory-hard KDF (scrypt or
 * Argon2id) turns the password into a 32-byte key `dk`, an AEAD (XChaCha20-Poly1305 or AES-256-GCM)
 * under `dk` encrypts the secret, and an EIP-2335 checksum `sha256(dk[16..32] ‖ cipher.message)`
 * tells a wrong password ({@link KeystorePasswordError}) from a damaged file
 * ({@link KeystoreCorruptError}).
 *
 * Policy:
 * - Passwords are normalised as EIP-2335 requires: NFKD, then the C0 (U+0000–U+001F), DEL (U+007F)
 *   and C1 (U+0080–U+009F) control codes are removed, then UTF-8. A `Uint8Array` password is used
 *   as given.
 * - Defaults are strong: scrypt N = 2^18, r = 8, p = 1 (as EIP-2335), or Argon2id m = 19 MiB, t = 2,
 *   p = 1 (OWASP's minimum). Weaker parameters are refused when encrypting unless
 *   `insecureTestParams: true` is passed.
 * - Files are untrusted input: {@link parseKeystore} rejects KDF parameters above
 *   {@link KDF_LIMITS} (1 GiB of memory, 8x the default work) before any derivation runs, so a
 *   hostile file cannot exhaust memory or CPU.
 * - The AEAD's associated data binds the version, KDF, cipher, `pubkey` and `path`, so swapping
 *   them between files is detected; `uuid` and `description` are free labels, not authenticated.
 * - A wrong password and a `cipher.message` damaged without fixing the checksum look the same
 *   (the checksum fails): both are reported as {@link KeystorePasswordError}, as in EIP-2335.
 *
 * scrypt runs on `node:crypto` where it exists ({@link scryptBackend}), else on `@noble/hashes`;
 * Argon2id always on `@noble/hashes` (Node 20 has none).
 *
 * @example
 * ```ts
 * import { decryptKeystore, encryptKeystore, serializeKeystore } from '@metanode/crypto/keystore'
 * import { randomBytes } from '@metanode/crypto/bytes'
 *
 * const secret = randomBytes(32)
 * const keystore = await encryptKeystore(secret, 'correct horse battery staple', {
 *   kdf: 'argon2id',
 *   description: 'validator 0',
 * })
 * const json = serializeKeystore(keystore) // write this to disk
 * await decryptKeystore(json, 'correct horse battery staple') // equals secret
 * ```
 *
 * @module
 */
import { argon2idAsync } from '@noble/hashes/argon2.js'
import { scryptAsync as nobleScryptAsync } from '@noble/hashes/scrypt.js'
import { AeadError, aes256gcm, xchacha20poly1305 } from './aead.js'
import { bytesToHex, hexToBytes } from './bytes.js'
import { sha256 } from './hash.js'
import {
  abytes,
  concatBytes,
  equalBytes,
  getNodeBuiltin,
  randomBytes,
  utf8,
  wipe,
} from './utils.js'

// ---------------------------------------------------------------------------------------------
// Errors

/** Base class of the keystore errors, to catch them all at once. */
export class KeystoreError extends Error {
  override name = 'KeystoreError'
}

/** The password is wrong: the checksum over the derived key and ciphertext does not match. */
export class KeystorePasswordError extends KeystoreError {
  override name = 'KeystorePasswordError'
}

/**
 * The checksum matches, so the password is right, but the ciphertext or the authenticated fields
 * (nonce, KDF, cipher, `pubkey`, `path`) were altered: the file is damaged or tampered with.
 */
export class KeystoreCorruptError extends KeystoreError {
  override name = 'KeystoreCorruptError'
}

/** The file is not a keystore this module reads: bad JSON, schema, values or KDF limits. */
export class KeystoreFormatError extends KeystoreError {
  override name = 'KeystoreFormatError'
}

// ---------------------------------------------------------------------------------------------
// Types

/** The supported key derivation functions. */
export type KeystoreKdfFunction = 'scrypt' | 'argon2id'

/** The supported ciphers, named as the `AeadAlgorithm`s of `@metanode/crypto/aead`. */
export type KeystoreCipherFunction = 'xchacha20-poly1305' | 'aes-256-gcm'

/** scrypt parameters (RFC 7914), named as in EIP-2335. */
export interface ScryptParams {
  /** Derived key length: always 32. */
  dklen: number
  /** CPU/memory cost, a power of two. Memory used is 128 · n · r bytes. */
  n: number
  /** Block size. */
  r: number
  /** Parallelisation. */
  p: number
}

/** Argon2id parameters (RFC 9106). */
export interface Argon2idParams {
  /** Derived key length: always 32. */
  dklen: number
  /** Memory in KiB. */
  m: number
  /** Passes over the memory. */
  t: number
  /** Lanes. */
  p: number
}

/** The `crypto.kdf` section of a keystore. */
export type KeystoreKdf =
  | {
      /** The KDF. */
      function: 'scrypt'
      /** Its parameters. */
      params: ScryptParams
      /** Random salt, hex (16 to 64 bytes). */
      salt: string
    }
  | {
      /** The KDF. */
      function: 'argon2id'
      /** Its parameters. */
      params: Argon2idParams
      /** Random salt, hex (16 to 64 bytes). */
      salt: string
    }

/** The `crypto` section of a keystore. */
export interface KeystoreCrypto {
  /** How the password becomes the 32-byte key `dk`. */
  kdf: KeystoreKdf
  /** `sha256(dk[16..32] ‖ cipher.message)`, which tells a wrong password from a damaged file. */
  checksum: {
    /** Always `'sha256'`. */
    function: 'sha256'
    /** The checksum, hex (32 bytes). */
    message: string
  }
  /** The encrypted secret. */
  cipher: {
    /** The AEAD, keyed with `dk`. */
    function: KeystoreCipherFunction
    /** Cipher parameters. */
    params: {
      /** Random nonce, hex: 24 bytes for XChaCha20-Poly1305, 12 for AES-256-GCM. */
      nonce: string
    }
    /** `ciphertext ‖ tag`, hex. */
    message: string
  }
}

/** A parsed keystore: the JSON object as stored, bytes as lowercase hex. */
export interface Keystore {
  /** Format version: 1. */
  version: 1
  /** A random UUID naming this file (not authenticated). */
  uuid: string
  /** A free-text label (not authenticated). */
  description?: string
  /** The public key of the secret, hex (authenticated). */
  pubkey?: string
  /** The derivation path of the secret, e.g. EIP-2334's `m/12381/3600/0/0/0` (authenticated). */
  path?: string
  /** KDF, checksum and cipher. */
  crypto: KeystoreCrypto
}

/** Options of {@link encryptKeystore} shared by both KDFs. */
export interface KeystoreCommonOptions {
  /** The cipher; default `'xchacha20-poly1305'`. */
  cipher?: KeystoreCipherFunction
  /** A free-text label stored in the file. */
  description?: string
  /** The public key of the secret, stored as hex and authenticated. */
  pubkey?: Uint8Array
  /** The derivation path of the secret, stored and authenticated. */
  path?: string
  /**
   * Allow KDF parameters below the secure minimums ({@link KDF_MINIMUMS}), for fast tests only.
   * The upper {@link KDF_LIMITS} still apply.
   */
  insecureTestParams?: boolean
}

/** Options of {@link encryptKeystore}: the KDF, its parameters, and the common options. */
export type EncryptKeystoreOptions = KeystoreCommonOptions &
  (
    | {
        /** scrypt (the default). */
        kdf?: 'scrypt'
        /** Overrides of {@link DEFAULT_SCRYPT_PARAMS}. */
        kdfParams?: Partial<Omit<ScryptParams, 'dklen'>>
      }
    | {
        /** Argon2id. */
        kdf: 'argon2id'
        /** Overrides of {@link DEFAULT_ARGON2ID_PARAMS}. */
        kdfParams?: Partial<Omit<Argon2idParams, 'dklen'>>
      }
  )

// ---------------------------------------------------------------------------------------------
// Parameters and limits

const DK_LENGTH = 32
const SALT_LENGTH = 32
const MIN_SALT_LENGTH = 16
const MAX_SALT_LENGTH = 64
/** The longest secret a keystore holds, in bytes. */
export const MAX_SECRET_LENGTH = 65_536
const MAX_PUBKEY_LENGTH = 4096
const MAX_TEXT_LENGTH = 4096
const MAX_JSON_LENGTH = 1 << 20

/** The scrypt parameters used when none are given: EIP-2335's. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({
  dklen: 32,
  n: 2 ** 18,
  r: 8,
  p: 1,
})

/** The Argon2id parameters used when none are given: OWASP's minimum (19 MiB, 2 passes). */
export const DEFAULT_ARGON2ID_PARAMS: Readonly<Argon2idParams> = Object.freeze({
  dklen: 32,
  m: 19_456,
  t: 2,
  p: 1,
})

/**
 * The weakest parameters {@link encryptKeystore} accepts without `insecureTestParams`: scrypt
 * N ≥ 2^17 and r ≥ 8 (OWASP), Argon2id m ≥ 19 MiB with m · t ≥ 38 MiB (OWASP's equivalents).
 */
export const KDF_MINIMUMS = Object.freeze({
  scrypt: Object.freeze({ n: 2 ** 17, r: 8 }),
  argon2id: Object.freeze({ m: 19_456, mTimesT: 2 * 19_456 }),
})

/**
 * The costliest parameters accepted in any file or by {@link encryptKeystore}, so a hostile file
 * cannot exhaust memory or CPU: scrypt N ≤ 2^20, r ≤ 32, p ≤ 16, memory 128 · N · r ≤ 1 GiB and
 * work N · r · p ≤ 2^24 (8x the default); Argon2id m ≤ 256 MiB, t ≤ 10, p ≤ 16 and
 * m · t ≤ 2^20 KiB.
 */
export const KDF_LIMITS = Object.freeze({
  scrypt: Object.freeze({ n: 2 ** 20, r: 32, p: 16, memoryBytes: 2 ** 30, work: 2 ** 24 }),
  argon2id: Object.freeze({ m: 262_144, t: 10, p: 16, mTimesT: 2 ** 20 }),
})

// Returns a reason when the parameters are outside the limits, else undefined.
function scryptProblem(params: ScryptParams): string | undefined {
  const { n, r, p } = params
  const limits = KDF_LIMITS.scrypt
  if (params.dklen !== DK_LENGTH) return `dklen must be ${DK_LENGTH}`
  if (n < 2 || n > limits.n || (n & (n - 1)) !== 0) return `n must be a power of two in [2, 2^20]`
  if (r < 1 || r > limits.r) return `r must be in [1, ${limits.r}]`
  if (p < 1 || p > limits.p) return `p must be in [1, ${limits.p}]`
  if (128 * n * r > limits.memoryBytes) return 'needs more than 1 GiB of memory (128 · n · r)'
  if (n * r * p > limits.work) return 'costs more than 2^24 (n · r · p)'
  return undefined
}

function argon2idProblem(params: Argon2idParams): string | undefined {
  const { m, t, p } = params
  const limits = KDF_LIMITS.argon2id
  if (params.dklen !== DK_LENGTH) return `dklen must be ${DK_LENGTH}`
  if (p < 1 || p > limits.p) return `p must be in [1, ${limits.p}]`
  if (m < 8 * p || m > limits.m) return `m must be in [8 · p, ${limits.m}] KiB`
  if (t < 1 || t > limits.t) return `t must be in [1, ${limits.t}]`
  if (m * t > limits.mTimesT) return 'costs more than 2^20 (m · t)'
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Password normalisation and KDFs

// C0 controls, DEL and C1 controls, as EIP-2335 lists them.
function isControlCode(codePoint: number): boolean {
  return codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f)
}

/**
 * The bytes a password stands for, as EIP-2335 defines them: the NFKD form of a string, without
 * C0, DEL and C1 control codes, UTF-8 encoded. A `Uint8Array` is returned as a copy, unchanged.
 *
 * @throws TypeError when `password` is neither a string nor a Uint8Array.
 */
export function normalizePassword(password: string | Uint8Array): Uint8Array {
  if (typeof password === 'string') {
    let kept = ''
    for (const char of password.normalize('NFKD')) {
      if (!isControlCode(char.codePointAt(0) ?? 0)) kept += char
    }
    return utf8(kept)
  }
  if (password instanceof Uint8Array) return new Uint8Array(password)
  throw new TypeError('password must be a string or a Uint8Array')
}

/** Which scrypt implementation runs: OpenSSL through `node:crypto`, or pure-JS noble. */
export type ScryptBackend = 'node' | 'noble'

type NodeCrypto = typeof import('node:crypto')
const nodeCrypto = getNodeBuiltin<NodeCrypto>('node:crypto')

/** The scrypt implementation keystores use in this process, chosen at load. */
export const scryptBackend: ScryptBackend =
  typeof nodeCrypto?.scrypt === 'function' ? 'node' : 'noble'

async function scrypt(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<Uint8Array> {
  const { n: N, r, p } = params
  // OpenSSL's own accounting: 128 · r · (N + 2) bytes of V plus 128 · r · p of B, plus slack.
  const maxmem = 128 * r * (N + p + 2) + (1 << 20)
  if (scryptBackend === 'noble' || nodeCrypto === undefined) {
    return nobleScryptAsync(password, salt, { N, r, p, dkLen: DK_LENGTH, maxmem })
  }
  const { scrypt: nodeScrypt } = nodeCrypto
  return new Promise((resolve, reject) => {
    nodeScrypt(password, salt, DK_LENGTH, { N, r, p, maxmem }, (error, key) => {
      if (error) reject(error)
      else {
        resolve(new Uint8Array(key))
        wipe(key)
      }
    })
  })
}

function deriveKey(kdf: KeystoreKdf, password: Uint8Array): Promise<Uint8Array> {
  const salt = hexToBytes(kdf.salt)
  if (kdf.function === 'scrypt') return scrypt(password, salt, kdf.params)
  const { m, t, p } = kdf.params
  return argon2idAsync(password, salt, { m, t, p, dkLen: DK_LENGTH })
}

function checksumOf(dk: Uint8Array, cipherMessage: Uint8Array): Uint8Array {
  return sha256(concatBytes(dk.subarray(16, 32), cipherMessage))
}

const CIPHERS = {
  'xchacha20-poly1305': xchacha20poly1305,
  'aes-256-gcm': aes256gcm,
} as const

// Everything but the free labels (uuid, description) and what the checksum already covers, in a
// fixed order: a JSON array of fixed shape is an injective encoding.
function associatedData(keystore: Keystore): Uint8Array {
  const { kdf, cipher } = keystore.crypto
  const params =
    kdf.function === 'scrypt'
      ? [kdf.params.dklen, kdf.params.n, kdf.params.r, kdf.params.p]
      : [kdf.params.dklen, kdf.params.m, kdf.params.t, kdf.params.p]
  return utf8(
    JSON.stringify([
      'metanode/keystore/v1',
      keystore.version,
      kdf.function,
      params,
      kdf.salt,
      cipher.function,
      keystore.pubkey ?? null,
      keystore.path ?? null,
    ]),
  )
}

function randomUuid(): string {
  const bytes = randomBytes(16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40 // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80 // RFC 4122 variant
  const hex = bytesToHex(bytes)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

// ---------------------------------------------------------------------------------------------
// Encrypt / decrypt

function optionalText(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`)
  if (value.length > MAX_TEXT_LENGTH) {
    throw new RangeError(`${name} must be at most ${MAX_TEXT_LENGTH} characters`)
  }
  return value
}

function checkParamKeys(overrides: object, allowed: readonly string[]): void {
  for (const key of Object.keys(overrides)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`kdfParams.${key} is not a parameter of this KDF (${allowed.join(', ')})`)
    }
  }
}

function kdfFromOptions(options: EncryptKeystoreOptions): KeystoreKdf {
  const salt = bytesToHex(randomBytes(SALT_LENGTH))
  const insecure = options.insecureTestParams === true
  const kdf = options.kdf ?? 'scrypt'
  if (kdf === 'scrypt') {
    const overrides = (options.kdfParams ?? {}) as Partial<ScryptParams>
    checkParamKeys(overrides, ['n', 'r', 'p'])
    const params: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...overrides, dklen: DK_LENGTH }
    for (const key of ['n', 'r', 'p'] as const) {
      if (!Number.isSafeInteger(params[key]))
        throw new TypeError(`kdfParams.${key} must be an integer`)
    }
    const problem = scryptProblem(params)
    if (problem !== undefined) throw new RangeError(`scrypt kdfParams: ${problem}`)
    const min = KDF_MINIMUMS.scrypt
    if (!insecure && (params.n < min.n || params.r < min.r)) {
      throw new RangeError(
        `scrypt kdfParams below the secure minimum (n ≥ 2^17, r ≥ 8); pass insecureTestParams: true for tests`,
      )
    }
    return { function: 'scrypt', params, salt }
  }
  if (kdf === 'argon2id') {
    const overrides = (options.kdfParams ?? {}) as Partial<Argon2idParams>
    checkParamKeys(overrides, ['m', 't', 'p'])
    const params: Argon2idParams = { ...DEFAULT_ARGON2ID_PARAMS, ...overrides, dklen: DK_LENGTH }
    for (const key of ['m', 't', 'p'] as const) {
      if (!Number.isSafeInteger(params[key]))
        throw new TypeError(`kdfParams.${key} must be an integer`)
    }
    const problem = argon2idProblem(params)
    if (problem !== undefined) throw new RangeError(`argon2id kdfParams: ${problem}`)
    const min = KDF_MINIMUMS.argon2id
    if (!insecure && (params.m < min.m || params.m * params.t < min.mTimesT)) {
      throw new RangeError(
        `argon2id kdfParams below the secure minimum (m ≥ 19456 KiB, m · t ≥ 38912); pass insecureTestParams: true for tests`,
      )
    }
    return { function: 'argon2id', params, salt }
  }
  throw new TypeError(`kdf must be 'scrypt' or 'argon2id', got ${String(kdf)}`)
}

/**
 * Encrypts `secret` under `password` into a new keystore (scrypt and XChaCha20-Poly1305 unless
 * `options` say otherwise). Each call draws a fresh salt, nonce and UUID.
 *
 * @param secret 1 to {@link MAX_SECRET_LENGTH} bytes.
 * @throws TypeError when an argument or option has the wrong type or names an unknown KDF or cipher.
 * @throws RangeError when `secret` is empty or too long, or the KDF parameters are outside
 *   {@link KDF_LIMITS} or, without `insecureTestParams`, below {@link KDF_MINIMUMS}.
 */
export async function encryptKeystore(
  secret: Uint8Array,
  password: string | Uint8Array,
  options: EncryptKeystoreOptions = {},
): Promise<Keystore> {
  abytes(secret, 'secret')
  if (secret.length < 1 || secret.length > MAX_SECRET_LENGTH) {
    throw new RangeError(
      `secret must be 1 to ${MAX_SECRET_LENGTH} bytes long, got ${secret.length}`,
    )
  }
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object')
  const cipherFunction = options.cipher ?? 'xchacha20-poly1305'
  if (!Object.hasOwn(CIPHERS, cipherFunction)) {
    throw new TypeError(
      `cipher must be 'xchacha20-poly1305' or 'aes-256-gcm', got ${String(cipherFunction)}`,
    )
  }
  const description = optionalText(options.description, 'description')
  const path = optionalText(options.path, 'path')
  if (options.pubkey !== undefined) {
    abytes(options.pubkey, 'pubkey')
    if (options.pubkey.length < 1 || options.pubkey.length > MAX_PUBKEY_LENGTH) {
      throw new RangeError(`pubkey must be 1 to ${MAX_PUBKEY_LENGTH} bytes long`)
    }
  }
  const kdf = kdfFromOptions(options)
  const passwordBytes = normalizePassword(password)

  const cipher = CIPHERS[cipherFunction]
  const nonce = randomBytes(cipher.nonceLength)
  const keystore: Keystore = {
    version: 1,
    uuid: randomUuid(),
    ...(description === undefined ? {} : { description }),
    ...(options.pubkey === undefined ? {} : { pubkey: bytesToHex(options.pubkey) }),
    ...(path === undefined ? {} : { path }),
    crypto: {
      kdf,
      checksum: { function: 'sha256', message: '' },
      cipher: { function: cipherFunction, params: { nonce: bytesToHex(nonce) }, message: '' },
    },
  }
  const dk = await deriveKey(kdf, passwordBytes)
  try {
    const message = cipher(dk, nonce, associatedData(keystore)).encrypt(secret)
    keystore.crypto.checksum.message = bytesToHex(checksumOf(dk, message))
    keystore.crypto.cipher.message = bytesToHex(message)
    return keystore
  } finally {
    wipe(dk)
    wipe(passwordBytes)
  }
}

/**
 * Decrypts a keystore (object or JSON text) with `password`. The file is validated first, KDF limits
 * included, so a hostile file fails fast instead of running an enormous KDF.
 *
 * @throws KeystoreFormatError when the file is malformed or its KDF parameters exceed
 *   {@link KDF_LIMITS}.
 * @throws KeystorePasswordError when the password is wrong (the checksum does not match).
 * @throws KeystoreCorruptError when the checksum matches but the ciphertext or an authenticated field
 *   was altered.
 * @throws TypeError when `password` is neither a string nor a Uint8Array.
 */
export async function decryptKeystore(
  keystore: Keystore | string,
  password: string | Uint8Array,
): Promise<Uint8Array> {
  const parsed = parseKeystore(keystore)
  const passwordBytes = normalizePassword(password)
  const { kdf, checksum, cipher } = parsed.crypto
  const message = hexToBytes(cipher.message)
  const dk = await deriveKey(kdf, passwordBytes)
  try {
    if (!equalBytes(checksumOf(dk, message), hexToBytes(checksum.message))) {
      throw new KeystorePasswordError('wrong password: the keystore checksum does not match')
    }
    const aead = CIPHERS[cipher.function](
      dk,
      hexToBytes(cipher.params.nonce),
      associatedData(parsed),
    )
    try {
      return aead.decrypt(message)
    } catch (error) {
      if (!(error instanceof AeadError)) throw error
      throw new KeystoreCorruptError(
        'the password is right but the keystore was altered: its ciphertext or authenticated fields do not verify',
        { cause: error },
      )
    }
  } finally {
    wipe(dk)
    wipe(passwordBytes)
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

function fail(path: string, problem: string): never {
  throw new KeystoreFormatError(`keystore ${path.replace(/^\./, '')} ${problem}`)
}

function objectAt(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(path, 'must be an object')
  return value as Record<string, unknown>
}

function onlyKeys(value: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path}.${key}`, 'is not a known field')
  }
}

function stringAt(value: Record<string, unknown>, key: string, path: string): string {
  const field = value[key]
  if (typeof field !== 'string') fail(`${path}.${key}`, 'must be a string')
  return field
}

function optionalStringAt(
  value: Record<string, unknown>,
  key: string,
  path: string,
): string | undefined {
  if (value[key] === undefined) return undefined
  const field = stringAt(value, key, path)
  if (field.length > MAX_TEXT_LENGTH)
    fail(`${path}.${key}`, `is longer than ${MAX_TEXT_LENGTH} characters`)
  return field
}

function integerAt(value: Record<string, unknown>, key: string, path: string): number {
  const field = value[key]
  if (typeof field !== 'number' || !Number.isSafeInteger(field) || field < 0) {
    fail(`${path}.${key}`, 'must be a non-negative integer')
  }
  return field
}

const HEX = /^[0-9a-fA-F]*$/

function hexAt(
  value: Record<string, unknown>,
  key: string,
  path: string,
  minBytes: number,
  maxBytes: number,
): string {
  const field = stringAt(value, key, path)
  if (field.length % 2 !== 0 || !HEX.test(field)) fail(`${path}.${key}`, 'must be hex without 0x')
  const bytes = field.length / 2
  if (bytes < minBytes || bytes > maxBytes) {
    fail(
      `${path}.${key}`,
      minBytes === maxBytes
        ? `must be ${minBytes} bytes`
        : `must be ${minBytes} to ${maxBytes} bytes`,
    )
  }
  return field.toLowerCase()
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function parseKdf(value: unknown): KeystoreKdf {
  const kdf = objectAt(value, 'crypto.kdf')
  onlyKeys(kdf, 'crypto.kdf', ['function', 'params', 'salt'])
  const fn = stringAt(kdf, 'function', 'crypto.kdf')
  const params = objectAt(kdf.params, 'crypto.kdf.params')
  const salt = hexAt(kdf, 'salt', 'crypto.kdf', MIN_SALT_LENGTH, MAX_SALT_LENGTH)
  const at = 'crypto.kdf.params'
  if (fn === 'scrypt') {
    onlyKeys(params, at, ['dklen', 'n', 'r', 'p'])
    const parsed: ScryptParams = {
      dklen: integerAt(params, 'dklen', at),
      n: integerAt(params, 'n', at),
      r: integerAt(params, 'r', at),
      p: integerAt(params, 'p', at),
    }
    const problem = scryptProblem(parsed)
    if (problem !== undefined) fail(at, `(scrypt): ${problem}`)
    return { function: 'scrypt', params: parsed, salt }
  }
  if (fn === 'argon2id') {
    onlyKeys(params, at, ['dklen', 'm', 't', 'p'])
    const parsed: Argon2idParams = {
      dklen: integerAt(params, 'dklen', at),
      m: integerAt(params, 'm', at),
      t: integerAt(params, 't', at),
      p: integerAt(params, 'p', at),
    }
    const problem = argon2idProblem(parsed)
    if (problem !== undefined) fail(at, `(argon2id): ${problem}`)
    return { function: 'argon2id', params: parsed, salt }
  }
  return fail('crypto.kdf.function', `names an unsupported KDF: ${JSON.stringify(fn)}`)
}

/**
 * Validates a keystore strictly and returns a normalised copy (hex in lowercase, fields in a fixed
 * order): every field must be known and well-typed, function names supported, byte fields of the
 * right length, and the KDF parameters within {@link KDF_LIMITS}.
 *
 * @param json JSON text, or an already parsed object.
 * @throws KeystoreFormatError for anything else.
 */
export function parseKeystore(json: string | unknown): Keystore {
  let value: unknown = json
  if (typeof json === 'string') {
    if (json.length > MAX_JSON_LENGTH) fail('text', `is longer than ${MAX_JSON_LENGTH} characters`)
    try {
      value = JSON.parse(json)
    } catch (cause) {
      throw new KeystoreFormatError('keystore is not valid JSON', { cause })
    }
  }
  const root = objectAt(value, '(root)')
  onlyKeys(root, '', ['version', 'uuid', 'description', 'pubkey', 'path', 'crypto'])
  if (root.version !== 1) fail('.version', 'must be 1')
  const uuid = stringAt(root, 'uuid', '')
  if (!UUID.test(uuid)) fail('.uuid', 'must be a UUID')
  const description = optionalStringAt(root, 'description', '')
  const pubkey =
    root.pubkey === undefined ? undefined : hexAt(root, 'pubkey', '', 1, MAX_PUBKEY_LENGTH)
  const path = optionalStringAt(root, 'path', '')

  const crypto = objectAt(root.crypto, 'crypto')
  onlyKeys(crypto, 'crypto', ['kdf', 'checksum', 'cipher'])
  const kdf = parseKdf(crypto.kdf)

  const checksum = objectAt(crypto.checksum, 'crypto.checksum')
  onlyKeys(checksum, 'crypto.checksum', ['function', 'message'])
  const checksumFunction = stringAt(checksum, 'function', 'crypto.checksum')
  if (checksumFunction !== 'sha256') {
    fail(
      'crypto.checksum.function',
      `names an unsupported checksum: ${JSON.stringify(checksumFunction)}`,
    )
  }
  const checksumMessage = hexAt(checksum, 'message', 'crypto.checksum', 32, 32)

  const cipher = objectAt(crypto.cipher, 'crypto.cipher')
  onlyKeys(cipher, 'crypto.cipher', ['function', 'params', 'message'])
  const cipherFunction = stringAt(cipher, 'function', 'crypto.cipher')
  if (!Object.hasOwn(CIPHERS, cipherFunction)) {
    fail('crypto.cipher.function', `names an unsupported cipher: ${JSON.stringify(cipherFunction)}`)
  }
  const { nonceLength, tagLength } = CIPHERS[cipherFunction as KeystoreCipherFunction]
  const cipherParams = objectAt(cipher.params, 'crypto.cipher.params')
  onlyKeys(cipherParams, 'crypto.cipher.params', ['nonce'])
  const nonce = hexAt(cipherParams, 'nonce', 'crypto.cipher.params', nonceLength, nonceLength)
  const message = hexAt(
    cipher,
    'message',
    'crypto.cipher',
    1 + tagLength,
    MAX_SECRET_LENGTH + tagLength,
  )

  return {
    version: 1,
    uuid: uuid.toLowerCase(),
    ...(description === undefined ? {} : { description }),
    ...(pubkey === undefined ? {} : { pubkey }),
    ...(path === undefined ? {} : { path }),
    crypto: {
      kdf,
      checksum: { function: 'sha256', message: checksumMessage },
      cipher: {
        function: cipherFunction as KeystoreCipherFunction,
        params: { nonce },
        message,
      },
    },
  }
}

/**
 * The keystore as JSON text (validated by {@link parseKeystore} first, so no malformed file is ever
 * written), indented for people reading key files.
 *
 * @throws KeystoreFormatError when `keystore` is malformed.
 */
export function serializeKeystore(keystore: Keystore): string {
  return JSON.stringify(parseKeystore(keystore), null, 2)
}
