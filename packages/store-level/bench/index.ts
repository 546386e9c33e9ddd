// `pnpm bench` for @metanode/store-level: LevelStore next to raw classic-level in the same
// process and run, written to BENCHMARKS.md. BENCH_CASE_MS sets the time spent on each case.
//
// Each case alternates short chunks of raw classic-level and of LevelStore (each on its own
// database in a temporary directory) and reports the median ops/s of each side's chunks: on a
// small machine LevelDB's compactions and the thread pool make throughput drift by tens of
// percent within a second, and fine interleaving makes the drift hit both sides alike.
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import type { Store } from '@metanode/core'
import { ClassicLevel } from 'classic-level'
import { levelStore } from '../src/index.js'

const CASE_MS = Number(process.env.BENCH_CASE_MS ?? 5000)
const TARGET_RATIO = 0.9
const PREFILL = 20_000
const VALUE = new Uint8Array(100).fill(7)

type Raw = ClassicLevel<Uint8Array, Uint8Array>

function keyOf(i: number): Uint8Array {
  const key = new Uint8Array(16)
  const view = new DataView(key.buffer)
  view.setUint32(0, 0x6b657973) // 'keys'
  view.setFloat64(8, i)
  return key
}

/** One operation measured on both sides; `run` performs `n` operations starting at counter `start`. */
interface Case {
  name: string
  /** Operations per call of `raw`/`ours`, for ops/s. */
  opsPerRun: number
  /** Calls per chunk: a few milliseconds of work. */
  chunk: number
  raw(db: Raw, i: number): Promise<unknown>
  ours(store: Store, i: number): Promise<unknown>
  /** Whether a target applies to this case. */
  target: boolean
}

const batchOperations = (i: number) =>
  Array.from({ length: 100 }, (_, j) => ({
    type: 'put' as const,
    key: keyOf(PREFILL + i * 100 + j),
    value: VALUE,
  }))
// prebuilt so both sides measure the write, not building the operations
const batches = Array.from({ length: 64 }, (_, i) => batchOperations(i))
const getKeys = Array.from({ length: PREFILL }, (_, i) => keyOf(i))
const putKeys = Array.from({ length: 100_000 }, (_, i) => keyOf(PREFILL * 10 + i))

const cases: Case[] = [
  {
    name: 'put (16 B key, 100 B value)',
    opsPerRun: 1,
    chunk: 64,
    raw: (db, i) => db.put(putKeys[i % putKeys.length]!, VALUE),
    ours: (store, i) => store.put(putKeys[i % putKeys.length]!, VALUE),
    target: true,
  },
  {
    name: 'get (existing key)',
    opsPerRun: 1,
    chunk: 64,
    raw: (db, i) => db.get(getKeys[(i * 7919) % PREFILL]!),
    ours: (store, i) => store.get(getKeys[(i * 7919) % PREFILL]!),
    target: true,
  },
  {
    name: 'batch of 100 puts',
    opsPerRun: 1,
    chunk: 8,
    raw: (db, i) => db.batch(batches[i % batches.length]!),
    ours: (store, i) => store.batch(batches[i % batches.length]!),
    target: true,
  },
  {
    name: '64 concurrent puts',
    opsPerRun: 64,
    chunk: 4,
    raw: (db, i) =>
      Promise.all(
        Array.from({ length: 64 }, (_, j) =>
          db.put(putKeys[(i * 64 + j) % putKeys.length]!, VALUE),
        ),
      ),
    ours: (store, i) =>
      Promise.all(
        Array.from({ length: 64 }, (_, j) =>
          store.put(putKeys[(i * 64 + j) % putKeys.length]!, VALUE),
        ),
      ),
    target: false,
  },
  {
    name: 'scan of 1,000 entries',
    opsPerRun: 1000,
    chunk: 2,
    raw: async (db) => {
      let count = 0
      for await (const _ of db.iterator({ gte: getKeys[0]!, limit: 1000 })) count++
      return count
    },
    ours: async (store) => {
      let count = 0
      for await (const _ of store.iterate({ gte: getKeys[0]!, limit: 1000 })) count++
      return count
    },
    target: false,
  },
]

