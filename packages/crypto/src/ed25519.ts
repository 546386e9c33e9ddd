/**
 * Ed25519 signatures (RFC 8032) with one strict verification policy on every platform.
 *
 * Under Node.js the work is done by OpenSSL through `node:crypto`; elsewhere (browsers, runtimes
 * without Ed25519 in `node:crypto`) by `@noble/curves`. The backend is probed once at load and
 * reported by {@link ed25519Backend}. Both backends sign identically (RFC 8032 is deterministic)
 * and, because the policy below is enforced by this wrapper rather than left to the library,
 * accept exactly the same signatures.
 *
 * Verification policy (strict RFC 8032, the rules libsodium applies):
 * - `S` must be canonical (`S < L`, the group order);
 * - the public key `A` and the commitment `R` must be canonical encodings (`y < p`, and no
 *   "negative zero" `x = 0` with the sign bit set);
 * - `A` and `R` must not be small-order points (the 8 torsion points, in any of their 14
 *   encodings); an honest signer never produces either, and accepting them lets one signature
 *   verify for many messages or keys;
 * - the cofactorless equation `[S]B = R + [k]A` must hold exactly, checked by recomputing `R`
 *   and comparing its encoding byte for byte (ZIP-215's cofactored rule is NOT used, so a
 *   mixed-order `A` or `R` may verify only when the torsion part cancels exactly).
 *
 * @example
 * ```ts
 * import { ed25519 } from '@metanode/crypto/ed25519'
 *
 * const { secretKey, publicKey } = ed25519.keygen()
 * const message = new TextEncoder().encode('hello')
 * const signature = ed25519.sign(message, secretKey)
 * ed25519.verify(signature, message, publicKey) // true
 * ed25519.backend // 'node' under Node.js
 * ```
 *
 * @module
 */

import type * as NodeCrypto from 'node:crypto'
import type { EdwardsPoint } from '@noble/curves/abstract/edwards.js'
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { abytes, equalBytes, randomBytes, toUint8Array, wipe } from './utils.js'

/** Length in bytes of a secret key: the RFC 8032 32-byte seed. */
export const SECRET_KEY_LENGTH = 32
/** Length in bytes of an encoded public key. */
export const PUBLIC_KEY_LENGTH = 32
/** Length in bytes of a signature (`R || S`). */
export const SIGNATURE_LENGTH = 64

/** Which implementation does the arithmetic: OpenSSL via `node:crypto`, or `@noble/curves`. */
export type Ed25519BackendName = 'node' | 'noble'

/** A key pair; `secretKey` is the 32-byte RFC 8032 seed. */
export interface Ed25519KeyPair {
  /** The 32-byte seed from which the signing scalar and prefix are derived. */
  secretKey: Uint8Array
  /** The 32-byte encoded public key. */
  publicKey: Uint8Array
}

/** One signature to check in {@link Ed25519.verifyBatch}. */
export interface Ed25519BatchItem {
  /** The 64-byte signature. */
  signature: Uint8Array
  /** The signed message. */
  message: Uint8Array
  /** The signer's 32-byte public key. */
  publicKey: Uint8Array
}

/** A signing function bound to one secret key, from {@link Ed25519.signer}. */
export interface Ed25519Signer {
  /** The signer's 32-byte public key. */
  readonly publicKey: Uint8Array
  /**
   * Signs `message`: the same signature {@link Ed25519.sign} gives for this key.
   *
   * @throws TypeError when `message` is not a Uint8Array.
   */
  sign(message: Uint8Array): Uint8Array
}

/** Options for {@link createEd25519}. */
export interface Ed25519Options {
  /** Force a backend; defaults to the one chosen at load ({@link ed25519Backend}). */
  backend?: Ed25519BackendName | undefined
  /** How many prepared public keys to keep (least recently used evicted); default 1,024. */
  preparedKeyCacheSize?: number | undefined
}

