// A node's logger in simulation: entries at or above the configured level become trace lines
// stamped with virtual time, so logs interleave exactly with the network events around them.
import type { Logger, LogLevel } from '@metanode/core'

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
}

/** Checks a log level name. */
export function assertLogLevel(value: unknown): asserts value is LogLevel {
  if (typeof value !== 'string' || !(value in LEVEL_RANK)) {
    throw new TypeError(`logLevel must be one of ${Object.keys(LEVEL_RANK).join(', ')}`)
  }
}

export type LogWriter = (
  level: LogLevel,
  bindings: Record<string, unknown>,
  context: Record<string, unknown>,
  message: string,
) => void

export class TraceLogger implements Logger {
  readonly #minimum: number
  readonly #bindings: Record<string, unknown>
  readonly #write: LogWriter

  constructor(minimum: LogLevel, bindings: Record<string, unknown>, write: LogWriter) {
    this.#minimum = LEVEL_RANK[minimum]
    this.#bindings = bindings
    this.#write = write
  }

  trace(context: Record<string, unknown>, message: string): void {
    this.#log('trace', context, message)
  }

  debug(context: Record<string, unknown>, message: string): void {
    this.#log('debug', context, message)
  }

  info(context: Record<string, unknown>, message: string): void {
    this.#log('info', context, message)
  }

  warn(context: Record<string, unknown>, message: string): void {
    this.#log('warn', context, message)
  }

  error(context: Record<string, unknown>, message: string): void {
    this.#log('error', context, message)
  }

  child(bindings: Record<string, unknown>): Logger {
    return new TraceLogger(
      (Object.keys(LEVEL_RANK) as LogLevel[])[this.#minimum] as LogLevel,
      { ...this.#bindings, ...bindings },
      this.#write,
    )
  }

  #log(level: LogLevel, context: Record<string, unknown>, message: string): void {
    if (LEVEL_RANK[level] < this.#minimum) return
    this.#write(level, this.#bindings, context, message)
  }
}
