/**
 * `metanode-sim`: runs a registered scenario from the command line, prints progress to stderr and
 * a summary to stdout, and writes the JSONL trace with `--out`. Exit code 0 when the run is clean,
 * 1 when it found violations, 2 for bad arguments.
 */
import { resolve } from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { LatencyDistribution } from './faults.js'
import type { NetworkOptions } from './network.js'
import { getScenario, listScenarios, type ScenarioParams } from './registry.js'
import type { Seed } from './rng.js'
import type { ScenarioResult } from './scenario.js'
import type { RunProgress } from './simulation.js'
import { FileTraceSink, type TraceSink } from './trace.js'

/** Where the CLI writes; tests capture it, the binary passes the process streams. */
export interface CliOutput {
  /** Receives the summary. */
  stdout: (text: string) => void
  /** Receives progress and errors. */
  stderr: (text: string) => void
}

const USAGE = `Usage: metanode-sim [SCENARIO] [options]

Runs a deterministic cluster simulation. The same options and seed give the same trace.
After a scenario name, options the command does not know (--name VALUE, --name=VALUE, or a bare
--name for true) go to the scenario, like --param name=VALUE.

Options:
  -s, --scenario NAME        scenario to run, also the first positional argument
                             (default: gossip; see --list)
      --seed SEED            integer or string seed (default: 1)
  -n, --nodes N              cluster size (default: 4)
  -d, --duration TIME        virtual duration: 30s, 1500ms, 2m; a bare number is seconds (default: 10s)
      --drop P               message drop probability in [0, 1] (default: 0)
      --latency SPEC         link latency in ms: 20 (fixed), 5-50 (uniform), normal:MEAN:SD,
                             exp:MEAN[:MIN] (default: 1)
      --duplicate P          message duplication probability (default: 0)
      --reorder P            probability a message is held back (default: 0)
      --reorder-delay TIME   largest hold-back delay (default: 50ms)
      --crashes N            random crash-and-restart pairs (default: 0)
      --partition-until TIME split the cluster in two halves until this virtual time
  -o, --out FILE             write the JSONL trace to FILE
  -p, --param KEY=VALUE      scenario-specific setting (repeatable)
      --import MODULE        import a module that registers scenarios (repeatable)
      --json                 print the summary as JSON
  -q, --quiet                no progress output
      --list                 list the registered scenarios
  -h, --help                 show this help
`

class UsageError extends Error {
  override name = 'UsageError'
}

function parseProbability(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new UsageError(`--${name} must be a probability in [0, 1], got ${raw}`)
  }
  return value
}

function parseCount(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be a non-negative integer, got ${raw}`)
  }
  return value
}

/** Parses `30s`, `1500ms`, `2m`, `1h`; a bare number is seconds. */
export function parseDuration(raw: string, name = 'duration'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim())
  if (match === null) throw new UsageError(`--${name} must look like 30s, 1500ms or 2m, got ${raw}`)
  const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms']
  return Math.round(Number(match[1]) * scale)
}

function parseSeed(raw: string | undefined): Seed {
  if (raw === undefined) return 1
  if (/^-?\d+$/.test(raw)) {
    const value = Number(raw)
    if (Number.isSafeInteger(value)) return value
  }
  if (raw.length === 0) throw new UsageError('--seed must not be empty')
  return raw
}

function parseLatency(raw: string | undefined): LatencyDistribution | undefined {
  if (raw === undefined) return undefined
  const number = String.raw`(\d+(?:\.\d+)?)`
  let match = new RegExp(`^${number}$`).exec(raw)
  if (match !== null) return { kind: 'fixed', ms: Number(match[1]) }
  match = new RegExp(`^${number}-${number}$`).exec(raw)
  if (match !== null) {
    const minMs = Number(match[1])
    const maxMs = Number(match[2])
    if (maxMs < minMs) throw new UsageError(`--latency range is reversed: ${raw}`)
    return { kind: 'uniform', minMs, maxMs }
  }
  match = new RegExp(`^normal:${number}:${number}$`).exec(raw)
  if (match !== null) {
    return { kind: 'normal', meanMs: Number(match[1]), stdDevMs: Number(match[2]) }
  }
  match = new RegExp(`^exp:${number}(?::${number})?$`).exec(raw)
  if (match !== null) {
    const meanMs = Number(match[1])
    const minMs = match[2] === undefined ? 0 : Number(match[2])
    if (meanMs < minMs) throw new UsageError(`--latency mean is below its minimum: ${raw}`)
    return { kind: 'exponential', meanMs, minMs }
  }
  throw new UsageError(`--latency must be N, MIN-MAX, normal:MEAN:SD or exp:MEAN[:MIN], got ${raw}`)
}

function parseParams(raw: readonly string[] | undefined): Record<string, string> {
  const params: Record<string, string> = {}
  for (const entry of raw ?? []) {
    const separator = entry.indexOf('=')
    if (separator <= 0) throw new UsageError(`--param must be KEY=VALUE, got ${entry}`)
    params[entry.slice(0, separator)] = entry.slice(separator + 1)
  }
  return params
}

function importSpecifier(specifier: string): string {
  // Paths are relative to where the command runs, not to this file.
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    return pathToFileURL(resolve(process.cwd(), specifier)).href
  }
  return specifier
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`
}

