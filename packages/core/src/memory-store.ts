/**
 * The in-memory {@link Store}: the reference implementation of the store contract and the test
 * double for code that persists through a store.
 *
 * Entries live in a sorted list of sorted chunks of at most 512 entries (a one-level B+-tree):
 * a lookup is two binary searches, O(log n); an insert or delete shifts at most one chunk and,
 * when a chunk splits or empties, the list of chunks, O(log n + n / 256). A flat sorted array
 * would shift half the store on every insert, which at 1e5 keys costs ~40 µs a put.
 *
 * Iteration reads a snapshot: an iterator pins the chunk list it started on, and the next write
 * copies the list and any chunk it changes instead of mutating them (copy-on-write), so writes
 * during a scan never show up in it and a scan costs nothing up front.
 */
import { compareBytes } from './bytes-order.js'
import { StoreClosedError } from './errors.js'
import {
  assertBatch,
  assertRangeOptions,
  assertStoreKey,
  assertStoreValue,
  type BatchOperation,
  copyRangeOptions,
  type RangeOptions,
  type Store,
  type StoreEntry,
  type StoreStatus,
} from './store.js'

interface Entry {
  readonly key: Uint8Array
  readonly value: Uint8Array
}

type Chunk = Entry[]

/** A chunk longer than this splits in two. */
const MAX_CHUNK_LENGTH = 512

/** Position of an entry: chunk index and index within the chunk. */
interface Cursor {
  chunk: number
  entry: number
}

/** Index of the first entry of `chunk` whose key is >= `key` (> `key` when `exclusive`). */
function searchChunk(chunk: readonly Entry[], key: Uint8Array, exclusive: boolean): number {
  let low = 0
  let high = chunk.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const order = compareBytes(chunk[middle]!.key, key)
    if (order < 0 || (exclusive && order === 0)) low = middle + 1
    else high = middle
  }
  return low
}

/** Index of the first chunk whose last key is >= `key` (> `key` when `exclusive`), or `chunks.length`. */
function searchChunks(chunks: readonly Chunk[], key: Uint8Array, exclusive: boolean): number {
  let low = 0
  let high = chunks.length
  while (low < high) {
    const middle = (low + high) >>> 1
    const chunk = chunks[middle]!
    const order = compareBytes(chunk[chunk.length - 1]!.key, key)
    if (order < 0 || (exclusive && order === 0)) low = middle + 1
    else high = middle
  }
  return low
}

/** Cursor at the first entry whose key is >= `key` (> `key` when `exclusive`); past the end if none. */
function seek(chunks: readonly Chunk[], key: Uint8Array, exclusive: boolean): Cursor {
  const chunk = searchChunks(chunks, key, exclusive)
  if (chunk === chunks.length) return { chunk, entry: 0 }
  return { chunk, entry: searchChunk(chunks[chunk]!, key, exclusive) }
}

function compareCursors(a: Cursor, b: Cursor): number {
  return a.chunk - b.chunk || a.entry - b.entry
}

function isAboveLower(key: Uint8Array, range: RangeOptions): boolean {
  if (range.gt !== undefined && compareBytes(key, range.gt) <= 0) return false
  return range.gte === undefined || compareBytes(key, range.gte) >= 0
}

function isBelowUpper(key: Uint8Array, range: RangeOptions): boolean {
  if (range.lt !== undefined && compareBytes(key, range.lt) >= 0) return false
  return range.lte === undefined || compareBytes(key, range.lte) <= 0
}

/** Cursor at the first entry within the lower bounds of `range`. */
function firstInRange(chunks: readonly Chunk[], range: RangeOptions): Cursor {
  let start: Cursor = { chunk: 0, entry: 0 }
  if (range.gte !== undefined) start = seek(chunks, range.gte, false)
  if (range.gt !== undefined) {
    const after = seek(chunks, range.gt, true)
    if (compareCursors(after, start) > 0) start = after
  }
  return start
}

