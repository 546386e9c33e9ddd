// Key exchange: X25519 on both backends next to the raw node:crypto and noble calls, ML-KEM-768 next
// to raw noble, and the hybrid KEM.
import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto'
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js'
import { createX25519, mlkem768, x25519MlKem768 } from '../src/kex.js'
import type { BenchGroup, BenchResult } from './harness.js'
import { pick, verdict } from './harness.js'

const ours = { node: createX25519({ backend: 'node' }), noble: createX25519({ backend: 'noble' }) }

const alice = ours.node.keygen(new Uint8Array(32).fill(1))
const bob = ours.node.keygen(new Uint8Array(32).fill(2))

const base64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')
const aliceKeyObject = createPrivateKey({
  key: { kty: 'OKP', crv: 'X25519', d: base64url(alice.secretKey), x: '' },
  format: 'jwk',
})
const bobKeyObject = createPublicKey({
  key: { kty: 'OKP', crv: 'X25519', x: base64url(bob.publicKey) },
  format: 'jwk',
})

function ratio(results: Map<string, BenchResult>, a: string, b: string): number {
  return pick(results, a).opsPerSecond / pick(results, b).opsPerSecond
}

const x25519Group: BenchGroup = {
  title: 'kex: x25519 getSharedSecret',
  cases: [
    {
      name: 'getSharedSecret',
      backend: 'ours/node',
      fn: () => ours.node.getSharedSecret(alice.secretKey, bob.publicKey),
    },
    {
      name: 'getSharedSecret',
      backend: 'ours/noble',
      fn: () => ours.noble.getSharedSecret(alice.secretKey, bob.publicKey),
    },
    {
      // What our node backend does: import both raw keys as JWK, then derive.
      name: 'getSharedSecret',
      backend: 'raw node:crypto (JWK import)',
      fn: () =>
        diffieHellman({
          privateKey: createPrivateKey({
            key: { kty: 'OKP', crv: 'X25519', d: base64url(alice.secretKey), x: '' },
            format: 'jwk',
          }),
          publicKey: createPublicKey({
            key: { kty: 'OKP', crv: 'X25519', x: base64url(bob.publicKey) },
            format: 'jwk',
          }),
        }),
    },
    {
      // The DER route (PKCS#8 / SPKI prefixes) we measured and rejected: OpenSSL 3's decoder is slow.
      name: 'getSharedSecret',
      backend: 'raw node:crypto (DER import)',
      fn: () =>
        diffieHellman({
          privateKey: createPrivateKey({
            key: Buffer.concat([PKCS8_PREFIX, alice.secretKey]),
            format: 'der',
            type: 'pkcs8',
          }),
          publicKey: createPublicKey({
            key: Buffer.concat([SPKI_PREFIX, bob.publicKey]),
            format: 'der',
            type: 'spki',
          }),
        }),
    },
    {
      name: 'getSharedSecret',
      backend: 'raw node:crypto (KeyObjects imported once)',
      fn: () => diffieHellman({ privateKey: aliceKeyObject, publicKey: bobKeyObject }),
    },
    {
      name: 'getSharedSecret',
      backend: 'raw noble',
      fn: () => nobleX25519.getSharedSecret(alice.secretKey, bob.publicKey),
    },
  ],
  targets: (results) => {
    const vsRaw = ratio(
      results,
      'getSharedSecret@ours/node',
      'getSharedSecret@raw node:crypto (JWK import)',
    )
    const vsNoble = ratio(results, 'getSharedSecret@ours/node', 'getSharedSecret@raw noble')
    return [
      verdict(
        vsRaw >= 0.9,
        `ours/node x25519 within 10% of raw node:crypto (${(vsRaw * 100).toFixed(0)}%)`,
      ),
      verdict(vsNoble > 1, `ours/node x25519 faster than noble (${vsNoble.toFixed(1)}x)`),
    ]
  },
}

const mlkemKeys = mlkem768.keygen(new Uint8Array(64).fill(3))
const mlkemEncapsulation = mlkem768.encapsulate(mlkemKeys.publicKey)

const mlkemGroup: BenchGroup = {
  title: 'kex: ml-kem-768',
  cases: [
    { name: 'keygen', backend: 'ours (noble)', fn: () => mlkem768.keygen() },
    { name: 'keygen', backend: 'raw noble', fn: () => ml_kem768.keygen() },
    {
      name: 'encapsulate',
      backend: 'ours (noble)',
      fn: () => mlkem768.encapsulate(mlkemKeys.publicKey),
    },
    {
      name: 'encapsulate',
      backend: 'raw noble',
      fn: () => ml_kem768.encapsulate(mlkemKeys.publicKey),
    },
    {
      name: 'decapsulate',
      backend: 'ours (noble)',
      fn: () => mlkem768.decapsulate(mlkemEncapsulation.cipherText, mlkemKeys.secretKey),
    },
    {
      name: 'decapsulate',
      backend: 'raw noble',
      fn: () => ml_kem768.decapsulate(mlkemEncapsulation.cipherText, mlkemKeys.secretKey),
    },
  ],
  targets: (results) =>
    ['encapsulate', 'decapsulate'].map((op) => {
      const r = ratio(results, `${op}@ours (noble)`, `${op}@raw noble`)
      return verdict(
        r >= 0.9,
        `ours ml-kem-768 ${op} within 10% of raw noble (${(r * 100).toFixed(0)}%)`,
      )
    }),
}

const hybridKeys = x25519MlKem768.keygen(new Uint8Array(32).fill(4))
const hybridEncapsulation = x25519MlKem768.encapsulate(hybridKeys.publicKey)

const hybridGroup: BenchGroup = {
  title: 'kex: x25519-mlkem768 hybrid',
  cases: [
    { name: 'keygen', backend: 'ours', fn: () => x25519MlKem768.keygen() },
    {
      name: 'encapsulate',
      backend: 'ours',
      fn: () => x25519MlKem768.encapsulate(hybridKeys.publicKey),
    },
    {
      name: 'decapsulate',
      backend: 'ours',
      fn: () => x25519MlKem768.decapsulate(hybridEncapsulation.cipherText, hybridKeys.secretKey),
    },
  ],
}

/** Key-exchange benchmark groups, collected by bench/index.ts. */
export const groups: BenchGroup[] = [x25519Group, mlkemGroup, hybridGroup]
