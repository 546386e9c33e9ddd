// Hashing: our API on each backend next to the raw @napi-rs/blake-hash, @noble/hashes and
// node:crypto calls it wraps.

import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import {
  createBlake3,
  createSha256,
  DOMAIN_HASH_CONTEXT,
  domainHash,
  domainHasher,
} from '../src/hash.js'
import type { BenchGroup } from './harness.js'
import { pick, verdict } from './harness.js'

interface NativeHasher {
  update(input: Uint8Array): unknown
  digestBuffer(): Uint8Array
}
const native = createRequire(import.meta.url)('@napi-rs/blake-hash') as {
  blake3(input: Uint8Array): Uint8Array
  Blake3Hasher: { newKeyed(key: Uint8Array): NativeHasher }
}

const ours = {
  native: createBlake3({ backend: 'native' }),
  noble: createBlake3({ backend: 'noble' }),
}
const oursSha = {
  node: createSha256({ backend: 'node' }),
  noble: createSha256({ backend: 'noble' }),
}

const filled = (length: number): Uint8Array => {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = (i * 31) & 0xff
  return out
}
const MiB = filled(1 << 20)
const small = filled(64)
const KiB = filled(1024)

// domainHash('metanode/tx', 32-byte id): the message it hashes, for the raw calls.
const txId = filled(32)
const tag = 'metanode/tx'
const domainKey = nobleBlake3(new Uint8Array(0), {
  context: new TextEncoder().encode(DOMAIN_HASH_CONTEXT),
})
const domainMessage = (() => {
  const header = [0x4d, 0x4e, 0x44, 0x48, 0x01, tag.length, ...new TextEncoder().encode(tag)]
  return Uint8Array.from([...header, 0, 0, 0, 1, 0, 0, 0, 32, ...txId])
})()
const txHasher = domainHasher(tag)

const gbPerSecond = (opsPerSecond: number, bytes: number): number => (opsPerSecond * bytes) / 1e9

export const groups: BenchGroup[] = [
  {
    title: 'hash: BLAKE3, 1 MiB',
    cases: [
      { name: 'blake3', backend: 'ours/native', fn: () => ours.native(MiB), bytes: MiB.length },
      { name: 'blake3', backend: 'ours/noble', fn: () => ours.noble(MiB), bytes: MiB.length },
      {
        name: 'blake3',
        backend: 'raw @napi-rs/blake-hash',
        fn: () => native.blake3(MiB),
        bytes: MiB.length,
      },
      { name: 'blake3', backend: 'raw noble', fn: () => nobleBlake3(MiB), bytes: MiB.length },
    ],
    targets: (results) => {
      const oursNative = pick(results, 'blake3@ours/native')
      const raw = pick(results, 'blake3@raw @napi-rs/blake-hash')
      const throughput = gbPerSecond(oursNative.opsPerSecond, MiB.length)
      return [
        verdict(throughput >= 1, `ours ≥ 1 GB/s (${throughput.toFixed(2)} GB/s)`),
        verdict(
          oursNative.opsPerSecond >= 0.9 * raw.opsPerSecond,
          `ours within 10% of the raw native call (${((100 * oursNative.opsPerSecond) / raw.opsPerSecond).toFixed(1)}%)`,
        ),
      ]
    },
  },
  {
    title: 'hash: BLAKE3, 64 bytes',
    cases: [
      { name: 'blake3', backend: 'ours/native', fn: () => ours.native(small), bytes: 64 },
      { name: 'blake3', backend: 'ours/noble', fn: () => ours.noble(small), bytes: 64 },
      {
        name: 'blake3',
        backend: 'raw @napi-rs/blake-hash',
        fn: () => native.blake3(small),
        bytes: 64,
      },
      { name: 'blake3', backend: 'raw noble', fn: () => nobleBlake3(small), bytes: 64 },
    ],
  },
  {
    title: 'hash: SHA-256, 1 KiB',
    cases: [
      { name: 'sha256', backend: 'ours/node', fn: () => oursSha.node(KiB), bytes: 1024 },
      { name: 'sha256', backend: 'ours/noble', fn: () => oursSha.noble(KiB), bytes: 1024 },
      {
        name: 'sha256',
        backend: 'raw node:crypto',
        fn: () => createHash('sha256').update(KiB).digest(),
        bytes: 1024,
      },
      { name: 'sha256', backend: 'raw noble', fn: () => nobleSha256(KiB), bytes: 1024 },
    ],
    targets: (results) => {
      const oursNode = pick(results, 'sha256@ours/node')
      const raw = pick(results, 'sha256@raw node:crypto')
      return [
        verdict(
          oursNode.opsPerSecond >= 0.9 * raw.opsPerSecond,
          `ours within 10% of raw node:crypto (${((100 * oursNode.opsPerSecond) / raw.opsPerSecond).toFixed(1)}%)`,
        ),
      ]
    },
  },
  {
    title: 'hash: domainHash of one 32-byte part',
    cases: [
      { name: 'domainHash', backend: 'ours', fn: () => domainHash(tag, txId) },
      { name: 'domainHasher(tag)', backend: 'ours', fn: () => txHasher(txId) },
      {
        name: 'keyed BLAKE3 of the same message',
        backend: 'raw @napi-rs/blake-hash',
        fn: () => {
          const hasher = native.Blake3Hasher.newKeyed(domainKey)
          hasher.update(domainMessage)
          return hasher.digestBuffer()
        },
      },
      {
        name: 'keyed BLAKE3 of the same message',
        backend: 'raw noble',
        fn: () => nobleBlake3(domainMessage, { key: domainKey }),
      },
    ],
    targets: (results) => {
      const ours = pick(results, 'domainHash@ours')
      const raw = pick(results, 'keyed BLAKE3 of the same message@raw @napi-rs/blake-hash')
      const noble = pick(results, 'keyed BLAKE3 of the same message@raw noble')
      const fastest = Math.max(raw.opsPerSecond, noble.opsPerSecond)
      return [
        verdict(
          ours.opsPerSecond >= fastest,
          `domainHash faster than either raw keyed hash of its message (${(ours.opsPerSecond / fastest).toFixed(1)}x)`,
        ),
      ]
    },
  },
]
