/**
 * The end-to-end benchmark (`pnpm bench:e2e`): a 4-validator devnet in a temporary directory,
 * `bench tps` at a fixed offered load for about 60 s, and `BENCHMARKS.md` at the repository root
 * with the machine, the figures, where the CPU went, and PASS/FAIL against the targets (1,250
 * finalized transfers per second sustained for 60 s, p99 finality under 1 s).
 *
 * Run after building: `node examples/reference-node/dist/src/bench-e2e.js [--duration-s 60]
 * [--rate 1313] [--validators 4] [--accounts 2000] [--profile] [--out FILE] [--keep]`.
 *
 * @example
 * ```ts
 * import { renderBenchmarks, runBenchE2e } from './bench-e2e.js'
 *
 * const result = await runBenchE2e({ durationS: 10 })
 * console.log(renderBenchmarks(result))
 * ```
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type BenchTpsReport, benchTps, percentile } from './bench-tps.js'
import { ApiClient } from './client.js'
import { startDevnet } from './devnet.js'

/** The issue's targets. */
export const E2E_TARGETS = {
  /** Finalized transfers per second. */
  tps: 1_250,
  /** For at least this long, in seconds. */
  durationS: 60,
  /** p99 finality latency below this, in ms. */
  p99FinalityMs: 1_000,
} as const

/** Options of {@link runBenchE2e}. */
export interface BenchE2eOptions {
  /** Validator processes (default 4). */
  validators?: number
  /** Seconds of offered load (default 60). */
  durationS?: number
  /**
   * Offered load in transfers per second (default 1,313: 5% above the target, because the
   * measured rate divides by the time until the last finality, which includes one finality
   * latency after the last submission).
   */
  rate?: number
  /** Funded accounts the transfers are spread over (default 2,000). */
  accounts?: number
  /** Submit requests in flight (default 8). */
  concurrency?: number
  /** Transactions per request (default 250). */
  batch?: number
  /** Pause between blocks in ms (default 100). */
  blockPeriodMs?: number
  /** Record a CPU profile of every node (`--cpu-prof`) and summarize where the time went. */
  profile?: boolean
  /** Keep the devnet directory instead of deleting it. */
  keep?: boolean
  /** Progress and notes (default stderr). */
  log?: (line: string) => void
}

/** CPU time of one process over the measured interval. */
export interface ProcessCpu {
  /** What the process is (`node 0`, `bench client`). */
  name: string
  /** User + system CPU seconds. */
  cpuSeconds: number
}

/** A function's share of the profiled CPU time. */
export interface ProfileEntry {
  /** Function name and source location. */
  location: string
  /** Self time summed over all nodes, in ms. */
  selfMs: number
  /** Share of all non-idle profiled time, 0..1. */
  share: number
}

/** What {@link runBenchE2e} measured. */
export interface BenchE2eResult {
  /** When it ran (ISO 8601). */
  date: string
  /** The machine. */
  machine: {
    /** The first core's model name. */
    cpuModel: string
    /** Logical cores (`os.cpus().length`). */
    cores: number
    /** Total memory, rounded to GiB. */
    memoryGiB: number
    /** The Node.js version. */
    node: string
    /** Platform and architecture. */
    platform: string
  }
  /** The settings used. */
  settings: Required<Omit<BenchE2eOptions, 'log' | 'keep' | 'profile'>> & { profile: boolean }
  /** The load generator's report. */
  report: BenchTpsReport
  /** CPU seconds per process during the load (empty where /proc is unavailable). */
  cpu: ProcessCpu[]
  /** Wall time of the load phase, in seconds. */
  wallSeconds: number
  /** The heaviest functions by self time, when profiled. */
  profile: ProfileEntry[]
  /** Verdicts against {@link E2E_TARGETS}. */
  verdict: { throughput: boolean; sustained: boolean; finality: boolean; complete: boolean }
}

