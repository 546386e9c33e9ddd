/**
 * How validators sign: a {@link SignatureScheme} gives message signatures (by the validator id's
 * key) and commit seals (aggregatable). {@link realScheme} is Ed25519 + BLS12-381 from
 * `@metanode/crypto`; {@link insecureTestScheme} is a fast stand-in for large simulations that
 * anyone can forge.
 */
import { bls } from '@metanode/crypto/bls'
import { randomBytes } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { blake3, domainHash } from '@metanode/crypto/hash'
import { u32be, u64be, utf8 } from './bytes.js'

/** Length of a message signature in both schemes (an Ed25519 signature). */
export const SIGNATURE_LENGTH = 64
/** Length of a commit seal and of an aggregate seal in both schemes (a BLS G2 signature). */
export const SEAL_LENGTH = 96

/** The secret keys of one validator. */
export interface SignerKeys {
  /** 32-byte Ed25519 seed; its public key is the validator id. */
  ed25519SecretKey: Uint8Array
  /** 32-byte BLS secret key; its public key verifies the validator's commit seals. */
  blsSecretKey: Uint8Array
}

/** A validator's keys, secret and public. */
export interface ValidatorKeys extends SignerKeys {
  /** The validator id (32 bytes). */
  id: Uint8Array
  /** The BLS public key (48 bytes). */
  blsPublicKey: Uint8Array
}

/** Signs on behalf of one validator; secret keys stay inside. */
export interface IbftSigner {
  /** The validator id. */
  readonly id: Uint8Array
  /** The BLS public key. */
  readonly blsPublicKey: Uint8Array
  /** Signs the exact bytes of a message digest (see `signingBytes`). */
  sign(message: Uint8Array): Uint8Array
  /** Seals a commit (see {@link commitSealBytes}). */
  seal(message: Uint8Array): Uint8Array
}

/** Message signatures and aggregatable commit seals. */
export interface SignatureScheme {
  /** Short name for logs, e.g. `ed25519+bls12-381`. */
  readonly name: string
  /** Fresh keys (random, or derived from a 32-byte `seed`, deterministically). */
  keygen(seed?: Uint8Array): ValidatorKeys
  /** A signer over `keys`. */
  createSigner(keys: SignerKeys): IbftSigner
  /** Whether `signature` is validator `id`'s signature over `message`. Never throws for bad signatures. */
  verify(signature: Uint8Array, message: Uint8Array, id: Uint8Array): boolean
  /** Whether `seal` is the seal of the holder of `blsPublicKey` over `message`. */
  verifySeal(seal: Uint8Array, message: Uint8Array, blsPublicKey: Uint8Array): boolean
  /** Aggregates seals into one (throws `RangeError` for an empty list or a malformed seal). */
  aggregate(seals: readonly Uint8Array[]): Uint8Array
  /** Whether `aggregate` aggregates seals over `message` by every key of `blsPublicKeys`. */
  verifyAggregate(
    aggregate: Uint8Array,
    message: Uint8Array,
    blsPublicKeys: readonly Uint8Array[],
  ): boolean
  /**
   * Optional fast path for `aggregate` then `verifyAggregate`: the aggregate of `seals` (the
   * i-th by the holder of `blsPublicKeys[i]`) when it verifies over `message`, else `undefined`.
   * Must agree with the two-step path; schemes without it get that path.
   */
  verifyAndAggregate?(
    seals: readonly Uint8Array[],
    message: Uint8Array,
    blsPublicKeys: readonly Uint8Array[],
  ): Uint8Array | undefined
}

/**
 * The bytes a commit seal signs: a domain hash of the chain id, height, round and block id, so a
 * seal is valid for exactly one decision of one chain.
 */
export function commitSealBytes(
  chainId: string,
  height: number,
  round: number,
  blockId: Uint8Array,
): Uint8Array {
  return domainHash(
    'metanode/ibft/commit-seal/v1',
    utf8(chainId),
    u64be(height),
    u32be(round),
    blockId,
  )
}

const seedOf = (seed: Uint8Array | undefined): Uint8Array => {
  if (seed === undefined) return randomBytes(32)
  if (!(seed instanceof Uint8Array)) throw new TypeError('seed must be a Uint8Array')
  if (seed.length !== 32) throw new RangeError('seed must be 32 bytes long')
  return seed
}

const derive = (seed: Uint8Array, purpose: string, length = 32): Uint8Array =>
  blake3(seed, { context: utf8(`metanode 2026 ibft ${purpose}`), dkLen: length })

/**
 * The production scheme: Ed25519 message signatures (native OpenSSL when available) and BLS12-381
 * commit seals aggregated with fast-aggregate-verify. Fast aggregate verification is only sound
 * when every validator's BLS key came with a verified proof of possession: check it when a
 * validator joins the set.
 */