/** Cursor just past the last entry within the upper bounds of `range`. */
function endOfRange(chunks: readonly Chunk[], range: RangeOptions): Cursor {
  let end: Cursor = { chunk: chunks.length, entry: 0 }
  if (range.lt !== undefined) end = seek(chunks, range.lt, false)
  if (range.lte !== undefined) {
    const after = seek(chunks, range.lte, true)
    if (compareCursors(after, end) < 0) end = after
  }
  return end
}

/**
 * An ordered binary key-value store held in memory. Data survives `close()` and `open()` of the
 * same instance (like a database file would) and is lost with the instance.
 *
 * @example
 * ```ts
 * const store = new MemoryStore()
 * await store.open()
 * await store.put(Uint8Array.of(1), Uint8Array.of(42))
 * await store.get(Uint8Array.of(1)) // Uint8Array [42]
 * ```
 */
export class MemoryStore implements Store {
  #status: StoreStatus = 'closed'
  // Bumped on every open, so an iterator started before a close/open cycle knows it is stale.
  #generation = 0
  #chunks: Chunk[] = []
  #size = 0
  // How many live iterators read `#chunks` as their snapshot; while > 0 a write copies the list.
  #pins = 0
  // Chunks created since the last snapshot was taken: only these may be changed in place.
  #owned = new WeakSet<Chunk>()

  /** The current lifecycle state. */
  get status(): StoreStatus {
    return this.#status
  }

  /** Number of entries held (readable even while closed). */
  get size(): number {
    return this.#size
  }

  /** Opens the store. Opening an open store is a no-op. */
  async open(): Promise<void> {
    if (this.#status === 'open') return
    this.#generation++
    this.#status = 'open'
  }

  /** Closes the store, keeping its data for the next `open()`. Closing a closed store is a no-op. */
  async close(): Promise<void> {
    this.#status = 'closed'
  }

  /** The value under `key` (a copy), or `undefined`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.#assertOpen('get')
    assertStoreKey(key)
    return this.#find(key)?.value.slice()
  }

  /** Whether `key` is present. */
  async has(key: Uint8Array): Promise<boolean> {
    this.#assertOpen('has')
    assertStoreKey(key)
    return this.#find(key) !== undefined
  }

  /** Writes a copy of `value` under a copy of `key`, replacing any previous value. */
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.#assertOpen('put')
    assertStoreKey(key)
    assertStoreValue(value)
    this.#unshare()
    this.#put(key, value)
  }

  /** Removes `key`; removing an absent key is not an error. */
  async del(key: Uint8Array): Promise<void> {
    this.#assertOpen('del')
    assertStoreKey(key)
    this.#unshare()
    this.#del(key)
  }

  /**
   * Checks every operation, then applies them in order in one synchronous step: an invalid
   * operation anywhere rejects the batch before anything is written.
   */
  async batch(operations: readonly BatchOperation[]): Promise<void> {
    this.#assertOpen('batch')
    assertBatch(operations)
    if (operations.length === 0) return
    this.#unshare()
    for (const operation of operations) {
      if (operation.type === 'put') this.#put(operation.key, operation.value)
      else this.#del(operation.key)
    }
  }