/** The repository root: the nearest directory above this file with `pnpm-workspace.yaml`. */
export function repositoryRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`)
    dir = parent
  }
}

/** User + system CPU seconds of process `pid` from /proc, or `undefined` where unavailable. */
async function processCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    // Linux reports in USER_HZ, 100 on every mainstream configuration.
    return Number.isFinite(ticks) ? ticks / 100 : undefined
  } catch {
    return undefined
  }
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  samples: number[]
  timeDeltas: number[]
}

/** Sums self time per function over `.cpuprofile` files; the `top` heaviest first. */
export async function summarizeProfiles(dir: string, top = 15): Promise<ProfileEntry[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.cpuprofile'))
  const selfMs = new Map<string, number>()
  let totalMs = 0
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile
    const where = new Map<number, string>()
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame
      const source =
        url === ''
          ? ''
          : ` ${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/(packages|examples)\//, '$1/')}:${lineNumber + 1}`
      where.set(node.id, `${functionName || '(anonymous)'}${source}`)
    }
    profile.samples.forEach((id, index) => {
      const location = where.get(id) ?? '(unknown)'
      // Idle samples are time the node waited: shares are of the time it worked.
      if (location.startsWith('(idle)')) return
      const ms = (profile.timeDeltas[index] ?? 0) / 1_000
      selfMs.set(location, (selfMs.get(location) ?? 0) + ms)
      totalMs += ms
    })
  }
  return [...selfMs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([location, ms]) => ({
      location,
      selfMs: Math.round(ms),
      share: totalMs > 0 ? ms / totalMs : 0,
    }))
}

