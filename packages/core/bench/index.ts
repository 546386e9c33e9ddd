// `pnpm bench` for @metanode/core: measures the memory transport, the memory store and the codec,
// and writes BENCHMARKS.md. BENCH_TIME_MS sets the time per case (default 1000).
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import * as dagCbor from '@ipld/dag-cbor'
import { Bench } from 'tinybench'
import {
  cidOf,
  createMemoryNetwork,
  decode,
  decodeAs,
  encode,
  MemoryStore,
  shape,
  type Transport,
} from '../src/index.js'

const benchTime = Number(process.env.BENCH_TIME_MS ?? 1000)

interface Row {
  name: string
  opsPerSecond: number
  note: string
}

interface Target {
  row: string
  minOpsPerSecond: number
}

const sections: { title: string; description: string; rows: Row[] }[] = []
const targets: Target[] = []

const format = (value: number): string =>
  value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)

async function runTinybench(
  title: string,
  description: string,
  cases: Record<string, () => unknown>,
): Promise<void> {
  const bench = new Bench({ time: benchTime, warmupTime: Math.min(200, benchTime / 5) })
  for (const [name, fn] of Object.entries(cases)) bench.add(name, fn)
  await bench.run()
  const rows: Row[] = []
  for (const task of bench.tasks) {
    const result = task.result
    if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`)
    rows.push({
      name: task.name,
      opsPerSecond: result.throughput.mean,
      note: `±${result.throughput.rme.toFixed(1)}%, ${result.latency.samplesCount} samples`,
    })
  }
  sections.push({ title, description, rows })
  console.log(`${title}: done`)
}

// --- memory transport ------------------------------------------------------------------------

async function transportThroughput(): Promise<void> {
  const network = createMemoryNetwork()
  const publisher = network.transport({ peerId: 'publisher' })
  const subscribers: Transport[] = [1, 2, 3].map((i) => network.transport({ peerId: `sub-${i}` }))
  for (const transport of [publisher, ...subscribers]) await transport.start()
  let delivered = 0
  for (const subscriber of subscribers) {
    subscriber.subscribe('bench', () => {
      delivered++
      return 'accept'
    })
  }
  const payload = new Uint8Array(1024).fill(7)
  const burst = 1000
  // warm-up
  for (let i = 0; i < burst; i++) await publisher.publish('bench', payload)
  await network.settle()
  delivered = 0
  let published = 0
  const started = performance.now()
  while (performance.now() - started < benchTime) {
    for (let i = 0; i < burst; i++) await publisher.publish('bench', payload)
    published += burst
    await network.settle()
  }
  const seconds = (performance.now() - started) / 1000
  if (delivered !== published * subscribers.length) {
    throw new Error(`lost messages: ${delivered} of ${published * subscribers.length}`)
  }
  for (const transport of [publisher, ...subscribers]) await transport.stop()

  let answered = 0
  const requestNetwork = createMemoryNetwork()
  const client = requestNetwork.transport()
  const server = requestNetwork.transport()
  await client.start()
  await server.start()
  server.handle('bench/echo', async ({ data }) => data)
  const requestStarted = performance.now()
  while (performance.now() - requestStarted < benchTime) {
    await Promise.all(
      Array.from({ length: 100 }, () => client.request(server.peerId, 'bench/echo', payload)),
    )
    answered += 100
  }
  const requestSeconds = (performance.now() - requestStarted) / 1000
  await client.stop()
  await server.stop()

  sections.push({
    title: 'Memory transport',
    description:
      'One publisher, three subscribers on one memory network, 1 KiB payloads, bursts of 1,000 ' +
      'publishes followed by `settle()`; every delivery checked. Requests: 100 concurrent 1 KiB ' +
      'echo requests at a time.',
    rows: [
      { name: 'publish to 3 peers (publishes/s)', opsPerSecond: published / seconds, note: '' },
      {
        name: 'publish to 3 peers (deliveries/s)',
        opsPerSecond: delivered / seconds,
        note: `${format((delivered * 1024) / seconds / 2 ** 20)} MiB/s delivered`,
      },
      { name: 'request/response round trips/s', opsPerSecond: answered / requestSeconds, note: '' },
    ],
  })
  targets.push({ row: 'publish to 3 peers (deliveries/s)', minOpsPerSecond: 100_000 })
  console.log('Memory transport: done')
}

// --- memory store ----------------------------------------------------------------------------

function randomKeys(count: number, length: number): Uint8Array[] {
  const keys: Uint8Array[] = []
  for (let i = 0; i < count; i++)
    keys.push(globalThis.crypto.getRandomValues(new Uint8Array(length)))
  return keys
}

async function storeBenchmarks(): Promise<void> {
  const value = new Uint8Array(100).fill(1)
  // reads run against a fixed 10,000-entry store; puts grow a store of their own
  const store = new MemoryStore()
  await store.open()
  const keys = randomKeys(10_000, 16)
  for (const key of keys) await store.put(key, value)
  const growing = new MemoryStore()
  await growing.open()
  for (const key of keys) await growing.put(key, value)
  const extra = randomKeys(1_000_000, 16)
  let putIndex = 0
  let getIndex = 0
  await runTinybench(
    'Memory store',
    'Random 16-byte keys, 100-byte values. Reads use a store of 10,000 entries; `put` inserts ' +
      'new keys into a store that starts with 10,000 entries and grows with each put.',
    {
      'put (new key)': () => growing.put(extra[putIndex++ % extra.length]!, value),
      get: () => store.get(keys[getIndex++ % keys.length]!),
      'has (absent key)': () => store.has(extra[extra.length - 1 - (getIndex++ % 1000)]!),
      'iterate 100 entries (scans/s)': async () => {
        let count = 0
        for await (const _ of store.iterate({ gte: keys[getIndex++ % keys.length]!, limit: 100 })) {
          count++
        }
        return count
      },
    },
  )
  await growing.close()
  await store.close()

  // the sorted array's O(n) insert shift: how fast is a store of 1e5 keys built?
  const large = new MemoryStore()
  await large.open()
  const largeKeys = randomKeys(100_000, 16)
  const started = performance.now()
  for (const key of largeKeys) await large.put(key, value)
  const seconds = (performance.now() - started) / 1000
  const batchStore = new MemoryStore()
  await batchStore.open()
  const batchStarted = performance.now()
  for (let offset = 0; offset < largeKeys.length; offset += 1000) {
    await batchStore.batch(
      largeKeys.slice(offset, offset + 1000).map((key) => ({ type: 'put' as const, key, value })),
    )
  }
  const batchSeconds = (performance.now() - batchStarted) / 1000
  sections.at(-1)?.rows.push(
    {
      name: 'put 100,000 random keys into an empty store',
      opsPerSecond: largeKeys.length / seconds,
      note: `${format(seconds * 1000)} ms in total`,
    },
    {
      name: 'same, as 100 batches of 1,000 puts',
      opsPerSecond: largeKeys.length / batchSeconds,
      note: `${format(batchSeconds * 1000)} ms in total`,
    },
  )
  targets.push({ row: 'put (new key)', minOpsPerSecond: 100_000 })
  targets.push({ row: 'get', minOpsPerSecond: 200_000 })
  targets.push({ row: 'put 100,000 random keys into an empty store', minOpsPerSecond: 50_000 })
}

// --- codec -----------------------------------------------------------------------------------

async function codecBenchmarks(): Promise<void> {
  const hash = (seed: number) => new Uint8Array(32).fill(seed)
  const header = {
    chainId: 'metanode-devnet',
    height: 1_234_567,
    round: 0,
    timestamp: 1_767_225_600_000,
    parent: cidOf({ height: 1_234_566 }),
    proposer: hash(1),
    stateRoot: hash(2),
    transactionsRoot: hash(3),
    receiptsRoot: hash(4),
    validatorsHash: hash(5),
    gasUsed: 2n ** 60n,
    transactionCount: 250,
  }
  const Header = shape.object({
    chainId: shape.string({ max: 64 }),
    height: shape.uint(),
    round: shape.uint(),
    timestamp: shape.uint(),
    parent: shape.cid(),
    proposer: shape.bytes({ length: 32 }),
    stateRoot: shape.bytes({ length: 32 }),
    transactionsRoot: shape.bytes({ length: 32 }),
    receiptsRoot: shape.bytes({ length: 32 }),
    validatorsHash: shape.bytes({ length: 32 }),
    gasUsed: shape.bigint({ min: 0n }),
    transactionCount: shape.uint(),
  })
  const bytes = encode(header)
  await runTinybench(
    'Codec',
    `A block-header-like object: 12 fields, five 32-byte hashes, a CID, a bigint; ` +
      `${bytes.length} bytes encoded. Raw \`@ipld/dag-cbor\` calls for comparison: our \`encode\` ` +
      'adds the data-model walk, our `decode` adds re-encoding to refuse non-canonical input.',
    {
      encode: () => encode(header),
      decode: () => decode(bytes),
      'decodeAs (decode + shape check)': () => decodeAs(bytes, Header),
      cidOf: () => cidOf(header),
      'raw @ipld/dag-cbor encode': () => dagCbor.encode(header),
      'raw @ipld/dag-cbor decode': () => dagCbor.decode(bytes),
    },
  )
  targets.push({ row: 'encode', minOpsPerSecond: 50_000 })
  targets.push({ row: 'decode', minOpsPerSecond: 30_000 })
}

