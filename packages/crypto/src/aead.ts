/**
 * Authenticated encryption with associated data: ChaCha20-Poly1305 (RFC 8439), XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha) and AES-256-GCM (NIST SP 800-38D), all with 32-byte keys and 16-byte
 * tags. Each call binds a key, a nonce and optional associated data and returns an object whose
 * `encrypt` gives `ciphertext ‖ tag` and whose `decrypt` gives the plaintext back, or throws
 * {@link AeadError} without releasing any plaintext when the tag does not verify.
 *
 * **A nonce must never repeat under one key**: a repeat reveals the XOR of the two plaintexts and,
 * for Poly1305 and GHASH, lets an attacker forge tags. Use a counter for the 12-byte nonces of
 * ChaCha20-Poly1305 and AES-256-GCM; with random nonces use XChaCha20-Poly1305, whose 24-byte
 * nonce makes collisions negligible, or simply {@link sealRandom} / {@link openRandom}.
 *
 * Backends are chosen once at load ({@link aeadBackend}): OpenSSL through `node:crypto` where it
 * exists and passes a known-answer check, `@noble/ciphers` everywhere else. XChaCha20 on the node
 * backend derives the HChaCha20 subkey in JS and runs OpenSSL's ChaCha20-Poly1305, which is the
 * construction's definition, so both backends give identical bytes (checked against Wycheproof).
 *
 * @example
 * ```ts
 * import { chacha20poly1305, openRandom, sealRandom } from '@metanode/crypto/aead'
 * import { randomBytes } from '@metanode/crypto/bytes'
 *
 * const key = randomBytes(32)
 * const nonce = new Uint8Array(12) // a counter: 0, 1, 2, ... never reused under `key`
 * const aad = new TextEncoder().encode('header')
 * const sealed = chacha20poly1305(key, nonce, aad).encrypt(new TextEncoder().encode('hello'))
 * chacha20poly1305(key, nonce, aad).decrypt(sealed) // 'hello' as bytes
 *
 * // Random 24-byte XChaCha20 nonce, prefixed to the output:
 * const box = sealRandom(key, new TextEncoder().encode('hello'))
 * openRandom(key, box) // 'hello' as bytes
 * ```
 *
 * @module
 */
import { gcm as nobleGcm } from '@noble/ciphers/aes.js'
import {
  hchacha,
  chacha20poly1305 as nobleChacha20Poly1305,
  xchacha20poly1305 as nobleXChacha20Poly1305,
} from '@noble/ciphers/chacha.js'
import { abytes, equalBytes, getNodeBuiltin, randomBytes, toUint8Array, wipe } from './utils.js'

/** Key length of every cipher here, in bytes. */
export const KEY_LENGTH = 32

/** Length of the authentication tag appended to every ciphertext, in bytes. */
export const TAG_LENGTH = 16

/**
 * The longest plaintext accepted, 2^31 - 1 bytes: far below the per-nonce limits of the ciphers
 * (256 GiB for ChaCha20, 64 GiB for GCM) and within what every JS engine allocates as one array.
 * Split larger data into chunks, each with its own nonce.
 */
export const MAX_PLAINTEXT_LENGTH = 2 ** 31 - 1

/** Length of the random nonce {@link sealRandom} prefixes to its output, in bytes. */
export const RANDOM_NONCE_LENGTH = 24

/** Which implementation runs: OpenSSL through `node:crypto`, or pure-JS `@noble/ciphers`. */
export type AeadBackend = 'node' | 'noble'

/** The algorithms of this module, named as in the keystore format and OpenSSL. */
export type AeadAlgorithm = 'chacha20-poly1305' | 'xchacha20-poly1305' | 'aes-256-gcm'

/**
 * Thrown when a ciphertext does not authenticate: wrong key, nonce or associated data, a tampered
 * ciphertext or tag, or a ciphertext shorter than the tag. No plaintext is released.
 */
export class AeadError extends Error {
  override readonly name = 'AeadError'

