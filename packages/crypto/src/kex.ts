/**
 * Key exchange: X25519 Diffie-Hellman (RFC 7748), the ML-KEM-768 post-quantum KEM (FIPS 203), and
 * {@link x25519MlKem768}, a hybrid KEM whose shared secret stays secret as long as either of the
 * two holds.
 *
 * X25519 runs on OpenSSL through `node:crypto` where it exists and passes a known-answer check
 * ({@link x25519Backend}), else on `@noble/curves`; both reject low-order public keys with
 * {@link LowOrderPointError}. ML-KEM-768 runs on `@noble/post-quantum` (Node 20's OpenSSL has none).
 *
 * @example
 * ```ts
 * import { x25519, x25519MlKem768 } from '@metanode/crypto/kex'
 *
 * const alice = x25519.keygen()
 * const bob = x25519.keygen()
 * x25519.getSharedSecret(alice.secretKey, bob.publicKey) // equals Bob's view:
 * x25519.getSharedSecret(bob.secretKey, alice.publicKey)
 *
 * // Hybrid KEM: the sender needs only the recipient's public key.
 * const recipient = x25519MlKem768.keygen()
 * const { cipherText, sharedSecret } = x25519MlKem768.encapsulate(recipient.publicKey)
 * x25519MlKem768.decapsulate(cipherText, recipient.secretKey) // equals sharedSecret
 * ```
 *
 * @module
 */
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { domainHash } from './hash.js'
import {
  abytes,
  concatBytes,
  equalBytes,
  getNodeBuiltin,
  randomBytes,
  toUint8Array,
  wipe,
} from './utils.js'

/**
 * Thrown for a public key or ciphertext of the right length that is still not valid: an ML-KEM
 * public key whose coefficients are not reduced (FIPS 203 modulus check), an ML-KEM secret key whose
 * embedded hash does not match (FIPS 203 hash check), or a low-order X25519 point
 * ({@link LowOrderPointError}).
 */
export class InvalidKeyError extends Error {
  override name = 'InvalidKeyError'
}

/**
 * Thrown when an X25519 public key is a point of small order, so the shared secret would be all
 * zero whatever the secret key: a peer offering one is attacking or broken, never honest.
 */
export class LowOrderPointError extends InvalidKeyError {
  override name = 'LowOrderPointError'