/** Starts a devnet, runs the load, stops the devnet, and returns the figures. */
export async function runBenchE2e(options: BenchE2eOptions = {}): Promise<BenchE2eResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const settings = {
    validators: options.validators ?? 4,
    durationS: options.durationS ?? E2E_TARGETS.durationS,
    rate: options.rate ?? Math.ceil(E2E_TARGETS.tps * 1.05),
    accounts: options.accounts ?? 2_000,
    concurrency: options.concurrency ?? 8,
    batch: options.batch ?? 250,
    blockPeriodMs: options.blockPeriodMs ?? 100,
    profile: options.profile === true,
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'bpci-bench-e2e-'))
  const profileDir = join(dataDir, 'profiles')
  const basePort = 21_000 + Math.floor(Math.random() * 20_000)
  log(`devnet: ${settings.validators} validators in ${dataDir}, API ports from ${basePort}`)
  const removeDataDir = async () => {
    if (options.keep === true) log(`kept ${dataDir}`)
    else await rm(dataDir, { recursive: true, force: true })
  }
  const devnet = await startDevnet({
    dataDir,
    validators: settings.validators,
    basePort,
    accounts: settings.accounts,
    blockPeriodMs: settings.blockPeriodMs,
    ...(settings.profile ? { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    onExit: (exit) =>
      log(`node ${exit.index} died (${exit.signal ?? exit.code}):\n${exit.logTail}`),
  }).catch(async (error: unknown) => {
    await removeDataDir()
    throw error
  })
  try {
    const client = new ApiClient(devnet.endpoints[0]!)
    // Let the nodes connect and finalize a few empty blocks before the load starts.
    const deadline = Date.now() + 60_000
    while ((await client.status()).blockchain_state.current_block_height < 3) {
      if (Date.now() > deadline) throw new Error('the devnet finalizes no blocks')
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    const pids = devnet.pids()
    const cpuOfNodes = () =>
      Promise.all(pids.map((pid) => (pid === undefined ? undefined : processCpuSeconds(pid))))
    // CPU and wall time count from the first submission: reading nonces and signing come before.
    let before: (number | undefined)[] = []
    let benchBefore = process.cpuUsage()
    let startedAt = performance.now()
    const report = await benchTps({
      apis: devnet.endpoints,
      dataDir,
      // One batch more, so the last one is due when the duration is over.
      count: settings.rate * settings.durationS + settings.batch,
      concurrency: settings.concurrency,
      batch: settings.batch,
      rate: settings.rate,
      log,
      onLoadStart: async () => {
        before = await cpuOfNodes()
        benchBefore = process.cpuUsage()
        startedAt = performance.now()
      },
    })
    const wallSeconds = (performance.now() - startedAt) / 1_000
    const after = await cpuOfNodes()
    const benchCpu = process.cpuUsage(benchBefore)
    const cpu: ProcessCpu[] = []
    pids.forEach((_, index) => {
      const start = before[index]
      const end = after[index]
      if (start !== undefined && end !== undefined) {
        cpu.push({ name: `node ${index}`, cpuSeconds: end - start })
      }
    })
    cpu.push({ name: 'bench client', cpuSeconds: (benchCpu.user + benchCpu.system) / 1e6 })
    await devnet.stop()
    const profile = settings.profile ? await summarizeProfiles(profileDir) : []
    const cores = cpus()
    return {
      date: new Date().toISOString(),
      machine: {
        cpuModel: cores[0]?.model.trim() ?? 'unknown',
        cores: cores.length,
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      settings,
      report,
      cpu,
      wallSeconds,
      profile,
      verdict: {
        throughput: report.tps >= E2E_TARGETS.tps,
        sustained: report.spanMs >= E2E_TARGETS.durationS * 1_000,
        finality: report.finality_ms.p99 < E2E_TARGETS.p99FinalityMs && report.finalized > 0,
        complete: report.finalized === report.signed,
      },
    }
  } finally {
    await devnet.stop()
    await removeDataDir()
  }
}

const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL')

/** The steady part of a per-second series: without the first and last 3 seconds. */
function steady(series: readonly number[]): number[] {
  return series.length > 8 ? series.slice(3, -3) : [...series]
}

/** Renders `BENCHMARKS.md`. */
export function renderBenchmarks(result: BenchE2eResult): string {
  const { report, machine, settings, verdict } = result
  const perSecond = steady(report.finalizedPerSecond).sort((a, b) => a - b)
  const offered = report.submitMs > 0 ? (report.signed * 1_000) / report.submitMs : 0
  const totalCpu = result.cpu.reduce((sum, entry) => sum + entry.cpuSeconds, 0)
  const capacity = machine.cores * result.wallSeconds
  const overall = verdict.throughput && verdict.sustained && verdict.finality && verdict.complete
  const lines = [
    '# End-to-end benchmark',
    '',
    'Generated by `pnpm bench:e2e` (examples/reference-node/src/bench-e2e.ts): a devnet of',
    `${settings.validators} validator processes (\`bpci node start\`: LevelDB, libp2p on loopback,`,
    'HTTP API) and `bpci bench tps` in the same machine, offering signed transfers at a fixed',
    "rate spread over the nodes and following finality on node 0's event stream. Finality of a",
    'transaction = its `finalized` event − the moment its submit request was sent; tps =',
    'finalized / (last finality − first submission).',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    `| date | ${result.date} |`,
    `| CPU | ${machine.cpuModel} |`,
    `| cores (os.cpus()) | ${machine.cores} |`,
    `| memory | ${machine.memoryGiB} GiB |`,
    `| Node.js | ${machine.node} (${machine.platform}) |`,
    '',
    '## Settings',
    '',
    '| | |',
    '| --- | --- |',
    `| validators | ${settings.validators} |`,
    `| offered load | ${settings.rate} tx/s for ${settings.durationS} s (${report.signed} transfers) |`,
    `| accounts | ${settings.accounts} (nonces in order; each account submits to one node) |`,
    `| requests | ${settings.batch} transactions each, ${settings.concurrency} in flight |`,
    `| block period | ${settings.blockPeriodMs} ms |`,
    `| CPU profiling | ${settings.profile ? 'on (`--cpu-prof` in every node; costs a few %)' : 'off'} |`,
    '',
    '## Results',
    '',
    '| figure | value | target | verdict |',
    '| --- | --- | --- | --- |',
    `| finalized tps | ${report.tps} | ≥ ${E2E_TARGETS.tps} | ${mark(verdict.throughput)} |`,
    `| load span (first submission → last finality) | ${(report.spanMs / 1_000).toFixed(1)} s | ≥ ${E2E_TARGETS.durationS} s | ${mark(verdict.sustained)} |`,
    `| finality p99 | ${report.finality_ms.p99} ms | < ${E2E_TARGETS.p99FinalityMs} ms | ${mark(verdict.finality)} |`,
    `| finalized / signed | ${report.finalized} / ${report.signed} | all | ${mark(verdict.complete)} |`,
    `| **overall** | | | **${mark(overall)}** |`,
    '',
    '| detail | value |',
    '| --- | --- |',
    `| finality p50 | ${report.finality_ms.p50} ms |`,
    `| finality max | ${report.maxFinalityMs} ms |`,
    `| submitted (accepted by a node) | ${report.submitted} |`,
    `| rejected | ${
      Object.entries(report.rejected)
        .map(([code, n]) => `${code}: ${n}`)
        .join(', ') || 'none'
    } |`,
    `| in failed requests | ${report.failed} |`,
    `| achieved offered rate | ${offered.toFixed(0)} tx/s (all submitted in ${(report.submitMs / 1_000).toFixed(1)} s) |`,
    `| finalized per second (steady part) | min ${perSecond[0] ?? 0}, p50 ${percentile(perSecond, 50)}, max ${perSecond.at(-1) ?? 0} |`,
    '',
    '## Where the CPU went',
    '',
    `During the load phase (${result.wallSeconds.toFixed(1)} s wall, ${machine.cores} cores = ${capacity.toFixed(0)} CPU-seconds available):`,
    '',
    '| process | CPU seconds | share of the machine |',
    '| --- | --- | --- |',
    ...result.cpu.map(
      (entry) =>
        `| ${entry.name} | ${entry.cpuSeconds.toFixed(1)} | ${((entry.cpuSeconds / capacity) * 100).toFixed(0)}% |`,
    ),
    `| all | ${totalCpu.toFixed(1)} | ${((totalCpu / capacity) * 100).toFixed(0)}% |`,
    '',
  ]
  if (result.profile.length > 0) {
    lines.push(
      "Heaviest functions by self time, summed over the nodes' CPU profiles:",
      '',
      '| function | self ms | share |',
      '| --- | --- | --- |',
      ...result.profile.map(
        (entry) =>
          `| \`${entry.location}\` | ${entry.selfMs} | ${(entry.share * 100).toFixed(1)}% |`,
      ),
      '',
    )
  }
  return `${lines.join('\n')}\n`
}

async function runFromCommandLine(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'duration-s': { type: 'string' },
      rate: { type: 'string' },
      validators: { type: 'string' },
      accounts: { type: 'string' },
      concurrency: { type: 'string' },
      batch: { type: 'string' },
      'block-period-ms': { type: 'string' },
      profile: { type: 'boolean' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
    },
  })
  const integer = (name: string, value: string | undefined) => {
    if (value === undefined) return undefined
    const parsed = Number(value)
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
      throw new RangeError(`--${name} must be a positive integer`)
    }
    return parsed
  }
  const numbers = {
    durationS: integer('duration-s', values['duration-s']),
    rate: integer('rate', values.rate),
    validators: integer('validators', values.validators),
    accounts: integer('accounts', values.accounts),
    concurrency: integer('concurrency', values.concurrency),
    batch: integer('batch', values.batch),
    blockPeriodMs: integer('block-period-ms', values['block-period-ms']),
  }
  const options: BenchE2eOptions = {
    profile: values.profile === true,
    keep: values.keep === true,
  }
  for (const [key, value] of Object.entries(numbers)) {
    if (value !== undefined) Object.assign(options, { [key]: value })
  }
  const result = await runBenchE2e(options)
  const out =
    values.out === undefined ? join(repositoryRoot(), 'BENCHMARKS.md') : resolve(values.out)
  await writeFile(out, renderBenchmarks(result))
  const { report, verdict } = result
  process.stdout.write(
    `${JSON.stringify({ ...report, finalizedPerSecond: undefined, verdict })}\nwrote ${out}\n`,
  )
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runFromCommandLine().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(
        `bench:e2e failed: ${error instanceof Error ? error.message : String(error)}\n`,
      )
      process.exit(1)
    },
  )
}