  /** @param message What failed; the default names every possible cause. */
  constructor(
    message = 'AEAD authentication failed: wrong key, nonce or associated data, or tampered ciphertext',
  ) {
    super(message)
  }
}

/** A cipher bound to one key, nonce and associated data. */
export interface Aead {
  /**
   * Encrypts `plaintext` and returns `ciphertext ‖ tag` (16 bytes longer). Callable once: a second
   * call would reuse the nonce, so it throws an `Error`.
   *
   * @throws TypeError when `plaintext` is not a Uint8Array.
   * @throws RangeError when it is longer than {@link MAX_PLAINTEXT_LENGTH}.
   */
  encrypt(plaintext: Uint8Array): Uint8Array
  /**
   * Verifies and decrypts `ciphertext ‖ tag`.
   *
   * @throws AeadError when the tag does not verify or the input is shorter than the tag.
   * @throws TypeError when `ciphertextWithTag` is not a Uint8Array.
   * @throws RangeError when it is longer than {@link MAX_PLAINTEXT_LENGTH} + {@link TAG_LENGTH}.
   */
  decrypt(ciphertextWithTag: Uint8Array): Uint8Array
}

/** An AEAD algorithm: call it with a key, a nonce and optional associated data. */
export interface AeadCipher {
  /**
   * Binds `key`, `nonce` and `aad` (default empty). The inputs are copied, so later changes to the
   * caller's arrays do not affect the result.
   *
   * @throws TypeError when an argument is not a Uint8Array.
   * @throws RangeError when `key` is not 32 bytes or `nonce` is not {@link AeadCipher.nonceLength}.
   */
  (key: Uint8Array, nonce: Uint8Array, aad?: Uint8Array): Aead
  /** The algorithm's name. */
  readonly algorithm: AeadAlgorithm
  /** Key length in bytes (32). */
  readonly keyLength: number
  /** Nonce length in bytes: 12, or 24 for XChaCha20-Poly1305. */
  readonly nonceLength: number
  /** Tag length in bytes (16). */
  readonly tagLength: number
}

/** The three ciphers of one backend. */
export interface AeadSuite {
  /** ChaCha20-Poly1305, RFC 8439: 12-byte nonce. */
  readonly chacha20poly1305: AeadCipher
  /** XChaCha20-Poly1305: 24-byte nonce, safe to pick at random. */
  readonly xchacha20poly1305: AeadCipher
  /** AES-256-GCM: 12-byte nonce. */
  readonly aes256gcm: AeadCipher
}

// A backend's primitive: plaintext in, `ciphertext ‖ tag` out; `undefined` when the tag fails.
type Seal = (
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
) => Uint8Array
type Open = (
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertextWithTag: Uint8Array,
) => Uint8Array | undefined

const EMPTY = new Uint8Array(0)

function defineCipher(
  algorithm: AeadAlgorithm,
  nonceLength: number,
  seal: Seal,
  open: Open,
): AeadCipher {
  const bind = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array = EMPTY): Aead => {
    // Copies: a caller reusing its arrays must not change what an Aead already bound.
    const boundKey = new Uint8Array(abytes(key, 'key', KEY_LENGTH))
    const boundNonce = new Uint8Array(abytes(nonce, 'nonce', nonceLength))
    const boundAad = new Uint8Array(abytes(aad, 'aad'))
    let encrypted = false
    return {
      encrypt(plaintext: Uint8Array): Uint8Array {
        abytes(plaintext, 'plaintext')
        if (plaintext.length > MAX_PLAINTEXT_LENGTH) {
          throw new RangeError(`plaintext must be at most ${MAX_PLAINTEXT_LENGTH} bytes`)
        }
        if (encrypted) {
          throw new Error(`${algorithm}: encrypt() called twice with one key and nonce`)
        }
        encrypted = true
        return seal(boundKey, boundNonce, boundAad, plaintext)
      },
      decrypt(ciphertextWithTag: Uint8Array): Uint8Array {
        abytes(ciphertextWithTag, 'ciphertextWithTag')
        if (ciphertextWithTag.length > MAX_PLAINTEXT_LENGTH + TAG_LENGTH) {
          throw new RangeError(
            `ciphertextWithTag must be at most ${MAX_PLAINTEXT_LENGTH + TAG_LENGTH} bytes`,
          )
        }
        if (ciphertextWithTag.length < TAG_LENGTH) {
          throw new AeadError(`ciphertext is shorter than the ${TAG_LENGTH}-byte tag`)
        }
        const plaintext = open(boundKey, boundNonce, boundAad, ciphertextWithTag)
        if (plaintext === undefined) throw new AeadError()
        return plaintext
      },
    }
  }
  return Object.freeze(
    Object.assign(bind, { algorithm, keyLength: KEY_LENGTH, nonceLength, tagLength: TAG_LENGTH }),
  )
}

