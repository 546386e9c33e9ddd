import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FLAGS, hashChunk, IV, keyToWords } from '../src/blake3-compress.js'
import {
  emptyMerkleRoot,
  leafHash,
  MAX_LEAF_COUNT,
  MERKLE_EMPTY_CONTEXT,
  MERKLE_LEAF_CONTEXT,
  MERKLE_NODE_CONTEXT,
  type MerkleMultiProof,
  type MerkleProof,
  MerkleTree,
  merkleMultiProof,
  merkleProof,
  merkleRoot,
  nodeHash,
  verifyMultiProof,
  verifyProof,
} from '../src/merkle.js'
import { bytesToHex } from './helpers/vectors.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const deriveKey = (context: string): Uint8Array =>
  nobleBlake3(new Uint8Array(0), { context: utf8(context) })

// The documented construction, computed with noble only.
const K_LEAF = deriveKey(MERKLE_LEAF_CONTEXT)
const K_NODE = deriveKey(MERKLE_NODE_CONTEXT)
const refLeaf = (leaf: Uint8Array): Uint8Array => nobleBlake3(leaf, { key: K_LEAF })
const refNode = (left: Uint8Array, right: Uint8Array): Uint8Array => {
  const block = new Uint8Array(64)
  block.set(left)
  block.set(right, 32)
  return nobleBlake3(block, { key: K_NODE })
}

/** RFC 6962 section 2.1: split at the largest power of two smaller than the count. */
function rfc6962Root(
  hashes: readonly Uint8Array[],
  node: (l: Uint8Array, r: Uint8Array) => Uint8Array,
): Uint8Array {
  const recurse = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return hashes[lo]!
    let k = 1
    while (k * 2 < hi - lo) k *= 2
    return node(recurse(lo, lo + k), recurse(lo + k, hi))
  }
  return recurse(0, hashes.length)
}

function makeLeaves(count: number, seed = 0): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => utf8(`leaf ${seed}/${i}`))
}

/** Per level: 'L' (node is a left child), 'R' (right child) or 'C' (carried up alone). */
function pathShape(leafCount: number, index: number): string {
  let shape = ''
  for (let count = leafCount, p = index; count > 1; count = Math.ceil(count / 2), p >>= 1) {
    shape += p % 2 === 1 ? 'R' : p + 1 < count ? 'L' : 'C'
  }
  return shape
}

describe('internal single-chunk BLAKE3', () => {
  it('equals keyed BLAKE3 for every length 0..64 under random keys', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (key, data) => {
          const words = keyToWords(key)
          for (let length = 0; length <= 64; length++) {
            const input = data.subarray(0, length)
            expect(hashChunk(words, FLAGS.KEYED_HASH, input)).toEqual(nobleBlake3(input, { key }))
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it('equals keyed and plain BLAKE3 for multi-block inputs up to one chunk', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 65, maxLength: 1024 }),
        (key, data) => {
          expect(hashChunk(keyToWords(key), FLAGS.KEYED_HASH, data)).toEqual(
            nobleBlake3(data, { key }),
          )
          expect(hashChunk(IV, 0, data)).toEqual(nobleBlake3(data))
        },
      ),
      { numRuns: 100 },
    )
    for (const length of [128, 1023, 1024]) {
      const data = new Uint8Array(length).fill(7)
      expect(hashChunk(IV, 0, data)).toEqual(nobleBlake3(data))
    }
    expect(() => hashChunk(IV, 0, new Uint8Array(1025))).toThrow(RangeError)
  })
})

