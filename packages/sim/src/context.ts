// What a simulation shares with its networks and transports. Internal: not exported from the
// package, so the public interfaces stay free of plumbing.
import type { TimerInvoker } from './clock.js'
import type { SeededRng } from './rng.js'
import type { EventOwner, Scheduler } from './scheduler.js'
import type { StatsCounters } from './stats.js'

export interface SimulationContext {
  readonly scheduler: Scheduler
  readonly rng: SeededRng
  readonly counters: StatsCounters
  /** True when a sink is attached; callers skip building trace lines otherwise. */
  readonly tracing: boolean
  /** Writes `{ t, kind, ...fields }` as one line (only call when `tracing`). */
  trace(kind: string, fields: Record<string, unknown>): void
  /** Runs a timer callback as user code. */
  readonly invoke: TimerInvoker
  /** Notes that user code ran, so the run loop drains the microtask queue after this event. */
  markUserCode(): void
  /** Watches a value returned by user code: a rejected promise fails the run. */
  watch(result: unknown): void
  /** Fails the current run with `error`. */
  recordFailure(error: unknown): void
}

/** Resolves never: what a crashed node's pending operations await. */
export const NEVER: Promise<never> = new Promise<never>(() => {})

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/** The lifetime of one node incarnation (or one standalone transport): dies at a crash. */
export class Life implements EventOwner {
  alive = true
}
