/**
 * Binary BLAKE3 Merkle trees with inclusion proofs and multiproofs.
 *
 * Leaves and inner nodes are hashed under different BLAKE3 keys, so a leaf can never be passed off
 * as an inner node (second-preimage safety). Levels are built left to right in pairs; a lone last
 * node is carried up unchanged rather than duplicated, so no two leaf lists share a root (the
 * CVE-2012-2459 mutation). The shape equals RFC 6962's split at the largest power of two below
 * the leaf count. Proofs are plain data, ready for DAG-CBOR.
 *
 * @example
 * ```ts
 * import { MerkleTree, merkleRoot, verifyMultiProof, verifyProof } from '@metanode/crypto/merkle'
 *
 * const leaves = ['a', 'b', 'c'].map((s) => new TextEncoder().encode(s))
 * const tree = MerkleTree.from(leaves)
 * tree.root // equals merkleRoot(leaves)
 * const proof = tree.proof(2) // { leafCount: 3, index: 2, siblings: [...] }
 * verifyProof(tree.root, leaves[2]!, proof) // true
 * const multi = tree.multiProof([0, 2])
 * verifyMultiProof(tree.root, [leaves[0]!, leaves[2]!], multi) // true
 * ```
 *
 * @module
 */
import {
  BLOCK_LEN,
  CHUNK_LEN,
  compress,
  FLAGS,
  hashChunkInto,
  keyToWords,
  wordsToBytes,
} from './blake3-compress.js'
import { blake3 } from './hash.js'
import { abytes, abytesArray, aint, equalBytes, utf8 } from './utils.js'

/** An inclusion proof for one leaf: the sibling hashes from the leaf level up to the root. */
export interface MerkleProof {
  /** Number of leaves in the tree; with `index` it fixes the path's shape. */
  leafCount: number
  /** Position of the proven leaf, 0-based. */
  index: number
  /** 32-byte sibling hashes, bottom-up; levels where the node is carried up have none. */
  siblings: Uint8Array[]
}

/** A proof that several leaves are in one tree, sharing the hashes their paths have in common. */
export interface MerkleMultiProof {
  /** Number of leaves in the tree. */
  leafCount: number
  /** Positions of the proven leaves, strictly increasing. */
  indices: number[]
  /**
   * The 32-byte node hashes the verifier cannot compute itself, level by level from the leaves up,
   * left to right within a level.
   */
  hashes: Uint8Array[]
}

/** BLAKE3 derive-key context (over empty key material) of the key leaves are hashed with. */
export const MERKLE_LEAF_CONTEXT = 'metanode 2026 merkle leaf v1'
/** BLAKE3 derive-key context (over empty key material) of the key inner nodes are hashed with. */
export const MERKLE_NODE_CONTEXT = 'metanode 2026 merkle node v1'
/** BLAKE3 derive-key context (over empty key material) whose output is the empty tree's root. */
export const MERKLE_EMPTY_CONTEXT = 'metanode 2026 merkle empty v1'

/** The largest leaf count a proof may claim: 2^32. */
export const MAX_LEAF_COUNT = 2 ** 32

// A tree of 2^32 leaves is 32 levels deep, so no honest proof path is longer.
const MAX_DEPTH = 32

const deriveKey = (context: string): Uint8Array =>
  blake3(new Uint8Array(0), { context: utf8(context) })
const leafKey = deriveKey(MERKLE_LEAF_CONTEXT)
const leafKeyWords = keyToWords(leafKey)
const nodeKeyWords = keyToWords(deriveKey(MERKLE_NODE_CONTEXT))
const emptyRoot = deriveKey(MERKLE_EMPTY_CONTEXT)

const NODE_FLAGS = FLAGS.KEYED_HASH | FLAGS.CHUNK_START | FLAGS.CHUNK_END | FLAGS.ROOT

/** The root of a tree without leaves: `BLAKE3-derive_key(MERKLE_EMPTY_CONTEXT, "")`. */
export function emptyMerkleRoot(): Uint8Array {
  return emptyRoot.slice()
}