/** A sink that counts the lines passing through to another. */
class CountingSink implements TraceSink {
  lines = 0
  readonly #inner: TraceSink

  constructor(inner: TraceSink) {
    this.#inner = inner
  }

  write(line: string): void {
    this.lines++
    this.#inner.write(line)
  }

  close(): Promise<void> {
    return this.#inner.close?.() ?? Promise.resolve()
  }
}

function summaryLines(
  scenario: string,
  params: ScenarioParams,
  result: ScenarioResult,
  wallMs: number,
  tracePath: string | undefined,
  traceLines: number,
): string[] {
  const { stats } = result
  const drops = Object.entries(stats.drops)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ')
  const rate = wallMs > 0 ? Math.round((stats.events / wallMs) * 1000) : 0
  const lines = [
    `scenario    ${scenario}`,
    `seed        ${String(params.seed)}`,
    `nodes       ${stats.nodes} (${stats.aliveNodes} running at the end)`,
    `virtual     ${formatSeconds(stats.nowMs)}`,
    `events      ${stats.events} (${rate} events/s)`,
    `messages    sent ${stats.messages.sent}, delivered ${stats.messages.delivered}, dropped ${stats.messages.dropped}${drops === '' ? '' : ` (${drops})`}, duplicated ${stats.messages.duplicated}, rejected ${stats.messages.rejected}`,
    `faults      crashes ${stats.crashes}, restarts ${stats.restarts}, partitions ${stats.partitions}, heals ${stats.heals}`,
  ]
  const figures = Object.entries(result.summary)
  if (figures.length > 0) {
    lines.push(`summary     ${figures.map(([key, value]) => `${key}=${value}`).join(' ')}`)
  }
  if (tracePath !== undefined) lines.push(`trace       ${tracePath} (${traceLines} lines)`)
  lines.push(`wall        ${(wallMs / 1000).toFixed(2)}s`)
  lines.push(`violations  ${result.violations.length}`)
  for (const violation of result.violations) {
    const where = violation.node === undefined ? '' : ` [${violation.node}]`
    lines.push(`  t=${formatSeconds(violation.t)}${where} ${violation.message}`)
  }
  return lines
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}

/**
 * Runs the command line `argv` (without the node and script paths) and resolves with the exit
 * code: 0 clean, 1 violations, 2 bad arguments or configuration.
 */