describe('leafHash and nodeHash', () => {
  it('are BLAKE3 keyed with the derived leaf and node keys', () => {
    expect(K_LEAF).not.toEqual(K_NODE)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2100 }), (leaf) => {
        expect(leafHash(leaf)).toEqual(refLeaf(leaf))
      }),
      { numRuns: 150 },
    )
    for (let length = 0; length <= 64; length++) {
      const leaf = new Uint8Array(length).fill(length)
      expect(leafHash(leaf)).toEqual(refLeaf(leaf))
    }
    const left = new Uint8Array(32).fill(1)
    const right = new Uint8Array(32).fill(2)
    expect(nodeHash(left, right)).toEqual(refNode(left, right))
    expect(nodeHash(left, right)).not.toEqual(nodeHash(right, left))
  })

  it('keep leaves and inner nodes apart: a 64-byte leaf does not hash like a node', () => {
    const left = leafHash(utf8('a'))
    const right = leafHash(utf8('b'))
    const concatenated = new Uint8Array(64)
    concatenated.set(left)
    concatenated.set(right, 32)
    expect(leafHash(concatenated)).not.toEqual(nodeHash(left, right))
    expect(merkleRoot([concatenated])).not.toEqual(merkleRoot([utf8('a'), utf8('b')]))
  })

  it('reject bad arguments', () => {
    expect(() => leafHash('x' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError)
    expect(() => nodeHash(new Uint8Array(32), null as unknown as Uint8Array)).toThrow(TypeError)
  })
})

describe('merkleRoot', () => {
  it('of no leaves is the documented constant', () => {
    expect(merkleRoot([])).toEqual(deriveKey(MERKLE_EMPTY_CONTEXT))
    expect(emptyMerkleRoot()).toEqual(deriveKey(MERKLE_EMPTY_CONTEXT))
    expect(MerkleTree.from([]).root).toEqual(deriveKey(MERKLE_EMPTY_CONTEXT))
    expect(MerkleTree.from([]).leafCount).toBe(0)
  })

  it('has the documented small shapes', () => {
    const [a, b, c, d, e] = makeLeaves(5).map(refLeaf) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ]
    const leaves = makeLeaves(5)
    expect(merkleRoot(leaves.slice(0, 1))).toEqual(a)
    expect(merkleRoot(leaves.slice(0, 2))).toEqual(refNode(a, b))
    expect(merkleRoot(leaves.slice(0, 3))).toEqual(refNode(refNode(a, b), c))
    expect(merkleRoot(leaves.slice(0, 4))).toEqual(refNode(refNode(a, b), refNode(c, d)))
    expect(merkleRoot(leaves)).toEqual(refNode(refNode(refNode(a, b), refNode(c, d)), e))
  })

  it('equals the RFC 6962 split for 1..70 leaves, from data and from leaf hashes', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = makeLeaves(n, n)
      const hashes = leaves.map(refLeaf)
      const expected = rfc6962Root(hashes, refNode)
      expect(merkleRoot(leaves), `n = ${n}`).toEqual(expected)
      const tree = MerkleTree.from(leaves)
      expect(tree.root).toEqual(expected)
      expect(tree.leafCount).toBe(n)
      expect(MerkleTree.fromLeafHashes(hashes).root).toEqual(expected)
    }
  })

  it('hashes leaves longer than one BLAKE3 chunk', () => {
    const leaves = [new Uint8Array(5000).fill(1), new Uint8Array(1025), utf8('short')]
    const [a, b, c] = leaves.map(refLeaf) as [Uint8Array, Uint8Array, Uint8Array]
    expect(merkleRoot(leaves)).toEqual(refNode(refNode(a, b), c))
  })

  it('resists the duplicated-last-leaf mutation (CVE-2012-2459)', () => {
    for (const n of [3, 5, 6, 7, 9, 11]) {
      const leaves = makeLeaves(n)
      const mutated = [...leaves, leaves[n - 1]!]
      expect(merkleRoot(mutated)).not.toEqual(merkleRoot(leaves))
    }
  })

  it('depends on every leaf and on the order', () => {
    const leaves = makeLeaves(13)
    const root = bytesToHex(merkleRoot(leaves))
    for (let i = 0; i < leaves.length; i++) {
      const changed = leaves.slice()
      changed[i] = utf8('other')
      expect(bytesToHex(merkleRoot(changed))).not.toBe(root)
    }
    expect(bytesToHex(merkleRoot([leaves[1]!, leaves[0]!, ...leaves.slice(2)]))).not.toBe(root)
  })

  it('computes the root of a million leaves', () => {
    const data = new Uint8Array(32 * 1_000_000)
    const view = new DataView(data.buffer)
    for (let i = 0; i < 1_000_000; i++) view.setUint32(32 * i, i)
    const leaves = Array.from({ length: 1_000_000 }, (_, i) => data.subarray(32 * i, 32 * i + 32))
    const root = merkleRoot(leaves)
    expect(root).toEqual(rfc6962Root(leaves.map(leafHash), nodeHash))
  })

  it('rejects bad arguments', () => {
    expect(() => merkleRoot('x' as unknown as Uint8Array[])).toThrow(TypeError)
    expect(() => merkleRoot([new Uint8Array(1), 'x' as unknown as Uint8Array])).toThrow(TypeError)
    expect(() => MerkleTree.fromLeafHashes([new Uint8Array(31)])).toThrow(RangeError)
  })
})

