import { libp2pTransport, peerIdFromEd25519Seed } from '@metanode/transport-libp2p'

// A node's identity is its Ed25519 node key: a 32-byte seed to keep secret.
const aliceKey = crypto.getRandomValues(new Uint8Array(32))
const bobKey = crypto.getRandomValues(new Uint8Array(32))

// By default a node listens on an ephemeral port of 127.0.0.1.
const alice = libp2pTransport({ privateKey: aliceKey })()
await alice.start()

// Bob joins through Alice's address. Peer ids derive from keys, so validators map to peers.
const bob = libp2pTransport({ privateKey: bobKey, bootstrap: alice.multiaddrs() })()
const connected = new Promise((resolve) => bob.on('peer:connect', resolve))
await bob.start()
await connected
console.log(bob.peers()[0] === peerIdFromEd25519Seed(aliceKey)) // true

// Alice judges what arrives on a topic; 'reject' would count against the sender.
const delivered = new Promise<string>((resolve) => {
  alice.subscribe('txs', (message) => {
    resolve(`${message.kind}: ${new TextDecoder().decode(message.data)}`)
    return message.data.length > 0 ? 'accept' : 'reject'
  })
})
await bob.send(alice.peerId, 'txs', new TextEncoder().encode('hello'))
console.log(await delivered) // direct: hello

// Request/response: Bob answers on a protocol of his choosing.
bob.handle('status/1', async ({ from }) => new TextEncoder().encode(`hello ${from.slice(0, 8)}`))
const answer = await alice.request(bob.peerId, 'status/1', new Uint8Array())
console.log(new TextDecoder().decode(answer)) // hello 12D3KooW

await bob.stop()
await alice.stop()
