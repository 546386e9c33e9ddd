// The eviction index of one class (pending or queued). Eviction takes a sender's highest-nonce
// transaction (its tail) so it never leaves a nonce gap, and prefers the senders holding the most
// slots: senders are bucketed by how many transactions of the class they hold, and each bucket is
// a min-heap of tails by effective tip. Heap nodes are invalidated lazily by a per-sender version
// rather than removed, and the heaps are compacted when stale nodes outnumber live ones.
import type { Entry, SenderState } from './entry.js'
import { effectiveTip } from './entry.js'
import { Heap } from './heap.js'

interface TailNode {
  readonly sender: SenderState
  readonly version: number
  readonly tip: bigint
  readonly tipNumber: number
}

function compareTails(a: TailNode, b: TailNode): number {
  if (a.tipNumber !== b.tipNumber) return a.tipNumber < b.tipNumber ? -1 : 1
  if (a.tip !== b.tip) return a.tip < b.tip ? -1 : 1
  return a.sender.key < b.sender.key ? -1 : a.sender.key > b.sender.key ? 1 : 0
}

/** Outcome of a victim search: a sender to evict from, or why there is none. */
export type VictimSearch = SenderState | 'none' | 'outbid'

export class TailIndex {
  readonly #pendingClass: boolean
  readonly #heaps: Heap<TailNode>[] = []
  readonly #live: number[] = []
  #liveSenders = 0
  #nodes = 0

  constructor(pendingClass: boolean) {
    this.#pendingClass = pendingClass
  }

  /** Registers the sender's current tail and count; call after every change of its list. */
  update(sender: SenderState, baseFee: bigint): void {
    const list = this.#pendingClass ? sender.pending : sender.queued
    const previous = this.#pendingClass ? sender.pendingIndexed : sender.queuedIndexed
    const count = list.length
    if (previous > 0) {
      this.#live[previous] = this.#live[previous]! - 1
      this.#liveSenders--
    }
    let version: number
    if (this.#pendingClass) {
      sender.pendingIndexed = count
      version = ++sender.pendingVersion
    } else {
      sender.queuedIndexed = count
      version = ++sender.queuedVersion
    }
    if (count === 0) return
    this.#live[count] = (this.#live[count] ?? 0) + 1
    this.#liveSenders++
    const tip = effectiveTip(list[count - 1] as Entry<unknown>, baseFee)
    let heap = this.#heaps[count]
    if (heap === undefined) {
      for (let i = this.#heaps.length; i <= count; i++) this.#heaps.push(new Heap(compareTails))
      heap = this.#heaps[count]!
    }
    heap.push({ sender, version, tip, tipNumber: Number(tip) })
    this.#nodes++
    if (this.#nodes > 2 * this.#liveSenders + 1024) this.#compact()
  }

  /** Re-registers every sender (after the base fee changed, which changes every tip). */
  rebuild(senders: Iterable<SenderState>, baseFee: bigint): void {
    for (const heap of this.#heaps) heap.items.length = 0
    this.#live.length = 0
    this.#liveSenders = 0
    this.#nodes = 0
    for (const sender of senders) {
      if (this.#pendingClass) sender.pendingIndexed = 0
      else sender.queuedIndexed = 0
      this.update(sender, baseFee)
    }
  }

  /**
   * The sender to evict a tail from: the one whose tail has the lowest tip among the senders
   * holding the most slots, skipping `exclude`; with `outbidBy`, only a tail whose tip is
   * strictly below it, looking at senders with fewer slots when the biggest ones bid more.
   */
  findVictim(exclude: SenderState | undefined, outbidBy: bigint | undefined): VictimSearch {
    let sawCandidate = false
    for (let count = this.#heaps.length - 1; count >= 1; count--) {
      if ((this.#live[count] ?? 0) === 0) continue
      const heap = this.#heaps[count]!
      let top = this.#validTop(heap)
      let held: TailNode | undefined
      if (top !== undefined && top.sender === exclude) {
        held = heap.pop()
        top = this.#validTop(heap)
      }
      if (held !== undefined) heap.push(held)
      if (top === undefined) continue
      sawCandidate = true
      if (outbidBy === undefined || top.tip < outbidBy) return top.sender
    }
    return sawCandidate ? 'outbid' : 'none'
  }

  #isLive(node: TailNode): boolean {
    return this.#pendingClass
      ? node.version === node.sender.pendingVersion
      : node.version === node.sender.queuedVersion
  }

  #validTop(heap: Heap<TailNode>): TailNode | undefined {
    for (;;) {
      const top = heap.peek()
      if (top === undefined || this.#isLive(top)) return top
      heap.pop()
      this.#nodes--
    }
  }

  #compact(): void {
    this.#nodes = 0
    for (let count = 0; count < this.#heaps.length; count++) {
      const live = this.#heaps[count]!.items.filter((node) => this.#isLive(node))
      this.#heaps[count] = new Heap(compareTails, live)
      this.#nodes += live.length
    }
  }
}
