// The pure-JS BLS backend over @noble/curves, and the pieces both backends share: the engine
// contract that src/bls.ts drives, the validated-key cache, and the operations @chainsafe/blst
// cannot do (hashing to G2 under an arbitrary DST, hence proofs of possession).
// Not part of the public API: src/bls.ts checks types and lengths before calling in here.
import { pippenger } from '@noble/curves/abstract/curve.js'
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, randomBytes, utf8, wipe } from './utils.js'

/** The ciphersuite's signing DST (proof-of-possession scheme, as Ethereum uses). */
export const SIGN_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
/** The DST for proofs of possession: a signature over the signer's own public key. */
export const POP_PROOF_DST = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
/** The order r of G1 and G2; secret keys are scalars in [1, r). */
export const CURVE_ORDER = bls12_381.fields.Fr.ORDER

/** One signature set of a batch, already type- and length-checked. */
export interface EngineSignatureSet {
  signature: Uint8Array
  message: Uint8Array
  publicKey: Uint8Array
}

/**
 * What a backend implements. Inputs are well-typed with the right lengths and secret keys are
 * valid scalars; verify-style methods still see arbitrary (possibly invalid) point encodings.
 */
export interface BlsEngine {
  readonly name: 'blst' | 'noble'
  /** IETF KeyGen (draft-irtf-cfrg-bls-signature-05 §2.3, empty key_info) = EIP-2333 master key. */
  keygen(ikm: Uint8Array): Uint8Array
  getPublicKey(secretKey: Uint8Array): Uint8Array
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /** Throws a RangeError naming the first input that is not a valid G2 point. */
  aggregateSignatures(signatures: Uint8Array[]): Uint8Array
  /** Throws a RangeError naming the first input that is not a valid public key. */
  aggregatePublicKeys(publicKeys: Uint8Array[]): Uint8Array
  /** `publicKeys` is non-empty. */
  fastAggregateVerify(signature: Uint8Array, message: Uint8Array, publicKeys: Uint8Array[]): boolean
  /** Non-empty lists of equal length; the aggregate when it verifies. */
  verifyAndAggregate(
    signatures: Uint8Array[],
    message: Uint8Array,
    publicKeys: Uint8Array[],
  ): Uint8Array | undefined
  /** `messages` and `publicKeys` are non-empty and of equal length. */
  aggregateVerify(signature: Uint8Array, messages: Uint8Array[], publicKeys: Uint8Array[]): boolean
  /** `sets` is non-empty. */
  verifyBatch(sets: readonly EngineSignatureSet[]): boolean
  isValidPublicKey(publicKey: Uint8Array): boolean
  isValidSignature(signature: Uint8Array): boolean
}

/** Entries kept by each engine's cache of validated public keys. */
export const PUBLIC_KEY_CACHE_SIZE = 1024

/**
 * A bounded, approximately least-recently-used map (the two-generation "hashlru" scheme).
 * Deserialising a public key with its subgroup check costs a noticeable part of a verification
 * and a validator set signs again and again, so engines remember validated keys by their bytes.
 *
 * New and recently used entries live in the current generation; when it holds half the capacity
 * it becomes the previous one and the older generation is dropped. An entry read at least once
 * per generation is never evicted. Exact LRU would reorder a Map on every hit (delete + set,
 * ~1 µs), which is ~10% of a 64-key fastAggregateVerify; a hit here is one Map lookup.
 */
export class LruCache<V> {
  #current = new Map<string, V>()
  #previous = new Map<string, V>()
  readonly #generationSize: number

  constructor(capacity: number) {
    this.#generationSize = Math.max(1, Math.floor(capacity / 2))
  }

  /** Entries held now; never more than the capacity. */
  get size(): number {
    return this.#current.size + this.#previous.size
  }

  get(key: string): V | undefined {
    const value = this.#current.get(key)
    if (value !== undefined) return value
    const older = this.#previous.get(key)
    if (older !== undefined) {
      this.#previous.delete(key)
      this.#insert(key, older)
    }
    return older
  }

  set(key: string, value: V): void {
    this.#previous.delete(key)
    this.#insert(key, value)
  }

  #insert(key: string, value: V): void {
    this.#current.set(key, value)
    if (this.#current.size >= this.#generationSize) {
      this.#previous = this.#current
      this.#current = new Map()
    }
  }
}

const KEY_CHUNK = 4096

/** A Map key for a byte string: one UTF-16 code unit per byte, so distinct bytes never collide. */
export function cacheKey(bytes: Uint8Array): string {
  if (bytes.length <= KEY_CHUNK)
    return String.fromCharCode.apply(null, bytes as unknown as number[])
  let key = ''
  for (let i = 0; i < bytes.length; i += KEY_CHUNK) {
    key += String.fromCharCode.apply(null, bytes.subarray(i, i + KEY_CHUNK) as unknown as number[])
  }
  return key
}

