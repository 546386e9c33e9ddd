/**
 * Traces: one JSON object per line (JSONL), `{"t": <virtual ms>, "kind": ..., ...}`, bytes as
 * lowercase hex. The simulation builds every line itself with a fixed key order, so the same seed
 * produces the same bytes; a {@link TraceSink} only stores or writes the lines.
 */
import { createWriteStream, type WriteStream } from 'node:fs'

/** Where trace lines go. `write` is called synchronously, once per line, without the newline. */
export interface TraceSink {
  /** Takes one JSON line (without its trailing newline). */
  write(line: string): void
  /** Flushes and releases the sink; called once by `Simulation.stop`. */
  close?(): Promise<void>
}

/** One parsed trace line. `t` is virtual milliseconds; `kind` says which fields follow. */
export interface TraceEvent {
  /** Virtual time in milliseconds. */
  t: number
  /** What happened: `deliver`, `drop`, `duplicate`, `crash`, `restart`, `partition`, ... */
  kind: string
  /** Fields of the event, depending on `kind`. */
  [field: string]: unknown
}

/** A {@link TraceSink} that keeps the lines in memory, for tests and for comparing runs. */
export class MemoryTraceSink implements TraceSink {
  /** The lines written so far, in order. */
  readonly lines: string[] = []

  /** Appends one line. */
  write(line: string): void {
    this.lines.push(line)
  }

  /** The trace as JSONL text: every line followed by a newline. */
  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`
  }

  /** The lines parsed back into objects. */
  events(): TraceEvent[] {
    return this.lines.map((line) => JSON.parse(line) as TraceEvent)
  }
}

/** A trace kept in memory. */
export function memoryTrace(): MemoryTraceSink {
  return new MemoryTraceSink()
}

const FLUSH_BYTES = 64 * 1024

/** A {@link TraceSink} writing JSONL to a file, created or truncated when the sink is created. */
export class FileTraceSink implements TraceSink {
  /** The file being written. */
  readonly path: string
  readonly #stream: WriteStream
  #pending: string[] = []
  #pendingLength = 0
  #error: unknown
  #closed = false

  /** Opens `path` for writing. */
  constructor(path: string) {
    if (typeof path !== 'string' || path.length === 0) {
      throw new TypeError('path must be a non-empty string')
    }
    this.path = path
    this.#stream = createWriteStream(path, { encoding: 'utf8' })
    // Keep the first failure for `close` to report; without a listener it would crash the process.
    this.#stream.on('error', (error) => {
      this.#error ??= error
    })
  }

  /** Buffers one line; lines go to the file in 64 KiB chunks. */
  write(line: string): void {
    if (this.#closed) return
    this.#pending.push(line)
    this.#pendingLength += line.length + 1
    if (this.#pendingLength >= FLUSH_BYTES) this.#flush()
  }

  /** Writes what is buffered, closes the file, and rejects if any write failed. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#flush()
    this.#closed = true
    await new Promise<void>((resolve) => {
      this.#stream.end(() => resolve())
      this.#stream.once('error', () => resolve())
    })
    if (this.#error !== undefined) throw this.#error
  }

  #flush(): void {
    if (this.#pending.length === 0) return
    this.#stream.write(`${this.#pending.join('\n')}\n`)
    this.#pending = []
    this.#pendingLength = 0
  }
}

/** A trace written to a JSONL file at `path`. */
export function fileTrace(path: string): FileTraceSink {
  return new FileTraceSink(path)
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

/** Lowercase hex of `bytes`, as traces show payloads. */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

/**
 * JSON for user-supplied trace details: bytes become hex, bigints decimal strings, so every
 * value a node may attach serialises the same way on every run.
 */
export function traceJson(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => {
    if (field instanceof Uint8Array) return toHex(field)
    if (typeof field === 'bigint') return field.toString()
    // Buffer#toJSON runs before the replacer and turns a Buffer into { type, data }.
    if (isBufferJson(field)) return toHex(Uint8Array.from(field.data))
    return field
  })
}

function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as { type?: unknown; data?: unknown }
  return candidate.type === 'Buffer' && Array.isArray(candidate.data)
}