// ---------------------------------------------------------------------------------------------
// noble backend

type NobleCipher = (
  key: Uint8Array,
  nonce: Uint8Array,
  aad?: Uint8Array,
) => { encrypt(data: Uint8Array): Uint8Array; decrypt(data: Uint8Array): Uint8Array }

function nobleSeal(cipher: NobleCipher): Seal {
  return (key, nonce, aad, plaintext) => cipher(key, nonce, aad).encrypt(plaintext)
}

function nobleOpen(cipher: NobleCipher): Open {
  return (key, nonce, aad, ciphertextWithTag) => {
    try {
      return cipher(key, nonce, aad).decrypt(ciphertextWithTag)
    } catch {
      // Arguments were checked before, so noble's only remaining failure is the tag check.
      return undefined
    }
  }
}

const nobleSuite: AeadSuite = Object.freeze({
  chacha20poly1305: defineCipher(
    'chacha20-poly1305',
    12,
    nobleSeal(nobleChacha20Poly1305),
    nobleOpen(nobleChacha20Poly1305),
  ),
  xchacha20poly1305: defineCipher(
    'xchacha20-poly1305',
    24,
    nobleSeal(nobleXChacha20Poly1305),
    nobleOpen(nobleXChacha20Poly1305),
  ),
  aes256gcm: defineCipher('aes-256-gcm', 12, nobleSeal(nobleGcm), nobleOpen(nobleGcm)),
})

// ---------------------------------------------------------------------------------------------
// node backend

type NodeCrypto = typeof import('node:crypto')
type NodeAlgorithm = 'chacha20-poly1305' | 'aes-256-gcm'

function createNodeCipher(
  nodeCrypto: NodeCrypto,
  algorithm: NodeAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
) {
  const options = { authTagLength: TAG_LENGTH }
  return algorithm === 'aes-256-gcm'
    ? nodeCrypto.createCipheriv(algorithm, key, nonce, options)
    : nodeCrypto.createCipheriv(algorithm, key, nonce, options)
}

function createNodeDecipher(
  nodeCrypto: NodeCrypto,
  algorithm: NodeAlgorithm,
  key: Uint8Array,
  nonce: Uint8Array,
) {
  const options = { authTagLength: TAG_LENGTH }
  return algorithm === 'aes-256-gcm'
    ? nodeCrypto.createDecipheriv(algorithm, key, nonce, options)
    : nodeCrypto.createDecipheriv(algorithm, key, nonce, options)
}

function nodeSeal(nodeCrypto: NodeCrypto, algorithm: NodeAlgorithm): Seal {
  return (key, nonce, aad, plaintext) => {
    const cipher = createNodeCipher(nodeCrypto, algorithm, key, nonce)
    cipher.setAAD(aad)
    const ciphertext = cipher.update(plaintext)
    cipher.final() // stream modes: never any output here
    const out = new Uint8Array(plaintext.length + TAG_LENGTH)
    out.set(ciphertext)
    out.set(cipher.getAuthTag(), plaintext.length)
    return out
  }
}