const KEYGEN_SALT = utf8('BLS-SIG-KEYGEN-SALT-')
const KEYGEN_OKM_LENGTH = 48
// key_info (empty) || I2OSP(L, 2)
const KEYGEN_INFO = Uint8Array.of(0, KEYGEN_OKM_LENGTH)

/** IETF KeyGen / EIP-2333 `derive_master_SK`: HKDF-mod-r over SHA-256, re-salting until non-zero. */
export function keygenScalar(ikm: Uint8Array): Uint8Array {
  const ikmWithZero = concatBytes(ikm, Uint8Array.of(0))
  let salt = KEYGEN_SALT
  try {
    for (;;) {
      salt = sha256(salt)
      const prk = extract(sha256, ikmWithZero, salt)
      const okm = expand(sha256, prk, KEYGEN_INFO, KEYGEN_OKM_LENGTH)
      const scalar = bytesToNumberBE(okm) % CURVE_ORDER
      wipe(prk)
      wipe(okm)
      if (scalar !== 0n) return numberToBytesBE(scalar, 32)
    }
  } finally {
    wipe(ikmWithZero)
  }
}

type G1Point = WeierstrassPoint<bigint>
type G2Point = ReturnType<typeof bls12_381.G2.Point.fromAffine>

const long = bls12_381.longSignatures
const G1 = bls12_381.G1.Point
const G2 = bls12_381.G2.Point
const NEG_G1 = G1.BASE.negate()
const SignatureCoder = long.Signature

/** Decodes a compressed G2 point with its subgroup check, or undefined when invalid. */
function decodeSignature(bytes: Uint8Array, allowInfinity: boolean): G2Point | undefined {
  try {
    const point = SignatureCoder.fromBytes(bytes)
    return allowInfinity || !point.is0() ? point : undefined
  } catch {
    return undefined
  }
}

/** Decodes a compressed G1 public key with KeyValidate (subgroup, not infinity). */
function decodePublicKey(bytes: Uint8Array): G1Point | undefined {
  try {
    const point = G1.fromBytes(bytes)
    return point.is0() ? undefined : point
  } catch {
    return undefined
  }
}

/** Hashes to G2 under `dst` (RFC 9380 BLS12381G2_XMD:SHA-256_SSWU_RO_). */
export function nobleHashToG2(message: Uint8Array, dst: Uint8Array | string): Uint8Array {
  return SignatureCoder.toBytes(bls12_381.G2.hashToCurve(message, { DST: dst }) as G2Point)
}

/** A proof of possession of `secretKey`: its signature over `publicKey` under the POP DST. */
export function noblePopProve(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return SignatureCoder.toBytes(long.sign(long.hash(publicKey, POP_PROOF_DST), secretKey))
}

/** Checks a proof of possession for a 48-byte public key. */
export function noblePopVerify(proof: Uint8Array, publicKey: Uint8Array): boolean {
  const key = decodePublicKey(publicKey)
  const signature = decodeSignature(proof, false)
  if (key === undefined || signature === undefined) return false
  return long.verify(signature, long.hash(publicKey, POP_PROOF_DST), key)
}

/** Bits of each random batch-verification scalar, as blst and Lodestar use. */
const BATCH_SCALAR_BYTES = 8

/** Non-zero 64-bit scalars from the platform CSPRNG. */
export function randomBatchScalars(count: number): bigint[] {
  const bytes = randomBytes(count * BATCH_SCALAR_BYTES)
  const view = new DataView(bytes.buffer)
  const scalars: bigint[] = []
  for (let i = 0; i < count; i++) {
    const scalar = view.getBigUint64(i * BATCH_SCALAR_BYTES)
    scalars.push(scalar === 0n ? 1n : scalar)
  }
  return scalars
}

