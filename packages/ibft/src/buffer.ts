/**
 * Messages for heights the engine has not reached yet. They cannot be verified until that
 * height's validator set is known, so they are held, bounded three ways: a height window, a cap
 * per sending peer and a total cap, and de-duplicated by hash. When the engine reaches a height
 * it replays that height's messages in arrival order.
 */
import type { PeerId } from '@metanode/core'
import { hexKey } from './bytes.js'
import { messageHash } from './messages.js'

/** Bounds of a {@link FutureMessageBuffer}. */
export interface FutureBufferLimits {
  /** How many heights ahead of the current one are kept. Default 10. */
  maxHeightsAhead: number
  /** Most messages kept per sending peer. Default 256. */
  maxPerSender: number
  /** Most messages kept in all. Default 8192. */
  maxTotal: number
}

/** Default {@link FutureBufferLimits}. */
export const DEFAULT_FUTURE_BUFFER_LIMITS: Readonly<FutureBufferLimits> = Object.freeze({
  maxHeightsAhead: 10,
  maxPerSender: 256,
  maxTotal: 8192,
})

/** A buffered message. */
export interface BufferedMessage {
  /** The peer it came from. */
  from: PeerId
  /** The wire bytes. */
  data: Uint8Array
}

/** Why {@link FutureMessageBuffer.add} did not keep a message. */
export type BufferRefusal = 'duplicate' | 'too-far' | 'sender-cap' | 'total-cap' | 'stale'

interface Entry extends BufferedMessage {
  hash: string
}

/** Holds messages for future heights. */
export class FutureMessageBuffer {
  readonly limits: Readonly<FutureBufferLimits>
  readonly #byHeight = new Map<number, Entry[]>()
  readonly #hashes = new Set<string>()
  readonly #perSender = new Map<PeerId, number>()
  #total = 0

  constructor(limits: Partial<FutureBufferLimits> = {}) {
    this.limits = { ...DEFAULT_FUTURE_BUFFER_LIMITS, ...limits }
  }

  /** Number of messages held. */
  get size(): number {
    return this.#total
  }

  /** Keeps `data` for `height`, or says why not. */
  add(
    currentHeight: number,
    height: number,
    from: PeerId,
    data: Uint8Array,
  ): BufferRefusal | 'kept' {
    if (height <= currentHeight) return 'stale'
    if (height > currentHeight + this.limits.maxHeightsAhead) return 'too-far'
    const hash = hexKey(messageHash(data))
    if (this.#hashes.has(hash)) return 'duplicate'
    const fromSender = this.#perSender.get(from) ?? 0
    if (fromSender >= this.limits.maxPerSender) return 'sender-cap'
    if (this.#total >= this.limits.maxTotal) return 'total-cap'
    let list = this.#byHeight.get(height)
    if (list === undefined) {
      list = []
      this.#byHeight.set(height, list)
    }
    list.push({ from, data, hash })
    this.#hashes.add(hash)
    this.#perSender.set(from, fromSender + 1)
    this.#total++
    return 'kept'
  }

  /** Removes and returns the messages of `height`, and drops those of lower heights. */
  take(height: number): BufferedMessage[] {
    const taken = this.#byHeight.get(height) ?? []
    for (const [bufferedHeight, list] of [...this.#byHeight]) {
      if (bufferedHeight > height) continue
      for (const entry of list) this.#forget(entry)
      this.#byHeight.delete(bufferedHeight)
    }
    return taken.map(({ from, data }) => ({ from, data }))
  }

  /** Drops everything. */
  clear(): void {
    this.#byHeight.clear()
    this.#hashes.clear()
    this.#perSender.clear()
    this.#total = 0
  }

  #forget(entry: Entry): void {
    this.#hashes.delete(entry.hash)
    const count = (this.#perSender.get(entry.from) ?? 1) - 1
    if (count === 0) this.#perSender.delete(entry.from)
    else this.#perSender.set(entry.from, count)
    this.#total--
  }
}