function nodeOpen(nodeCrypto: NodeCrypto, algorithm: NodeAlgorithm): Open {
  return (key, nonce, aad, ciphertextWithTag) => {
    const bodyLength = ciphertextWithTag.length - TAG_LENGTH
    const decipher = createNodeDecipher(nodeCrypto, algorithm, key, nonce)
    decipher.setAAD(aad)
    decipher.setAuthTag(ciphertextWithTag.subarray(bodyLength))
    // OpenSSL decrypts before it checks the tag: the plaintext is wiped, never returned, on failure.
    const plaintext = decipher.update(ciphertextWithTag.subarray(0, bodyLength))
    try {
      decipher.final()
    } catch {
      wipe(plaintext)
      return undefined
    }
    return toUint8Array(plaintext)
  }
}

// The ChaCha20 constants "expand 32-byte k" as a raw byte view: noble's `hchacha` takes its inputs
// as views over bytes and converts word order itself on big-endian hosts.
const SIGMA = new Uint32Array(
  new Uint8Array([...'expand 32-byte k'].map((c) => c.charCodeAt(0))).buffer,
)

function hchacha20(key: Uint8Array, noncePrefix: Uint8Array): Uint8Array {
  const keyWords = new Uint32Array(8)
  new Uint8Array(keyWords.buffer).set(key)
  const nonceWords = new Uint32Array(4)
  new Uint8Array(nonceWords.buffer).set(noncePrefix)
  const subkey = new Uint32Array(8)
  hchacha(SIGMA, keyWords, nonceWords, subkey)
  wipe(new Uint8Array(keyWords.buffer))
  return new Uint8Array(subkey.buffer)
}

// XChaCha20-Poly1305 is by definition ChaCha20-Poly1305 under the key HChaCha20(key, nonce[0..16])
// with the nonce 0x00000000 ‖ nonce[16..24].
function extendNonce<T extends Seal | Open>(inner: T): T {
  return ((key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, data: Uint8Array) => {
    const subkey = hchacha20(key, nonce.subarray(0, 16))
    const innerNonce = new Uint8Array(12)
    innerNonce.set(nonce.subarray(16), 4)
    try {
      return inner(subkey, innerNonce, aad, data)
    } finally {
      wipe(subkey)
    }
  }) as T
}

function makeNodeSuite(nodeCrypto: NodeCrypto): AeadSuite {
  const chachaSeal = nodeSeal(nodeCrypto, 'chacha20-poly1305')
  const chachaOpen = nodeOpen(nodeCrypto, 'chacha20-poly1305')
  return Object.freeze({
    chacha20poly1305: defineCipher('chacha20-poly1305', 12, chachaSeal, chachaOpen),
    xchacha20poly1305: defineCipher(
      'xchacha20-poly1305',
      24,
      extendNonce(chachaSeal),
      extendNonce(chachaOpen),
    ),
    aes256gcm: defineCipher(
      'aes-256-gcm',
      12,
      nodeSeal(nodeCrypto, 'aes-256-gcm'),
      nodeOpen(nodeCrypto, 'aes-256-gcm'),
    ),
  })
}

// A node:crypto whose OpenSSL lacks a cipher, or computes something else, is not used: each cipher
// must agree with noble on a fixed input and reject a flipped tag.
function knownAnswerOk(suite: AeadSuite): boolean {
  const key = Uint8Array.from({ length: KEY_LENGTH }, (_, i) => i)
  const plaintext = Uint8Array.from({ length: 100 }, (_, i) => 255 - i)
  const aad = Uint8Array.of(1, 2, 3)
  for (const name of ['chacha20poly1305', 'xchacha20poly1305', 'aes256gcm'] as const) {
    const ours = suite[name]
    const nonce = Uint8Array.from({ length: ours.nonceLength }, (_, i) => i * 3)
    const sealed = ours(key, nonce, aad).encrypt(plaintext)
    if (!equalBytes(sealed, nobleSuite[name](key, nonce, aad).encrypt(plaintext))) return false
    if (!equalBytes(ours(key, nonce, aad).decrypt(sealed), plaintext)) return false
    sealed[sealed.length - 1]! ^= 1
    try {
      ours(key, nonce, aad).decrypt(sealed)
      return false
    } catch (error) {
      if (!(error instanceof AeadError)) return false
    }
  }
  return true
}

