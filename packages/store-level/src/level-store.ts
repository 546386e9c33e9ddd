/**
 * The `Store` contract on LevelDB, through `classic-level`. Keys and values cross into LevelDB as
 * raw bytes (the `view` encoding) and come back as plain `Uint8Array`s that own their memory.
 */

import { access } from 'node:fs/promises'
import { join } from 'node:path'
import type { BatchOperation, RangeOptions, Store, StoreEntry, StoreStatus } from '@metanode/core'
import {
  assertStoreKey,
  assertStoreValue,
  copyRangeOptions,
  StoreClosedError,
} from '@metanode/core'
import { ClassicLevel } from 'classic-level'
import { openError, operationError, StoreNotFoundError } from './errors.js'
import { levelOperations, levelRange } from './validate.js'
import { type LevelDatabase, type WriteOptions, WriteQueue } from './write-queue.js'

/** Configuration of a {@link LevelStore}. */
export interface LevelStoreInit {
  /** Directory holding the database files. Created on open unless `createIfMissing` is `false`. */
  location: string
  /** Create the database when the directory holds none (default `true`); otherwise opening rejects with `StoreNotFoundError`. */
  createIfMissing?: boolean
  /** Bytes of LevelDB's block cache for uncompressed data (default 8 MiB). */
  cacheSize?: number
  /** Bytes buffered in memory (and in the write-ahead log) before a sorted table is written (default 4 MiB). */
  writeBufferSize?: number
  /**
   * Call `fsync` before each `put`, `del` and `batch` resolves (default `false`).
   *
   * Without it, a resolved write has reached the operating system: it survives the process being
   * killed, but the last writes before a power loss or kernel crash may be lost (never partially:
   * a batch is still all or nothing). With it, a resolved write survives a power loss too, at the
   * cost of one disk flush per write.
   */
  sync?: boolean
}

// classic-level passes these to LevelDB as unsigned 32-bit integers
const MAX_LEVEL_SIZE = 2 ** 32 - 1

// An early `break` or `limit: 1` should not pull a thousand entries through the native boundary,
// while a long scan should: read sizes grow geometrically up to classic-level's own chunk size.
const FIRST_READ_SIZE = 16
const MAX_READ_SIZE = 1000

const SYNC_WRITE: WriteOptions = Object.freeze({
  sync: true,
  keyEncoding: 'view',
  valueEncoding: 'view',
})

function checkInit(init: unknown): Required<LevelStoreInit> {
  if (typeof init !== 'object' || init === null) {
    throw new TypeError('levelStore init must be an object with a location')
  }
  const { location, createIfMissing, cacheSize, writeBufferSize, sync } = init as Record<
    keyof LevelStoreInit,
    unknown
  >
  if (typeof location !== 'string') {
    throw new TypeError(`location must be a string, got ${typeof location}`)
  }
  if (location.length === 0) throw new RangeError('location must not be empty')
  for (const [name, flag] of [
    ['createIfMissing', createIfMissing],
    ['sync', sync],
  ] as const) {
    if (flag !== undefined && typeof flag !== 'boolean') {
      throw new TypeError(`${name} must be a boolean, got ${typeof flag}`)
    }
  }
  for (const [name, size] of [
    ['cacheSize', cacheSize],
    ['writeBufferSize', writeBufferSize],
  ] as const) {
    if (size === undefined) continue
    if (typeof size !== 'number' || !Number.isSafeInteger(size)) {
      throw new TypeError(`${name} must be a safe integer, got ${typeof size}`)
    }
    if (size < 0 || size > MAX_LEVEL_SIZE) {
      throw new RangeError(`${name} must be in [0, ${MAX_LEVEL_SIZE}], got ${size}`)
    }
  }
  return {
    location,
    createIfMissing: (createIfMissing as boolean | undefined) ?? true,
    cacheSize: (cacheSize as number | undefined) ?? 8 * 1024 * 1024,
    writeBufferSize: (writeBufferSize as number | undefined) ?? 4 * 1024 * 1024,
    sync: (sync as boolean | undefined) ?? false,
  }
}

/**
 * A plain Uint8Array over the Buffer classic-level returned. Each such Buffer is a fresh copy with
 * its own memory (napi_create_buffer_copy), so wrapping it hands the caller a private value.
 */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** One open database and the queue that orders its writes. */
interface Session {
  readonly db: LevelDatabase
  readonly writes: WriteQueue
}

const ignore = (): void => {}