export const realScheme: SignatureScheme = {
  name: 'ed25519+bls12-381',
  keygen(seed) {
    const base = seedOf(seed)
    const ed25519SecretKey = derive(base, 'ed25519 key')
    const blsKeys = bls.keygen(derive(base, 'bls key'))
    return {
      ed25519SecretKey,
      blsSecretKey: blsKeys.secretKey,
      id: ed25519.getPublicKey(ed25519SecretKey),
      blsPublicKey: blsKeys.publicKey,
    }
  },
  createSigner({ ed25519SecretKey, blsSecretKey }) {
    // the Ed25519 key is prepared once (an OpenSSL key object): signing skips the key import
    const messageSigner = ed25519.signer(ed25519SecretKey)
    const blsPublicKey = bls.getPublicKey(blsSecretKey)
    return {
      id: messageSigner.publicKey,
      blsPublicKey,
      sign: (message) => messageSigner.sign(message),
      seal: (message) => bls.sign(message, blsSecretKey),
    }
  },
  verify: (signature, message, id) => ed25519.verify(signature, message, id),
  verifySeal: (seal, message, blsPublicKey) => bls.verify(seal, message, blsPublicKey),
  aggregate: (seals) => bls.aggregateSignatures(seals),
  verifyAggregate: (aggregate, message, keys) => bls.fastAggregateVerify(aggregate, message, keys),
  verifyAndAggregate: (seals, message, keys) => bls.verifyAndAggregate(seals, message, keys),
}

// The MAC key of a public id: public, so anyone can forge. That is the point: no curve
// arithmetic at all, for simulations of thousands of seeds.
const macKeyCache = new Map<string, Uint8Array>()
const macKey = (publicKey: Uint8Array): Uint8Array => {
  const cacheKey = String.fromCharCode(...publicKey)
  let key = macKeyCache.get(cacheKey)
  if (key === undefined) {
    key = blake3(publicKey, { context: utf8('metanode 2026 ibft INSECURE test mac key') })
    if (macKeyCache.size > 4096) macKeyCache.clear()
    macKeyCache.set(cacheKey, key)
  }
  return key
}
const mac = (message: Uint8Array, publicKey: Uint8Array, length: number): Uint8Array =>
  blake3(message, { key: macKey(publicKey), dkLen: length })

const xorInto = (target: Uint8Array, source: Uint8Array): void => {
  for (let i = 0; i < target.length; i++) target[i] = (target[i] as number) ^ (source[i] as number)
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, index) => byte === b[index])

/**
 * INSECURE: FOR TESTS AND SIMULATIONS ONLY. NEVER USE IT ON A REAL NETWORK.
 *
 * Signatures and seals are keyed BLAKE3 MACs whose keys are derived from the PUBLIC validator id
 * and BLS key, so anyone can forge any validator's messages; aggregates are XORs of seals. It
 * keeps the shapes and lengths of {@link realScheme} (64-byte signatures, 96-byte seals) and
 * runs orders of magnitude faster, so simulations of many seeds exercise the same code paths.
 */
export const insecureTestScheme: SignatureScheme = {
  name: 'INSECURE-test-mac',
  keygen(seed) {
    const base = seedOf(seed)
    const ed25519SecretKey = derive(base, 'ed25519 key')
    const blsSecretKey = derive(base, 'bls key')
    const signer = insecureTestScheme.createSigner({ ed25519SecretKey, blsSecretKey })
    return { ed25519SecretKey, blsSecretKey, id: signer.id, blsPublicKey: signer.blsPublicKey }
  },
  createSigner({ ed25519SecretKey, blsSecretKey }) {
    if (!(ed25519SecretKey instanceof Uint8Array) || !(blsSecretKey instanceof Uint8Array)) {
      throw new TypeError('secret keys must be Uint8Arrays')
    }
    const id = derive(ed25519SecretKey, 'INSECURE test id')
    const blsPublicKey = derive(blsSecretKey, 'INSECURE test bls key', 48)
    return {
      id,
      blsPublicKey,
      sign: (message) => mac(message, id, SIGNATURE_LENGTH),
      seal: (message) => mac(message, blsPublicKey, SEAL_LENGTH),
    }
  },
  verify: (signature, message, id) =>
    signature.length === SIGNATURE_LENGTH &&
    sameBytes(signature, mac(message, id, SIGNATURE_LENGTH)),
  verifySeal: (seal, message, blsPublicKey) =>
    seal.length === SEAL_LENGTH && sameBytes(seal, mac(message, blsPublicKey, SEAL_LENGTH)),
  aggregate(seals) {
    if (seals.length === 0) throw new RangeError('cannot aggregate an empty list of seals')
    const out = new Uint8Array(SEAL_LENGTH)
    for (const seal of seals) {
      if (seal.length !== SEAL_LENGTH) throw new RangeError(`a seal is ${SEAL_LENGTH} bytes long`)
      xorInto(out, seal)
    }
    return out
  },
  verifyAggregate(aggregate, message, keys) {
    if (keys.length === 0 || aggregate.length !== SEAL_LENGTH) return false
    const expected = new Uint8Array(SEAL_LENGTH)
    for (const key of keys) xorInto(expected, mac(message, key, SEAL_LENGTH))
    return sameBytes(aggregate, expected)
  },
}
