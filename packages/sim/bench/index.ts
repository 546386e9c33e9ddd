// Benchmarks of the simulator: the raw event queue, the async run loop that drains node code
// between events, and whole 10-node gossip clusters. Writes packages/sim/BENCHMARKS.md.
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { SeededRng } from '../src/rng.js'
import { gossipScenario } from '../src/scenarios/gossip.js'
import { Scheduler } from '../src/scheduler.js'
import { createSimulation } from '../src/simulation.js'
import { memoryTrace } from '../src/trace.js'

interface Measurement {
  name: string
  unit: string
  /** Best rate over the repetitions, in `unit` per wall-clock second. */
  rate: number
  detail: string
}

const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 5)

async function best(
  repeat: number,
  run: () => Promise<{ count: number; ms: number; detail: string }>,
): Promise<{ rate: number; detail: string }> {
  let top = { rate: 0, detail: '' }
  for (let i = 0; i < repeat; i++) {
    const { count, ms, detail } = await run()
    const rate = (count / ms) * 1000
    if (rate > top.rate) top = { rate, detail }
  }
  return top
}

/** The classic "hold" model: a queue of `size` pending events, each run schedules one more. */
async function schedulerHold(size: number, events: number): Promise<Measurement> {
  const result = await best(REPETITIONS, async () => {
    const scheduler = new Scheduler()
    const rng = new SeededRng(1)
    let remaining = events
    const hold = (): void => {
      if (remaining-- > 0)
        scheduler.schedule(scheduler.now + rng.nextFloat() * 100, hold, undefined)
    }
    for (let i = 0; i < size; i++) scheduler.schedule(rng.nextFloat() * 100, hold, undefined)
    const start = performance.now()
    while (scheduler.runNext()) {}
    const ms = performance.now() - start
    return { count: scheduler.executed, ms, detail: `${scheduler.executed} events` }
  })
  return {
    name: `scheduler hold model, ${size} pending`,
    unit: 'events/s',
    ...result,
  }
}

async function schedulerCancel(events: number): Promise<Measurement> {
  const result = await best(REPETITIONS, async () => {
    const scheduler = new Scheduler()
    const rng = new SeededRng(2)
    const start = performance.now()
    // a consensus round timer pattern: arm, then cancel and re-arm on progress
    let handle = scheduler.schedule(1_000, () => {}, undefined)
    for (let i = 0; i < events; i++) {
      scheduler.cancel(handle)
      handle = scheduler.schedule(scheduler.now + 1_000 + rng.nextFloat(), () => {}, undefined)
      scheduler.schedule(scheduler.now + rng.nextFloat() * 10, () => {}, undefined)
      scheduler.runNext()
    }
    const ms = performance.now() - start
    return { count: events, ms, detail: `${events} arm/cancel/run cycles` }
  })
  return { name: 'scheduler arm + cancel + run', unit: 'cycles/s', ...result }
}

/** The full async run loop with node code (a timer callback) in every event. */
async function simulationLoop(events: number): Promise<Measurement> {
  const result = await best(REPETITIONS, async () => {
    const sim = createSimulation({ seed: 3 })
    let remaining = events
    const tick = (): void => {
      if (remaining-- > 0) sim.clock.setTimeout(tick, 1)
    }
    for (let i = 0; i < 16; i++) sim.clock.setTimeout(tick, i)
    const start = performance.now()
    const run = await sim.runUntil(() => false)
    const ms = performance.now() - start
    return { count: run.events, ms, detail: `${run.events} events, drained after each` }
  })
  return { name: 'simulation run loop (drains node code per event)', unit: 'events/s', ...result }
}

async function gossip(tracing: boolean): Promise<Measurement> {
  const durationMs = 60_000
  const result = await best(Math.min(REPETITIONS, 3), async () => {
    const trace = tracing ? memoryTrace() : 'none'
    const start = performance.now()
    const outcome = await gossipScenario({
      seed: 4,
      nodes: 10,
      durationMs,
      network: { dropProbability: 0.05, latency: { kind: 'uniform', minMs: 5, maxMs: 50 } },
      crashes: 3,
      trace,
      options: {},
    })
    const ms = performance.now() - start
    if (outcome.violations.length > 0) {
      throw new Error(`gossip benchmark run has violations: ${outcome.violations[0]?.message}`)
    }
    const { messages, events } = outcome.stats
    const lines = tracing ? (trace as ReturnType<typeof memoryTrace>).lines.length : 0
    return {
      count: messages.sent,
      ms,
      detail: `${messages.sent} messages, ${events} events, ${durationMs / 1000} virtual s in ${ms.toFixed(0)} ms (${((durationMs / ms) | 0).toLocaleString('en-US')}x real time)${tracing ? `, ${lines} trace lines` : ''}`,
    }
  })
  return {
    name: `10-node gossip cluster, trace ${tracing ? 'in memory' : 'off'}`,
    unit: 'messages/s',
    ...result,
  }
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString('en-US')
}

const targets: { name: string; minimum: number; text: string }[] = [
  {
    name: 'scheduler hold model, 1000 pending',
    minimum: 2_000_000,
    text: 'scheduler runs >= 2,000,000 events/s with 1,000 pending events',
  },
  {
    name: 'simulation run loop (drains node code per event)',
    minimum: 200_000,
    text: 'run loop with per-event draining runs >= 200,000 events/s',
  },
  {
    name: '10-node gossip cluster, trace off',
    minimum: 50_000,
    text: '10-node gossip simulates >= 50,000 messages/s without a trace',
  },
]

async function main(): Promise<void> {
  const measurements: Measurement[] = []
  const record = (measurement: Measurement): void => {
    measurements.push(measurement)
    process.stdout.write(`  ${measurement.name}: ${format(measurement.rate)} ${measurement.unit}\n`)
  }
  record(await schedulerHold(1_000, 2_000_000))
  record(await schedulerHold(100_000, 2_000_000))
  record(await schedulerCancel(1_000_000))
  record(await simulationLoop(300_000))
  record(await gossip(false))
  record(await gossip(true))

  const cpus = os.cpus()
  const lines = [
    '# @metanode/sim benchmarks',
    '',
    'Generated by `pnpm bench` (`tsx bench/index.ts`); best of several runs of each measurement.',
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${cpus[0]?.model ?? 'unknown'} |`,
    `| cores | ${cpus.length} |`,
    `| Node | ${process.version} |`,
    `| OS | ${os.platform()} ${os.release()} |`,
    '',
    '| measurement | rate | unit | detail |',
    '|---|---:|---|---|',
    ...measurements.map((m) => `| ${m.name} | ${format(m.rate)} | ${m.unit} | ${m.detail} |`),
    '',
    '## Targets',
    '',
  ]
  for (const target of targets) {
    const measured = measurements.find((m) => m.name === target.name)
    if (measured === undefined) throw new Error(`no measurement named ${target.name}`)
    const ok = measured.rate >= target.minimum
    lines.push(`- ${ok ? 'PASS' : 'FAIL'}: ${target.text} (measured ${format(measured.rate)})`)
  }
  lines.push('')
  const path = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url))
  await writeFile(path, lines.join('\n'))
  process.stdout.write(`wrote ${path}\n`)
}

await main()