/** The pure-JS engine; each instance keeps its own cache of validated public keys. */
export function createNobleEngine(): BlsEngine {
  const publicKeys = new LruCache<G1Point>(PUBLIC_KEY_CACHE_SIZE)

  const publicKey = (bytes: Uint8Array): G1Point | undefined => {
    const key = cacheKey(bytes)
    const cached = publicKeys.get(key)
    if (cached !== undefined) return cached
    const point = decodePublicKey(bytes)
    if (point !== undefined) publicKeys.set(key, point)
    return point
  }

  const hashMessage = (message: Uint8Array): G2Point => long.hash(message, SIGN_DST)

  return {
    name: 'noble',
    keygen: keygenScalar,
    getPublicKey: (secretKey) => long.getPublicKey(secretKey).toBytes(true),
    sign: (message, secretKey) =>
      SignatureCoder.toBytes(long.sign(hashMessage(message), secretKey)),

    verify(signature, message, publicKeyBytes) {
      const key = publicKey(publicKeyBytes)
      const point = decodeSignature(signature, false)
      if (key === undefined || point === undefined) return false
      return long.verify(point, hashMessage(message), key)
    },

    aggregateSignatures(signatures) {
      let sum = G2.ZERO
      signatures.forEach((bytes, i) => {
        // Infinity is a valid (if useless) signature to aggregate: the Ethereum vectors require it.
        const point = decodeSignature(bytes, true)
        if (point === undefined) throw invalidPoint('signatures', i, 'G2 signature')
        sum = sum.add(point)
      })
      return SignatureCoder.toBytes(sum)
    },

    aggregatePublicKeys(keys) {
      let sum = G1.ZERO
      keys.forEach((bytes, i) => {
        const point = publicKey(bytes)
        if (point === undefined) throw invalidPoint('publicKeys', i, 'public key')
        sum = sum.add(point)
      })
      return sum.toBytes(true)
    },

    fastAggregateVerify(signature, message, keys) {
      let sum = G1.ZERO
      for (const bytes of keys) {
        const point = publicKey(bytes)
        if (point === undefined) return false
        sum = sum.add(point)
      }
      const point = decodeSignature(signature, false)
      if (point === undefined || sum.is0()) return false
      return long.verify(point, hashMessage(message), sum)
    },

    verifyAndAggregate(signatures, message, keys) {
      let keySum = G1.ZERO
      for (const bytes of keys) {
        const point = publicKey(bytes)
        if (point === undefined) return undefined
        keySum = keySum.add(point)
      }
      let sum = G2.ZERO
      for (const bytes of signatures) {
        const point = decodeSignature(bytes, true)
        if (point === undefined) return undefined
        sum = sum.add(point)
      }
      if (sum.is0() || keySum.is0()) return undefined
      return long.verify(sum, hashMessage(message), keySum)
        ? SignatureCoder.toBytes(sum)
        : undefined
    },

    aggregateVerify(signature, messages, keys) {
      const sigPoint = decodeSignature(signature, false)
      if (sigPoint === undefined) return false
      const pairs: { g1: G1Point; g2: G2Point }[] = []
      for (let i = 0; i < keys.length; i++) {
        const key = publicKey(keys[i]!)
        if (key === undefined) return false
        pairs.push({ g1: key, g2: hashMessage(messages[i]!) })
      }
      pairs.push({ g1: NEG_G1, g2: sigPoint })
      return pairingIsOne(pairs)
    },

    // e(g1, Σ rᵢ·σᵢ) = Π e(rᵢ·pkᵢ, H(mᵢ)) with random 64-bit rᵢ, in one multi-pairing. Sets sharing
    // a message share one pairing term, which is the common case for consensus votes.
    verifyBatch(sets) {
      const scalars = randomBatchScalars(sets.length)
      const signatures: G2Point[] = []
      const byMessage = new Map<string, { message: Uint8Array; key: G1Point }>()
      for (let i = 0; i < sets.length; i++) {
        const set = sets[i]!
        const key = publicKey(set.publicKey)
        const point = decodeSignature(set.signature, false)
        if (key === undefined || point === undefined) return false
        signatures.push(point)
        const weighted = key.multiplyUnsafe(scalars[i]!)
        const messageKey = cacheKey(set.message)
        const group = byMessage.get(messageKey)
        if (group === undefined) byMessage.set(messageKey, { message: set.message, key: weighted })
        else group.key = group.key.add(weighted)
      }
      const pairs: { g1: G1Point; g2: G2Point }[] = []
      // A zero term pairs to 1, so dropping it keeps the product exact (noble refuses zero inputs).
      for (const { message, key } of byMessage.values()) {
        if (!key.is0()) pairs.push({ g1: key, g2: hashMessage(message) })
      }
      const signatureSum = pippenger(G2, signatures, scalars)
      if (!signatureSum.is0()) pairs.push({ g1: NEG_G1, g2: signatureSum })
      return pairingIsOne(pairs)
    },

    isValidPublicKey: (bytes) => publicKey(bytes) !== undefined,
    isValidSignature: (bytes) => decodeSignature(bytes, false) !== undefined,
  }
}

function pairingIsOne(pairs: { g1: G1Point; g2: G2Point }[]): boolean {
  const { Fp12 } = bls12_381.fields
  try {
    return Fp12.eql(bls12_381.pairingBatch(pairs), Fp12.ONE)
  } catch {
    return false
  }
}

/** The error for an input that is well-typed but not a valid point. */
export function invalidPoint(name: string, index: number, what: string): RangeError {
  return new RangeError(`${name}[${index}] is not a valid ${what}`)
}