await transportThroughput()
await storeBenchmarks()
await codecBenchmarks()

const results = new Map<string, number>()
for (const section of sections)
  for (const row of section.rows) results.set(row.name, row.opsPerSecond)
const targetLines = targets.map(({ row, minOpsPerSecond }) => {
  const measured = results.get(row) ?? 0
  const verdict = measured >= minOpsPerSecond ? 'PASS' : 'FAIL'
  return `- ${verdict}: ${row} ≥ ${format(minOpsPerSecond)}/s (measured ${format(measured)}/s)`
})

const cpu = cpus()
const lines = [
  '# @metanode/core benchmarks',
  '',
  `Written by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ` +
    `${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.version}, ${process.platform}/${process.arch}, ${benchTime} ms per case.`,
  '',
  '## Targets',
  '',
  ...targetLines,
  '',
]
for (const section of sections) {
  lines.push(
    `## ${section.title}`,
    '',
    section.description,
    '',
    '| case | ops/s | notes |',
    '|---|---:|---|',
  )
  for (const row of section.rows)
    lines.push(`| ${row.name} | ${format(row.opsPerSecond)} | ${row.note} |`)
  lines.push('')
}
const out = new URL('../BENCHMARKS.md', import.meta.url)
writeFileSync(out, lines.join('\n'))
console.log(`\n${targetLines.join('\n')}\nwrote ${out.pathname}`)