/** Runs `chunk` calls from counter `start`; returns the rate in operations per second. */
async function chunkRate(
  operation: (i: number) => Promise<unknown>,
  start: number,
  chunk: number,
  opsPerRun: number,
): Promise<number> {
  const begin = performance.now()
  for (let i = start; i < start + chunk; i++) await operation(i)
  return (chunk * opsPerRun * 1000) / (performance.now() - begin)
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function prefill(write: (operations: ReturnType<typeof batchOperations>) => Promise<void>) {
  for (let i = 0; i < PREFILL; i += 1000) {
    await write(
      Array.from({ length: 1000 }, (_, j) => ({
        type: 'put' as const,
        key: keyOf(i + j),
        value: VALUE,
      })),
    )
  }
}

const root = await mkdtemp(join(tmpdir(), 'metanode-store-level-bench-'))
const rows: string[] = []
const targets: string[] = []
try {
  const raw: Raw = new ClassicLevel<Uint8Array, Uint8Array>(join(root, 'raw'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  })
  await raw.open()
  const ours = levelStore({ location: join(root, 'ours') })()
  await ours.open()
  await prefill((operations) => raw.batch(operations))
  await prefill((operations) => ours.batch(operations))

  for (const benchCase of cases) {
    const rawRates: number[] = []
    const ourRates: number[] = []
    const { chunk, opsPerRun } = benchCase
    const runRaw = (i: number) => benchCase.raw(raw, i)
    const runOurs = (i: number) => benchCase.ours(ours, i)
    // warm-up, not recorded
    for (let i = 0; i < 20; i++) {
      await chunkRate(runRaw, i * chunk, chunk, opsPerRun)
      await chunkRate(runOurs, i * chunk, chunk, opsPerRun)
    }
    const end = performance.now() + CASE_MS
    for (let c = 0; performance.now() < end; c++) {
      // alternate which side goes first, so neither always runs in the other's wake
      const start = c * chunk
      if (c % 2 === 0) {
        rawRates.push(await chunkRate(runRaw, start, chunk, opsPerRun))
        ourRates.push(await chunkRate(runOurs, start, chunk, opsPerRun))
      } else {
        ourRates.push(await chunkRate(runOurs, start, chunk, opsPerRun))
        rawRates.push(await chunkRate(runRaw, start, chunk, opsPerRun))
      }
    }
    const rawRate = median(rawRates)
    const ourRate = median(ourRates)
    const ratio = ourRate / rawRate
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
    rows.push(
      `| ${benchCase.name} | ${fmt(rawRate)} | ${fmt(ourRate)} | ${(ratio * 100).toFixed(1)}% |`,
    )
    console.log(`${benchCase.name}: raw ${fmt(rawRate)} ops/s, ours ${fmt(ourRate)} ops/s`)
    if (benchCase.target) {
      const verdict = ratio >= TARGET_RATIO ? 'PASS' : 'FAIL'
      targets.push(
        `${verdict} ${benchCase.name}: LevelStore at ${(ratio * 100).toFixed(1)}% of raw classic-level (target >= ${TARGET_RATIO * 100}%)`,
      )
    }
  }
  await raw.close()
  await ours.close()
} finally {
  await rm(root, { recursive: true, force: true })
}

const cpu = cpus()
const lines = [
  '# @metanode/store-level benchmarks',
  '',
  `Written by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${release()}, Node ${process.version}.`,
  '',
  `Each case runs for ${CASE_MS / 1000} s, alternating short chunks (a few ms) of raw classic-level 3.0.0 ` +
    '(`view` encodings, no checks) and of LevelStore, each on its own database of ' +
    `${PREFILL.toLocaleString('en-US')} prefilled entries in a temporary directory, one operation at a time ` +
    "unless stated. Figures are the medians of each side's chunk rates, in operations (entries for " +
    'scans) per second. Writes are not fsynced (`sync: false`, the default of both).',
  '',
  '## Targets',
  '',
  ...targets.map((t) => `- ${t}`),
  '',
  '## Results',
  '',
  '| operation | classic-level ops/s | LevelStore ops/s | LevelStore / raw |',
  '|---|---:|---:|---:|',
  ...rows,
  '',
  'LevelStore adds input checks, error mapping, Buffer-to-Uint8Array wrapping and the write queue',
  'that keeps unawaited writes in call order; with many writes in flight the queue commits them as',
  'one LevelDB batch, which is why the concurrent case can beat raw classic-level.',
  '',
]
const out = new URL('../BENCHMARKS.md', import.meta.url)
writeFileSync(out, lines.join('\n'))
console.log(`\nwrote ${out.pathname}`)
for (const t of targets) console.log(t)
