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

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

/**
 * Checks a store key: a `TypeError` unless it is a `Uint8Array`, a `RangeError` unless it holds
 * 1 to {@link STORE_LIMITS}.maxKeyBytes bytes. Store implementations call it so that every
 * implementation fails the same way on the same input.
 */
export function assertStoreKey(key: unknown, name = 'key'): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(key)}`)
  }
  if (key.length === 0) throw new RangeError(`${name} must not be empty`)
  if (key.length > STORE_LIMITS.maxKeyBytes) {
    throw new RangeError(
      `${name} must be at most ${STORE_LIMITS.maxKeyBytes} bytes long, got ${key.length}`,
    )
  }
}

/**
 * Checks a store value: a `TypeError` unless it is a `Uint8Array`, a `RangeError` when it is
 * longer than {@link STORE_LIMITS}.maxValueBytes. Empty values are allowed.
 */
export function assertStoreValue(value: unknown, name = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(value)}`)
  }
  if (value.length > STORE_LIMITS.maxValueBytes) {
    throw new RangeError(
      `${name} must be at most ${STORE_LIMITS.maxValueBytes} bytes long, got ${value.length}`,
    )
  }
}

/**
 * Checks the operations of a batch before any is applied: a `TypeError` for a non-array, an
 * operation that is not an object, an unknown `type`, or a non-`Uint8Array` key or value; a
 * `RangeError` for more than {@link STORE_LIMITS}.maxBatchOperations operations or a key or
 * value out of bounds.
 */
export function assertBatch(operations: unknown): asserts operations is readonly BatchOperation[] {
  if (!Array.isArray(operations)) {
    throw new TypeError(`operations must be an array, got ${describeValue(operations)}`)
  }
  if (operations.length > STORE_LIMITS.maxBatchOperations) {
    throw new RangeError(
      `a batch holds at most ${STORE_LIMITS.maxBatchOperations} operations, got ${operations.length}`,
    )
  }
  for (let index = 0; index < operations.length; index++) {
    const operation: unknown = operations[index]
    if (typeof operation !== 'object' || operation === null) {
      throw new TypeError(`operations[${index}] must be an object, got ${describeValue(operation)}`)
    }
    const { type, key, value } = operation as { type?: unknown; key?: unknown; value?: unknown }
    if (type === 'put') {
      assertStoreKey(key, `operations[${index}].key`)
      assertStoreValue(value, `operations[${index}].value`)
    } else if (type === 'del') {
      assertStoreKey(key, `operations[${index}].key`)
    } else {
      throw new TypeError(`operations[${index}].type must be 'put' or 'del', got ${String(type)}`)
    }
  }
}

/**
 * Checks range options: a `TypeError` unless `options` is an object (or `undefined`), each
 * bound a `Uint8Array` (empty bounds are fine), `reverse` a boolean and `limit` a safe integer;
 * a `RangeError` for a negative `limit`. When both `gt` and `gte` (or `lt` and `lte`) are set,
 * both apply.
 */
export function assertRangeOptions(options: unknown): asserts options is RangeOptions | undefined {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`range options must be an object, got ${describeValue(options)}`)
  }
  const { gt, gte, lt, lte, reverse, limit } = options as Record<string, unknown>
  for (const [name, bound] of [
    ['gt', gt],
    ['gte', gte],
    ['lt', lt],
    ['lte', lte],
  ] as const) {
    if (bound !== undefined && !(bound instanceof Uint8Array)) {
      throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(bound)}`)
    }
  }
  if (reverse !== undefined && typeof reverse !== 'boolean') {
    throw new TypeError(`reverse must be a boolean, got ${describeValue(reverse)}`)
  }
  if (limit !== undefined) {
    if (typeof limit !== 'number' || !Number.isSafeInteger(limit)) {
      throw new TypeError(`limit must be a safe integer, got ${describeValue(limit)}`)
    }
    if (limit < 0) throw new RangeError(`limit must not be negative, got ${limit}`)
  }
}

/**
 * A shallow copy of range options whose byte bounds are copied too. Stores take it when
 * `iterate` is called, so a caller reusing its key buffers cannot move a range whose scan has not
 * started; checking the copy can wait for the first `next()`, where errors surface as rejections
 * like every other store failure. Non-objects are returned as they are, for the check to reject.
 */
export function copyRangeOptions(options: unknown): unknown {
  if (typeof options !== 'object' || options === null) return options
  const copy: Record<string, unknown> = { ...options }
  for (const bound of ['gt', 'gte', 'lt', 'lte']) {
    const value = copy[bound]
    if (value instanceof Uint8Array) copy[bound] = value.slice()
  }
  return copy
}