/** Ed25519 key generation, signing and strict verification. */
export interface Ed25519 {
  /**
   * Creates a key pair from a 32-byte seed, or from fresh platform randomness when omitted. The
   * returned `secretKey` is a copy, so wiping the caller's seed does not affect it.
   *
   * @throws TypeError when `seed` is not a Uint8Array.
   * @throws RangeError when `seed` is not 32 bytes long.
   */
  keygen(seed?: Uint8Array): Ed25519KeyPair
  /**
   * Derives the 32-byte public key of a secret key (seed).
   *
   * @throws TypeError when `secretKey` is not a Uint8Array.
   * @throws RangeError when `secretKey` is not 32 bytes long.
   */
  getPublicKey(secretKey: Uint8Array): Uint8Array
  /**
   * Signs `message` deterministically (RFC 8032, pure Ed25519: no prehash, no context).
   *
   * @returns the 64-byte signature `R || S`.
   * @throws TypeError when `message` or `secretKey` is not a Uint8Array.
   * @throws RangeError when `secretKey` is not 32 bytes long.
   */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array
  /**
   * A signer bound to `secretKey` that prepares the key once (on the node backend, an OpenSSL
   * key object), so each signature skips the key import {@link Ed25519.sign} pays: about twice
   * as fast for a long-lived key such as a validator's. The prepared key lives as long as the
   * signer; the caller's `secretKey` array is copied and may be wiped afterwards.
   *
   * @throws TypeError when `secretKey` is not a Uint8Array.
   * @throws RangeError when `secretKey` is not 32 bytes long.
   */
  signer(secretKey: Uint8Array): Ed25519Signer
  /**
   * Checks a signature under the module's strict policy (see the module documentation).
   *
   * A signature or public key of the wrong length is well-typed but invalid: the result is
   * `false`, never an exception, like any other invalid signature or key.
   *
   * @throws TypeError when an argument is not a Uint8Array.
   */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /**
   * Checks several signatures: `true` iff `items` is non-empty and every item passes
   * {@link Ed25519.verify}. An empty batch is `false` so that "nothing was checked" is never
   * mistaken for "everything was valid".
   *
   * Items are checked one by one, not with the randomized batch equation: that equation is
   * cofactored and would accept some mixed-order signatures that `verify` rejects, and a
   * batch must never disagree with its items.
   *
   * @throws TypeError when `items` is not an array of objects whose `signature`, `message` and
   *   `publicKey` are Uint8Arrays (every item is type-checked before any is verified).
   */
  verifyBatch(items: readonly Ed25519BatchItem[]): boolean
  /** The backend this instance uses. */
  readonly backend: Ed25519BackendName
}

// Group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const GROUP_ORDER_LE = Uint8Array.from(
  hexBytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010'),
)

// Every encoding that decodes (leniently) to one of the 8 points of order dividing 8: the 8
// canonical ones, then the 6 non-canonical ones (y + p where that fits in 255 bits, and the
// "negative zero" sign bit on x = 0). The canonical ones are enough for a key or R that passed
// the canonical check; the others are listed so the table alone describes the whole class.
const SMALL_ORDER_ENCODINGS = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0, order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // y = 0, order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '0100000000000000000000000000000000000000000000000000000000000080', // identity, x = -0
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // (0, -1), x = -0
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // y = p + 0
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // y = p + 0
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // identity, y = p + 1
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', // identity, y = p + 1, x = -0
].map(hexBytes)

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Whether the 32 bytes at `offset` encode y < p = 2^255 - 19 (the sign bit is not part of y). */
function isCanonicalY(bytes: Uint8Array, offset: number): boolean {
  if ((bytes[offset + 31]! & 0x7f) !== 0x7f) return true
  for (let i = 30; i > 0; i--) if (bytes[offset + i] !== 0xff) return true
  return bytes[offset]! < 0xed
}

function isSmallOrderEncoding(bytes: Uint8Array, offset: number): boolean {
  for (const encoding of SMALL_ORDER_ENCODINGS) {
    let i = 0
    while (i < 32 && bytes[offset + i] === encoding[i]) i++
    if (i === 32) return true
  }
  return false
}

/** Whether the 32 bytes at `offset` hold a scalar below the group order L. */
function isCanonicalScalar(bytes: Uint8Array, offset: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const byte = bytes[offset + i]!
    const limit = GROUP_ORDER_LE[i]!
    if (byte !== limit) return byte < limit
  }
  return false // equal to L
}

/** The policy checks that depend on the signature bytes alone: canonical S, acceptable R. */
function isAcceptableSignatureEncoding(signature: Uint8Array): boolean {
  return (
    isCanonicalScalar(signature, 32) &&
    isCanonicalY(signature, 0) &&
    !isSmallOrderEncoding(signature, 0)
  )
}

/** The policy checks on the public key encoding: canonical, not small order. */
function isAcceptablePublicKeyEncoding(publicKey: Uint8Array): boolean {
  return isCanonicalY(publicKey, 0) && !isSmallOrderEncoding(publicKey, 0)
}

