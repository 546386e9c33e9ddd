/**
 * Metanode's `Transport` on js-libp2p: TCP, Noise, Yamux, gossipsub for topics, a
 * length-prefixed stream protocol for direct messages and request/response. The peer id is
 * derived from the node's Ed25519 key. Rejected messages lower the sender's gossipsub score, and
 * a peer whose messages are rejected repeatedly is disconnected and refused for a while.
 *
 * @example
 * ```ts
 * import { libp2pTransport, peerIdFromEd25519Seed } from '@metanode/transport-libp2p'
 *
 * const seed = new Uint8Array(32).fill(7) // the node key; keep it secret
 * const transport = libp2pTransport({ privateKey: seed })()
 * await transport.start()
 * transport.peerId === peerIdFromEd25519Seed(seed) // true
 * transport.subscribe('blocks', (message) => (message.data.length > 0 ? 'accept' : 'reject'))
 * console.log(transport.multiaddrs()) // ['/ip4/127.0.0.1/tcp/40517/p2p/12D3KooW...']
 * await transport.stop()
 * ```
 *
 * @module
 */
export {
  LIBP2P_PROTOCOLS,
  LIBP2P_TRANSPORT_DEFAULTS,
  libp2pTransport,
} from './libp2p-transport.js'
export { peerIdFromEd25519Seed, peerIdFromPublicKey, publicKeyFromPeerId } from './peer-id.js'
export type {
  Libp2pTransport,
  Libp2pTransportComponents,
  Libp2pTransportInit,
} from './transport-types.js'
