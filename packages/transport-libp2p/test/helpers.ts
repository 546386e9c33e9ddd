// Shared set-up of the integration tests: real libp2p nodes on loopback TCP.
import { type Libp2pTransport, type Libp2pTransportInit, libp2pTransport } from '../src/index.js'

let seedCounter = 0

/** A fresh node key; distinct across the whole test run. */
export function nextSeed(): Uint8Array {
  seedCounter += 1
  const seed = new Uint8Array(32)
  globalThis.crypto.getRandomValues(seed)
  new DataView(seed.buffer).setUint32(0, seedCounter)
  return seed
}

/** Resolves once `condition` holds, polling; rejects with `message` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  message: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${message}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** Sleeps; used only to give a message that must NOT arrive the chance to do so. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Tracks transports so every test can stop all it started. */
export class Network {
  readonly transports: Libp2pTransport[] = []

  /** Creates and starts a transport on 127.0.0.1 with an ephemeral port. */
  async add(init: Partial<Libp2pTransportInit> = {}): Promise<Libp2pTransport> {
    const transport = libp2pTransport({ privateKey: nextSeed(), ...init })()
    this.transports.push(transport)
    await transport.start()
    return transport
  }

  /** Creates `count` started transports, each connected to every other. */
  async mesh(count: number, init: Partial<Libp2pTransportInit> = {}): Promise<Libp2pTransport[]> {
    const nodes: Libp2pTransport[] = []
    for (let index = 0; index < count; index++) nodes.push(await this.add(init))
    await connectAll(nodes)
    return nodes
  }

  /** Stops every transport created so far. */
  async stopAll(): Promise<void> {
    const results = await Promise.allSettled(this.transports.map((transport) => transport.stop()))
    this.transports.length = 0
    const failure = results.find((result) => result.status === 'rejected')
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason
  }
}

/** Dials every pair once and waits until each node lists all the others as peers. */
export async function connectAll(nodes: readonly Libp2pTransport[]): Promise<void> {
  for (let later = 1; later < nodes.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      await nodes[later]!.dial(nodes[earlier]!.multiaddrs()[0]!)
    }
  }
  await waitFor(
    () => nodes.every((node) => node.peers().length >= nodes.length - 1),
    'every node connected to every other',
  )
}

/** Waits until every node in `publishers` knows that each of `subscribers` subscribes to `topic`. */
export async function waitForSubscribers(
  publishers: readonly Libp2pTransport[],
  subscribers: readonly Libp2pTransport[],
  topic: string,
): Promise<void> {
  await waitFor(
    () =>
      publishers.every((publisher) =>
        subscribers.every(
          (subscriber) =>
            subscriber === publisher || publisher.subscribers(topic).includes(subscriber.peerId),
        ),
      ),
    `subscriptions to ${topic} propagated`,
  )
}