  /**
   * @param message What failed; the default says why.
   * @param options `cause`: the backend's own error, when there is one.
   */
  constructor(
    message = 'x25519: low-order public key, the shared secret would be all zero',
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** A secret key and its public key. */
export interface KeyPair {
  /** The secret key: keep it private. */
  secretKey: Uint8Array
  /** The public key, to hand to peers. */
  publicKey: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// X25519

/** Which X25519 implementation runs: OpenSSL through `node:crypto`, or pure-JS noble. */
export type X25519Backend = 'node' | 'noble'

/** X25519 Diffie-Hellman (RFC 7748): 32-byte secret keys, public keys and shared secrets. */
export interface X25519 {
  /**
   * A key pair. With `seed`, the seed itself is the secret key (any 32 bytes are a valid X25519
   * secret: clamping happens inside every operation), so it must be uniformly random and secret.
   *
   * @throws TypeError when `seed` is not a Uint8Array.
   * @throws RangeError when `seed` is not 32 bytes.
   */
  keygen(seed?: Uint8Array): KeyPair
  /**
   * The public key of `secretKey`.
   *
   * @throws TypeError when `secretKey` is not a Uint8Array.
   * @throws RangeError when it is not 32 bytes.
   */
  getPublicKey(secretKey: Uint8Array): Uint8Array
  /**
   * The 32-byte shared secret of `secretKey` and a peer's `publicKey`. As RFC 7748 prescribes, the
   * top bit of `publicKey` is ignored and values at or above 2^255 - 19 are reduced, and points on
   * the quadratic twist are accepted: the result is still what RFC 7748 defines, and clamping keeps
   * the secret key safe. Hash the result (with both public keys) before using it as a key.
   *
   * @throws LowOrderPointError when `publicKey` has small order (the result would be all zero).
   * @throws TypeError when an argument is not a Uint8Array.
   * @throws RangeError when an argument is not 32 bytes.
   */
  getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array
}

const X25519_KEY_LENGTH = 32

function defineX25519(
  publicKeyOf: (secretKey: Uint8Array) => Uint8Array,
  sharedSecretOf: (secretKey: Uint8Array, publicKey: Uint8Array) => Uint8Array,
): X25519 {
  const getPublicKey = (secretKey: Uint8Array): Uint8Array =>
    publicKeyOf(abytes(secretKey, 'secretKey', X25519_KEY_LENGTH))
  return Object.freeze({
    keygen(seed?: Uint8Array): KeyPair {
      const secretKey =
        seed === undefined
          ? randomBytes(X25519_KEY_LENGTH)
          : new Uint8Array(abytes(seed, 'seed', X25519_KEY_LENGTH))
      return { secretKey, publicKey: getPublicKey(secretKey) }
    },
    getPublicKey,
    getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
      abytes(secretKey, 'secretKey', X25519_KEY_LENGTH)
      abytes(publicKey, 'publicKey', X25519_KEY_LENGTH)
      const shared = sharedSecretOf(secretKey, publicKey)
      // Both backends already refuse this; checked again so no backend can ever hand it out.
      if (equalBytes(shared, ZERO_32)) throw new LowOrderPointError()
      return shared
    },
  })
}

const ZERO_32 = new Uint8Array(32)

const nobleX25519Impl = defineX25519(
  (secretKey) => nobleX25519.getPublicKey(secretKey),
  (secretKey, publicKey) => {
    try {
      return nobleX25519.getSharedSecret(secretKey, publicKey)
    } catch (cause) {
      // Lengths were checked before: noble's only remaining refusal is a low-order point.
      throw new LowOrderPointError(undefined, { cause })
    }
  },
)

type NodeCrypto = typeof import('node:crypto')
type NodeBuffer = typeof import('node:buffer')

// Keys enter OpenSSL as JWK, not as DER (PKCS#8 prefix 302e020100300506032b656e04220420, SPKI
// prefix 302a300506032b656e032100): OpenSSL 3's DER decoder makes a private-key import ~10x slower
// than the raw-key JWK path, which would leave node:crypto slower than noble here. Node reads only
// `d` from a private JWK and requires `x` to be a string; the known-answer check below catches a
// Node that would start validating it, and noble takes over there.
function makeNodeX25519(nodeCrypto: NodeCrypto, { Buffer }: NodeBuffer): X25519 {
  const base64url = (bytes: Uint8Array): string =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
  const privateKeyObject = (secretKey: Uint8Array) =>
    nodeCrypto.createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: base64url(secretKey), x: '' },
      format: 'jwk',
    })
  return defineX25519(
    (secretKey) => {
      const spki = nodeCrypto
        .createPublicKey(privateKeyObject(secretKey))
        .export({ format: 'der', type: 'spki' })
      return new Uint8Array(spki.subarray(spki.length - X25519_KEY_LENGTH))
    },
    (secretKey, publicKey) => {
      const privateKey = privateKeyObject(secretKey)
      const peerKey = nodeCrypto.createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: base64url(publicKey) },
        format: 'jwk',
      })
      try {
        return toUint8Array(nodeCrypto.diffieHellman({ privateKey, publicKey: peerKey }))
      } catch (cause) {
        // OpenSSL refuses to derive an all-zero secret, i.e. a low-order public key.
        if ((cause as { code?: unknown }).code !== 'ERR_OSSL_FAILED_DURING_DERIVATION') throw cause
        throw new LowOrderPointError(undefined, { cause })
      }
    },
  )
}

// RFC 7748 §6.1: Alice's secret key, Bob's public key, their shared secret; and Alice's public key.
const KAT = {
  secretKey: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  publicKey: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  peerPublicKey: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16))
}

function loadNodeX25519(): X25519 | undefined {
  const nodeCrypto = getNodeBuiltin<NodeCrypto>('node:crypto')
  const nodeBuffer = getNodeBuiltin<NodeBuffer>('node:buffer')
  if (nodeCrypto === undefined || nodeBuffer === undefined) return undefined
  try {
    const impl = makeNodeX25519(nodeCrypto, nodeBuffer)
    const secretKey = fromHex(KAT.secretKey)
    const shared = impl.getSharedSecret(secretKey, fromHex(KAT.peerPublicKey))
    const publicKey = impl.getPublicKey(secretKey)
    const ok =
      equalBytes(shared, fromHex(KAT.shared)) && equalBytes(publicKey, fromHex(KAT.publicKey))
    return ok ? impl : undefined
  } catch {
    // An OpenSSL without X25519, or a Node that refuses our key import.
    return undefined
  }
}

