// Ed25519: our API on both backends next to raw node:crypto (OpenSSL) and @noble/curves.
// Like-for-like: "verify" repeats one key, so ours runs its LRU hit path and raw node:crypto gets
// a KeyObject built once outside the loop. "key not cached" cycles through 2,048 keys, more than
// our 1,024-entry cache holds, so both sides build a KeyObject on every call.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { ed25519 as noble } from '@noble/curves/ed25519.js'
import { createEd25519 } from '../src/ed25519.js'
import type { BenchGroup } from './harness.js'
import { pick, verdict } from './harness.js'

const ours = {
  node: createEd25519({ backend: 'node' }),
  noble: createEd25519({ backend: 'noble' }),
}

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const spki = (publicKey: Uint8Array) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' })
const pkcs8 = (seed: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })

// A transaction-sized message.
const message = new TextEncoder().encode(
  'metanode transfer: from validator-7 to account 0x5f3c, amount 1000000, nonce 42, chain devnet'.padEnd(
    128,
    '.',
  ),
)
const signer = ours.node.keygen(new Uint8Array(32).fill(7))
const signature = ours.node.sign(message, signer.secretKey)
const rawPublicKey = spki(signer.publicKey)
const rawPrivateKey = pkcs8(signer.secretKey)

const coldKeys = Array.from({ length: 2048 }, (_, i) => {
  const seed = new Uint8Array(32)
  new DataView(seed.buffer).setUint32(0, i + 1)
  return ours.node.keygen(seed)
})
const coldSignatures = coldKeys.map((k) => ours.node.sign(message, k.secretKey))
let coldIndex = 0
const nextCold = (): number => {
  coldIndex = (coldIndex + 1) % coldKeys.length
  return coldIndex
}

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`

export const groups: BenchGroup[] = [
  {
    title: 'ed25519: verify (128-byte message)',
    cases: [
      {
        name: 'verify',
        backend: 'ours/node',
        fn: () => ours.node.verify(signature, message, signer.publicKey),
      },
      {
        name: 'verify',
        backend: 'raw node:crypto, prebuilt KeyObject',
        fn: () => verify(null, message, rawPublicKey, signature),
      },
      {
        name: 'verify',
        backend: 'ours/noble',
        fn: () => ours.noble.verify(signature, message, signer.publicKey),
      },
      {
        name: 'verify',
        backend: 'raw noble (zip215: false)',
        fn: () => noble.verify(signature, message, signer.publicKey, { zip215: false }),
      },
      {
        name: 'verify, key not cached',
        backend: 'ours/node',
        fn: () => {
          const i = nextCold()
          return ours.node.verify(coldSignatures[i]!, message, coldKeys[i]!.publicKey)
        },
      },
      {
        name: 'verify, key not cached',
        backend: 'raw node:crypto, SPKI DER KeyObject per call',
        fn: () => {
          const i = nextCold()
          return verify(null, message, spki(coldKeys[i]!.publicKey), coldSignatures[i]!)
        },
      },
    ],
    targets: (results) => {
      const oursNode = pick(results, 'verify@ours/node').opsPerSecond
      const rawNode = pick(results, 'verify@raw node:crypto, prebuilt KeyObject').opsPerSecond
      const rawNoble = pick(results, 'verify@raw noble (zip215: false)').opsPerSecond
      return [
        verdict(
          oursNode >= 0.9 * rawNode,
          `our node verify (cache hit) within 10% of raw node:crypto verify with a prebuilt KeyObject (${((oursNode / rawNode) * 100).toFixed(1)}%)`,
        ),
        verdict(
          oursNode >= 8 * rawNoble,
          `our node verify >= 8x raw noble verify (${ratio(oursNode, rawNoble)})`,
        ),
      ]
    },
  },
  {
    title: 'ed25519: sign (128-byte message)',
    cases: [
      {
        name: 'sign',
        backend: 'ours/node',
        fn: () => ours.node.sign(message, signer.secretKey),
      },
      {
        name: 'sign',
        backend: 'raw node:crypto, prebuilt KeyObject',
        fn: () => sign(null, message, rawPrivateKey),
      },
      {
        name: 'sign',
        backend: 'raw node:crypto, PKCS#8 DER KeyObject per call',
        fn: () => sign(null, message, pkcs8(signer.secretKey)),
      },
      {
        name: 'sign',
        backend: 'ours/noble',
        fn: () => ours.noble.sign(message, signer.secretKey),
      },
      {
        name: 'sign',
        backend: 'raw noble',
        fn: () => noble.sign(message, signer.secretKey),
      },
    ],
  },
  {
    title: 'ed25519: keygen',
    cases: [
      { name: 'keygen', backend: 'ours/node', fn: () => ours.node.keygen() },
      {
        name: 'keygen',
        backend: 'raw node:crypto generateKeyPairSync (KeyObjects, no byte export)',
        fn: () => generateKeyPairSync('ed25519'),
      },
      { name: 'keygen', backend: 'ours/noble', fn: () => ours.noble.keygen() },
      { name: 'keygen', backend: 'raw noble', fn: () => noble.keygen() },
    ],
  },
]
