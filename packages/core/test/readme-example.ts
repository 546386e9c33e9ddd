import { createMemoryNetwork, decodeAs, encode, MemoryStore, shape } from '@metanode/core'

// A vote: one canonical DAG-CBOR encoding, checked on the way in.
const Vote = shape.object({ height: shape.uint(), block: shape.bytes({ length: 32 }) })

// Keys sort as unsigned bytes, so big-endian heights iterate in height order.
const heightKey = (height: number) => {
  const key = new Uint8Array(8)
  new DataView(key.buffer).setBigUint64(0, BigInt(height))
  return key
}

const network = createMemoryNetwork()
const alice = network.transport({ peerId: 'alice' })
const bob = network.transport({ peerId: 'bob' })
await alice.start()
await bob.start()

const store = new MemoryStore()
await store.open()

// Bob keeps well-formed votes and rejects (penalises) senders of malformed ones.
bob.subscribe('votes', async (message) => {
  try {
    const vote = decodeAs(message.data, Vote)
    await store.put(heightKey(vote.height), vote.block)
    return 'accept'
  } catch {
    return 'reject'
  }
})

await alice.publish('votes', encode({ height: 7, block: new Uint8Array(32).fill(1) }))
await network.settle()

for await (const { key, value } of store.iterate()) {
  console.log(new DataView(key.buffer).getBigUint64(0), value.length) // 7n 32
}

await alice.stop()
await bob.stop()
await store.close()