const nodeX25519Impl = loadNodeX25519()

/** The implementation {@link x25519} uses in this process, chosen at load. */
export const x25519Backend: X25519Backend = nodeX25519Impl === undefined ? 'noble' : 'node'

/**
 * X25519 on a chosen backend, for tests and benchmarks that compare implementations (normal code
 * uses {@link x25519}).
 *
 * @param options.backend `'node'` (throws an `Error` where `node:crypto` lacks X25519) or
 *   `'noble'`; defaults to {@link x25519Backend}.
 */
export function createX25519(options: { backend?: X25519Backend } = {}): X25519 {
  const backend = options.backend ?? x25519Backend
  if (backend === 'noble') return nobleX25519Impl
  if (backend !== 'node') throw new TypeError(`unknown X25519 backend: ${String(backend)}`)
  if (nodeX25519Impl === undefined) throw new Error('node:crypto with X25519 is not available here')
  return nodeX25519Impl
}

/** X25519 Diffie-Hellman (RFC 7748) on the fastest backend here ({@link x25519Backend}). */
export const x25519: X25519 = createX25519()

// ---------------------------------------------------------------------------------------------
// KEMs

/** A KEM's output for the sender: the ciphertext to send, and the secret it carries. */
export interface Encapsulation {
  /** Sent to the recipient, who recovers `sharedSecret` from it. */
  cipherText: Uint8Array
  /** 32 bytes, known to the sender now and to the recipient after decapsulation. */
  sharedSecret: Uint8Array
}

/** Byte lengths of a KEM's inputs and outputs. */
export interface KemLengths {
  /** Public (encapsulation) key. */
  readonly publicKey: number
  /** Secret (decapsulation) key. */
  readonly secretKey: number
  /** Ciphertext. */
  readonly cipherText: number
  /** Shared secret. */
  readonly sharedSecret: number
  /** Seed of a deterministic `keygen`. */
  readonly keygenSeed: number
  /** Seed of a deterministic `encapsulate`. */
  readonly encapsulateSeed: number
}

/** A key encapsulation mechanism. */
export interface Kem {
  /** Byte lengths of keys, ciphertexts, secrets and seeds. */
  readonly lengths: KemLengths
  /**
   * A key pair, random or derived deterministically from `seed` (`lengths.keygenSeed` bytes,
   * uniformly random and secret).
   *
   * @throws TypeError when `seed` is not a Uint8Array.
   * @throws RangeError when `seed` has the wrong length.
   */
  keygen(seed?: Uint8Array): KeyPair
  /**
   * A fresh shared secret and the ciphertext that carries it to the holder of `publicKey`. A
   * `seed` (`lengths.encapsulateSeed` bytes) replaces the randomness, for tests only: reusing one
   * reuses the secret.
   *
   * @throws InvalidKeyError when `publicKey` is not a valid key (see the KEM).
   * @throws TypeError when an argument is not a Uint8Array.
   * @throws RangeError when an argument has the wrong length.
   */
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): Encapsulation
  /**
   * The shared secret carried by `cipherText`. A tampered ciphertext gives an unrelated secret
   * rather than an error (implicit rejection), so decapsulation reveals nothing to an attacker.
   *
   * @throws InvalidKeyError when `secretKey` is not a valid key (see the KEM).
   * @throws TypeError when an argument is not a Uint8Array.
   * @throws RangeError when an argument has the wrong length.
   */
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array
}

const ML_KEM_768_LENGTHS: KemLengths = Object.freeze({
  publicKey: 1184,
  secretKey: 2400,
  cipherText: 1088,
  sharedSecret: 32,
  keygenSeed: 64,
  encapsulateSeed: 32,
})

/**
 * ML-KEM-768 (FIPS 203, security category 3) from `@noble/post-quantum`. `keygen(seed)` takes the
 * 64-byte `d ‖ z` of FIPS 203's ML-KEM.KeyGen_internal; `encapsulate(publicKey, seed)` the 32-byte
 * message `m` of ML-KEM.Encaps_internal.
 *
 * - `encapsulate` throws {@link InvalidKeyError} for a public key failing FIPS 203's modulus check.
 * - `decapsulate` throws {@link InvalidKeyError} for a secret key failing FIPS 203's hash check, and
 *   answers a tampered ciphertext with an unrelated secret (implicit rejection).
 */