/**
 * A {@link Store} backed by LevelDB. Created closed; call `open()` before use.
 *
 * Operations take effect in call order, as with the in-memory store: a write applies after
 * every write called before it (even when neither was awaited), and a read sees every write
 * called before it. Writes called while another is in flight are committed together as one
 * LevelDB batch, so concurrent writers share one log append (and one fsync with `sync`).
 *
 * One directory can be opened by one store at a time: a second store (in this or another
 * process) fails to open with `StoreLockedError` until the first is closed or its process exits.
 * Operations called while the store is not `open` reject with `StoreClosedError`; writes called
 * before `close()` complete before the database closes.
 */
export class LevelStore implements Store {
  /** The database directory. */
  readonly location: string
  readonly #config: Required<LevelStoreInit>
  readonly #writeOptions: WriteOptions | undefined
  #status: StoreStatus = 'closed'
  #session: Session | undefined
  // the open or close in progress, which later open/close calls wait for
  #transition: Promise<void> | undefined

  /**
   * @throws TypeError when `init` or one of its fields has the wrong type.
   * @throws RangeError when `location` is empty or a size is negative or above 2^32 - 1.
   */
  constructor(init: LevelStoreInit) {
    this.#config = checkInit(init)
    this.location = this.#config.location
    this.#writeOptions = this.#config.sync ? SYNC_WRITE : undefined
  }

  /** The current lifecycle state. */
  get status(): StoreStatus {
    return this.#status
  }

  /**
   * Opens the database, creating it unless `createIfMissing` is `false`. A no-op when open.
   *
   * @throws StoreLockedError when another store or process holds the directory.
   * @throws StoreNotFoundError when there is no database and `createIfMissing` is `false`.
   * @throws StoreCorruptionError when the files are damaged.
   * @throws StoreIOError on any other failure.
   */
  async open(): Promise<void> {
    while (this.#transition !== undefined) await this.#transition.then(ignore, ignore)
    if (this.#status === 'open') return
    this.#transition = this.#open()
    try {
      await this.#transition
    } finally {
      this.#transition = undefined
    }
  }

  async #open(): Promise<void> {
    this.#status = 'opening'
    const { location, createIfMissing, cacheSize, writeBufferSize } = this.#config
    if (!createIfMissing) await this.#assertExists()
    const db: LevelDatabase = new ClassicLevel<Uint8Array, Uint8Array>(location, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      createIfMissing,
      cacheSize,
      writeBufferSize,
    })
    try {
      // called synchronously after construction, so abstract-level's own deferred open never runs
      await db.open()
    } catch (error) {
      this.#status = 'closed'
      throw openError(error, location)
    }
    this.#session = { db, writes: new WriteQueue(db, this.#writeOptions) }
    this.#status = 'open'
  }

