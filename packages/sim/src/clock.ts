/**
 * The virtual `Clock` handed to simulated nodes: time is the scheduler's, timers are
 * scheduler events. Nothing here touches the platform's clock or timers.
 */
import type { Clock, TimerHandle } from '@metanode/core'
import type { EventOwner, Scheduler } from './scheduler.js'

/** How a clock runs a due timer callback; the simulation uses it to watch for async failures. */
export type TimerInvoker = (callback: () => unknown) => void

/** Options of a {@link VirtualClock}. */
export interface VirtualClockOptions {
  /** What `now()` returns at virtual time 0, in milliseconds since the Unix epoch. Default 0. */
  epochMs?: number
  /** Timers of a dead owner never fire, and a dead owner cannot set new ones. */
  owner?: EventOwner
  /** Runs due callbacks. Default: calls them directly. */
  invoke?: TimerInvoker
}

const callDirectly: TimerInvoker = (callback) => {
  callback()
}

// Handed out by the clock of a dead owner, which can no longer arm timers.
const INERT_TIMER: TimerHandle = Object.freeze({ inert: true })

/**
 * A `Clock` over a {@link Scheduler}. `setTimeout` with a negative delay fires at the current
 * virtual time, after the events already due then; a zero delay likewise. Timers due at the same
 * time fire in the order they were set.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler()
 * const clock = new VirtualClock(scheduler, { epochMs: 1_700_000_000_000 })
 * clock.setTimeout(() => console.log(clock.now()), 1_000)
 * while (scheduler.runNext()) {} // logs 1700000001000 at once, without waiting
 * ```
 */
export class VirtualClock implements Clock {
  readonly #scheduler: Scheduler
  readonly #epochMs: number
  readonly #owner: EventOwner | undefined
  readonly #invoke: TimerInvoker

  /** Creates a clock reading `scheduler`'s time. */
  constructor(scheduler: Scheduler, options: VirtualClockOptions = {}) {
    const epochMs = options.epochMs ?? 0
    if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) {
      throw new TypeError('epochMs must be a finite number')
    }
    this.#scheduler = scheduler
    this.#epochMs = epochMs
    this.#owner = options.owner
    this.#invoke = options.invoke ?? callDirectly
  }

  /** Milliseconds since the Unix epoch in virtual time: `epochMs` plus the scheduler's time. */
  now(): number {
    return this.#epochMs + this.#scheduler.now
  }

  /**
   * Runs `callback` once `delayMs` virtual milliseconds from now. A `TypeError` for a non-function
   * callback or a non-number (or NaN) delay, a `RangeError` for an infinite one.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (typeof callback !== 'function') throw new TypeError('callback must be a function')
    if (typeof delayMs !== 'number' || Number.isNaN(delayMs)) {
      throw new TypeError(`delayMs must be a number, got ${typeof delayMs}`)
    }
    if (delayMs === Number.POSITIVE_INFINITY) throw new RangeError('delayMs must be finite')
    if (this.#owner !== undefined && !this.#owner.alive) return INERT_TIMER
    const scheduler = this.#scheduler
    return scheduler.schedule(
      scheduler.now + Math.max(0, delayMs),
      this.#invoke,
      callback,
      this.#owner,
    )
  }

  /** Cancels a timer; unknown, fired or already cancelled handles are ignored. */
  clearTimeout(handle: TimerHandle): void {
    this.#scheduler.cancel(handle)
  }
}
