// Merkle trees: our root computation (portable single-block BLAKE3 compression over a flat word
// array) next to the same tree built with one raw @napi-rs/blake-hash or @noble/hashes call per
// hash. The raw baselines run on 1,000 leaves: at 64 iterations per case, 100,000 leaves through
// them would take minutes.
import { createRequire } from 'node:module'
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import {
  MERKLE_LEAF_CONTEXT,
  MERKLE_NODE_CONTEXT,
  MerkleTree,
  merkleRoot,
  verifyMultiProof,
  verifyProof,
} from '../src/merkle.js'
import type { BenchGroup } from './harness.js'
import { pick, verdict } from './harness.js'

interface NativeHasher {
  update(input: Uint8Array): unknown
  digestBuffer(): Uint8Array
  reset(): void
}
const native = createRequire(import.meta.url)('@napi-rs/blake-hash') as {
  Blake3Hasher: { newKeyed(key: Uint8Array): NativeHasher }
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const leafKey = nobleBlake3(new Uint8Array(0), { context: utf8(MERKLE_LEAF_CONTEXT) })
const nodeKey = nobleBlake3(new Uint8Array(0), { context: utf8(MERKLE_NODE_CONTEXT) })

function makeLeaves(count: number): Uint8Array[] {
  const data = new Uint8Array(32 * count)
  const view = new DataView(data.buffer)
  for (let i = 0; i < count; i++) view.setUint32(32 * i, i)
  return Array.from({ length: count }, (_, i) => data.subarray(32 * i, 32 * i + 32))
}

/** The same tree shape as ours, one hash call at a time. */
function perCallRoot(
  leaves: readonly Uint8Array[],
  leaf: (data: Uint8Array) => Uint8Array,
  node: (pair: Uint8Array) => Uint8Array,
): Uint8Array {
  let level = leaves.map(leaf)
  const pair = new Uint8Array(64)
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) {
      pair.set(level[i]!)
      pair.set(level[i + 1]!, 32)
      next.push(node(pair))
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!)
    level = next
  }
  return level[0]!
}

// Keyed native hashers are reused with reset(): constructing one per call costs ~9 µs.
const nativeLeafHasher = native.Blake3Hasher.newKeyed(leafKey)
const nativeNodeHasher = native.Blake3Hasher.newKeyed(nodeKey)
const nativeKeyed = (hasher: NativeHasher) => (data: Uint8Array) => {
  hasher.reset()
  hasher.update(data)
  return hasher.digestBuffer()
}
const nativeLeaf = nativeKeyed(nativeLeafHasher)
const nativeNode = nativeKeyed(nativeNodeHasher)
const nobleLeaf = (data: Uint8Array) => nobleBlake3(data, { key: leafKey })
const nobleNode = (data: Uint8Array) => nobleBlake3(data, { key: nodeKey })

const large = makeLeaves(100_000)
const smallTree = makeLeaves(1_000)

const proofLeaves = makeLeaves(1_024)
const proofTree = MerkleTree.from(proofLeaves)
const proofRoot = proofTree.root
const proof = proofTree.proof(777)
const multiIndices = Array.from({ length: 16 }, (_, i) => i * 64 + 3)
const multiProof = proofTree.multiProof(multiIndices)
const multiLeaves = multiIndices.map((i) => proofLeaves[i]!)

export const groups: BenchGroup[] = [
  {
    title: 'merkle: root of 100,000 32-byte leaves',
    cases: [
      { name: 'merkleRoot', backend: 'ours', fn: () => merkleRoot(large) },
      {
        name: 'MerkleTree.from (all levels kept)',
        backend: 'ours',
        fn: () => MerkleTree.from(large),
      },
    ],
    targets: (results) => {
      const root = pick(results, 'merkleRoot@ours')
      return [verdict(root.meanMs < 150, `merkleRoot mean < 150 ms (${root.meanMs.toFixed(1)} ms)`)]
    },
  },
  {
    title: 'merkle: root of 1,000 32-byte leaves, ours vs one raw call per hash',
    setup: () => {
      // The baselines must build the very tree we do, or the comparison means nothing.
      const expected = merkleRoot(smallTree).join()
      const nativeRoot = new Uint8Array(perCallRoot(smallTree, nativeLeaf, nativeNode)).join()
      if (
        nativeRoot !== expected ||
        perCallRoot(smallTree, nobleLeaf, nobleNode).join() !== expected
      ) {
        throw new Error('per-call baseline roots differ from merkleRoot')
      }
    },
    cases: [
      { name: 'merkleRoot', backend: 'ours', fn: () => merkleRoot(smallTree) },
      {
        name: 'per-call keyed BLAKE3',
        backend: 'raw @napi-rs/blake-hash',
        fn: () => perCallRoot(smallTree, nativeLeaf, nativeNode),
      },
      {
        name: 'per-call keyed BLAKE3',
        backend: 'raw noble',
        fn: () => perCallRoot(smallTree, nobleLeaf, nobleNode),
      },
    ],
    targets: (results) => {
      const ours = pick(results, 'merkleRoot@ours')
      const raw = pick(results, 'per-call keyed BLAKE3@raw @napi-rs/blake-hash')
      return [
        verdict(
          ours.opsPerSecond > raw.opsPerSecond,
          `ours faster than per-call native hashing (${(ours.opsPerSecond / raw.opsPerSecond).toFixed(1)}x)`,
        ),
      ]
    },
  },
  {
    title: 'merkle: proofs in a tree of 1,024 leaves',
    cases: [
      { name: 'proof', backend: 'ours', fn: () => proofTree.proof(777) },
      {
        name: 'verifyProof',
        backend: 'ours',
        fn: () => verifyProof(proofRoot, proofLeaves[777]!, proof),
      },
      {
        name: 'multiProof (16 leaves)',
        backend: 'ours',
        fn: () => proofTree.multiProof(multiIndices),
      },
      {
        name: 'verifyMultiProof (16 leaves)',
        backend: 'ours',
        fn: () => verifyMultiProof(proofRoot, multiLeaves, multiProof),
      },
    ],
  },
]
