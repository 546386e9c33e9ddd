/**
 * Mapping between Ed25519 keys and libp2p peer ids, so that layers above the transport can tell
 * which validator a peer is. A Metanode node's transport identity is its Ed25519 node key: the
 * peer id is the libp2p identity multihash of the public key, printed in base58 (`12D3KooW...`).
 */
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPublicKey as libp2pPeerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@metanode/core'
import { InvalidArgumentError } from '@metanode/core'
import { ed25519 } from '@metanode/crypto/ed25519'
import { assertBytes } from './validate.js'

/** Length in bytes of an Ed25519 seed (the node key) and of an Ed25519 public key. */
const ED25519_KEY_LENGTH = 32

/**
 * The peer id of the node whose Ed25519 node key (32-byte seed) is `seed`: the id its
 * {@link libp2pTransport} announces.
 *
 * @throws TypeError when `seed` is not a Uint8Array.
 * @throws RangeError when `seed` is not 32 bytes long.
 */
export function peerIdFromEd25519Seed(seed: Uint8Array): PeerId {
  return peerIdFromPublicKey(ed25519.getPublicKey(seed))
}

/**
 * The peer id of the node whose Ed25519 public key is `publicKey`.
 *
 * @throws TypeError when `publicKey` is not a Uint8Array.
 * @throws RangeError when `publicKey` is not 32 bytes long.
 */
export function peerIdFromPublicKey(publicKey: Uint8Array): PeerId {
  assertBytes(publicKey, 'publicKey', ED25519_KEY_LENGTH)
  return libp2pPeerIdFromPublicKey(publicKeyFromRaw(publicKey)).toString()
}

/**
 * The 32-byte Ed25519 public key a peer id was derived from (the inverse of
 * {@link peerIdFromPublicKey}).
 *
 * @throws TypeError when `peerId` is not a string.
 * @throws InvalidArgumentError when `peerId` is not an Ed25519 libp2p peer id.
 */
export function publicKeyFromPeerId(peerId: PeerId): Uint8Array {
  if (typeof peerId !== 'string') {
    throw new TypeError(`peerId must be a string, got ${typeof peerId}`)
  }
  let parsed: ReturnType<typeof peerIdFromString>
  try {
    parsed = peerIdFromString(peerId)
  } catch (error) {
    throw new InvalidArgumentError('peerId is not a libp2p peer id', {
      details: { peerId },
      cause: error,
    })
  }
  if (parsed.type !== 'Ed25519') {
    throw new InvalidArgumentError('peerId is not derived from an Ed25519 key', {
      details: { peerId, type: parsed.type },
    })
  }
  return Uint8Array.from(parsed.publicKey.raw)
}

/** The libp2p private key of a node key (32-byte Ed25519 seed). */
export function libp2pPrivateKeyFromSeed(seed: Uint8Array): PrivateKey {
  const publicKey = ed25519.getPublicKey(seed)
  // libp2p's raw Ed25519 private key is seed || public key: 32 bytes alone would be ambiguous
  // with secp256k1
  const raw = new Uint8Array(ED25519_KEY_LENGTH * 2)
  raw.set(seed, 0)
  raw.set(publicKey, ED25519_KEY_LENGTH)
  return privateKeyFromRaw(raw)
}
