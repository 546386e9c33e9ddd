// A node incarnation's view of its store. While the incarnation lives, calls pass straight
// through; once it has crashed, they return promises that never settle. A crashed process does
// not run, so work it left half-done must neither reach the store the next incarnation inherits
// nor fail with errors nobody is left to handle.
import type { BatchOperation, RangeOptions, Store, StoreEntry, StoreStatus } from '@metanode/core'
import { NEVER } from './context.js'
import type { EventOwner } from './scheduler.js'

export class FencedStore implements Store {
  readonly #inner: Store
  readonly #owner: EventOwner

  constructor(inner: Store, owner: EventOwner) {
    this.#inner = inner
    this.#owner = owner
  }

  get status(): StoreStatus {
    return this.#inner.status
  }

  open(): Promise<void> {
    return this.#owner.alive ? this.#inner.open() : NEVER
  }

  close(): Promise<void> {
    return this.#owner.alive ? this.#inner.close() : NEVER
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#owner.alive ? this.#inner.get(key) : NEVER
  }

  has(key: Uint8Array): Promise<boolean> {
    return this.#owner.alive ? this.#inner.has(key) : NEVER
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.#owner.alive ? this.#inner.put(key, value) : NEVER
  }

  del(key: Uint8Array): Promise<void> {
    return this.#owner.alive ? this.#inner.del(key) : NEVER
  }

  batch(operations: readonly BatchOperation[]): Promise<void> {
    return this.#owner.alive ? this.#inner.batch(operations) : NEVER
  }

  iterate(options?: RangeOptions): AsyncIterable<StoreEntry> {
    const inner = this.#inner
    const owner = this.#owner
    return {
      [Symbol.asyncIterator]: (): AsyncIterator<StoreEntry> => {
        if (!owner.alive) return { next: () => NEVER }
        const iterator = inner.iterate(options)[Symbol.asyncIterator]()
        return {
          next: () => (owner.alive ? iterator.next() : NEVER),
          return: (value?: unknown) =>
            iterator.return !== undefined
              ? iterator.return(value)
              : Promise.resolve({ done: true as const, value: undefined }),
        }
      },
    }
  }
}