/** Writes the leaf hash of `leaf` as 8 words into `out` at `offset`. */
function leafHashInto(leaf: Uint8Array, out: Uint32Array, offset: number): void {
  if (leaf.length <= CHUNK_LEN) {
    hashChunkInto(leafKeyWords, FLAGS.KEYED_HASH, leaf, 0, leaf.length, out, offset)
  } else {
    loadWords(blake3(leaf, { key: leafKey }), out, offset)
  }
}

function loadWords(bytes: Uint8Array, out: Uint32Array, offset: number): void {
  for (let i = 0, p = 0; i < 8; i++, p += 4) {
    out[offset + i] =
      bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)
  }
}

/**
 * Hashes one level of `count` nodes (8 words each) in place into the next level: pair `i` of the
 * level becomes node `i` of the next, a lone last node moves down unchanged. Returns the new count.
 * In place is safe because node `i` is written at word `8i`, never ahead of the words `16i..16i+15`
 * being read, and `compress` reads its whole block before writing.
 */
function reduceLevel(words: Uint32Array, count: number, out: Uint32Array): number {
  const pairs = count >>> 1
  for (let i = 0; i < pairs; i++) {
    compress(nodeKeyWords, 0, words, 16 * i, BLOCK_LEN, NODE_FLAGS, out, 8 * i)
  }
  if ((count & 1) === 1) out.set(words.subarray(8 * (count - 1), 8 * count), 8 * pairs)
  return pairs + (count & 1)
}

/** The words of every leaf's hash, 8 per leaf. */
function hashLeaves(leaves: readonly Uint8Array[]): Uint32Array {
  const words = new Uint32Array(8 * leaves.length)
  for (let i = 0; i < leaves.length; i++) leafHashInto(leaves[i]!, words, 8 * i)
  return words
}

/**
 * The leaf hash of `leaf`: BLAKE3 keyed with `BLAKE3-derive_key(MERKLE_LEAF_CONTEXT, "")`.
 *
 * @throws TypeError when `leaf` is not a Uint8Array.
 */
export function leafHash(leaf: Uint8Array): Uint8Array {
  abytes(leaf, 'leaf')
  const out = new Uint32Array(8)
  leafHashInto(leaf, out, 0)
  return wordsToBytes(out, 0)
}

const nodeBlock = new Uint32Array(16)
const nodeOut = new Uint32Array(8)

function nodeHashUnchecked(left: Uint8Array, right: Uint8Array): Uint8Array {
  loadWords(left, nodeBlock, 0)
  loadWords(right, nodeBlock, 8)
  compress(nodeKeyWords, 0, nodeBlock, 0, BLOCK_LEN, NODE_FLAGS, nodeOut, 0)
  return wordsToBytes(nodeOut, 0)
}

/**
 * The hash of an inner node: BLAKE3 keyed with `BLAKE3-derive_key(MERKLE_NODE_CONTEXT, "")` of
 * `left ‖ right` (exactly one 64-byte block).
 *
 * @throws TypeError / RangeError unless both children are 32-byte Uint8Arrays.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  abytes(left, 'left', 32)
  abytes(right, 'right', 32)
  return nodeHashUnchecked(left, right)
}

/**
 * The Merkle root of `leaves` (each leaf is data and is hashed with {@link leafHash}); the root of
 * no leaves is {@link emptyMerkleRoot}, of one leaf its leaf hash.
 *
 * @throws TypeError unless `leaves` is an array of Uint8Array.
 */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  abytesArray(leaves, 'leaves')
  if (leaves.length === 0) return emptyMerkleRoot()
  const words = hashLeaves(leaves)
  let count = leaves.length
  while (count > 1) count = reduceLevel(words, count, words)
  return wordsToBytes(words, 0)
}

function checkIndex(index: number, leafCount: number): number {
  if (leafCount === 0) throw new RangeError('the tree has no leaves to prove')
  return aint(index, 'index', 0, leafCount - 1)
}

/** A Merkle tree kept in memory with every level, to hand out proofs. */
export class MerkleTree {
  /** Level 0 holds the leaf hashes, the last level the root; 8 words per node. */
  readonly #levels: Uint32Array[]
  readonly #leafCount: number

  private constructor(leafHashWords: Uint32Array, leafCount: number) {
    this.#leafCount = leafCount
    const levels = [leafHashWords]
    let current = leafHashWords
    let count = leafCount
    while (count > 1) {
      const next = new Uint32Array(8 * Math.ceil(count / 2))
      count = reduceLevel(current, count, next)
      levels.push(next)
      current = next
    }
    this.#levels = levels
  }