export async function main(argv: string[], output: CliOutput = processOutput): Promise<number> {
  const { stdout, stderr } = output
  let values: ReturnType<typeof parse>['values']
  let positionalScenario: string | undefined
  let passthrough: Record<string, string>
  try {
    const split = splitScenarioOptions(argv)
    passthrough = split.scenarioOptions
    const parsed = parse(split.known)
    values = parsed.values
    if (parsed.positionals.length > 1) {
      throw new UsageError(`unexpected argument ${parsed.positionals[1]}`)
    }
    positionalScenario = parsed.positionals[0]
    const [unknown] = Object.keys(passthrough)
    if (unknown !== undefined && positionalScenario === undefined) {
      throw new UsageError(
        `unknown option --${unknown} (scenario options follow a scenario name: metanode-sim NAME --${unknown} ...)`,
      )
    }
    if (positionalScenario !== undefined && values.scenario !== undefined) {
      if (positionalScenario !== values.scenario) {
        throw new UsageError('the scenario is named twice, differently')
      }
    }
  } catch (error) {
    stderr(`metanode-sim: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.help === true) {
    stdout(USAGE)
    return 0
  }
  try {
    for (const specifier of values.import ?? []) await import(importSpecifier(specifier))
  } catch (error) {
    stderr(`metanode-sim: cannot import: ${(error as Error).message}\n`)
    return 2
  }
  if (values.list === true) {
    for (const scenario of listScenarios()) {
      stdout(`${scenario.name.padEnd(16)} ${scenario.description}\n`)
    }
    return 0
  }

  let params: ScenarioParams
  let sink: CountingSink | undefined
  const scenarioName = positionalScenario ?? values.scenario ?? 'gossip'
  const scenario = getScenario(scenarioName)
  const quiet = values.quiet === true
  try {
    if (scenario === undefined) {
      throw new UsageError(`unknown scenario ${scenarioName} (see --list)`)
    }
    const durationMs = parseDuration(values.duration ?? '10s')
    if (durationMs <= 0) throw new UsageError('--duration must be positive')
    const network: NetworkOptions = {}
    const dropProbability = parseProbability(values.drop, 'drop')
    if (dropProbability !== undefined) network.dropProbability = dropProbability
    const duplicateProbability = parseProbability(values.duplicate, 'duplicate')
    if (duplicateProbability !== undefined) network.duplicateProbability = duplicateProbability
    const reorderProbability = parseProbability(values.reorder, 'reorder')
    if (reorderProbability !== undefined) {
      network.reorderProbability = reorderProbability
      network.reorderDelayMs = parseDuration(values['reorder-delay'] ?? '50ms', 'reorder-delay')
    }
    const latency = parseLatency(values.latency)
    if (latency !== undefined) network.latency = latency
    params = {
      seed: parseSeed(values.seed),
      nodes: parseCount(values.nodes, 'nodes', 4),
      durationMs,
      network,
      crashes: parseCount(values.crashes, 'crashes', 0),
      trace: 'none',
      options: { ...passthrough, ...parseParams(values.param) },
    }
    if (values['partition-until'] !== undefined) {
      params.partitionUntilMs = parseDuration(values['partition-until'], 'partition-until')
    }
    if (values.out !== undefined) {
      sink = new CountingSink(new FileTraceSink(values.out))
      params.trace = sink
    }
  } catch (error) {
    stderr(`metanode-sim: ${(error as Error).message}\n`)
    return 2
  }

  const started = performance.now()
  let lastReport = Number.NEGATIVE_INFINITY
  if (!quiet) {
    params.onProgress = (progress: RunProgress) => {
      const wall = performance.now()
      if (wall - lastReport < 250 && progress.nowMs < params.durationMs) return
      lastReport = wall
      const percent = ((100 * progress.nowMs) / params.durationMs).toFixed(1)
      stderr(
        `[${scenarioName}] ${percent.padStart(5)}%  t=${formatSeconds(progress.nowMs)}  events=${progress.events}\n`,
      )
    }
  }
  let result: ScenarioResult
  try {
    result = await (scenario as NonNullable<typeof scenario>).run(params)
  } catch (error) {
    await sink?.close().catch(() => undefined)
    stderr(`metanode-sim: ${(error as Error).message}\n`)
    return error instanceof TypeError || error instanceof RangeError ? 2 : 1
  }
  const wallMs = performance.now() - started
  if (values.json === true) {
    stdout(
      `${JSON.stringify({
        scenario: scenarioName,
        seed: params.seed,
        stats: result.stats,
        summary: result.summary,
        violations: result.violations,
        trace: values.out ?? null,
        wallMs: Math.round(wallMs),
      })}\n`,
    )
  } else {
    const lines = summaryLines(scenarioName, params, result, wallMs, values.out, sink?.lines ?? 0)
    stdout(`${lines.join('\n')}\n`)
  }
  return result.violations.length > 0 ? 1 : 0
}

const OPTIONS = {
  scenario: { type: 'string', short: 's' },
  seed: { type: 'string' },
  nodes: { type: 'string', short: 'n' },
  duration: { type: 'string', short: 'd' },
  drop: { type: 'string' },
  latency: { type: 'string' },
  duplicate: { type: 'string' },
  reorder: { type: 'string' },
  'reorder-delay': { type: 'string' },
  crashes: { type: 'string' },
  'partition-until': { type: 'string' },
  out: { type: 'string', short: 'o' },
  param: { type: 'string', short: 'p', multiple: true },
  import: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  list: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/**
 * Separates the long options the command does not know (scenario options) from the rest. A
 * scenario option takes the next argument as its value unless that starts with `-` (then it is
 * `true`), or its value after `=`. Everything after `--` is left to the parser.
 */
function splitScenarioOptions(argv: readonly string[]): {
  known: string[]
  scenarioOptions: Record<string, string>
} {
  const known: string[] = []
  const scenarioOptions: Record<string, string> = {}
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string
    if (token === '--') {
      known.push(...argv.slice(index))
      break
    }
    const match = /^--([^=]+)(?:=([\s\S]*))?$/.exec(token)
    if (match === null || Object.hasOwn(OPTIONS, match[1] as string)) {
      known.push(token)
      // a known string option's value may itself start with --, so it is never taken as a name
      const name = match?.[1] as keyof typeof OPTIONS | undefined
      if (name !== undefined && match?.[2] === undefined && OPTIONS[name].type === 'string') {
        if (index + 1 < argv.length) known.push(argv[++index] as string)
      }
      continue
    }
    const name = match[1] as string
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new UsageError(`malformed option ${token}`)
    if (match[2] !== undefined) {
      scenarioOptions[name] = match[2]
    } else {
      const next = argv[index + 1]
      if (next !== undefined && !next.startsWith('-')) {
        scenarioOptions[name] = next
        index++
      } else {
        scenarioOptions[name] = 'true'
      }
    }
  }
  return { known, scenarioOptions }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: OPTIONS,
  })
}
