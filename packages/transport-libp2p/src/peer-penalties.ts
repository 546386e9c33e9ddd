// Our own account of each peer's rejected messages, independent of gossipsub: direct sends and
// requests bypass gossipsub entirely, and a graylisted peer is only ignored by gossipsub, never
// disconnected. Rejects count within a sliding window, so an honest peer's rare rejection is
// forgotten; a peer that reaches the threshold within the window is denied (disconnected and
// refused) for a while.
import type { Clock } from '@metanode/core'

interface PenaltyRecord {
  /** Times of the most recent rejects, oldest first; at most `rejectThreshold` of them. */
  rejectedAt: number[]
  /** Until when the peer is denied; 0 when it is not. */
  deniedUntil: number
}

/** Options of {@link PeerPenalties}. */
export interface PeerPenaltiesOptions {
  /** Rejects within `rejectWindowMs` at which a peer is denied. */
  rejectThreshold: number
  /** How long a reject counts against a peer, in milliseconds. */
  rejectWindowMs: number
  /** How long a denied peer stays denied, in milliseconds. */
  denyDurationMs: number
  /** Time source. */
  clock: Clock
}

/** Per-peer reject counts over a sliding window, and the set of denied peers. */
export class PeerPenalties {
  readonly #records = new Map<string, PenaltyRecord>()
  readonly #options: PeerPenaltiesOptions

  constructor(options: PeerPenaltiesOptions) {
    this.#options = options
  }

  /** Counts one rejected message from `peer`; true when this reject makes the peer denied. */
  recordReject(peer: string): boolean {
    const now = this.#options.clock.now()
    const record = this.#current(peer, now) ?? { rejectedAt: [], deniedUntil: 0 }
    if (record.deniedUntil > now) return false
    record.rejectedAt.push(now)
    if (record.rejectedAt.length > this.#options.rejectThreshold) record.rejectedAt.shift()
    this.#records.set(peer, record)
    if (record.rejectedAt.length < this.#options.rejectThreshold) return false
    record.deniedUntil = now + this.#options.denyDurationMs
    return true
  }

  /** Whether `peer` is denied now. */
  isDenied(peer: string): boolean {
    const now = this.#options.clock.now()
    const record = this.#current(peer, now)
    return record !== undefined && record.deniedUntil > now
  }

  /** Rejects of `peer` within the window (the threshold while it is denied). */
  rejects(peer: string): number {
    const now = this.#options.clock.now()
    const record = this.#current(peer, now)
    if (record === undefined) return 0
    return record.deniedUntil > now ? this.#options.rejectThreshold : record.rejectedAt.length
  }

  /** Drops the records whose rejects and denial have all expired. */
  prune(): void {
    const now = this.#options.clock.now()
    for (const peer of [...this.#records.keys()]) this.#current(peer, now)
  }

  /** The record of `peer` as of `now`; expired rejects are dropped, and empty records with them. */
  #current(peer: string, now: number): PenaltyRecord | undefined {
    const record = this.#records.get(peer)
    if (record === undefined) return undefined
    if (record.deniedUntil > now) return record
    if (record.deniedUntil > 0) {
      // the denial served its purpose: the peer starts again with a clean record
      this.#records.delete(peer)
      return undefined
    }
    const oldestCounted = now - this.#options.rejectWindowMs
    while (record.rejectedAt.length > 0 && record.rejectedAt[0]! <= oldestCounted) {
      record.rejectedAt.shift()
    }
    if (record.rejectedAt.length === 0) {
      this.#records.delete(peer)
      return undefined
    }
    return record
  }
}
