// A small benchmark harness over tinybench: every group measures our API next to the raw library
// calls it wraps, in the same process and run, and renders a Markdown section for BENCHMARKS.md.
import { Bench } from 'tinybench'

/** One measured function. */
export interface BenchCase {
  /** What is measured, e.g. `verify` or `raw blst verify`. */
  name: string
  /** Which implementation: `ours/node`, `raw node:crypto`, `noble`, ... */
  backend: string
  /** The work of one operation. */
  fn: () => unknown
  /** Bytes processed per operation, to report throughput. */
  bytes?: number
}

/** The measured result of one case. */
export interface BenchResult extends BenchCase {
  opsPerSecond: number
  meanMs: number
  p99Ms: number
  samples: number
}

/** A group of cases compared against each other, with the targets it must meet. */
export interface BenchGroup {
  title: string
  /** Optional setup before measuring (e.g. building inputs). */
  setup?: () => unknown
  cases: BenchCase[]
  /** Given the results by `name@backend`, returns target lines such as `PASS our verify within 10% of raw`. */
  targets?: (results: Map<string, BenchResult>) => string[]
}

/** Milliseconds each case runs for; `BENCH_TIME_MS` overrides. */
export const benchTime = Number(process.env.BENCH_TIME_MS ?? 1000)

export async function runGroup(
  group: BenchGroup,
): Promise<{ results: BenchResult[]; targets: string[] }> {
  await group.setup?.()
  const results: BenchResult[] = []
  for (const c of group.cases) {
    const bench = new Bench({ time: benchTime, warmupTime: Math.min(250, benchTime / 4) })
    bench.add(`${c.name}@${c.backend}`, c.fn)
    await bench.run()
    const task = bench.tasks[0]!
    const r = task.result
    if (r === undefined || r.state !== 'completed') {
      throw new Error(
        `benchmark ${c.name}@${c.backend} failed: ${String((r as { error?: unknown })?.error)}`,
      )
    }
    results.push({
      ...c,
      opsPerSecond: r.throughput.mean,
      meanMs: r.latency.mean,
      p99Ms: r.latency.p99 ?? r.latency.max,
      samples: r.latency.samplesCount,
    })
    process.stdout.write(
      `  ${group.title}: ${c.name} [${c.backend}] ${fmt(r.throughput.mean)} ops/s\n`,
    )
  }
  const byKey = new Map(results.map((r) => [`${r.name}@${r.backend}`, r]))
  return { results, targets: group.targets?.(byKey) ?? [] }
}

/** `PASS`/`FAIL` line for a target. */
export function verdict(ok: boolean, text: string): string {
  return `${ok ? 'PASS' : 'FAIL'}: ${text}`
}

/** Looks a result up by `name@backend`, throwing when it is missing so a typo cannot hide a target. */
export function pick(results: Map<string, BenchResult>, key: string): BenchResult {
  const r = results.get(key)
  if (r === undefined) throw new Error(`no benchmark result named ${key}`)
  return r
}

export function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toPrecision(3)
}

export function renderGroup(group: BenchGroup, results: BenchResult[], targets: string[]): string {
  const lines = [
    `## ${group.title}`,
    '',
    '| operation | implementation | ops/s | mean | p99 | throughput |',
    '|---|---|---:|---:|---:|---:|',
  ]
  for (const r of results) {
    const throughput = r.bytes === undefined ? '' : `${fmt((r.opsPerSecond * r.bytes) / 1e6)} MB/s`
    lines.push(
      `| ${r.name} | ${r.backend} | ${fmt(r.opsPerSecond)} | ${fmtMs(r.meanMs)} | ${fmtMs(r.p99Ms)} | ${throughput} |`,
    )
  }
  if (targets.length > 0) {
    lines.push('', ...targets.map((t) => `- ${t}`))
  }
  return lines.join('\n')
}

function fmtMs(ms: number): string {
  if (ms >= 1) return `${ms.toFixed(2)} ms`
  return `${(ms * 1000).toFixed(1)} µs`
}
