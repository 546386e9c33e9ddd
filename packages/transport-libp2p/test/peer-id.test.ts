import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ed25519 } from '@metanode/crypto/ed25519'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  libp2pTransport,
  peerIdFromEd25519Seed,
  peerIdFromPublicKey,
  publicKeyFromPeerId,
} from '../src/index.js'

const seedArbitrary = fc.uint8Array({ minLength: 32, maxLength: 32 })

describe('peer ids', () => {
  it('match the id libp2p derives from the same Ed25519 seed', async () => {
    await fc.assert(
      fc.asyncProperty(seedArbitrary, async (seed) => {
        const libp2pKey = await generateKeyPairFromSeed('Ed25519', seed)
        expect(peerIdFromEd25519Seed(seed)).toBe(peerIdFromPrivateKey(libp2pKey).toString())
      }),
      { numRuns: 20 },
    )
  })

  it('map public keys to peer ids and back', () => {
    fc.assert(
      fc.property(seedArbitrary, (seed) => {
        const publicKey = ed25519.getPublicKey(seed)
        const peerId = peerIdFromPublicKey(publicKey)
        expect(peerId).toBe(peerIdFromEd25519Seed(seed))
        expect(peerId.startsWith('12D3KooW')).toBe(true)
        const recovered = publicKeyFromPeerId(peerId)
        expect(Object.getPrototypeOf(recovered)).toBe(Uint8Array.prototype)
        expect(recovered).toEqual(publicKey)
      }),
      { numRuns: 20 },
    )
  })

  it('is the transport peer id, known before start', () => {
    const seed = new Uint8Array(32).fill(9)
    expect(libp2pTransport({ privateKey: seed })().peerId).toBe(peerIdFromEd25519Seed(seed))
  })

  it('rejects keys of the wrong type or length', () => {
    expect(() => peerIdFromEd25519Seed('seed' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => peerIdFromEd25519Seed(new Uint8Array(31))).toThrow(RangeError)
    expect(() => peerIdFromPublicKey([1, 2] as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => peerIdFromPublicKey(new Uint8Array(33))).toThrow(RangeError)
  })

  it('refuses strings that are not Ed25519 peer ids', () => {
    expect(() => publicKeyFromPeerId(42 as unknown as string)).toThrow(TypeError)
    expect(() => publicKeyFromPeerId('not-a-peer-id')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    )
    // a valid CIDv0-style sha256 peer id (RSA keys are hashed, not inlined): not Ed25519
    expect(() => publicKeyFromPeerId('QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    )
  })
})