export const mlkem768: Kem = Object.freeze({
  lengths: ML_KEM_768_LENGTHS,
  keygen(seed?: Uint8Array): KeyPair {
    const { keygenSeed } = ML_KEM_768_LENGTHS
    const d = seed === undefined ? randomBytes(keygenSeed) : abytes(seed, 'seed', keygenSeed)
    const { secretKey, publicKey } = ml_kem768.keygen(d)
    return { secretKey, publicKey }
  },
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): Encapsulation {
    abytes(publicKey, 'publicKey', ML_KEM_768_LENGTHS.publicKey)
    const { encapsulateSeed } = ML_KEM_768_LENGTHS
    const m =
      seed === undefined ? randomBytes(encapsulateSeed) : abytes(seed, 'seed', encapsulateSeed)
    try {
      const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey, m)
      return { cipherText, sharedSecret }
    } catch (cause) {
      throw new InvalidKeyError('ML-KEM-768: the public key fails the FIPS 203 modulus check', {
        cause,
      })
    }
  },
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    abytes(cipherText, 'cipherText', ML_KEM_768_LENGTHS.cipherText)
    abytes(secretKey, 'secretKey', ML_KEM_768_LENGTHS.secretKey)
    try {
      return ml_kem768.decapsulate(cipherText, secretKey)
    } catch (cause) {
      throw new InvalidKeyError('ML-KEM-768: the secret key fails the FIPS 203 hash check', {
        cause,
      })
    }
  },
})

// ---------------------------------------------------------------------------------------------
// Hybrid X25519 + ML-KEM-768

/** The {@link domainHash} tag of the hybrid KEM's shared-secret combiner. */
export const X25519_MLKEM768_TAG = 'metanode/kex/x25519-mlkem768/v1'
const KEYGEN_TAG = 'metanode/kex/x25519-mlkem768/v1/keygen'
const ENCAPSULATE_TAG = 'metanode/kex/x25519-mlkem768/v1/encapsulate'

const HYBRID_LENGTHS: KemLengths = Object.freeze({
  publicKey: X25519_KEY_LENGTH + ML_KEM_768_LENGTHS.publicKey,
  secretKey: X25519_KEY_LENGTH + ML_KEM_768_LENGTHS.secretKey,
  cipherText: X25519_KEY_LENGTH + ML_KEM_768_LENGTHS.cipherText,
  sharedSecret: 32,
  keygenSeed: 32,
  encapsulateSeed: 32,
})

// Where FIPS 203 puts the encapsulation key inside a decapsulation key: after the 384·k-byte
// K-PKE secret key (k = 3 for ML-KEM-768).
const MLKEM_PK_IN_SK = { start: 1152, end: 1152 + ML_KEM_768_LENGTHS.publicKey }

/** Independent 32-byte strings derived from one seed, numbered by `index`. */
function expandSeed(tag: string, seed: Uint8Array, index: number): Uint8Array {
  return domainHash(tag, seed, Uint8Array.of(index))
}

function combine(
  mlkemSecret: Uint8Array,
  x25519Secret: Uint8Array,
  ephemeralX25519Pk: Uint8Array,
  recipientX25519Pk: Uint8Array,
  mlkemCipherText: Uint8Array,
  mlkemPk: Uint8Array,
): Uint8Array {
  return domainHash(
    X25519_MLKEM768_TAG,
    mlkemSecret,
    x25519Secret,
    ephemeralX25519Pk,
    recipientX25519Pk,
    mlkemCipherText,
    mlkemPk,
  )
}

/**
 * Hybrid KEM of X25519 and ML-KEM-768, in the spirit of X-Wing (draft-connolly-cfrg-xwing-kem):
 * secure while either X25519 (classically) or ML-KEM-768 (also against quantum computers) holds.
 *
 * - public key (1216 bytes) = `x25519Pk ‖ mlkemPk`; secret key (2432 bytes) =
 *   `x25519Sk ‖ mlkemSk` (the recipient's X25519 public key is recomputed when decapsulating).
 * - ciphertext (1120 bytes) = `ephemeralX25519Pk ‖ mlkemCipherText`.
 * - shared secret = `domainHash('metanode/kex/x25519-mlkem768/v1', ssMlkem, ssX25519,
 *   ephemeralX25519Pk, recipientX25519Pk, mlkemCipherText, mlkemPk)`.
 *
 * Why this combiner: hashing both secrets keeps the output secret while either is. Binding the
 * X25519 ephemeral and recipient keys makes the X25519 half a proper KEM (the DH value alone is
 * malleable: e.g. two encodings of one point give one secret); X-Wing binds exactly these. X-Wing
 * omits the ML-KEM ciphertext and key because ML-KEM is ciphertext-second-preimage resistant; we
 * bind them too (a few microseconds of BLAKE3), so the proof does not lean on that property and
 * every byte of the ciphertext and of the recipient key feeds the secret. {@link domainHash}'s
 * length-prefixed encoding keeps the fields from shifting into each other.
 *
 * `keygen(seed)` and `encapsulate(publicKey, seed)` take 32-byte seeds, expanded with
 * {@link domainHash} into the X25519 secret and the ML-KEM seeds. `encapsulate` throws
 * {@link LowOrderPointError} for a low-order recipient X25519 key and `decapsulate` for a low-order
 * ephemeral key (a check on public data only, so it leaks nothing); a tampered ML-KEM ciphertext
 * gives an unrelated secret (implicit rejection).
 */
