/** A component with a lifecycle. `start` and `stop` are idempotent: calling either twice is harmless. */
export interface Startable {
  /** Acquires resources (sockets, files, timers). Resolves when the component is ready. */
  start(): Promise<void>
  /** Releases every resource the component holds. Resolves when nothing of it is left running. */
  stop(): Promise<void>
}

/** Type guard for {@link Startable}. */
export function isStartable(value: unknown): value is Startable {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Partial<Startable>
  return typeof candidate.start === 'function' && typeof candidate.stop === 'function'
}

/** Starts components in order; if one fails, stops the ones already started (in reverse) and rethrows. */
export async function startAll(...components: readonly unknown[]): Promise<void> {
  const started: Startable[] = []
  for (const component of components) {
    if (!isStartable(component)) continue
    try {
      await component.start()
      started.push(component)
    } catch (error) {
      await stopAll(...started.reverse())
      throw error
    }
  }
}

/** Stops components in reverse order; every component is asked to stop even if an earlier one throws. */
export async function stopAll(...components: readonly unknown[]): Promise<void> {
  const errors: unknown[] = []
  for (const component of [...components].reverse()) {
    if (!isStartable(component)) continue
    try {
      await component.stop()
    } catch (error) {
      errors.push(error)
    }
  }
  if (errors.length === 1) throw errors[0]
  if (errors.length > 1) throw new AggregateError(errors, 'several components failed to stop')
}