function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice()
  copy[index]! ^= 1
  return copy
}

describe('inclusion proofs', () => {
  it('verify for every index of trees of 1..33 leaves, and fail when tampered', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = makeLeaves(n)
      const tree = MerkleTree.from(leaves)
      const root = tree.root
      for (let index = 0; index < n; index++) {
        const proof = tree.proof(index)
        expect(proof).toEqual(merkleProof(leaves, index))
        expect(proof.siblings.length).toBe(pathShape(n, index).replaceAll('C', '').length)
        expect(verifyProof(root, leaves[index]!, proof), `n ${n} index ${index}`).toBe(true)

        // Every other index of the same tree, and every other leaf.
        for (let other = 0; other < n; other++) {
          if (other === index) continue
          expect(verifyProof(root, leaves[index]!, { ...proof, index: other })).toBe(false)
          expect(verifyProof(root, leaves[other]!, proof)).toBe(false)
        }
        for (let s = 0; s < proof.siblings.length; s++) {
          for (const byte of [0, 17, 31]) {
            const siblings = proof.siblings.slice()
            siblings[s] = flipByte(siblings[s]!, byte)
            expect(verifyProof(root, leaves[index]!, { ...proof, siblings })).toBe(false)
          }
        }
        expect(verifyProof(flipByte(root, 5), leaves[index]!, proof)).toBe(false)
        const extra = { ...proof, siblings: [...proof.siblings, root] }
        expect(verifyProof(root, leaves[index]!, extra)).toBe(false)
        if (proof.siblings.length > 0) {
          const missing = { ...proof, siblings: proof.siblings.slice(1) }
          expect(verifyProof(root, leaves[index]!, missing)).toBe(false)
        }
      }
    }
  })

  it('bind the leaf count only through the shape of the path', () => {
    // The root commits to the leaves, not to a count: the same path under another count verifies
    // exactly when every level has the same left/right/carried pattern.
    for (let n = 1; n <= 20; n++) {
      const leaves = makeLeaves(n)
      const tree = MerkleTree.from(leaves)
      for (let index = 0; index < n; index++) {
        const proof = tree.proof(index)
        for (let count = index + 1; count <= 40; count++) {
          const ok = verifyProof(tree.root, leaves[index]!, { ...proof, leafCount: count })
          expect(ok).toBe(pathShape(count, index) === pathShape(n, index))
        }
      }
    }
  })

  it('return false for malformed proofs instead of throwing', () => {
    const leaves = makeLeaves(6)
    const tree = MerkleTree.from(leaves)
    const proof = tree.proof(3)
    const leaf = leaves[3]!
    const bad: unknown[] = [
      null,
      'proof',
      { ...proof, leafCount: 0 },
      { ...proof, leafCount: MAX_LEAF_COUNT + 1 },
      { ...proof, leafCount: 6.5 },
      { ...proof, leafCount: '6' },
      { ...proof, index: -1 },
      { ...proof, index: 6 },
      { ...proof, index: 2 ** 60 },
      { ...proof, index: Number.NaN },
      { ...proof, siblings: 'x' },
      { ...proof, siblings: [new Uint8Array(31), ...proof.siblings.slice(1)] },
      { ...proof, siblings: [null, ...proof.siblings.slice(1)] },
      { ...proof, siblings: Array.from({ length: 100 }, () => new Uint8Array(32)) },
    ]
    for (const p of bad) expect(verifyProof(tree.root, leaf, p as MerkleProof)).toBe(false)
    expect(verifyProof(tree.root.subarray(1), leaf, proof)).toBe(false)
    expect(() => verifyProof('r' as unknown as Uint8Array, leaf, proof)).toThrow(TypeError)
    expect(() => verifyProof(tree.root, 1 as unknown as Uint8Array, proof)).toThrow(TypeError)
  })

  it('handle the largest leaf count', () => {
    // A proof for the last leaf of a 2^32-leaf tree: carried up at every level but the top.
    const leaf = utf8('last')
    const sibling = new Uint8Array(32).fill(9)
    const proof = {
      leafCount: MAX_LEAF_COUNT,
      index: MAX_LEAF_COUNT - 1,
      siblings: [] as Uint8Array[],
    }
    // A full tree has no carried nodes: 32 siblings, the last leaf is always a right child.
    let hash = leafHash(leaf)
    for (let level = 0; level < 32; level++) {
      proof.siblings.push(sibling)
      hash = nodeHash(sibling, hash)
    }
    expect(verifyProof(hash, leaf, proof)).toBe(true)
    expect(verifyProof(hash, leaf, { ...proof, index: MAX_LEAF_COUNT - 2 })).toBe(false)
  })

  it('reject bad indices at proving time', () => {
    const tree = MerkleTree.from(makeLeaves(4))
    expect(() => tree.proof(4)).toThrow(RangeError)
    expect(() => tree.proof(-1)).toThrow(RangeError)
    expect(() => tree.proof(1.5)).toThrow(TypeError)
    expect(() => MerkleTree.from([]).proof(0)).toThrow(RangeError)
  })
})

