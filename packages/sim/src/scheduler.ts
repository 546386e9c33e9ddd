/**
 * The event queue of a simulation: a binary min-heap of events ordered by virtual time, ties broken
 * by the order they were scheduled in, so equal-time events always run in one reproducible order.
 * Each event is one object that also serves as its cancellation handle; the heap position it keeps
 * makes cancellation O(log n) and leaves no dead entries behind.
 */

/**
 * Something that can die, such as one incarnation of a simulated node. Events scheduled on behalf
 * of an owner that is no longer alive are discarded instead of run, which is how a crash cancels
 * all of a node's timers at once.
 */
export interface EventOwner {
  /** False once the owner has crashed or been replaced. */
  readonly alive: boolean
}

/** The callback of an event, called with the argument given to {@link Scheduler.schedule}. */
export type EventCallback<A> = (arg: A) => unknown

/** A scheduled event as its scheduler hands it out: the handle passed to {@link Scheduler.cancel}. */
export interface EventHandle {
  /** Virtual time at which the event runs, in milliseconds. */
  readonly atMs: number
  /** Scheduling order: breaks ties between events due at the same time. */
  readonly sequence: number
  /** Whether the event is still waiting to run. */
  readonly pending: boolean
}

class ScheduledEvent implements EventHandle {
  readonly atMs: number
  readonly sequence: number
  callback: EventCallback<never> | undefined
  arg: unknown
  owner: EventOwner | undefined
  /** Position in the heap, or -1 once run or cancelled. */
  index: number

  constructor(
    atMs: number,
    sequence: number,
    callback: EventCallback<never>,
    arg: unknown,
    owner: EventOwner | undefined,
  ) {
    this.atMs = atMs
    this.sequence = sequence
    this.callback = callback
    this.arg = arg
    this.owner = owner
    this.index = -1
  }

  get pending(): boolean {
    return this.index >= 0
  }
}

function runsBefore(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence)
}

/**
 * A virtual-time event queue. It runs nothing by itself: {@link Scheduler.runNext} pops and runs
 * the earliest event, advancing {@link Scheduler.now} to its time. Synchronous and allocation-free
 * apart from the event object, so it can run millions of events per second.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler()
 * const order: string[] = []
 * scheduler.schedule(10, (label) => order.push(label), 'second')
 * scheduler.schedule(5, (label) => order.push(label), 'first')
 * while (scheduler.runNext()) {}
 * // order is ['first', 'second'] and scheduler.now is 10
 * ```
 */
export class Scheduler {
  readonly #heap: ScheduledEvent[] = []
  #now = 0
  #sequence = 0
  #executed = 0
  #discarded = 0

  /** Current virtual time in milliseconds (starts at 0, never decreases). */
  get now(): number {
    return this.#now
  }

  /** Number of events waiting to run. */
  get size(): number {
    return this.#heap.length
  }

  /** Events run so far (not counting discarded ones). */
  get executed(): number {
    return this.#executed
  }

  /** Events popped but not run because their owner was dead. */
  get discarded(): number {
    return this.#discarded
  }

  /** Virtual time of the earliest pending event, or `undefined` when the queue is empty. */
  nextTime(): number | undefined {
    return this.#heap[0]?.atMs
  }

  /**
   * Schedules `callback(arg)` at virtual time `atMs` (not before {@link Scheduler.now}). Passing
   * the argument separately lets hot paths reuse one callback instead of allocating a closure per
   * event. With an `owner`, the event is silently discarded if the owner is dead when it is due.
   */
  schedule<A>(atMs: number, callback: EventCallback<A>, arg: A, owner?: EventOwner): EventHandle {
    if (typeof atMs !== 'number' || Number.isNaN(atMs)) {
      throw new TypeError(`atMs must be a number, got ${typeof atMs}`)
    }
    if (atMs < this.#now || !Number.isFinite(atMs)) {
      throw new RangeError(`atMs must be finite and not before now (${this.#now}), got ${atMs}`)
    }
    if (typeof callback !== 'function') throw new TypeError('callback must be a function')
    const event = new ScheduledEvent(
      atMs,
      this.#sequence++,
      callback as EventCallback<never>,
      arg,
      owner,
    )
    const heap = this.#heap
    event.index = heap.length
    heap.push(event)
    this.#siftUp(event.index)
    return event
  }