/** The raw operations each backend provides; the wrapper adds type checks, policy and caching. */
interface Backend<PreparedKey> {
  readonly name: Ed25519BackendName
  publicKeyFromSeed(seed: Uint8Array): Uint8Array
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array
  /** A signing function over a prepared copy of `seed`. */
  prepareSigner(seed: Uint8Array): (message: Uint8Array) => Uint8Array
  /** A reusable form of a policy-checked public key, or undefined when it is not a curve point. */
  preparePublicKey(publicKey: Uint8Array): PreparedKey | undefined
  /** The cofactorless equation for a signature whose encoding already passed the policy. */
  verifyPrepared(
    signature: Uint8Array,
    message: Uint8Array,
    key: PreparedKey,
    publicKey: Uint8Array,
  ): boolean
}

/**
 * Preparing a key (OpenSSL KeyObject import, or point decompression) costs as much as a large
 * part of a verification, and a node sees the same validator and account keys over and over.
 */
const PREPARED_KEY_CACHE_SIZE = 1024

/** Largest `preparedKeyCacheSize` accepted (a prepared key costs well under a kilobyte). */
export const MAX_PREPARED_KEY_CACHE_SIZE = 1_048_576

/** A least-recently-used map: Map keeps insertion order, so re-inserting on a hit moves a key last. */
class LruCache<V> {
  readonly #entries = new Map<string, V>()
  constructor(readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.#entries.get(key)
    if (value !== undefined) {
      this.#entries.delete(key)
      this.#entries.set(key, value)
    }
    return value
  }

  set(key: string, value: V): void {
    this.#entries.set(key, value)
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }
}

/** A compact string key for 32 public bytes; measured faster than hex and needs no Buffer. */
function cacheKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

function assertItem(item: unknown, index: number): Ed25519BatchItem {
  if (typeof item !== 'object' || item === null) {
    throw new TypeError(
      `items[${index}] must be an object, got ${item === null ? 'null' : typeof item}`,
    )
  }
  const { signature, message, publicKey } = item as Record<string, unknown>
  abytes(signature, `items[${index}].signature`)
  abytes(message, `items[${index}].message`)
  abytes(publicKey, `items[${index}].publicKey`)
  return item as Ed25519BatchItem
}

function buildEd25519<PreparedKey>(backend: Backend<PreparedKey>, cacheSize: number): Ed25519 {
  const preparedKeys = new LruCache<PreparedKey>(cacheSize)

  // Arguments are already type-checked here.
  const verifyChecked = (
    signature: Uint8Array,
    message: Uint8Array,
    publicKey: Uint8Array,
  ): boolean => {
    if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) {
      return false
    }
    if (!isAcceptableSignatureEncoding(signature)) return false
    const id = cacheKey(publicKey)
    let key = preparedKeys.get(id)
    if (key === undefined) {
      // Only keys that passed the policy enter the cache, so a hit needs no re-check.
      if (!isAcceptablePublicKeyEncoding(publicKey)) return false
      key = backend.preparePublicKey(publicKey)
      if (key === undefined) return false
      preparedKeys.set(id, key)
    }
    return backend.verifyPrepared(signature, message, key, publicKey)
  }

  const getPublicKey = (secretKey: Uint8Array): Uint8Array =>
    backend.publicKeyFromSeed(abytes(secretKey, 'secretKey', SECRET_KEY_LENGTH))

  return {
    backend: backend.name,
    keygen(seed?: Uint8Array): Ed25519KeyPair {
      const secretKey =
        seed === undefined
          ? randomBytes(SECRET_KEY_LENGTH)
          : abytes(seed, 'seed', SECRET_KEY_LENGTH).slice()
      return { secretKey, publicKey: getPublicKey(secretKey) }
    },
    getPublicKey,
    sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
      abytes(message, 'message')
      abytes(secretKey, 'secretKey', SECRET_KEY_LENGTH)
      return backend.sign(message, secretKey)
    },
    signer(secretKey: Uint8Array): Ed25519Signer {
      const publicKey = getPublicKey(secretKey)
      const signPrepared = backend.prepareSigner(secretKey)
      return Object.freeze({
        publicKey,
        sign(message: Uint8Array): Uint8Array {
          abytes(message, 'message')
          return signPrepared(message)
        },
      })
    },
    verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
      abytes(signature, 'signature')
      abytes(message, 'message')
      abytes(publicKey, 'publicKey')
      return verifyChecked(signature, message, publicKey)
    },
    verifyBatch(items: readonly Ed25519BatchItem[]): boolean {
      if (!Array.isArray(items)) {
        throw new TypeError(`items must be an array, got ${items === null ? 'null' : typeof items}`)
      }
      const checked = items.map(assertItem)
      if (checked.length === 0) return false
      for (const { signature, message, publicKey } of checked) {
        if (!verifyChecked(signature, message, publicKey)) return false
      }
      return true
    },
  }
}

