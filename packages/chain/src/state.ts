/**
 * Chain state: a key-value map with a BLAKE3 Merkle root that is updated incrementally, and the
 * account records kept in it.
 *
 * The tree has a fixed shape: each key goes to one of 2^16 buckets by the first 16 bits of its
 * BLAKE3 leaf hash (`leafHash(key)`); a bucket's hash is the Merkle root (`@metanode/crypto/merkle`) of its entries'
 * leaf hashes in key order, and the state root is the Merkle root of the 2^16 bucket hashes (an
 * empty bucket hashes to `emptyMerkleRoot()`). Updating a block's keys rehashes only the touched
 * buckets and their 16-node paths, so the cost grows with the keys changed, not the keys held.
 */
import { decode, encode } from '@metanode/core'
import { emptyMerkleRoot, leafHash, nodeHash } from '@metanode/crypto/merkle'
import { compareBytes, hexKey } from './bytes.js'

/** log2 of the number of buckets of the state tree. Part of the state root's definition. */
export const STATE_BUCKET_BITS = 16
const BUCKETS = 1 << STATE_BUCKET_BITS

interface TreeEntry {
  readonly key: Uint8Array
  readonly value: Uint8Array
  readonly leaf: Uint8Array
}

/** One write of a state update: `value` undefined deletes the key. */
export interface StateWrite {
  /** The key. */
  key: Uint8Array
  /** The new value, or `undefined` to delete. */
  value: Uint8Array | undefined
}

interface ComputedUpdate {
  root: Uint8Array
  buckets: Map<number, TreeEntry[]>
  levels: Map<number, Uint8Array>[]
  sizeDelta: number
}

/** A computed but not yet applied update of a {@link StateTree}. */
export interface PreparedStateUpdate {
  /** The state root after the update. */
  readonly root: Uint8Array
  /** The writes, in the order given (a later write to a key wins). */
  readonly writes: readonly StateWrite[]
}

function bucketOf(key: Uint8Array): number {
  // The Merkle leaf hash runs on the in-process BLAKE3 compressor: for short keys it is several
  // times faster than a call into the native binding.
  const digest = leafHash(key)
  return (((digest[0] as number) << 8) | (digest[1] as number)) >>> (16 - STATE_BUCKET_BITS)
}

function entryLeaf(key: Uint8Array, value: Uint8Array): Uint8Array {
  // The key length prefix keeps (key, value) splits of the same bytes apart.
  const bytes = new Uint8Array(4 + key.length + value.length)
  new DataView(bytes.buffer).setUint32(0, key.length)
  bytes.set(key, 4)
  bytes.set(value, 4 + key.length)
  return leafHash(bytes)
}

function foldHashes(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyMerkleRoot()
  let level = hashes
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1]
      next.push(
        right === undefined ? (level[i] as Uint8Array) : nodeHash(level[i] as Uint8Array, right),
      )
    }
    level = next
  }
  return level[0] as Uint8Array
}

function findIndex(
  bucket: readonly TreeEntry[],
  key: Uint8Array,
): { index: number; found: boolean } {
  let low = 0
  let high = bucket.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const order = compareBytes((bucket[middle] as TreeEntry).key, key)
    if (order === 0) return { index: middle, found: true }
    if (order < 0) low = middle + 1
    else high = middle
  }
  return { index: low, found: false }
}

const EMPTY_LEVELS: Uint8Array[] = (() => {
  const levels = [emptyMerkleRoot()]
  for (let level = 1; level <= STATE_BUCKET_BITS; level++) {
    const below = levels[level - 1] as Uint8Array
    levels.push(nodeHash(below, below))
  }
  return levels
})()

/**
 * The state map with its incrementally maintained root. Reads see the last applied update;
 * {@link StateTree.prepare} computes the root of a set of writes without applying them, so a
 * proposal can be checked and later applied without rehashing twice.
 */