  /**
   * Cancels a pending event. Returns false (and does nothing) for events that already ran, were
   * cancelled, or belong to another scheduler.
   */
  cancel(handle: unknown): boolean {
    if (!(handle instanceof ScheduledEvent)) return false
    const heap = this.#heap
    const index = handle.index
    if (index < 0 || heap[index] !== handle) return false
    const last = heap.pop() as ScheduledEvent
    if (index < heap.length) {
      heap[index] = last
      last.index = index
      if (index > 0 && runsBefore(last, heap[(index - 1) >> 1] as ScheduledEvent)) {
        this.#siftUp(index)
      } else {
        this.#siftDown(index)
      }
    }
    handle.index = -1
    handle.callback = undefined
    handle.arg = undefined
    return true
  }

  /**
   * Pops the earliest event, advances the clock to its time and runs it (unless its owner is
   * dead). Returns false when the queue was empty. An exception thrown by the callback propagates
   * to the caller, with the event already removed.
   */
  runNext(): boolean {
    const heap = this.#heap
    const event = heap[0]
    if (event === undefined) return false
    const last = heap.pop() as ScheduledEvent
    if (heap.length > 0) {
      heap[0] = last
      last.index = 0
      this.#siftDown(0)
    }
    event.index = -1
    this.#now = event.atMs
    const callback = event.callback as EventCallback<unknown>
    const arg = event.arg
    // Let the closure and its payload be collected even if the caller keeps the handle.
    event.callback = undefined
    event.arg = undefined
    if (event.owner !== undefined && !event.owner.alive) {
      this.#discarded++
      return true
    }
    this.#executed++
    callback(arg)
    return true
  }

  /**
   * Moves the clock forward to `timeMs` without running anything. Throws a `RangeError` if that
   * would go back in time or skip over a pending event.
   */
  advanceTo(timeMs: number): void {
    if (typeof timeMs !== 'number' || Number.isNaN(timeMs)) {
      throw new TypeError(`timeMs must be a number, got ${typeof timeMs}`)
    }
    if (timeMs < this.#now) {
      throw new RangeError(`cannot move the clock back from ${this.#now} to ${timeMs}`)
    }
    const next = this.nextTime()
    if (next !== undefined && next < timeMs) {
      throw new RangeError(`cannot skip the event due at ${next} by advancing to ${timeMs}`)
    }
    this.#now = timeMs
  }

  #siftUp(start: number): void {
    const heap = this.#heap
    const event = heap[start] as ScheduledEvent
    let index = start
    while (index > 0) {
      const parentIndex = (index - 1) >> 1
      const parent = heap[parentIndex] as ScheduledEvent
      if (!runsBefore(event, parent)) break
      heap[index] = parent
      parent.index = index
      index = parentIndex
    }
    heap[index] = event
    event.index = index
  }

  #siftDown(start: number): void {
    const heap = this.#heap
    const length = heap.length
    const event = heap[start] as ScheduledEvent
    let index = start
    for (;;) {
      let childIndex = 2 * index + 1
      if (childIndex >= length) break
      let child = heap[childIndex] as ScheduledEvent
      const rightIndex = childIndex + 1
      if (rightIndex < length) {
        const right = heap[rightIndex] as ScheduledEvent
        if (runsBefore(right, child)) {
          childIndex = rightIndex
          child = right
        }
      }
      if (!runsBefore(child, event)) break
      heap[index] = child
      child.index = index
      index = childIndex
    }
    heap[index] = event
    event.index = index
  }
}
