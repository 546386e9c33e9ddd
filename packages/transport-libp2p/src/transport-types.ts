import type { Clock, Logger, PeerId, Transport } from '@metanode/core'

/** Configuration of {@link libp2pTransport}. */
export interface Libp2pTransportInit {
  /** The node key: a 32-byte Ed25519 seed. The peer id is derived from its public key. */
  privateKey: Uint8Array
  /** Multiaddrs to listen on; default `['/ip4/127.0.0.1/tcp/0']` (an ephemeral loopback port). */
  listen?: string[]
  /** Multiaddrs of peers to connect to and keep connected, each ending in `/p2p/<peer id>`. */
  bootstrap?: string[]
  /** Largest payload of a message, request or answer, in bytes; default 1 MiB, at most 16 MiB. */
  maxMessageBytes?: number
  /** Rejected messages within `rejectWindowMs` after which a peer is disconnected and denied; default 10, at most 10,000. */
  rejectThreshold?: number
  /** Default deadline of `request` and of a stalled inbound request, in milliseconds; default 10 s. */
  requestTimeoutMs?: number
  /** How long a peer that reached `rejectThreshold` is refused, in milliseconds; default 5 minutes. */
  denyDurationMs?: number
  /** How long a rejected message counts against its sender, in milliseconds; default 60 s. */
  rejectWindowMs?: number
}

/** The components a {@link libp2pTransport} uses; all optional. */
export interface Libp2pTransportComponents {
  /** Receives the transport's own events (peers, penalties); libp2p's internal logs are not routed here. */
  logger?: Logger
  /** Time source for request deadlines, penalty decay and denial expiry. */
  clock?: Clock
}

/** A `Transport` (from `@metanode/core`) on libp2p, with the connection management a node needs. */
export interface Libp2pTransport extends Transport {
  /** The addresses this node listens on, each ending in `/p2p/<peer id>`; empty when stopped. */
  multiaddrs(): string[]
  /**
   * Connects to the peer at `address` and resolves with its peer id.
   *
   * @throws InvalidArgumentError when `address` is not a valid multiaddr.
   * @throws PeerUnreachableError when the peer cannot be reached or is denied.
   */
  dial(address: string): Promise<PeerId>
  /**
   * The connected peers known to subscribe to `topic` that a `publish` from this node reaches
   * directly now. Subscriptions are learnt from the peers' gossipsub announcements, so one made
   * elsewhere shows up here shortly after. Empty when stopped.
   */
  subscribers(topic: string): PeerId[]
  /**
   * The peers this node forwards `topic` gossip to (its gossipsub mesh). Gossipsub builds the
   * mesh on its heartbeat, about a second after a subscription; until then a publish reaches
   * only the subscribers this node is connected to directly. For diagnostics and tests.
   */
  meshPeers(topic: string): PeerId[]
  /** Closes every connection to `peer` (it may connect again). */
  hangUp(peer: PeerId): Promise<void>
}
