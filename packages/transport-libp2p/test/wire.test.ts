// A raw libp2p node speaks our protocols byte by byte, to check what the transport does with
// frames a well-behaved transport never sends.
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { PeerId } from '@metanode/core'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pInit } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import type { Libp2pTransport } from '../src/index.js'
import { LIBP2P_PROTOCOLS } from '../src/index.js'
import { ensurePromiseWithResolvers } from '../src/node-compat.js'
import { Network, waitFor } from './helpers.js'

const network = new Network()
const rawNodes: Libp2p[] = []
afterEach(async () => {
  await Promise.allSettled(rawNodes.splice(0).map((node) => node.stop()))
  await network.stopAll()
})

async function rawNode(): Promise<Libp2p> {
  ensurePromiseWithResolvers()
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux() as unknown as NonNullable<Libp2pInit['streamMuxers']>[number]],
    services: { identify: identify() },
  })
  rawNodes.push(node)
  return node
}

/** A transport that disconnects at the first penalty, and a raw node connected to it. */
async function judgeAndRaw(
  requestTimeoutMs = 10_000,
): Promise<{ judge: Libp2pTransport; raw: Libp2p; disconnects: PeerId[] }> {
  const judge = await network.add({ rejectThreshold: 1, maxMessageBytes: 1024, requestTimeoutMs })
  const disconnects: PeerId[] = []
  judge.on('peer:disconnect', ({ peer }) => disconnects.push(peer))
  const raw = await rawNode()
  await raw.dial(multiaddr(judge.multiaddrs()[0]!))
  await waitFor(() => judge.peers().includes(raw.peerId.toString()), 'raw node connected')
  return { judge, raw, disconnects }
}

function closed(stream: Stream): Promise<void> {
  if (stream.status !== 'open') return Promise.resolve()
  return new Promise((resolve) => stream.addEventListener('close', () => resolve()))
}

describe('wire protocol misbehaviour', () => {
  it('penalises a direct frame whose topic is not a valid name', async () => {
    const { judge, raw, disconnects } = await judgeAndRaw()
    const delivered: unknown[] = []
    judge.subscribe('ok', (message) => {
      delivered.push(message)
      return 'accept'
    })
    const stream = await raw.dialProtocol(
      multiaddr(judge.multiaddrs()[0]!),
      LIBP2P_PROTOCOLS.direct,
    )
    // frame length 4, label length 2, label 'OK' (uppercase: not a topic), one data byte
    stream.send(Uint8Array.of(4, 2, 0x4f, 0x4b, 1))
    await waitFor(() => disconnects.length === 1, 'sender disconnected')
    expect(disconnects).toEqual([raw.peerId.toString()])
    expect(delivered).toEqual([])
  })

  it('resets a request stream as soon as its length prefix exceeds the limit', async () => {
    const { judge, raw, disconnects } = await judgeAndRaw()
    judge.handle('echo', async ({ data }) => data)
    const stream = await raw.dialProtocol(
      multiaddr(judge.multiaddrs()[0]!),
      LIBP2P_PROTOCOLS.request,
    )
    // a prefix announcing 100 MB, with no body: refused without waiting for the bytes
    stream.send(Uint8Array.of(0x80, 0xc2, 0xd7, 0x2f))
    await closed(stream)
    await waitFor(() => disconnects.length === 1, 'sender disconnected')
    expect(disconnects).toEqual([raw.peerId.toString()])
  })

  it('closes a request stream that never delivers a whole request', async () => {
    const { judge, raw } = await judgeAndRaw(200)
    judge.handle('echo', async ({ data }) => data)
    const stream = await raw.dialProtocol(
      multiaddr(judge.multiaddrs()[0]!),
      LIBP2P_PROTOCOLS.request,
    )
    // half a frame, then silence
    stream.send(Uint8Array.of(10, 4))
    await closed(stream)
    expect(stream.status).not.toBe('open')
    // stalling is not misbehaviour that costs the connection
    expect(judge.peers()).toContain(raw.peerId.toString())
  })

  it('refuses an oversized answer and penalises the responder', async () => {
    const { judge, raw, disconnects } = await judgeAndRaw()
    await raw.handle(LIBP2P_PROTOCOLS.request, (stream) => {
      // an answer frame announcing 2 KiB, over the requester's 1 KiB limit
      stream.send(Uint8Array.of(0x80, 0x10, 0))
    })
    await expect(judge.request(raw.peerId.toString(), 'echo', Uint8Array.of(1))).rejects.toThrow(
      expect.objectContaining({ name: 'MessageTooLargeError' }),
    )
    await waitFor(() => disconnects.length === 1, 'responder disconnected')
    expect(disconnects).toEqual([raw.peerId.toString()])
  })
})