export class StateTree {
  #buckets: (TreeEntry[] | undefined)[] = new Array(BUCKETS)
  // levels[0] holds bucket hashes; levels[STATE_BUCKET_BITS][0] is the root.
  #levels: Uint8Array[][] = EMPTY_LEVELS.map((hash, level) =>
    new Array<Uint8Array>(BUCKETS >>> level).fill(hash),
  )
  #size = 0
  #version = 0
  // Hashing done by prepare, reused by apply; weak so dropped proposals cost nothing.
  readonly #computed = new WeakMap<object, ComputedUpdate>()

  /** Number of keys held. */
  get size(): number {
    return this.#size
  }

  /** Counts applied updates; a prepared update applies only at the version it was prepared at. */
  get version(): number {
    return this.#version
  }

  /** The current state root (32 bytes). */
  get root(): Uint8Array {
    return this.#levels[STATE_BUCKET_BITS]?.[0] as Uint8Array
  }

  /** The value under `key`, or `undefined`. */
  get(key: Uint8Array): Uint8Array | undefined {
    const bucket = this.#buckets[bucketOf(key)]
    if (bucket === undefined) return undefined
    const { index, found } = findIndex(bucket, key)
    return found ? (bucket[index] as TreeEntry).value : undefined
  }

  /** Every entry, in bucket order then key order (not globally sorted). */
  *entries(): IterableIterator<{ key: Uint8Array; value: Uint8Array }> {
    for (const bucket of this.#buckets) {
      if (bucket === undefined) continue
      for (const { key, value } of bucket) yield { key, value }
    }
  }

  /** Computes the root after `writes` (later writes to a key win) without changing the tree. */
  prepare(writes: Iterable<StateWrite>): PreparedStateUpdate & { readonly version: number } {
    const list = [...writes]
    const computed = this.#compute(list)
    const update = { root: computed.root, writes: list, version: this.#version }
    this.#computed.set(update, computed)
    return update
  }

  /**
   * Applies writes (from {@link StateTree.prepare}, without hashing again, or given directly)
   * and returns the new root.
   *
   * @throws RangeError when a prepared update is stale (the tree changed since it was prepared).
   */
  apply(
    update: Iterable<StateWrite> | (PreparedStateUpdate & { readonly version: number }),
  ): Uint8Array {
    const prepared = Symbol.iterator in update ? this.prepare(update) : update
    if (prepared.version !== this.#version) throw new RangeError('stale state update')
    const computed = this.#computed.get(prepared) ?? this.#compute(prepared.writes)
    const { buckets, levels, sizeDelta } = computed
    for (const [index, bucket] of buckets) {
      this.#buckets[index] = bucket.length === 0 ? undefined : bucket
    }
    for (let level = 0; level <= STATE_BUCKET_BITS; level++) {
      const target = this.#levels[level] as Uint8Array[]
      for (const [index, hash] of levels[level] as Map<number, Uint8Array>) target[index] = hash
    }
    this.#size += sizeDelta
    this.#version++
    return this.root
  }

  #compute(writes: readonly StateWrite[]): ComputedUpdate {
    const buckets = new Map<number, TreeEntry[]>()
    let sizeDelta = 0
    for (const { key, value } of writes) {
      const index = bucketOf(key)
      let bucket = buckets.get(index)
      if (bucket === undefined) {
        bucket = this.#buckets[index]?.slice() ?? []
        buckets.set(index, bucket)
      }
      const { index: position, found } = findIndex(bucket, key)
      if (value === undefined) {
        if (found) {
          bucket.splice(position, 1)
          sizeDelta--
        }
      } else {
        const entry = { key, value, leaf: entryLeaf(key, value) }
        if (found) bucket[position] = entry
        else {
          bucket.splice(position, 0, entry)
          sizeDelta++
        }
      }
    }
    const levels: Map<number, Uint8Array>[] = [new Map()]
    for (const [index, bucket] of buckets) {
      ;(levels[0] as Map<number, Uint8Array>).set(index, foldHashes(bucket.map((e) => e.leaf)))
    }
    for (let level = 1; level <= STATE_BUCKET_BITS; level++) {
      const below = levels[level - 1] as Map<number, Uint8Array>
      const current = new Map<number, Uint8Array>()
      const stored = this.#levels[level - 1] as Uint8Array[]
      for (const childIndex of below.keys()) {
        const parent = childIndex >>> 1
        if (current.has(parent)) continue
        const left = below.get(parent * 2) ?? (stored[parent * 2] as Uint8Array)
        const right = below.get(parent * 2 + 1) ?? (stored[parent * 2 + 1] as Uint8Array)
        current.set(parent, nodeHash(left, right))
      }
      levels.push(current)
    }
    const root = levels[STATE_BUCKET_BITS]?.get(0) ?? this.root
    return { root, buckets, levels, sizeDelta }
  }
}

