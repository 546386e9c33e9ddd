/**
 * BLS signatures on BLS12-381 with Ethereum's ciphersuite
 * `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`: 48-byte compressed public keys in G1, 96-byte
 * compressed signatures in G2, 32-byte big-endian secret keys. Signatures aggregate, so a quorum
 * of validator votes on one message verifies as a single pairing check.
 *
 * Two backends pass the same conformance vectors: native `@chainsafe/blst` (the default) and
 * pure-JS `@noble/curves` (browsers, unsupported platforms). When the native addon cannot load,
 * {@link bls} falls back to noble with a one-time process warning and reports it in
 * {@link Bls.backend}. Proofs of possession and {@link hashToG2} always run on noble, because
 * the blst binding offers no hash-to-curve under a caller-chosen DST.
 *
 * Aggregating public keys for {@link Bls.fastAggregateVerify} is only safe against rogue-key
 * attacks when every key's owner proved possession ({@link Bls.popProve}) when the key was
 * registered.
 *
 * @example
 * ```ts
 * import { bls } from '@metanode/crypto/bls'
 *
 * const message = new TextEncoder().encode('block 42')
 * const alice = bls.keygen()
 * const bob = bls.keygen()
 * const aggregate = bls.aggregateSignatures([
 *   bls.sign(message, alice.secretKey),
 *   bls.sign(message, bob.secretKey),
 * ])
 * bls.fastAggregateVerify(aggregate, message, [alice.publicKey, bob.publicKey]) // true
 * ```
 * @module
 */
import { bytesToNumberBE } from '@noble/curves/utils.js'
import { createBlstEngine } from './bls-blst.js'
import {
  type BlsEngine,
  CURVE_ORDER,
  createNobleEngine,
  type EngineSignatureSet,
  nobleHashToG2,
  noblePopProve,
  noblePopVerify,
  POP_PROOF_DST,
  SIGN_DST,
} from './bls-noble.js'
import { abytes, abytesArray, randomBytes, utf8, wipe } from './utils.js'

/** Length of a secret key: a big-endian scalar in [1, r). */
export const SECRET_KEY_LENGTH = 32
/** Length of a compressed G1 public key. */
export const PUBLIC_KEY_LENGTH = 48
/** Length of a compressed G2 signature (and of a proof of possession). */
export const SIGNATURE_LENGTH = 96
/** Minimum input keying material for {@link Bls.keygen}, as IETF KeyGen requires. */
export const MIN_IKM_LENGTH = 32
/** The domain separation tag of signatures: the proof-of-possession ciphersuite Ethereum uses. */
export const SIGNATURE_DST: 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_' = SIGN_DST
/** The domain separation tag of proofs of possession (signatures over the signer's public key). */
export const POP_DST: 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_' = POP_PROOF_DST

/** The implementation behind a {@link Bls} instance. */
export type BlsBackend = 'blst' | 'noble'

/** Options for {@link createBls}. */
export interface BlsOptions {
  /** Preferred backend; `blst` (the default) falls back to `noble` when the addon cannot load. */
  backend?: BlsBackend
}

/** A secret key and its public key. */
export interface BlsKeyPair {
  /** 32-byte big-endian scalar. Keep it secret; never log it. */
  secretKey: Uint8Array
  /** 48-byte compressed G1 point. */
  publicKey: Uint8Array
}

/** One signature to check in {@link Bls.verifyBatch}. */
export interface BlsSignatureSet {
  /** 96-byte compressed G2 signature. */
  signature: Uint8Array
  /** The signed message, any length. */
  message: Uint8Array
  /** 48-byte compressed G1 public key of the signer. */
  publicKey: Uint8Array
}

/**
 * BLS signing and verification. Methods throw `TypeError` for arguments of the wrong type and
 * `RangeError` for secret keys of the wrong length or out of range; verification methods return
 * `false` for malformed, off-curve, out-of-subgroup or infinity points and never throw for them.
 */
