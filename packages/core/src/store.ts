/**
 * The `Store` plug-in: an ordered binary key-value store. Keys compare as unsigned bytes
 * (lexicographically, shorter prefix first), the order LevelDB uses, so range scans over
 * big-endian encoded heights come back in height order.
 */

/** Bounds and direction of a range scan. Unset bounds are open. */
export interface RangeOptions {
  /** Keys strictly greater than this. */
  gt?: Uint8Array
  /** Keys greater than or equal to this. */
  gte?: Uint8Array
  /** Keys strictly less than this. */
  lt?: Uint8Array
  /** Keys less than or equal to this. */
  lte?: Uint8Array
  /** Descending key order when true. */
  reverse?: boolean
  /** At most this many entries (a non-negative integer; unset means no limit). */
  limit?: number
}

/** One key and its value. */
export interface StoreEntry {
  /** The key bytes. */
  key: Uint8Array
  /** The value bytes. */
  value: Uint8Array
}

/** One write of an atomic batch. */
export type BatchOperation =
  | {
      /** Write `value` under `key`. */
      type: 'put'
      /** The key bytes. */
      key: Uint8Array
      /** The value bytes. */
      value: Uint8Array
    }
  | {
      /** Remove `key` (absent keys are fine). */
      type: 'del'
      /** The key bytes. */
      key: Uint8Array
    }

/** Whether a store accepts operations. */
export type StoreStatus = 'closed' | 'opening' | 'open' | 'closing'

/** Limits every store enforces on its inputs. */
export const STORE_LIMITS = {
  /** Largest key, in bytes. Keys must also be non-empty. */
  maxKeyBytes: 1024,
  /** Largest value, in bytes. */
  maxValueBytes: 64 * 1024 * 1024,
  /** Most operations in one batch. */
  maxBatchOperations: 100_000,
} as const

/**
 * An ordered binary key-value store.
 *
 * Operations on a store that is not open reject with `StoreClosedError`. A key that is empty or
 * longer than {@link STORE_LIMITS}.maxKeyBytes is a `RangeError`; a non-`Uint8Array` key or value
 * is a `TypeError`. Values returned are copies the caller may keep and mutate.
 */
export interface Store {
  /** The current lifecycle state. */
  readonly status: StoreStatus
  /** Opens the store (creating it if needed). Opening an open store is a no-op. */
  open(): Promise<void>
  /** Flushes and closes. Closing a closed store is a no-op; a closed store can be opened again. */
  close(): Promise<void>
  /** The value under `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /** Whether `key` is present. */
  has(key: Uint8Array): Promise<boolean>
  /** Writes `value` under `key`, replacing any previous value. */
  put(key: Uint8Array, value: Uint8Array): Promise<void>
  /** Removes `key`; removing an absent key is not an error. */
  del(key: Uint8Array): Promise<void>
  /** Applies all operations atomically: after a crash either all of them are visible or none. Later operations on the same key win. */
  batch(operations: readonly BatchOperation[]): Promise<void>
  /** Entries in key order within the bounds. The scan sees a consistent snapshot taken when iteration starts. */
  iterate(options?: RangeOptions): AsyncIterable<StoreEntry>
}

/** Creates a store from its configuration: the plug-in factory shape `name(init) => (components) => Store`. */
export type StoreFactory<C = object> = (components: C) => Store