/** An account: spendable balance, next nonce and bonded stake. */
export interface Account {
  /** Spendable balance. */
  balance: bigint
  /** The nonce its next transaction must carry. */
  nonce: number
  /** Bonded stake (counts as voting power when the account is an active validator). */
  stake: bigint
}

/** State key prefixes: one byte each, so the kinds of record never collide. */
export const STATE_PREFIX = {
  /** `0x01 ‖ public key` → {@link Account}. */
  account: 0x01,
  /** `0x02 ‖ validator id` → validator record. */
  validator: 0x02,
  /** `0x03` → the registry's validator ids. */
  validatorIds: 0x03,
  /** `0x04` → the active validator set. */
  activeSet: 0x04,
  /** `0x05 ‖ u64be height ‖ validator` → an inclusion list. */
  inclusionList: 0x05,
  /** `0x06 ‖ u8 route length ‖ route ‖ key` → application state. */
  app: 0x06,
  /** `0x07 ‖ validator ‖ u64be height ‖ u32be round ‖ kind` → counted slashing evidence. */
  evidence: 0x07,
  /** `0x08 ‖ validator id` → the current epoch's performance counters. */
  performance: 0x08,
  /** `0x09 ‖ validator ‖ delegator` → stake delegated. */
  delegation: 0x09,
  /** `0x0a ‖ validator` → the validator's delegators. */
  delegators: 0x0a,
  /** `0x0b ‖ u64be release height` → coins unbonding until then. */
  unbonding: 0x0b,
  /**
   * `0x0c ‖ u64be offence height` → the counted-evidence keys of that height, dropped (with the
   * keys) once evidence of that height has expired.
   */
  evidenceByHeight: 0x0c,
} as const

/** The state key of the account `publicKey`. */
export function accountKey(publicKey: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + publicKey.length)
  key[0] = STATE_PREFIX.account
  key.set(publicKey, 1)
  return key
}

/** The stored form of an account: DAG-CBOR `[balance, nonce, stake]`. */
export function encodeAccount(account: Account): Uint8Array {
  const { balance, nonce, stake } = account
  // Accounts are read and written for every transaction: encode the three unsigned integers
  // directly (the bytes equal the generic codec's, which the tests check), falling back to
  // the codec for anything else so it reports out-of-range values.
  if (balance < 0n || stake < 0n || balance > MAX_INT || stake > MAX_INT || nonce < 0) {
    return encode([balance, nonce, stake])
  }
  const out = new Uint8Array(1 + 3 * 9)
  out[0] = 0x83
  let at = writeUint(out, 1, balance)
  at = writeUint(out, at, BigInt(nonce))
  at = writeUint(out, at, stake)
  return out.subarray(0, at)
}

/** Reads an account written by {@link encodeAccount}. */
export function decodeAccount(bytes: Uint8Array): Account {
  if (bytes[0] === 0x83) {
    const balance = readUint(bytes, 1)
    const nonce = balance && readUint(bytes, balance.next)
    const stake = nonce && readUint(bytes, nonce.next)
    if (stake && stake.next === bytes.length && nonce.value <= MAX_SAFE) {
      return { balance: balance.value, nonce: Number(nonce.value), stake: stake.value }
    }
  }
  const [balance, nonce, stake] = decode(bytes) as [number | bigint, number, number | bigint]
  return { balance: BigInt(balance), nonce, stake: BigInt(stake) }
}