export interface Bls {
  /** Which implementation runs: `blst` (native) or `noble` (pure JS). */
  readonly backend: BlsBackend
  /**
   * Derives a key pair with IETF KeyGen (HKDF-mod-r, equal to EIP-2333 `derive_master_SK`) from
   * at least 32 bytes of secret input keying material, or from 32 fresh random bytes.
   */
  keygen(ikm?: Uint8Array): BlsKeyPair
  /** The 48-byte compressed public key of a 32-byte secret key. */
  getPublicKey(secretKey: Uint8Array): Uint8Array
  /**
   * Signs `message` (any length). Deterministic: the same key and message always give the same
   * 96-byte signature, so no randomness is needed and none can leak.
   */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array
  /** Whether `signature` is `publicKey`'s signature over `message`. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /**
   * Adds signatures into one (subgroup-checked; an infinity input is accepted, as in the Ethereum
   * spec). Throws `RangeError` for an empty list or an input that is not a valid G2 point.
   */
  aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array
  /**
   * Adds public keys into one. Throws `RangeError` for an empty list or an input that is not a
   * valid public key (infinity included). Safe only for keys with a verified proof of possession.
   */
  aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array
  /**
   * Whether `signature` aggregates signatures by every key in `publicKeys` over the one `message`.
   * `false` for an empty key list. Requires proofs of possession for the keys.
   */
  fastAggregateVerify(
    signature: Uint8Array,
    message: Uint8Array,
    publicKeys: readonly Uint8Array[],
  ): boolean
  /**
   * Aggregates `signatures` (one per key of `publicKeys`, same message) and fast-aggregate-verifies
   * the sum: the aggregate when it verifies, `undefined` when it does not or when the lists are
   * empty, of different lengths, or hold an invalid encoding. The same answer as
   * {@link Bls.aggregateSignatures} followed by {@link Bls.fastAggregateVerify}, for less work:
   * the inputs are decoded without a subgroup check each (IETF `Aggregate` does none), the sum
   * is subgroup-checked once, and it is not re-encoded and decoded in between. When the result
   * is `undefined`, check the signatures one by one with {@link Bls.verify} to find the bad ones.
   * Requires proofs of possession for the keys.
   *
   * @throws TypeError when an argument is not a byte array or an array of byte arrays.
   */
  verifyAndAggregate(
    signatures: readonly Uint8Array[],
    message: Uint8Array,
    publicKeys: readonly Uint8Array[],
  ): Uint8Array | undefined
  /**
   * Whether `signature` aggregates `publicKeys[i]`'s signature over `messages[i]` for every i.
   * `false` unless both lists are non-empty and of equal length. Messages need not be distinct:
   * under the proof-of-possession scheme rogue keys are excluded at registration instead.
   */
  aggregateVerify(
    signature: Uint8Array,
    messages: readonly Uint8Array[],
    publicKeys: readonly Uint8Array[],
  ): boolean
  /**
   * Whether every set is valid, checked together with random 64-bit blinding scalars: one
   * multi-pairing instead of one pairing check per set. `false` for an empty list; when it is
   * `false`, check sets one by one with {@link Bls.verify} to find the bad ones.
   */
  verifyBatch(sets: readonly BlsSignatureSet[]): boolean
  /** A proof of possession: the signature, under {@link POP_DST}, of the secret key's public key. */
  popProve(secretKey: Uint8Array): Uint8Array
  /** Whether `proof` proves possession of the secret key behind `publicKey`. */
  popVerify(proof: Uint8Array, publicKey: Uint8Array): boolean
  /** Whether `bytes` is a usable public key: 48 bytes, canonical, in G1, not infinity. */
  isValidPublicKey(bytes: Uint8Array): boolean
  /** Whether `bytes` is a usable signature: 96 bytes, canonical, in G2, not infinity. */
  isValidSignature(bytes: Uint8Array): boolean
}

/**
 * Hashes `message` to G2 with RFC 9380 suite `BLS12381G2_XMD:SHA-256_SSWU_RO_` and returns the
 * 96-byte compressed point. `dst` defaults to {@link SIGNATURE_DST}, so `hashToG2(m)` is the point
 * a signature over `m` is a multiple of. Computed with noble whatever the backend.
 */
export function hashToG2(
  message: Uint8Array,
  dst: Uint8Array | string = SIGNATURE_DST,
): Uint8Array {
  abytes(message, 'message')
  let tag: Uint8Array
  if (typeof dst === 'string') tag = utf8(dst)
  else tag = abytes(dst, 'dst')
  if (tag.length === 0) throw new RangeError('dst must not be empty')
  return nobleHashToG2(message, tag)
}

let fallbackWarned = false

function warnFallback(error: unknown): void {
  if (fallbackWarned) return
  fallbackWarned = true
  const reason = error instanceof Error ? error.message : String(error)
  const text = `@chainsafe/blst could not be loaded (${reason}); BLS uses the pure-JS @noble/curves backend, which is much slower`
  const proc = globalThis.process
  if (typeof proc?.emitWarning === 'function') {
    proc.emitWarning(text, { code: 'METANODE_BLS_NOBLE_FALLBACK' })
  } else {
    console.warn(text)
  }
}

function selectEngine(backend: BlsBackend): BlsEngine {
  if (backend === 'noble') return createNobleEngine()
  try {
    return createBlstEngine()
  } catch (error) {
    warnFallback(error)
    return createNobleEngine()
  }
}

function assertSecretKey(secretKey: unknown): Uint8Array {
  const bytes = abytes(secretKey, 'secretKey', SECRET_KEY_LENGTH)
  const scalar = bytesToNumberBE(bytes)
  if (scalar === 0n || scalar >= CURVE_ORDER) {
    throw new RangeError('secretKey must be a non-zero scalar below the group order r')
  }
  return bytes
}

function assertSignatureSets(sets: unknown): readonly EngineSignatureSet[] {
  if (!Array.isArray(sets)) throw new TypeError('sets must be an array')
  sets.forEach((set: unknown, i) => {
    if (typeof set !== 'object' || set === null) throw new TypeError(`sets[${i}] must be an object`)
    const { signature, message, publicKey } = set as Record<string, unknown>
    abytes(signature, `sets[${i}].signature`)
    abytes(message, `sets[${i}].message`)
    abytes(publicKey, `sets[${i}].publicKey`)
  })
  return sets as EngineSignatureSet[]
}

