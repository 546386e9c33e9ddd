/**
 * Progress of long CLI operations on stderr: a redrawn bar when stderr is a terminal, plain
 * periodic lines otherwise (so logs and CI output stay readable), and nothing when disabled.
 *
 * @example
 * ```ts
 * import { createProgress } from './progress.js'
 *
 * const progress = createProgress({ label: 'export', total: 1_000 })
 * for (let height = 1; height <= 1_000; height++) progress.update(height)
 * progress.finish('exported 1000 blocks')
 * ```
 *
 * @module
 */

/** Where progress is written: a stream with an optional terminal flag and width. */
export interface ProgressStream {
  /** Writes text. */
  write(text: string): unknown
  /** Whether the stream is a terminal (bars are redrawn in place only then). */
  isTTY?: boolean
  /** Terminal width in columns. */
  columns?: number
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is being done, e.g. `submit`. */
  label: string
  /** How many units make 100% (0 or absent: unknown, no bar). */
  total?: number
  /** Units already done when the display starts: shown, but left out of the rate (default 0). */
  initial?: number
  /** Where to write (default `process.stderr`). */
  stream?: ProgressStream
  /** Write nothing at all (e.g. `--quiet`). */
  disabled?: boolean
  /** Least time between two plain lines when the stream is not a terminal, in ms (default 2,000). */
  lineIntervalMs?: number
  /** Least time between two redraws on a terminal, in ms (default 100). */
  redrawIntervalMs?: number
  /** Time source in ms (default `performance.now`). */
  now?: () => number
}

/** A progress display; see {@link createProgress}. */
export interface Progress {
  /** Reports `done` units so far, with an optional short note (e.g. `finalized 120`). */
  update(done: number, note?: string): void
  /** Changes the total (e.g. once it becomes known). */
  setTotal(total: number): void
  /** Ends the display, leaving `message` (or the last state) as a final line. */
  finish(message?: string): void
}

const BAR_WIDTH = 24

function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s'
  return perSecond >= 100 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`
}

/** Creates a progress display for one operation. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr
  const now = options.now ?? (() => performance.now())
  const terminal = stream.isTTY === true
  const interval = terminal ? (options.redrawIntervalMs ?? 100) : (options.lineIntervalMs ?? 2_000)
  const startedAt = now()
  let total = options.total ?? 0
  const initial = options.initial ?? 0
  let done = initial
  let note: string | undefined
  let lastDrawAt = Number.NEGATIVE_INFINITY
  let drewOnTerminal = false
  let finished = false

  const render = (): string => {
    const elapsedSeconds = (now() - startedAt) / 1_000
    const rate = formatRate(elapsedSeconds > 0 ? (done - initial) / elapsedSeconds : 0)
    const parts = [options.label]
    if (total > 0) {
      const fraction = Math.min(1, done / total)
      const filled = Math.round(fraction * BAR_WIDTH)
      const bar = terminal ? `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ` : ''
      parts.push(`${bar}${(fraction * 100).toFixed(0).padStart(3)}% ${done}/${total}`)
    } else {
      parts.push(String(done))
    }
    parts.push(rate)
    if (note !== undefined) parts.push(note)
    return parts.join(' ')
  }

  const draw = (force: boolean): void => {
    if (options.disabled === true || finished) return
    const at = now()
    if (!force && at - lastDrawAt < interval) return
    lastDrawAt = at
    const line = render()
    if (terminal) {
      const width = Math.max(20, (stream.columns ?? 80) - 1)
      stream.write(`\r${line.slice(0, width).padEnd(width)}`)
      drewOnTerminal = true
    } else {
      stream.write(`${line}\n`)
    }
  }

  return {
    update(value, text) {
      done = value
      note = text
      draw(false)
    },
    setTotal(value) {
      total = value
    },
    finish(message) {
      if (options.disabled === true || finished) return
      if (terminal) {
        const line = message ?? render()
        const width = Math.max(20, (stream.columns ?? 80) - 1)
        stream.write(`${drewOnTerminal ? '\r' : ''}${line.padEnd(width)}\n`)
      } else {
        stream.write(`${message ?? render()}\n`)
      }
      finished = true
    },
  }
}