export const x25519MlKem768: Kem = Object.freeze({
  lengths: HYBRID_LENGTHS,
  keygen(seed?: Uint8Array): KeyPair {
    const root =
      seed === undefined ? randomBytes(32) : abytes(seed, 'seed', HYBRID_LENGTHS.keygenSeed)
    const x25519Seed = expandSeed(KEYGEN_TAG, root, 0)
    const mlkemSeed = concatBytes(expandSeed(KEYGEN_TAG, root, 1), expandSeed(KEYGEN_TAG, root, 2))
    const x = x25519.keygen(x25519Seed)
    const m = mlkem768.keygen(mlkemSeed)
    wipe(x25519Seed)
    wipe(mlkemSeed)
    return {
      secretKey: concatBytes(x.secretKey, m.secretKey),
      publicKey: concatBytes(x.publicKey, m.publicKey),
    }
  },
  encapsulate(publicKey: Uint8Array, seed?: Uint8Array): Encapsulation {
    abytes(publicKey, 'publicKey', HYBRID_LENGTHS.publicKey)
    if (seed !== undefined) abytes(seed, 'seed', HYBRID_LENGTHS.encapsulateSeed)
    const recipientX25519Pk = publicKey.subarray(0, X25519_KEY_LENGTH)
    const mlkemPk = publicKey.subarray(X25519_KEY_LENGTH)
    const ephemeralSk = seed === undefined ? randomBytes(32) : expandSeed(ENCAPSULATE_TAG, seed, 0)
    const mlkemMessage = seed === undefined ? undefined : expandSeed(ENCAPSULATE_TAG, seed, 1)
    try {
      const ephemeralPk = x25519.getPublicKey(ephemeralSk)
      const x25519Secret = x25519.getSharedSecret(ephemeralSk, recipientX25519Pk)
      const mlkem = mlkem768.encapsulate(mlkemPk, mlkemMessage)
      const sharedSecret = combine(
        mlkem.sharedSecret,
        x25519Secret,
        ephemeralPk,
        recipientX25519Pk,
        mlkem.cipherText,
        mlkemPk,
      )
      wipe(x25519Secret)
      wipe(mlkem.sharedSecret)
      return { cipherText: concatBytes(ephemeralPk, mlkem.cipherText), sharedSecret }
    } finally {
      wipe(ephemeralSk)
      if (mlkemMessage !== undefined) wipe(mlkemMessage)
    }
  },
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array {
    abytes(cipherText, 'cipherText', HYBRID_LENGTHS.cipherText)
    abytes(secretKey, 'secretKey', HYBRID_LENGTHS.secretKey)
    const x25519Sk = secretKey.subarray(0, X25519_KEY_LENGTH)
    const mlkemSk = secretKey.subarray(X25519_KEY_LENGTH)
    const ephemeralPk = cipherText.subarray(0, X25519_KEY_LENGTH)
    const mlkemCipherText = cipherText.subarray(X25519_KEY_LENGTH)
    const x25519Secret = x25519.getSharedSecret(x25519Sk, ephemeralPk)
    const mlkemSecret = mlkem768.decapsulate(mlkemCipherText, mlkemSk)
    const sharedSecret = combine(
      mlkemSecret,
      x25519Secret,
      ephemeralPk,
      x25519.getPublicKey(x25519Sk),
      mlkemCipherText,
      mlkemSk.subarray(MLKEM_PK_IN_SK.start, MLKEM_PK_IN_SK.end),
    )
    wipe(x25519Secret)
    wipe(mlkemSecret)
    return sharedSecret
  },
})
