import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMetanodeError } from '@metanode/core'
import { levelStore } from '../src/index.js'

const location = await mkdtemp(join(tmpdir(), 'metanode-chain-'))
const store = levelStore({ location })()
await store.open()

// big-endian heights sort in height order
const height = (n: number) => Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n)
const text = new TextEncoder()

// one atomic write: after a crash both blocks are there, or neither is
await store.batch([
  { type: 'put', key: height(1), value: text.encode('block 1') },
  { type: 'put', key: height(2), value: text.encode('block 2') },
])
const first = await store.get(height(1)) // a plain Uint8Array, never a Buffer

// newest first, from a snapshot taken when the scan starts
const newest: number[] = []
for await (const { key } of store.iterate({ reverse: true, limit: 10 })) {
  newest.push(new DataView(key.buffer).getUint32(0))
}

// one store per directory: a second one is refused while the first is open
const second = levelStore({ location })()
const refused = await second.open().catch((error) => isMetanodeError(error, 'StoreLockedError'))

await store.close()
await rm(location, { recursive: true, force: true })

export { first, newest, refused }