  // LevelDB reports a missing database in several ways (and creates the directory first when
  // its parent exists); every LevelDB database has a CURRENT file, so look for it instead
  async #assertExists(): Promise<void> {
    try {
      await access(join(this.location, 'CURRENT'))
    } catch (error) {
      this.#status = 'closed'
      throw new StoreNotFoundError(`no store at ${this.location}`, {
        details: { location: this.location, operation: 'open' },
        cause: error,
      })
    }
  }

  /**
   * Completes the writes already called, ends running scans (they reject with
   * `StoreClosedError`) and closes the database. A no-op when closed.
   */
  async close(): Promise<void> {
    while (this.#transition !== undefined) await this.#transition.then(ignore, ignore)
    const session = this.#session
    if (this.#status !== 'open' || session === undefined) return
    this.#transition = this.#close(session)
    try {
      await this.#transition
    } finally {
      this.#transition = undefined
    }
  }

  async #close({ db, writes }: Session): Promise<void> {
    this.#status = 'closing'
    try {
      await writes.drain()
      await db.close()
    } catch (error) {
      // abstract-level leaves the database open when closing fails
      this.#status = 'open'
      throw operationError(error, 'close', this.location)
    }
    this.#session = undefined
    this.#status = 'closed'
  }

  #openSession(operation: string): Session {
    const session = this.#session
    if (this.#status !== 'open' || session === undefined) {
      throw new StoreClosedError(`store is ${this.#status}`, {
        details: { location: this.location, operation },
      })
    }
    return session
  }

  /** The value under `key`, or `undefined`. */
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const { db, writes } = this.#openSession('get')
    assertStoreKey(key)
    // classic-level reads the key on a pool thread, later: a caller may reuse its buffer meanwhile
    const lookup = key.slice()
    let value: Uint8Array | undefined
    try {
      const pending = writes.pending()
      if (pending !== undefined) await pending
      value = await db.get(lookup)
    } catch (error) {
      throw operationError(error, 'get', this.location)
    }
    return value === undefined ? undefined : plain(value)
  }

  /** Whether `key` is present. */
  async has(key: Uint8Array): Promise<boolean> {
    const { db, writes } = this.#openSession('has')
    assertStoreKey(key)
    const lookup = key.slice()
    try {
      const pending = writes.pending()
      if (pending !== undefined) await pending
      return await db.has(lookup)
    } catch (error) {
      throw operationError(error, 'has', this.location)
    }
  }

  /** Writes `value` under `key`, replacing any previous value. */
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    const { writes } = this.#openSession('put')
    assertStoreKey(key)
    assertStoreValue(value)
    try {
      await writes.put(key, value)
    } catch (error) {
      throw operationError(error, 'put', this.location)
    }
  }

  /** Removes `key`; removing an absent key is not an error. */
  async del(key: Uint8Array): Promise<void> {
    const { writes } = this.#openSession('del')
    assertStoreKey(key)
    try {
      await writes.del(key)
    } catch (error) {
      throw operationError(error, 'del', this.location)
    }
  }

  /**
   * Applies all operations as one LevelDB write batch: after a crash either all of them are
   * visible or none. Every operation is checked before any is applied.
   */
  async batch(operations: readonly BatchOperation[]): Promise<void> {
    const { writes } = this.#openSession('batch')
    const checked = levelOperations(operations)
    if (checked.length === 0) return
    try {
      await writes.batch(checked)
    } catch (error) {
      throw operationError(error, 'batch', this.location)
    }
  }

  /**
   * Entries in key order within the bounds. The LevelDB iterator, and with it the snapshot the
   * scan reads, is created on the first `next()` and released when the scan ends, fails or is
   * left early with `break`. Closing the store ends a running scan with `StoreClosedError`.
   */
  iterate(options?: RangeOptions): AsyncIterable<StoreEntry> {
    const captured = copyRangeOptions(options)
    return { [Symbol.asyncIterator]: () => this.#scan(captured) }
  }

  async *#scan(options: unknown): AsyncGenerator<StoreEntry, void, undefined> {
    let session = this.#openSession('iterate')
    const range = levelRange(options)
    if (range.limit === 0) return
    const pending = session.writes.pending()
    if (pending !== undefined) {
      await pending
      session = this.#openSession('iterate')
    }
    const iterator = session.db.iterator(range)
    let failed = false
    try {
      for (let size = FIRST_READ_SIZE; ; size = Math.min(size * 4, MAX_READ_SIZE)) {
        let entries: [Uint8Array, Uint8Array][]
        try {
          entries = await iterator.nextv(size)
        } catch (error) {
          failed = true
          throw operationError(error, 'iterate', this.location)
        }
        if (entries.length === 0) return
        for (const [key, value] of entries) {
          // the consumer runs between two entries: the store may have been closed (and even
          // reopened) meanwhile, and entries read ahead must not outlive the session
          if (this.#status !== 'open' || this.#session !== session) {
            failed = true
            throw new StoreClosedError('store was closed during the scan', {
              details: { location: this.location, operation: 'iterate' },
            })
          }
          yield { key: plain(key), value: plain(value) }
        }
      }
    } finally {
      await this.#release(iterator, failed)
    }
  }

  async #release(iterator: { close(): Promise<void> }, scanFailed: boolean): Promise<void> {
    try {
      await iterator.close()
    } catch (error) {
      // a failure to release the iterator must not hide the error that ended the scan
      if (!scanFailed) throw operationError(error, 'iterate', this.location)
    }
  }
}

/**
 * The LevelDB store plug-in, in the factory-of-factory shape every Metanode plug-in has:
 * `levelStore(init)` checks the configuration at once and returns a factory that, given the
 * node's components, creates the store (closed; call `open()`). `new LevelStore(init)` is the
 * same without the factory.
 *
 * @throws TypeError or RangeError when `init` is malformed (see {@link LevelStore}).
 */
export function levelStore(init: LevelStoreInit): (components?: object) => LevelStore {
  // validate now, so a bad configuration fails where it is written rather than at start-up
  checkInit(init)
  return () => new LevelStore(init)
}
