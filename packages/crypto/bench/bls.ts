// BLS12-381: our API on both backends next to the raw @chainsafe/blst and @noble/curves calls.
// "Raw" sequences do the same work as ours: the public key is already deserialised and validated
// (our LRU hit), and the signature is deserialised with its subgroup check on every call.
import { createRequire } from 'node:module'
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { createBls, SIGNATURE_DST } from '../src/bls.js'
import type { BenchGroup } from './harness.js'
import { pick, verdict } from './harness.js'

type Blst = typeof import('@chainsafe/blst')
const blst = createRequire(import.meta.url)('@chainsafe/blst') as Blst
const long = bls12_381.longSignatures

const ours = { blst: createBls({ backend: 'blst' }), noble: createBls({ backend: 'noble' }) }
if (ours.blst.backend !== 'blst') throw new Error('the blst backend did not load')

const encoder = new TextEncoder()
const message = encoder.encode('metanode commit seal: height 1000000, round 0')
const keys = Array.from({ length: 64 }, (_, i) => ours.blst.keygen(new Uint8Array(32).fill(i + 1)))
const signer = keys[0]!
const signature = ours.blst.sign(message, signer.secretKey)
const rawPublicKey = blst.PublicKey.fromBytes(signer.publicKey, true)
const noblePublicKey = bls12_381.G1.Point.fromBytes(signer.publicKey)

// Public keys never seen before, so every call deserialises and validates the key.
const coldKeys = Array.from({ length: 2048 }, (_, i) =>
  ours.blst.keygen(encoder.encode(`cold validator key number ${i.toString().padStart(8, '0')}`)),
)
const coldSignatures = coldKeys.map((k) => ours.blst.sign(message, k.secretKey))
let coldIndex = 0
const nextCold = (): number => {
  coldIndex = (coldIndex + 1) % coldKeys.length
  return coldIndex
}

const aggregateSignature = ours.blst.aggregateSignatures(
  keys.map((k) => ours.blst.sign(message, k.secretKey)),
)
const publicKeys = keys.map((k) => k.publicKey)
const rawPublicKeys = publicKeys.map((pk) => blst.PublicKey.fromBytes(pk, true))
const signatures = keys.map((k) => ours.blst.sign(message, k.secretKey))

const batchSets = keys.slice(0, 32).map((k, i) => {
  const msg = encoder.encode(`attestation ${i}`)
  return { signature: ours.blst.sign(msg, k.secretKey), message: msg, publicKey: k.publicKey }
})
const rawBatchSets = batchSets.map((set) => ({
  msg: set.message,
  pk: blst.PublicKey.fromBytes(set.publicKey, true),
  sig: set.signature,
}))

function within(measured: number, reference: number, fraction: number): boolean {
  return measured >= reference * (1 - fraction)
}

export const groups: BenchGroup[] = [
  {
    title: 'bls: verify (one signature, known key)',
    cases: [
      {
        name: 'verify',
        backend: 'ours/blst',
        fn: () => ours.blst.verify(signature, message, signer.publicKey),
      },
      {
        name: 'verify',
        backend: 'raw blst',
        fn: () =>
          blst.verify(message, rawPublicKey, blst.Signature.fromBytes(signature, true, true)),
      },
      {
        name: 'verify',
        backend: 'ours/noble',
        fn: () => ours.noble.verify(signature, message, signer.publicKey),
      },
      {
        name: 'verify',
        backend: 'raw noble',
        fn: () =>
          long.verify(
            long.Signature.fromBytes(signature),
            long.hash(message, SIGNATURE_DST),
            noblePublicKey,
          ),
      },
      {
        name: 'verify, key not cached',
        backend: 'ours/blst',
        fn: () => {
          const i = nextCold()
          return ours.blst.verify(coldSignatures[i]!, message, coldKeys[i]!.publicKey)
        },
      },
      {
        name: 'verify, key not cached',
        backend: 'raw blst',
        fn: () => {
          const i = nextCold()
          return blst.verify(
            message,
            blst.PublicKey.fromBytes(coldKeys[i]!.publicKey, true),
            blst.Signature.fromBytes(coldSignatures[i]!, true, true),
          )
        },
      },
    ],
    targets: (results) => {
      const oursBlst = pick(results, 'verify@ours/blst').opsPerSecond
      const rawBlst = pick(results, 'verify@raw blst').opsPerSecond
      const rawNoble = pick(results, 'verify@raw noble').opsPerSecond
      return [
        verdict(
          within(oursBlst, rawBlst, 0.1),
          `our blst verify within 10% of raw blst (${((oursBlst / rawBlst) * 100).toFixed(1)}%)`,
        ),
        verdict(
          oursBlst >= 20 * rawNoble,
          `our blst verify >= 20x noble (${(oursBlst / rawNoble).toFixed(0)}x)`,
        ),
      ]
    },
  },
  {
    title: 'bls: sign',
    cases: [
      {
        name: 'sign',
        backend: 'ours/blst',
        fn: () => ours.blst.sign(message, signer.secretKey),
      },
      {
        name: 'sign',
        backend: 'raw blst',
        fn: () => blst.SecretKey.fromBytes(signer.secretKey).sign(message).toBytes(),
      },
      {
        name: 'sign',
        backend: 'ours/noble',
        fn: () => ours.noble.sign(message, signer.secretKey),
      },
      {
        name: 'sign',
        backend: 'raw noble',
        fn: () =>
          long.Signature.toBytes(long.sign(long.hash(message, SIGNATURE_DST), signer.secretKey)),
      },
    ],
  },
  {
    title: 'bls: fastAggregateVerify, 64 keys',
    cases: [
      {
        name: 'fastAggregateVerify',
        backend: 'ours/blst',
        fn: () => ours.blst.fastAggregateVerify(aggregateSignature, message, publicKeys),
      },
      {
        name: 'fastAggregateVerify',
        backend: 'raw blst',
        fn: () =>
          blst.fastAggregateVerify(
            message,
            rawPublicKeys,
            blst.Signature.fromBytes(aggregateSignature, true, true),
          ),
      },
    ],
  },
  {
    title: 'bls: aggregateSignatures, 64 signatures',
    cases: [
      {
        name: 'aggregateSignatures',
        backend: 'ours/blst',
        fn: () => ours.blst.aggregateSignatures(signatures),
      },
      {
        // Deserialises each signature with its subgroup check, as ours does.
        name: 'aggregateSignatures',
        backend: 'raw blst',
        fn: () => blst.aggregateSerializedSignatures(signatures, true).toBytes(),
      },
    ],
  },
  {
    title: 'bls: verifyBatch, 32 sets with distinct messages',
    cases: [
      {
        name: 'verifyBatch (32 sets)',
        backend: 'ours/blst',
        fn: () => ours.blst.verifyBatch(batchSets),
      },
      {
        name: 'verifyMultipleAggregateSignatures (32 sets)',
        backend: 'raw blst',
        fn: () =>
          blst.verifyMultipleAggregateSignatures(
            rawBatchSets.map((set) => ({
              msg: set.msg,
              pk: set.pk,
              sig: blst.Signature.fromBytes(set.sig, true, true),
            })),
          ),
      },
      {
        name: '32 × verify',
        backend: 'ours/blst',
        fn: () =>
          batchSets.every((set) => ours.blst.verify(set.signature, set.message, set.publicKey)),
      },
    ],
  },
]