/**
 * Creates a {@link Bls} on the requested backend (`blst` by default, falling back to `noble` with
 * a one-time warning when the native addon cannot load). Each instance keeps its own bounded
 * cache of validated public keys (1,024 entries), so repeated validator keys deserialise once.
 */
export function createBls(options: BlsOptions = {}): Bls {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('options must be an object')
  }
  const requested = options.backend ?? 'blst'
  if (requested !== 'blst' && requested !== 'noble') {
    throw new RangeError(`backend must be 'blst' or 'noble', got ${String(requested)}`)
  }
  const engine = selectEngine(requested)

  const getPublicKey = (secretKey: Uint8Array): Uint8Array =>
    engine.getPublicKey(assertSecretKey(secretKey))

  return {
    backend: engine.name,

    keygen(ikm) {
      const input = ikm === undefined ? randomBytes(MIN_IKM_LENGTH) : abytes(ikm, 'ikm')
      if (input.length < MIN_IKM_LENGTH) {
        throw new RangeError(
          `ikm must be at least ${MIN_IKM_LENGTH} bytes long, got ${input.length}`,
        )
      }
      try {
        const secretKey = engine.keygen(input)
        return { secretKey, publicKey: engine.getPublicKey(secretKey) }
      } finally {
        if (ikm === undefined) wipe(input)
      }
    },

    getPublicKey,

    sign(message, secretKey) {
      abytes(message, 'message')
      return engine.sign(message, assertSecretKey(secretKey))
    },

    verify(signature, message, publicKey) {
      abytes(signature, 'signature')
      abytes(message, 'message')
      abytes(publicKey, 'publicKey')
      if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) {
        return false
      }
      return engine.verify(signature, message, publicKey)
    },

    aggregateSignatures(signatures) {
      const list = abytesArray(signatures, 'signatures', SIGNATURE_LENGTH)
      if (list.length === 0) throw new RangeError('signatures must not be empty')
      return engine.aggregateSignatures(list)
    },

    aggregatePublicKeys(publicKeys) {
      const list = abytesArray(publicKeys, 'publicKeys', PUBLIC_KEY_LENGTH)
      if (list.length === 0) throw new RangeError('publicKeys must not be empty')
      return engine.aggregatePublicKeys(list)
    },

    fastAggregateVerify(signature, message, publicKeys) {
      abytes(signature, 'signature')
      abytes(message, 'message')
      const keys = abytesArray(publicKeys, 'publicKeys')
      if (signature.length !== SIGNATURE_LENGTH || keys.length === 0) return false
      if (keys.some((key) => key.length !== PUBLIC_KEY_LENGTH)) return false
      return engine.fastAggregateVerify(signature, message, keys)
    },

    verifyAndAggregate(signatures, message, publicKeys) {
      const list = abytesArray(signatures, 'signatures')
      abytes(message, 'message')
      const keys = abytesArray(publicKeys, 'publicKeys')
      if (list.length === 0 || list.length !== keys.length) return undefined
      if (list.some((item) => item.length !== SIGNATURE_LENGTH)) return undefined
      if (keys.some((key) => key.length !== PUBLIC_KEY_LENGTH)) return undefined
      return engine.verifyAndAggregate(list, message, keys)
    },

    aggregateVerify(signature, messages, publicKeys) {
      abytes(signature, 'signature')
      const messageList = abytesArray(messages, 'messages')
      const keys = abytesArray(publicKeys, 'publicKeys')
      if (signature.length !== SIGNATURE_LENGTH) return false
      if (keys.length === 0 || keys.length !== messageList.length) return false
      if (keys.some((key) => key.length !== PUBLIC_KEY_LENGTH)) return false
      return engine.aggregateVerify(signature, messageList, keys)
    },

    verifyBatch(sets) {
      const list = assertSignatureSets(sets)
      if (list.length === 0) return false
      for (const set of list) {
        if (set.signature.length !== SIGNATURE_LENGTH) return false
        if (set.publicKey.length !== PUBLIC_KEY_LENGTH) return false
      }
      return engine.verifyBatch(list)
    },

    popProve(secretKey) {
      return noblePopProve(secretKey, getPublicKey(secretKey))
    },

    popVerify(proof, publicKey) {
      abytes(proof, 'proof')
      abytes(publicKey, 'publicKey')
      if (proof.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false
      return noblePopVerify(proof, publicKey)
    },

    isValidPublicKey(bytes) {
      abytes(bytes, 'bytes')
      return bytes.length === PUBLIC_KEY_LENGTH && engine.isValidPublicKey(bytes)
    },

    isValidSignature(bytes) {
      abytes(bytes, 'bytes')
      return bytes.length === SIGNATURE_LENGTH && engine.isValidSignature(bytes)
    },
  }
}

/** The default instance: native blst when it loads, otherwise noble (see {@link Bls.backend}). */
export const bls: Bls = createBls()
