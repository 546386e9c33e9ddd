/** Counters a simulation keeps while it runs. */

/** Why a message did not reach a handler. */
export type DropReason =
  /** Lost by the link's `dropProbability`. */
  | 'random'
  /** Sender and receiver were in different partition groups when it was sent or arrived. */
  | 'partition'
  /** The receiver crashed, stopped or restarted while the message was in flight. */
  | 'receiver-down'
  /** The pair was disconnected for too many rejected messages. */
  | 'disconnected'
  /** Larger than the receiver accepts. */
  | 'too-large'
  /** The receiver has no handler for the topic (it unsubscribed while the message was in flight). */
  | 'no-subscriber'
  /** A response that arrived after its request had timed out or been abandoned. */
  | 'late-response'

/** Message counters of a simulation, over all its networks. */
export interface MessageStats {
  /** Messages put on a link (one per receiver for a publish; duplicates not counted). */
  sent: number
  /** Messages handed to a handler or to a waiting request (each duplicate copy counts). */
  delivered: number
  /** Messages lost, for any reason. */
  dropped: number
  /** Messages that were duplicated by a link. */
  duplicated: number
  /** Messages a handler rejected (penalising the sender). */
  rejected: number
  /** Handler calls that threw or rejected with something other than a `RejectionError`. */
  handlerErrors: number
  /** Peer pairs disconnected for too many rejections. */
  disconnects: number
}

/** A snapshot of a simulation's counters. */
export interface SimulationStats {
  /** Virtual time in milliseconds. */
  nowMs: number
  /** Events run. */
  events: number
  /** Events skipped because their node had crashed. */
  discardedEvents: number
  /** Message counters. */
  messages: MessageStats
  /** Dropped messages by reason. */
  drops: Record<DropReason, number>
  /** Node crashes. */
  crashes: number
  /** Node restarts. */
  restarts: number
  /** Partitions started. */
  partitions: number
  /** Partitions healed. */
  heals: number
  /** Violations reported. */
  violations: number
  /** Nodes added. */
  nodes: number
  /** Nodes running now. */
  aliveNodes: number
}

/** The mutable counters behind {@link SimulationStats}. */
export interface StatsCounters {
  messages: MessageStats
  drops: Record<DropReason, number>
  crashes: number
  restarts: number
  partitions: number
  heals: number
}

/** Fresh counters, with keys in a fixed order so snapshots serialise identically. */
export function createCounters(): StatsCounters {
  return {
    messages: {
      sent: 0,
      delivered: 0,
      dropped: 0,
      duplicated: 0,
      rejected: 0,
      handlerErrors: 0,
      disconnects: 0,
    },
    drops: {
      random: 0,
      partition: 0,
      'receiver-down': 0,
      disconnected: 0,
      'too-large': 0,
      'no-subscriber': 0,
      'late-response': 0,
    },
    crashes: 0,
    restarts: 0,
    partitions: 0,
    heals: 0,
  }
}
