// The shared Transport compliance suite, over real libp2p nodes on loopback TCP.
import { transportSuite } from '@metanode/core/compliance'
import { type Libp2pTransport, libp2pTransport } from '../src/index.js'
import { nextSeed, pause, waitFor } from './helpers.js'

transportSuite('libp2pTransport over loopback TCP', async (count) => {
  const transports: Libp2pTransport[] = []
  try {
    // each node bootstraps from the ones started before it, so a node that restarts (on a new
    // ephemeral port) finds its way back to the others
    for (let index = 0; index < count; index++) {
      const bootstrap = transports.map((transport) => transport.multiaddrs()[0]!)
      const transport = libp2pTransport({ privateKey: nextSeed(), bootstrap })()
      transports.push(transport)
      await transport.start()
    }
    await waitFor(
      () => transports.every((transport) => transport.peers().length === count - 1),
      'every node connected to every other',
    )
  } catch (error) {
    await Promise.allSettled(transports.map((transport) => transport.stop()))
    throw error
  }
  return {
    transports,
    // loopback delivers in well under a millisecond; this leaves room for a stray duplicate
    settle: () => pause(300),
  }
})