  /**
   * The tree over `leaves` (leaf data, hashed with {@link leafHash}).
   *
   * @throws TypeError unless `leaves` is an array of Uint8Array.
   */
  static from(leaves: readonly Uint8Array[]): MerkleTree {
    abytesArray(leaves, 'leaves')
    return new MerkleTree(hashLeaves(leaves), leaves.length)
  }

  /**
   * The tree whose leaf hashes (outputs of {@link leafHash}) are `hashes`.
   *
   * @throws TypeError / RangeError unless `hashes` is an array of 32-byte Uint8Arrays.
   */
  static fromLeafHashes(hashes: readonly Uint8Array[]): MerkleTree {
    abytesArray(hashes, 'hashes', 32)
    const words = new Uint32Array(8 * hashes.length)
    for (let i = 0; i < hashes.length; i++) loadWords(hashes[i]!, words, 8 * i)
    return new MerkleTree(words, hashes.length)
  }

  /** The number of leaves. */
  get leafCount(): number {
    return this.#leafCount
  }

  /** The 32-byte root (a fresh copy on each access); {@link merkleRoot} of the same leaves. */
  get root(): Uint8Array {
    if (this.#leafCount === 0) return emptyMerkleRoot()
    return wordsToBytes(this.#levels[this.#levels.length - 1]!, 0)
  }

  #node(level: number, position: number): Uint8Array {
    return wordsToBytes(this.#levels[level]!, 8 * position)
  }

  /**
   * The inclusion proof of the leaf at `index`.
   *
   * @throws TypeError / RangeError unless `index` is an integer in [0, leafCount).
   */
  proof(index: number): MerkleProof {
    checkIndex(index, this.#leafCount)
    const siblings: Uint8Array[] = []
    let position = index
    let count = this.#leafCount
    for (let level = 0; count > 1; level++) {
      const sibling = position % 2 === 0 ? position + 1 : position - 1
      if (sibling < count) siblings.push(this.#node(level, sibling))
      position = Math.floor(position / 2)
      count = Math.ceil(count / 2)
    }
    return { leafCount: this.#leafCount, index, siblings }
  }

  /**
   * One proof for the leaves at `indices` (any order; duplicates are dropped, and the proof lists
   * the sorted unique indices, which is the order {@link verifyMultiProof} wants the leaves in).
   *
   * @throws RangeError when `indices` is empty or holds an index outside [0, leafCount).
   * @throws TypeError when `indices` is not an array of integers.
   */
  multiProof(indices: readonly number[]): MerkleMultiProof {
    if (!Array.isArray(indices)) throw new TypeError('indices must be an array of integers')
    if (indices.length === 0) throw new RangeError('indices must not be empty')
    for (const index of indices) checkIndex(index, this.#leafCount)
    const sorted = [...new Set(indices)].sort((a, b) => a - b)
    const hashes: Uint8Array[] = []
    let known = sorted
    let count = this.#leafCount
    // Walk the levels as the verifier will, emitting each sibling it cannot compute, in the order
    // it will ask for them.
    for (let level = 0; count > 1; level++) {
      const parents: number[] = []
      for (let k = 0; k < known.length; k++) {
        const position = known[k]!
        if (position % 2 === 0) {
          if (position + 1 < count) {
            if (known[k + 1] === position + 1) k++
            else hashes.push(this.#node(level, position + 1))
          }
        } else {
          hashes.push(this.#node(level, position - 1))
        }
        parents.push(Math.floor(position / 2))
      }
      known = parents
      count = Math.ceil(count / 2)
    }
    return { leafCount: this.#leafCount, indices: sorted, hashes }
  }
}

/**
 * The inclusion proof of `leaves[index]`.
 *
 * @throws TypeError / RangeError as {@link MerkleTree.from} and {@link MerkleTree.proof}.
 */
export function merkleProof(leaves: readonly Uint8Array[], index: number): MerkleProof {
  return MerkleTree.from(leaves).proof(index)
}

/**
 * One proof for the leaves at `indices`.
 *
 * @throws TypeError / RangeError as {@link MerkleTree.from} and {@link MerkleTree.multiProof}.
 */
export function merkleMultiProof(
  leaves: readonly Uint8Array[],
  indices: readonly number[],
): MerkleMultiProof {
  return MerkleTree.from(leaves).multiProof(indices)
}

const isHash = (value: unknown): value is Uint8Array =>
  value instanceof Uint8Array && value.length === 32

const isCount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_LEAF_COUNT

/**
 * Whether `proof` shows that `leaf` (data) is in the tree with root `root`. Returns `false`, never
 * throws, for any proof that does not check out, including malformed ones (wrong counts or
 * indices, missing, extra or non-32-byte hashes), as proofs arrive from untrusted peers.
 *
 * @throws TypeError when `root` or `leaf` is not a Uint8Array.
 */
export function verifyProof(root: Uint8Array, leaf: Uint8Array, proof: MerkleProof): boolean {
  abytes(root, 'root')
  abytes(leaf, 'leaf')
  if (typeof proof !== 'object' || proof === null || root.length !== 32) return false
  const { leafCount, index, siblings } = proof
  if (!isCount(leafCount) || !Number.isSafeInteger(index) || index < 0 || index >= leafCount) {
    return false
  }
  if (!Array.isArray(siblings) || siblings.length > MAX_DEPTH) return false
  let hash = leafHash(leaf)
  let position = index
  let count = leafCount
  let used = 0
  for (; count > 1; count = Math.ceil(count / 2), position = Math.floor(position / 2)) {
    const isRight = position % 2 === 1
    if (!isRight && position + 1 >= count) continue // carried up unchanged
    const sibling: unknown = siblings[used++]
    if (!isHash(sibling)) return false
    hash = isRight ? nodeHashUnchecked(sibling, hash) : nodeHashUnchecked(hash, sibling)
  }
  return used === siblings.length && equalBytes(hash, root)
}

/**
 * Whether `proof` shows that `leaves` (data, in the order of `proof.indices`) are in the tree with
 * root `root`. Returns `false`, never throws, for any proof that does not check out, including
 * malformed ones (indices unsorted, repeated or out of range, a leaf count that does not match,
 * missing, extra or non-32-byte hashes).
 *
 * @throws TypeError when `root` is not a Uint8Array or `leaves` not an array of Uint8Array.
 */
export function verifyMultiProof(
  root: Uint8Array,
  leaves: readonly Uint8Array[],
  proof: MerkleMultiProof,
): boolean {
  abytes(root, 'root')
  abytesArray(leaves, 'leaves')
  if (typeof proof !== 'object' || proof === null || root.length !== 32) return false
  const { leafCount, indices, hashes } = proof
  if (!isCount(leafCount) || !Array.isArray(indices) || !Array.isArray(hashes)) return false
  if (indices.length === 0 || indices.length !== leaves.length || indices.length > leafCount) {
    return false
  }
  // Each proven leaf needs at most one hash per level.
  if (hashes.length > indices.length * MAX_DEPTH) return false
  let previous = -1
  for (const index of indices as unknown[]) {
    if (!Number.isSafeInteger(index) || (index as number) <= previous) return false
    previous = index as number
  }
  if (previous >= leafCount) return false

  let positions = indices.slice()
  let nodes = leaves.map(leafHash)
  let used = 0
  const next = (): Uint8Array | undefined => {
    const hash: unknown = hashes[used++]
    return isHash(hash) ? hash : undefined
  }
  for (let count = leafCount; count > 1; count = Math.ceil(count / 2)) {
    const parentPositions: number[] = []
    const parents: Uint8Array[] = []
    for (let k = 0; k < positions.length; k++) {
      const position = positions[k]!
      let node = nodes[k]!
      if (position % 2 === 0) {
        if (position + 1 < count) {
          let right: Uint8Array | undefined
          if (positions[k + 1] === position + 1) right = nodes[++k]
          else right = next()
          if (right === undefined) return false
          node = nodeHashUnchecked(node, right)
        }
      } else {
        const left = next()
        if (left === undefined) return false
        node = nodeHashUnchecked(left, node)
      }
      parentPositions.push(Math.floor(position / 2))
      parents.push(node)
    }
    positions = parentPositions
    nodes = parents
  }
  return used === hashes.length && nodes.length === 1 && equalBytes(nodes[0]!, root)
}
