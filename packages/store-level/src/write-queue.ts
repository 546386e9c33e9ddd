// Call-order writes on LevelDB. Internal: not re-exported.
//
// classic-level runs each write on a libuv pool thread, so two writes called back to back can
// reach LevelDB in either order: `put(k, 1)` followed by a `batch` deleting `k` could leave `k`
// behind. The queue keeps at most one write in flight. Writes called meanwhile wait in one
// group that is submitted as a single LevelDB batch when the write in flight settles, so they
// apply in call order, each caller's operations stay atomic, and concurrent writers still share
// one log append (and one fsync with `sync`), as LevelDB's own group commit would do for them.
import type { ClassicLevel } from 'classic-level'
import type { LevelOperation } from './validate.js'

/** The database type the store opens: raw bytes in, Buffers out. */
export type LevelDatabase = ClassicLevel<Uint8Array, Uint8Array>

/** Per-write options passed to classic-level (only with `sync`). */
export interface WriteOptions {
  /** fsync before the write resolves. */
  readonly sync: true
  // Matching the database's encodings spares abstract-level a copy of the options on each write.
  /** The database's key encoding. */
  readonly keyEncoding: 'view'
  /** The database's value encoding. */
  readonly valueEncoding: 'view'
}

interface WriteGroup {
  readonly operations: LevelOperation[]
  readonly done: Promise<void>
  resolve: () => void
  reject: (error: unknown) => void
}

function createGroup(): WriteGroup {
  let resolve: () => void = () => {}
  let reject: (error: unknown) => void = () => {}
  const done = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  return { operations: [], done, resolve, reject }
}

const ignore = (): void => {}

/** Serialises the writes of one open database; rejections are classic-level's own errors. */
export class WriteQueue {
  readonly #db: LevelDatabase
  readonly #options: WriteOptions | undefined
  #busy = false
  #queued: WriteGroup | undefined
  // the write called last (in flight or queued), which reads and close() wait for
  #last: Promise<void> | undefined

  constructor(db: LevelDatabase, options: WriteOptions | undefined) {
    this.#db = db
    this.#options = options
  }

  /** Writes `value` under `key` after every write called before. */
  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    // classic-level copies the bytes of a submitted write at once; a queued one is copied here
    if (this.#busy) return this.#enqueue({ type: 'put', key: key.slice(), value: value.slice() })
    return this.#track(
      this.#options === undefined
        ? this.#db.put(key, value)
        : this.#db.put(key, value, this.#options),
    )
  }

  /** Deletes `key` after every write called before. */
  del(key: Uint8Array): Promise<void> {
    if (this.#busy) return this.#enqueue({ type: 'del', key: key.slice() })
    return this.#track(
      this.#options === undefined ? this.#db.del(key) : this.#db.del(key, this.#options),
    )
  }

  /** Applies `operations` atomically after every write called before. */
  batch(operations: LevelOperation[]): Promise<void> {
    if (this.#busy) {
      // one by one, not push(...copies): a spread of 1e5 arguments can overflow the stack
      const group = this.#group()
      for (const operation of operations) {
        group.operations.push(
          operation.type === 'put'
            ? { type: 'put', key: operation.key.slice(), value: operation.value.slice() }
            : { type: 'del', key: operation.key.slice() },
        )
      }
      return group.done
    }
    return this.#track(this.#submit(operations))
  }

  /** Settles once every write called so far has (never rejects); `undefined` when none is pending. */
  pending(): Promise<void> | undefined {
    return this.#last?.then(ignore, ignore)
  }

  /** Resolves when no write is pending. */
  async drain(): Promise<void> {
    while (this.#last !== undefined) await this.#last.then(ignore, ignore)
  }

  #submit(operations: LevelOperation[]): Promise<void> {
    return this.#options === undefined
      ? this.#db.batch(operations)
      : this.#db.batch(operations, this.#options)
  }

  #track(write: Promise<void>): Promise<void> {
    this.#busy = true
    this.#last = write
    write.then(this.#advance, this.#advance)
    return write
  }

  #group(): WriteGroup {
    if (this.#queued === undefined) {
      this.#queued = createGroup()
      this.#last = this.#queued.done
    }
    return this.#queued
  }

  #enqueue(operation: LevelOperation): Promise<void> {
    const group = this.#group()
    group.operations.push(operation)
    return group.done
  }

  readonly #advance = (): void => {
    const group = this.#queued
    if (group === undefined) {
      this.#busy = false
      this.#last = undefined
      return
    }
    this.#queued = undefined
    const write = this.#submit(group.operations)
    write.then(group.resolve, group.reject)
    write.then(this.#advance, this.#advance)
  }
}