  /**
   * Entries (copies) within the bounds of `options`, in key order. The snapshot is taken at the
   * first `next()`; closing the store ends the scan with `StoreClosedError`.
   */
  iterate(options?: RangeOptions): AsyncIterable<StoreEntry> {
    const captured = copyRangeOptions(options)
    return { [Symbol.asyncIterator]: () => this.#scan(captured) }
  }

  async *#scan(options: unknown): AsyncGenerator<StoreEntry, void, undefined> {
    this.#assertOpen('iterate')
    assertRangeOptions(options)
    const range = options ?? {}
    const generation = this.#generation
    const chunks = this.#chunks
    this.#pins++
    // every chunk now belongs to this snapshot too
    this.#owned = new WeakSet()
    try {
      const limit = range.limit ?? Number.POSITIVE_INFINITY
      const reverse = range.reverse === true
      const cursor = reverse ? endOfRange(chunks, range) : firstInRange(chunks, range)
      if (reverse) this.#stepBack(chunks, cursor)
      for (let taken = 0; taken < limit; taken++) {
        const entry = chunks[cursor.chunk]?.[cursor.entry]
        if (entry === undefined) return
        if (reverse ? !isAboveLower(entry.key, range) : !isBelowUpper(entry.key, range)) return
        // the consumer runs between two entries: the store may have been closed (and even
        // reopened) meanwhile, and a scan must not outlive the session it started in
        if (this.#generation !== generation) this.#throwClosed('iterate')
        this.#assertOpen('iterate')
        yield { key: entry.key.slice(), value: entry.value.slice() }
        if (reverse) this.#stepBack(chunks, cursor)
        else if (++cursor.entry >= chunks[cursor.chunk]!.length) {
          cursor.chunk++
          cursor.entry = 0
        }
      }
    } finally {
      if (chunks === this.#chunks) this.#pins--
    }
  }

  /** Moves `cursor` to the previous entry; before the first one it points at chunk -1. */
  #stepBack(chunks: readonly Chunk[], cursor: Cursor): void {
    cursor.entry--
    while (cursor.entry < 0 && cursor.chunk > 0) {
      cursor.chunk--
      cursor.entry = chunks[cursor.chunk]!.length - 1
    }
    if (cursor.entry < 0) cursor.chunk = -1
  }

  #assertOpen(operation: string): void {
    if (this.#status !== 'open') this.#throwClosed(operation)
  }

  #throwClosed(operation: string): never {
    throw new StoreClosedError('store is not open', {
      details: { operation, status: this.#status },
    })
  }

  #find(key: Uint8Array): Entry | undefined {
    const chunk = this.#chunks[searchChunks(this.#chunks, key, false)]
    if (chunk === undefined) return undefined
    const entry = chunk[searchChunk(chunk, key, false)]
    return entry !== undefined && compareBytes(entry.key, key) === 0 ? entry : undefined
  }

  /** Gives the chunk list back to the writer when a snapshot still reads it. */
  #unshare(): void {
    if (this.#pins > 0) {
      this.#chunks = this.#chunks.slice()
      this.#pins = 0
    }
  }

  /** The chunk at `index`, copied first if a snapshot may read it. */
  #writableChunk(index: number): Chunk {
    const chunk = this.#chunks[index]!
    if (this.#owned.has(chunk)) return chunk
    const copy = chunk.slice()
    this.#chunks[index] = copy
    this.#owned.add(copy)
    return copy
  }

  #put(key: Uint8Array, value: Uint8Array): void {
    // entries are never mutated in place: a pinned snapshot may share them
    const entry: Entry = { key: key.slice(), value: value.slice() }
    if (this.#chunks.length === 0) {
      const chunk = [entry]
      this.#owned.add(chunk)
      this.#chunks.push(chunk)
      this.#size++
      return
    }
    // a key beyond every chunk's last key extends the last chunk
    const index = Math.min(searchChunks(this.#chunks, key, false), this.#chunks.length - 1)
    const chunk = this.#writableChunk(index)
    const position = searchChunk(chunk, key, false)
    const existing = chunk[position]
    if (existing !== undefined && compareBytes(existing.key, key) === 0) {
      chunk[position] = entry
      return
    }
    chunk.splice(position, 0, entry)
    this.#size++
    if (chunk.length > MAX_CHUNK_LENGTH) {
      const upper = chunk.splice(chunk.length >>> 1)
      this.#owned.add(upper)
      this.#chunks.splice(index + 1, 0, upper)
    }
  }

  #del(key: Uint8Array): void {
    const index = searchChunks(this.#chunks, key, false)
    const chunk = this.#chunks[index]
    if (chunk === undefined) return
    const position = searchChunk(chunk, key, false)
    const existing = chunk[position]
    if (existing === undefined || compareBytes(existing.key, key) !== 0) return
    this.#size--
    if (chunk.length === 1) {
      this.#chunks.splice(index, 1)
      return
    }
    this.#writableChunk(index).splice(position, 1)
  }
}

/**
 * The memory store as a plug-in factory (`memoryStore() => (components) => Store`), for
 * wiring that takes store factories. It needs no components.
 *
 * @example
 * ```ts
 * const createStore = memoryStore()
 * const store = createStore()
 * await store.open()
 * ```
 */
export function memoryStore(): (components?: object) => Store {
  return () => new MemoryStore()
}
