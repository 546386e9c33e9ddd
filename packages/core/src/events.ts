/**
 * A small typed event emitter with the `on(event, listener) => unsubscribe` shape every Metanode
 * plug-in exposes. Unlike Node's `EventEmitter` it has no `'error'` special case and a throwing
 * listener never breaks the emitter or the other listeners: plug-ins emit from inside network
 * and storage callbacks, where an exception would otherwise tear down unrelated work.
 */

/** A listener of one event, receiving that event's payload. */
export type EventListener<Detail> = (detail: Detail) => void

/** Options of a {@link TypedEventEmitter}. */
export interface TypedEventEmitterOptions {
  /**
   * Called when a listener throws. The default writes the error to `console.error`, so a buggy
   * listener is visible but cannot crash the emitter's owner.
   */
  onListenerError?: (error: unknown, event: PropertyKey) => void
}

function reportListenerError(error: unknown, event: PropertyKey): void {
  console.error(`listener of event ${String(event)} threw`, error)
}

/**
 * Emits typed events. `Events` maps each event name to its payload type, e.g.
 * `TransportEvents`.
 *
 * @example
 * ```ts
 * const emitter = new TypedEventEmitter<{ tick: { count: number } }>()
 * const off = emitter.on('tick', ({ count }) => console.log(count))
 * emitter.emit('tick', { count: 1 }) // logs 1
 * off()
 * ```
 */
export class TypedEventEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<EventListener<never>>>()
  readonly #onListenerError: (error: unknown, event: PropertyKey) => void

  constructor(options: TypedEventEmitterOptions = {}) {
    this.#onListenerError = options.onListenerError ?? reportListenerError
  }

  /**
   * Adds `listener` for `event`; returns a function that removes it (calling it twice is
   * harmless). Adding the same function twice registers it once.
   */
  on<K extends keyof Events>(event: K, listener: EventListener<Events[K]>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`listener must be a function, got ${typeof listener}`)
    }
    let listeners = this.#listeners.get(event)
    if (listeners === undefined) {
      listeners = new Set()
      this.#listeners.set(event, listeners)
    }
    listeners.add(listener as EventListener<never>)
    return () => this.off(event, listener)
  }

  /** Adds a listener that runs for the next `event` only; returns a function that removes it. */
  once<K extends keyof Events>(event: K, listener: EventListener<Events[K]>): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(`listener must be a function, got ${typeof listener}`)
    }
    const off = this.on(event, (detail) => {
      off()
      listener(detail)
    })
    return off
  }

  /** Removes `listener` from `event`; unknown listeners are ignored. */
  off<K extends keyof Events>(event: K, listener: EventListener<Events[K]>): void {
    const listeners = this.#listeners.get(event)
    if (listeners === undefined) return
    listeners.delete(listener as EventListener<never>)
    if (listeners.size === 0) this.#listeners.delete(event)
  }

  /**
   * Calls every listener of `event` synchronously, in the order they were added, with `detail`.
   * A listener added or removed during the emission takes effect from the next one. Returns
   * whether any listener was called.
   */
  emit<K extends keyof Events>(event: K, detail: Events[K]): boolean {
    const listeners = this.#listeners.get(event)
    if (listeners === undefined) return false
    for (const listener of [...listeners] as EventListener<Events[K]>[]) {
      try {
        listener(detail)
      } catch (error) {
        this.#onListenerError(error, event)
      }
    }
    return true
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0
  }

  /** Removes every listener of `event`, or of every event when `event` is omitted. */
  removeAllListeners(event?: keyof Events): void {
    if (event === undefined) this.#listeners.clear()
    else this.#listeners.delete(event)
  }
}