// noble's own `verify` checks the cofactored equation, which accepts mixed-order signatures
// that OpenSSL (cofactorless) rejects; so the noble backend checks the cofactorless equation
// with noble's point arithmetic, the way OpenSSL and ref10 do: recompute R and compare bytes.
const Point = nobleEd25519.Point

const nobleBackend: Backend<EdwardsPoint> = {
  name: 'noble',
  publicKeyFromSeed: (seed) => nobleEd25519.getPublicKey(seed),
  sign: (message, seed) => nobleEd25519.sign(message, seed),
  prepareSigner(seed) {
    const copy = seed.slice()
    return (message) => nobleEd25519.sign(message, copy)
  },
  preparePublicKey(publicKey) {
    try {
      return Point.fromBytes(publicKey, false)
    } catch {
      return undefined // not the encoding of a curve point
    }
  },
  verifyPrepared(signature, message, publicKeyPoint, publicKey) {
    const encodedR = signature.subarray(0, 32)
    const s = bytesToNumberLE(signature.subarray(32, 64))
    const digest = sha512.create().update(encodedR).update(publicKey).update(message).digest()
    const k = Point.Fn.create(bytesToNumberLE(digest))
    const expectedR = Point.BASE.multiplyUnsafe(s).subtract(publicKeyPoint.multiplyUnsafe(k))
    return equalBytes(expectedR.toBytes(), encodedR)
  },
}

type KeyObject = NodeCrypto.KeyObject

/** How raw key bytes become OpenSSL KeyObjects. */
interface KeyImporter {
  publicKey(nodeCrypto: typeof NodeCrypto, publicKey: Uint8Array): KeyObject
  privateKey(nodeCrypto: typeof NodeCrypto, seed: Uint8Array): KeyObject
}

/** A Buffer view (no copy) for node:crypto parameters typed as Buffer. */
function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function base64url(bytes: Uint8Array): string {
  return bufferView(bytes).toString('base64url')
}

// Node requires `x` in a private JWK but derives the public key from `d` (checked at load by
// the known-answer probe), so a placeholder (32 zero bytes) avoids computing it first.
const JWK_PLACEHOLDER_X = 'A'.repeat(43)

/**
 * JWK import goes straight to OpenSSL's raw-key constructors; DER import goes through OpenSSL 3's
 * decoder framework, measured 12x (public) and 10x (private) slower on OpenSSL 3.0.
 */
const jwkImporter: KeyImporter = {
  publicKey: (nodeCrypto, publicKey) =>
    nodeCrypto.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: base64url(publicKey) },
      format: 'jwk',
    }),
  privateKey: (nodeCrypto, seed) =>
    nodeCrypto.createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x: JWK_PLACEHOLDER_X },
      format: 'jwk',
    }),
}

const SPKI_PREFIX = hexBytes('302a300506032b6570032100')
const PKCS8_PREFIX = hexBytes('302e020100300506032b657004220420')

/** The documented DER forms, used when this Node's JWK import does not behave as expected. */
const derImporter: KeyImporter = {
  publicKey(nodeCrypto, publicKey) {
    const der = new Uint8Array(SPKI_PREFIX.length + 32)
    der.set(SPKI_PREFIX)
    der.set(publicKey, SPKI_PREFIX.length)
    return nodeCrypto.createPublicKey({ key: bufferView(der), format: 'der', type: 'spki' })
  },
  privateKey(nodeCrypto, seed) {
    // A private array, not Buffer.concat: that may place the seed in Node's shared buffer pool.
    const der = new Uint8Array(PKCS8_PREFIX.length + 32)
    der.set(PKCS8_PREFIX)
    der.set(seed, PKCS8_PREFIX.length)
    try {
      return nodeCrypto.createPrivateKey({ key: bufferView(der), format: 'der', type: 'pkcs8' })
    } finally {
      wipe(der)
    }
  },
}

