// The selection head index of the built-in policies: a max-heap of the senders' first executable
// transactions, kept up to date as transactions come and go, so a selection does not rank every
// sender of the pool. Its key is an upper bound of the rank that does not depend on the block:
// the tip cap bounds the effective tip at every base fee; the negated arrival is fifo's exact key.
// `selectIndexed` walks the heap lazily from the root (a node's children can only rank as high
// as the node's bound), touching about as many senders as the block takes.
import type { Entry, RankTable, SenderState } from './entry.js'

export class HeadIndex {
  /** Head transactions in heap order. */
  readonly entries: (Entry<unknown> | undefined)[] = []
  /** `keys[i]` is the bound of `entries[i]`; a parent's is ≥ its children's. */
  keys = new Float64Array(1024)
  /** `rows[i]` is the {@link RankTable} row of `entries[i]`. */
  rows = new Int32Array(1024)
  size = 0
  readonly #keyOf: (entry: Entry<unknown>) => number
  readonly table: RankTable

  constructor(table: RankTable, keyOf: (entry: Entry<unknown>) => number) {
    this.table = table
    this.#keyOf = keyOf
  }

  /** Follows a change of the sender's pending list; call after every change. */
  sync(sender: SenderState): void {
    this.table.link(sender.pending)
    const head = sender.pending[0]
    const slot = sender.headSlot
    if (slot < 0) {
      if (head !== undefined) this.#insert(head)
      return
    }
    if (this.entries[slot] === head) return
    if (head === undefined) {
      this.#removeAt(slot)
      sender.headSlot = -1
      return
    }
    const key = this.#keyOf(head)
    const previous = this.keys[slot]!
    this.entries[slot] = head
    this.keys[slot] = key
    this.rows[slot] = head.row
    if (key > previous) this.#up(slot)
    else this.#down(slot)
  }

  /** Re-registers the heads of all `senders` (after changes made without {@link HeadIndex.sync}). */
  rebuild(senders: Iterable<SenderState>): void {
    for (let i = 0; i < this.size; i++) this.entries[i]!.owner.headSlot = -1
    this.entries.length = 0
    this.size = 0
    for (const sender of senders) {
      sender.headSlot = -1
      this.table.link(sender.pending)
      const head = sender.pending[0]
      if (head === undefined) continue
      if (this.size === this.keys.length) this.#grow()
      this.entries.push(head)
      this.keys[this.size] = this.#keyOf(head)
      this.rows[this.size] = head.row
      head.owner.headSlot = this.size++
    }
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.#down(i)
  }

  #insert(head: Entry<unknown>): void {
    if (this.size === this.keys.length) this.#grow()
    const slot = this.size++
    this.entries[slot] = head
    this.keys[slot] = this.#keyOf(head)
    this.rows[slot] = head.row
    head.owner.headSlot = slot
    this.#up(slot)
  }

  #removeAt(slot: number): void {
    const last = --this.size
    const moved = this.entries[last]!
    const movedKey = this.keys[last]!
    this.entries.length = last
    if (slot === last) return
    const previous = this.keys[slot]!
    this.entries[slot] = moved
    this.keys[slot] = movedKey
    this.rows[slot] = this.rows[last]!
    moved.owner.headSlot = slot
    if (movedKey > previous) this.#up(slot)
    else this.#down(slot)
  }

  #up(index: number): void {
    const entries = this.entries
    const keys = this.keys
    const rows = this.rows
    const entry = entries[index]!
    const key = keys[index]!
    const row = rows[index]!
    while (index > 0) {
      const parent = (index - 1) >> 1
      if (keys[parent]! >= key) break
      const parentEntry = entries[parent]!
      entries[index] = parentEntry
      keys[index] = keys[parent]!
      rows[index] = rows[parent]!
      parentEntry.owner.headSlot = index
      index = parent
    }
    entries[index] = entry
    keys[index] = key
    rows[index] = row
    entry.owner.headSlot = index
  }

  #down(index: number): void {
    const entries = this.entries
    const keys = this.keys
    const rows = this.rows
    const size = this.size
    const entry = entries[index]!
    const key = keys[index]!
    const row = rows[index]!
    for (;;) {
      let child = 2 * index + 1
      if (child >= size) break
      if (child + 1 < size && keys[child + 1]! > keys[child]!) child++
      if (key >= keys[child]!) break
      const childEntry = entries[child]!
      entries[index] = childEntry
      keys[index] = keys[child]!
      rows[index] = rows[child]!
      childEntry.owner.headSlot = index
      index = child
    }
    entries[index] = entry
    keys[index] = key
    rows[index] = row
    entry.owner.headSlot = index
  }

  #grow(): void {
    const keys = new Float64Array(this.keys.length * 2)
    keys.set(this.keys)
    this.keys = keys
    const rows = new Int32Array(this.rows.length * 2)
    rows.set(this.rows)
    this.rows = rows
  }
}