const treeWithIndices = fc
  .integer({ min: 1, max: 150 })
  .chain((n) =>
    fc.tuple(
      fc.constant(n),
      fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: n }),
    ),
  )

function leavesFor(leaves: readonly Uint8Array[], proof: MerkleMultiProof): Uint8Array[] {
  return proof.indices.map((i) => leaves[i]!)
}

describe('multiproofs', () => {
  it('verify for random index sets and fail when any part is tampered', () => {
    fc.assert(
      fc.property(treeWithIndices, fc.nat(), ([n, indices], pick) => {
        const leaves = makeLeaves(n, 7)
        const tree = MerkleTree.from(leaves)
        const root = tree.root
        const proof = tree.multiProof(indices)
        expect(proof.indices).toEqual([...indices].sort((a, b) => a - b))
        expect(proof).toEqual(merkleMultiProof(leaves, indices))
        const proven = leavesFor(leaves, proof)
        expect(verifyMultiProof(root, proven, proof)).toBe(true)

        if (proof.hashes.length > 0) {
          const h = pick % proof.hashes.length
          const hashes = proof.hashes.slice()
          hashes[h] = flipByte(hashes[h]!, pick % 32)
          expect(verifyMultiProof(root, proven, { ...proof, hashes })).toBe(false)
          const fewer = { ...proof, hashes: proof.hashes.filter((_, i) => i !== h) }
          expect(verifyMultiProof(root, proven, fewer)).toBe(false)
        }
        const more = { ...proof, hashes: [...proof.hashes, root] }
        expect(verifyMultiProof(root, proven, more)).toBe(false)

        const l = pick % proven.length
        const changedLeaves = proven.slice()
        changedLeaves[l] = utf8('forged')
        expect(verifyMultiProof(root, changedLeaves, proof)).toBe(false)
        expect(verifyMultiProof(flipByte(root, 0), proven, proof)).toBe(false)

        // Move one index to a position not in the set.
        const unused = [...Array(n).keys()].filter((i) => !proof.indices.includes(i))
        if (unused.length > 0) {
          const moved = proof.indices.slice()
          moved[l] = unused[pick % unused.length]!
          const order = moved.map((index, k) => ({ index, leaf: proven[k]! }))
          order.sort((a, b) => a.index - b.index)
          const forged = { ...proof, indices: order.map((o) => o.index) }
          expect(
            verifyMultiProof(
              root,
              order.map((o) => o.leaf),
              forged,
            ),
          ).toBe(false)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('proves every leaf of small trees at once and single leaves like a proof', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = makeLeaves(n)
      const tree = MerkleTree.from(leaves)
      const all = tree.multiProof([...Array(n).keys()])
      expect(all.hashes).toEqual([])
      expect(verifyMultiProof(tree.root, leaves, all)).toBe(true)
      for (let index = 0; index < n; index++) {
        const single = tree.multiProof([index])
        expect(single.hashes).toEqual(tree.proof(index).siblings)
        expect(verifyMultiProof(tree.root, [leaves[index]!], single)).toBe(true)
      }
    }
  })

  it('sorts and deduplicates the requested indices', () => {
    const leaves = makeLeaves(10)
    const proof = merkleMultiProof(leaves, [7, 2, 7, 0])
    expect(proof.indices).toEqual([0, 2, 7])
    expect(verifyMultiProof(merkleRoot(leaves), leavesFor(leaves, proof), proof)).toBe(true)
  })

  it('return false for malformed proofs instead of throwing', () => {
    const leaves = makeLeaves(9)
    const tree = MerkleTree.from(leaves)
    const proof = tree.multiProof([1, 4, 8])
    const proven = leavesFor(leaves, proof)
    const bad: unknown[] = [
      null,
      { ...proof, leafCount: 0 },
      { ...proof, leafCount: 8 },
      { ...proof, leafCount: MAX_LEAF_COUNT + 1 },
      { ...proof, leafCount: 9.5 },
      { ...proof, indices: [4, 1, 8] },
      { ...proof, indices: [1, 1, 8] },
      { ...proof, indices: [1, 4, 9] },
      { ...proof, indices: [1, 4, -8] },
      { ...proof, indices: [1, 4, '8'] },
      { ...proof, indices: 'x' },
      { ...proof, indices: [] },
      { ...proof, hashes: 'x' },
      { ...proof, hashes: proof.hashes.map((h) => h.subarray(1)) },
      { ...proof, hashes: Array.from({ length: 200 }, () => new Uint8Array(32)) },
    ]
    for (const p of bad) {
      expect(verifyMultiProof(tree.root, proven, p as MerkleMultiProof)).toBe(false)
    }
    expect(verifyMultiProof(tree.root, proven.slice(1), proof)).toBe(false)
    expect(verifyMultiProof(tree.root, [], { ...proof, indices: [] })).toBe(false)
    expect(() => verifyMultiProof(tree.root, ['x'] as unknown as Uint8Array[], proof)).toThrow(
      TypeError,
    )
  })

  it('reject bad indices at proving time', () => {
    const tree = MerkleTree.from(makeLeaves(4))
    expect(() => tree.multiProof([])).toThrow(RangeError)
    expect(() => tree.multiProof([0, 4])).toThrow(RangeError)
    expect(() => tree.multiProof([0.5])).toThrow(TypeError)
    expect(() => tree.multiProof('0' as unknown as number[])).toThrow(TypeError)
  })
})