function nodeBackend(nodeCrypto: typeof NodeCrypto, importer: KeyImporter): Backend<KeyObject> {
  return {
    name: 'node',
    publicKeyFromSeed(seed) {
      const privateKey = importer.privateKey(nodeCrypto, seed)
      // JWK export measured ~20x faster than SPKI DER export on OpenSSL 3.0.
      const { x } = nodeCrypto.createPublicKey(privateKey).export({ format: 'jwk' })
      // A copy: a small Buffer.from may be a view into Node's shared pool.
      return Uint8Array.from(Buffer.from(x as string, 'base64url'))
    },
    // Private KeyObjects are not cached: a cache would keep every seed alive, keyed by its
    // bytes, for the life of the process, to save one import per signature.
    sign: (message, seed) =>
      toUint8Array(nodeCrypto.sign(null, message, importer.privateKey(nodeCrypto, seed))),
    // A signer asked for explicitly keeps its key object: the caller holds the key anyway.
    prepareSigner(seed) {
      const privateKey = importer.privateKey(nodeCrypto, seed)
      return (message) => toUint8Array(nodeCrypto.sign(null, message, privateKey))
    },
    preparePublicKey: (publicKey) => importer.publicKey(nodeCrypto, publicKey),
    verifyPrepared: (signature, message, key) => nodeCrypto.verify(null, message, key, signature),
  }
}

// RFC 8032 section 7.1, test 1 (empty message).
const PROBE_SEED = hexBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')
const PROBE_PUBLIC_KEY = hexBytes(
  'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
)
const PROBE_SIGNATURE = hexBytes(
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
)

/** Whether `backend` reproduces RFC 8032 test 1: key derivation, signing and verification. */
function passesKnownAnswer<K>(backend: Backend<K>): boolean {
  try {
    const message = new Uint8Array(0)
    const key = backend.preparePublicKey(PROBE_PUBLIC_KEY)
    return (
      key !== undefined &&
      equalBytes(backend.publicKeyFromSeed(PROBE_SEED), PROBE_PUBLIC_KEY) &&
      equalBytes(backend.sign(message, PROBE_SEED), PROBE_SIGNATURE) &&
      equalBytes(backend.prepareSigner(PROBE_SEED)(message), PROBE_SIGNATURE) &&
      backend.verifyPrepared(PROBE_SIGNATURE, message, key, PROBE_PUBLIC_KEY)
    )
  } catch {
    return false // Ed25519 missing from this OpenSSL, or a key format this Node cannot import
  }
}

function probeNodeBackend(): Backend<KeyObject> | undefined {
  // getBuiltinModule rather than a static import keeps this module loadable in browsers.
  const nodeCrypto = globalThis.process?.getBuiltinModule?.('node:crypto')
  if (nodeCrypto === undefined) return undefined
  for (const importer of [jwkImporter, derImporter]) {
    const backend = nodeBackend(nodeCrypto, importer)
    if (passesKnownAnswer(backend)) return backend
  }
  return undefined
}

const nodeCryptoBackend = probeNodeBackend()

/** The backend chosen at load: `'node'` when `node:crypto` passes an RFC 8032 self-test, else `'noble'`. */
export const ed25519Backend: Ed25519BackendName = nodeCryptoBackend === undefined ? 'noble' : 'node'

/**
 * Creates an Ed25519 instance, optionally forcing a backend (e.g. to compare them in tests).
 * Each instance keeps its own cache of prepared public keys (1,024 by default; a verifier that
 * sees more distinct signers in rotation, such as a chain's transaction pool, wants more).
 *
 * @throws TypeError when `opts.backend` is neither `'node'` nor `'noble'`.
 * @throws RangeError when `opts.preparedKeyCacheSize` is not an integer from 1 to
 *   {@link MAX_PREPARED_KEY_CACHE_SIZE}.
 * @throws Error when `'node'` is requested but `node:crypto` has no working Ed25519.
 */
export function createEd25519(opts: Ed25519Options = {}): Ed25519 {
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`opts must be an object, got ${opts === null ? 'null' : typeof opts}`)
  }
  const backend = opts.backend ?? ed25519Backend
  const cacheSize = opts.preparedKeyCacheSize ?? PREPARED_KEY_CACHE_SIZE
  if (
    !Number.isSafeInteger(cacheSize) ||
    cacheSize < 1 ||
    cacheSize > MAX_PREPARED_KEY_CACHE_SIZE
  ) {
    throw new RangeError(
      `preparedKeyCacheSize must be an integer from 1 to ${MAX_PREPARED_KEY_CACHE_SIZE}, got ${String(cacheSize)}`,
    )
  }
  if (backend === 'noble') return buildEd25519(nobleBackend, cacheSize)
  if (backend !== 'node') {
    throw new TypeError(`backend must be 'node' or 'noble', got ${String(backend)}`)
  }
  if (nodeCryptoBackend === undefined) {
    throw new Error('the node backend is unavailable: node:crypto has no working Ed25519 here')
  }
  return buildEd25519(nodeCryptoBackend, cacheSize)
}

/** The default instance, on the backend chosen at load ({@link ed25519Backend}). */
export const ed25519: Ed25519 = createEd25519()