const MAX_INT = 2n ** 63n - 1n // the codec refuses larger integers
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Writes a CBOR unsigned integer in its shortest form at `at`; returns the next offset. */
function writeUint(out: Uint8Array, at: number, value: bigint): number {
  if (value < 24n) {
    out[at] = Number(value)
    return at + 1
  }
  const width = value < 0x100n ? 1 : value < 0x10000n ? 2 : value < 0x100000000n ? 4 : 8
  out[at] = width === 1 ? 24 : width === 2 ? 25 : width === 4 ? 26 : 27
  for (let i = width; i >= 1; i--) {
    out[at + i] = Number(value & 0xffn)
    value >>= 8n
  }
  return at + 1 + width
}

/**
 * Reads a shortest-form CBOR unsigned integer at `at`; `undefined` for anything else (the caller
 * then lets the generic decoder accept or refuse the bytes).
 */
function readUint(bytes: Uint8Array, at: number): { value: bigint; next: number } | undefined {
  const head = bytes[at]
  if (head === undefined || head > 27) return undefined
  if (head < 24) return { value: BigInt(head), next: at + 1 }
  const width = head === 24 ? 1 : head === 25 ? 2 : head === 26 ? 4 : 8
  if (at + 1 + width > bytes.length) return undefined
  let value = 0n
  for (let i = 1; i <= width; i++) value = (value << 8n) | BigInt(bytes[at + i] as number)
  const minimum = width === 1 ? 24n : width === 2 ? 0x100n : width === 4 ? 0x10000n : 0x100000000n
  return value < minimum || value > MAX_INT ? undefined : { value, next: at + 1 + width }
}

/** An account with nothing in it. */
export const EMPTY_ACCOUNT: Readonly<Account> = Object.freeze({ balance: 0n, nonce: 0, stake: 0n })

/**
 * Pending writes over a {@link StateTree}, with checkpoints so a failed transaction's effects can
 * be undone while its fee and nonce stay charged.
 */
export class StateOverlay {
  readonly #base: StateTree
  readonly #writes = new Map<string, StateWrite>()
  readonly #journal: { hex: string; previous: StateWrite | undefined }[] = []

  /** An empty overlay over `base`. */
  constructor(base: StateTree) {
    this.#base = base
  }

  /** The value under `key`, pending writes included. */
  get(key: Uint8Array): Uint8Array | undefined {
    const write = this.#writes.get(hexKey(key))
    return write === undefined ? this.#base.get(key) : write.value
  }

  /** Writes `value` under `key` (`undefined` deletes). */
  set(key: Uint8Array, value: Uint8Array | undefined): void {
    const hex = hexKey(key)
    this.#journal.push({ hex, previous: this.#writes.get(hex) })
    this.#writes.set(hex, { key, value })
  }

  /** A mark to {@link StateOverlay.revert} to. */
  checkpoint(): number {
    return this.#journal.length
  }

  /** Undoes every write made after `mark`. */
  revert(mark: number): void {
    while (this.#journal.length > mark) {
      const { hex, previous } = this.#journal.pop() as {
        hex: string
        previous: StateWrite | undefined
      }
      if (previous === undefined) this.#writes.delete(hex)
      else this.#writes.set(hex, previous)
    }
  }

  /** The account `publicKey` (an empty one when absent). */
  account(publicKey: Uint8Array): Account {
    const bytes = this.get(accountKey(publicKey))
    return bytes === undefined ? { ...EMPTY_ACCOUNT } : decodeAccount(bytes)
  }

  /** Stores `account` (deleting it when it is empty, so empty accounts do not bloat the state). */
  setAccount(publicKey: Uint8Array, account: Account): void {
    const empty = account.balance === 0n && account.nonce === 0 && account.stake === 0n
    this.set(accountKey(publicKey), empty ? undefined : encodeAccount(account))
  }

  /** The pending writes. */
  writes(): StateWrite[] {
    return [...this.#writes.values()]
  }
}
