// The native BLS backend over @chainsafe/blst (supranational/blst through napi-rs).
// Not part of the public API: src/bls.ts checks types and lengths before calling in here.
import type * as Blst from '@chainsafe/blst'
import {
  type BlsEngine,
  cacheKey,
  invalidPoint,
  LruCache,
  PUBLIC_KEY_CACHE_SIZE,
} from './bls-noble.js'
import { toUint8Array } from './utils.js'

type BlstModule = typeof Blst

let native: BlstModule | undefined
let loadError: unknown

/**
 * Loads the CommonJS native addon once. `process.getBuiltinModule` (Node >= 20.16) keeps this
 * file free of a static `node:` import, so bundlers for browsers see nothing to resolve.
 */
function loadNative(): BlstModule {
  if (native !== undefined) return native
  if (loadError !== undefined) throw loadError
  try {
    const nodeModule = globalThis.process?.getBuiltinModule?.('node:module')
    if (nodeModule === undefined) throw new Error('not running on Node.js')
    native = nodeModule.createRequire(import.meta.url)('@chainsafe/blst') as BlstModule
    return native
  } catch (error) {
    loadError = error
    throw error
  }
}

/**
 * The blst engine; throws when the native addon cannot be loaded on this platform.
 * Each instance keeps its own LRU of validated, deserialised public keys.
 */
export function createBlstEngine(): BlsEngine {
  const blst = loadNative()
  const { PublicKey, SecretKey, Signature } = blst
  const publicKeys = new LruCache<Blst.PublicKey>(PUBLIC_KEY_CACHE_SIZE)

  const publicKey = (bytes: Uint8Array): Blst.PublicKey | undefined => {
    const key = cacheKey(bytes)
    const cached = publicKeys.get(key)
    if (cached !== undefined) return cached
    try {
      // pkValidate: reject infinity and points outside G1 (IETF KeyValidate).
      const point = PublicKey.fromBytes(bytes, true)
      publicKeys.set(key, point)
      return point
    } catch {
      return undefined
    }
  }

  const signature = (bytes: Uint8Array, allowInfinity = false): Blst.Signature | undefined => {
    try {
      return Signature.fromBytes(bytes, true, !allowInfinity)
    } catch {
      return undefined
    }
  }

  const publicKeyList = (keys: Uint8Array[]): Blst.PublicKey[] | undefined => {
    const points: Blst.PublicKey[] = []
    for (const bytes of keys) {
      const point = publicKey(bytes)
      if (point === undefined) return undefined
      points.push(point)
    }
    return points
  }

  // Points reaching blst's verify calls were validated on deserialisation (or come from the
  // cache), so the pkValidate / sigGroupcheck flags stay false to avoid checking twice.
  return {
    name: 'blst',
    // The same IETF KeyGen as keygenScalar in the noble engine; the tests compare the two.
    keygen: (ikm) => toUint8Array(SecretKey.fromKeygen(ikm).toBytes()),
    getPublicKey: (secretKey) =>
      toUint8Array(SecretKey.fromBytes(secretKey).toPublicKey().toBytes(true)),
    sign: (message, secretKey) =>
      toUint8Array(SecretKey.fromBytes(secretKey).sign(message).toBytes(true)),

    verify(signatureBytes, message, publicKeyBytes) {
      const key = publicKey(publicKeyBytes)
      const point = signature(signatureBytes)
      if (key === undefined || point === undefined) return false
      try {
        return blst.verify(message, key, point, false, false)
      } catch {
        return false
      }
    },

    aggregateSignatures(signatures) {
      const points = signatures.map((bytes, i) => {
        // Infinity is a valid (if useless) signature to aggregate: the Ethereum vectors require it.
        const point = signature(bytes, true)
        if (point === undefined) throw invalidPoint('signatures', i, 'G2 signature')
        return point
      })
      return toUint8Array(blst.aggregateSignatures(points, false).toBytes(true))
    },

    aggregatePublicKeys(keys) {
      const points = keys.map((bytes, i) => {
        const point = publicKey(bytes)
        if (point === undefined) throw invalidPoint('publicKeys', i, 'public key')
        return point
      })
      return toUint8Array(blst.aggregatePublicKeys(points, false).toBytes(true))
    },

    fastAggregateVerify(signatureBytes, message, keys) {
      const points = publicKeyList(keys)
      const point = signature(signatureBytes)
      if (points === undefined || point === undefined) return false
      try {
        return blst.fastAggregateVerify(message, points, point, false)
      } catch {
        return false
      }
    },

    verifyAndAggregate(signatureList, message, keys) {
      const points = publicKeyList(keys)
      if (points === undefined) return undefined
      try {
        // decompression alone checks that each input is on the curve; the sum is then checked
        // once for infinity and subgroup membership (sigValidate throws when either fails)
        const sum = blst.aggregateSignatures(
          signatureList.map((bytes) => Signature.fromBytes(bytes, false, false)),
          false,
        )
        sum.sigValidate(true)
        if (!blst.fastAggregateVerify(message, points, sum, false)) return undefined
        return toUint8Array(sum.toBytes(true))
      } catch {
        return undefined
      }
    },

    aggregateVerify(signatureBytes, messages, keys) {
      const points = publicKeyList(keys)
      const point = signature(signatureBytes)
      if (points === undefined || point === undefined) return false
      try {
        return blst.aggregateVerify(messages, points, point, false, false)
      } catch {
        return false
      }
    },

    // blst draws its own non-zero 64-bit random scalars per set (Lodestar's batch verification).
    verifyBatch(sets) {
      const native: Blst.SignatureSet[] = []
      for (const set of sets) {
        const pk = publicKey(set.publicKey)
        const sig = signature(set.signature)
        if (pk === undefined || sig === undefined) return false
        native.push({ msg: set.message, pk, sig })
      }
      try {
        return blst.verifyMultipleAggregateSignatures(native, false, false)
      } catch {
        return false
      }
    },

    isValidPublicKey: (bytes) => publicKey(bytes) !== undefined,
    isValidSignature: (bytes) => signature(bytes) !== undefined,
  }
}