function loadNodeSuite(): AeadSuite | undefined {
  const nodeCrypto = getNodeBuiltin<NodeCrypto>('node:crypto')
  if (nodeCrypto === undefined) return undefined
  try {
    const suite = makeNodeSuite(nodeCrypto)
    return knownAnswerOk(suite) ? suite : undefined
  } catch {
    // An OpenSSL built without one of the ciphers.
    return undefined
  }
}

const nodeSuite = loadNodeSuite()

/** The implementation the ciphers of this module use in this process, chosen at load. */
export const aeadBackend: AeadBackend = nodeSuite === undefined ? 'noble' : 'node'

/**
 * The ciphers on a chosen backend, for tests and benchmarks that compare implementations (normal
 * code uses {@link chacha20poly1305} and its siblings).
 *
 * @param options.backend `'node'` (throws an `Error` where `node:crypto` lacks the ciphers) or
 *   `'noble'`; defaults to {@link aeadBackend}.
 */
export function createAeads(options: { backend?: AeadBackend } = {}): AeadSuite {
  const backend = options.backend ?? aeadBackend
  if (backend === 'noble') return nobleSuite
  if (backend !== 'node') throw new TypeError(`unknown AEAD backend: ${String(backend)}`)
  if (nodeSuite === undefined) {
    throw new Error('node:crypto with chacha20-poly1305 and aes-256-gcm is not available here')
  }
  return nodeSuite
}

const defaultSuite = createAeads()

/** ChaCha20-Poly1305 (RFC 8439): 32-byte key, 12-byte nonce, 16-byte tag. */
export const chacha20poly1305: AeadCipher = defaultSuite.chacha20poly1305

/** XChaCha20-Poly1305: 32-byte key, 24-byte nonce (safe to choose at random), 16-byte tag. */
export const xchacha20poly1305: AeadCipher = defaultSuite.xchacha20poly1305

/** AES-256-GCM (NIST SP 800-38D): 32-byte key, 12-byte nonce, 16-byte tag. */
export const aes256gcm: AeadCipher = defaultSuite.aes256gcm

/**
 * Encrypts with XChaCha20-Poly1305 under a fresh random 24-byte nonce and returns
 * `nonce ‖ ciphertext ‖ tag` (40 bytes longer than `plaintext`). Random 24-byte nonces collide
 * with negligible probability, so one key can seal any practical number of messages.
 *
 * @throws TypeError when an argument is not a Uint8Array.
 * @throws RangeError when `key` is not 32 bytes or `plaintext` is too long.
 */
export function sealRandom(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  abytes(plaintext, 'plaintext')
  const nonce = randomBytes(RANDOM_NONCE_LENGTH)
  const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plaintext)
  const out = new Uint8Array(RANDOM_NONCE_LENGTH + sealed.length)
  out.set(nonce)
  out.set(sealed, RANDOM_NONCE_LENGTH)
  return out
}

/**
 * Opens the output of {@link sealRandom}.
 *
 * @throws AeadError when it does not authenticate or is shorter than nonce and tag.
 * @throws TypeError when an argument is not a Uint8Array.
 * @throws RangeError when `key` is not 32 bytes.
 */
export function openRandom(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  abytes(key, 'key', KEY_LENGTH)
  abytes(sealed, 'sealed')
  if (sealed.length < RANDOM_NONCE_LENGTH + TAG_LENGTH) {
    throw new AeadError(
      `sealed input is shorter than its ${RANDOM_NONCE_LENGTH}-byte nonce and tag`,
    )
  }
  const nonce = sealed.subarray(0, RANDOM_NONCE_LENGTH)
  return xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(RANDOM_NONCE_LENGTH))
}
