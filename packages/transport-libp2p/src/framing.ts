// Wire format of the direct and request/response protocols. Every message on a stream is a frame:
// an unsigned-varint byte length (the libp2p convention) followed by that many bytes. Lengths are
// checked against the limit as soon as the prefix arrives, so an oversized frame is refused before
// its body is buffered.
import type { Stream } from '@libp2p/interface'
import { DecodeError, MessageTooLargeError, TOPIC_PATTERN } from '@metanode/core'
import { Uint8ArrayList } from 'uint8arraylist'

/** Varints longer than this cannot encode a length we would accept (2^35 > any limit). */
const MAX_VARINT_BYTES = 5

/** Bytes a topic or protocol label adds to a payload: its varint length (<= 2 bytes) and its text. */
export const LABEL_OVERHEAD_BYTES = 2 + 128

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** A plain Uint8Array over the same memory, so a Buffer from a dependency never reaches a handler. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Unsigned LEB128 varint of a non-negative safe integer. */
export function encodeUvarint(value: number): Uint8Array {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** Reads a varint at the start of `bytes`: its value and length, or undefined if incomplete. */
function readUvarint(
  bytes: Uint8ArrayList | Uint8Array,
): { value: number; length: number } | undefined {
  let value = 0
  let scale = 1
  const available = Math.min(bytes.length, MAX_VARINT_BYTES)
  for (let index = 0; index < available; index++) {
    const byte = bytes instanceof Uint8Array ? bytes[index]! : bytes.get(index)
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (index > 0 && byte === 0) throw new DecodeError('varint is not minimally encoded')
      return { value, length: index + 1 }
    }
    scale *= 0x80
  }
  if (bytes.length >= MAX_VARINT_BYTES) throw new DecodeError('varint is too long')
  return undefined
}

/**
 * Writes `body` as one length-prefixed frame. When the stream's buffer is full, waits for it to
 * drain, for at most `drainTimeoutMs` (the timer exists only then: most writes never need one).
 */
export async function writeFrame(
  stream: Stream,
  body: Uint8Array,
  drainTimeoutMs: number,
): Promise<void> {
  const ready = stream.send(new Uint8ArrayList(encodeUvarint(body.length), body))
  if (!ready) await stream.onDrain({ signal: AbortSignal.timeout(drainTimeoutMs) })
}

/** `label` (a topic or protocol name) and `data` as one frame body. */
export function encodeLabelled(label: string, data: Uint8Array): Uint8Array {
  const labelBytes = encoder.encode(label)
  const prefix = encodeUvarint(labelBytes.length)
  const out = new Uint8Array(prefix.length + labelBytes.length + data.length)
  out.set(prefix, 0)
  out.set(labelBytes, prefix.length)
  out.set(data, prefix.length + labelBytes.length)
  return out
}

/** Inverse of {@link encodeLabelled}; the label must be a valid topic or protocol name. */
export function decodeLabelled(body: Uint8Array): { label: string; data: Uint8Array } {
  const header = readUvarint(body)
  if (header === undefined || header.length + header.value > body.length) {
    throw new DecodeError('frame is shorter than its label')
  }
  let label: string
  try {
    label = decoder.decode(body.subarray(header.length, header.length + header.value))
  } catch (error) {
    throw new DecodeError('label is not UTF-8', { cause: error })
  }
  if (!TOPIC_PATTERN.test(label)) {
    throw new DecodeError('label is not a valid topic or protocol name')
  }
  return { label, data: body.subarray(header.length + header.value) }
}

/** What a responder sends back when it does not answer with data. */
export interface ErrorResponse {
  /** `unknown-protocol`: nothing handles it; `rejected`: the handler refused; `too-large`: the answer exceeded the limit; `failed`: the handler failed. */
  kind: 'unknown-protocol' | 'rejected' | 'too-large' | 'failed'
  /** The handler's `RejectionError` code, for `rejected`. */
  code?: string
  /** The handler's `RejectionError` action, for `rejected`. */
  action?: 'ignore' | 'reject'
  /** A short human-readable reason. */
  message: string
}

const RESPONSE_OK = 0
const RESPONSE_ERROR = 1
/** Longest error text a responder sends, so an error frame always fits any size limit. */
const MAX_ERROR_TEXT = 512

/** A successful answer as a frame body. */
export function encodeOkResponse(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + data.length)
  out[0] = RESPONSE_OK
  out.set(data, 1)
  return out
}

/** An error answer as a frame body. */
export function encodeErrorResponse(response: ErrorResponse): Uint8Array {
  const bounded: ErrorResponse = {
    ...response,
    message: response.message.slice(0, MAX_ERROR_TEXT),
    ...(response.code === undefined ? {} : { code: response.code.slice(0, MAX_ERROR_TEXT) }),
  }
  const json = encoder.encode(JSON.stringify(bounded))
  const out = new Uint8Array(1 + json.length)
  out[0] = RESPONSE_ERROR
  out.set(json, 1)
  return out
}

/** Inverse of {@link encodeOkResponse} and {@link encodeErrorResponse}. */
export function decodeResponse(
  body: Uint8Array,
): { ok: true; data: Uint8Array } | { ok: false; error: ErrorResponse } {
  if (body[0] === RESPONSE_OK) return { ok: true, data: body.subarray(1) }
  if (body[0] !== RESPONSE_ERROR) throw new DecodeError('response has an unknown status byte')
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(body.subarray(1)))
  } catch (error) {
    throw new DecodeError('error response is not JSON', { cause: error })
  }
  const candidate = parsed as Partial<ErrorResponse> | null
  const kinds: readonly string[] = ['unknown-protocol', 'rejected', 'too-large', 'failed']
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.kind !== 'string' ||
    !kinds.includes(candidate.kind) ||
    typeof candidate.message !== 'string'
  ) {
    throw new DecodeError('error response has an unexpected shape')
  }
  const error: ErrorResponse = { kind: candidate.kind, message: candidate.message }
  if (typeof candidate.code === 'string') error.code = candidate.code
  if (candidate.action === 'ignore' || candidate.action === 'reject')
    error.action = candidate.action
  return { ok: false, error }
}

/** Options of a {@link FrameReader}. */
export interface FrameReaderOptions {
  /** Largest frame body accepted; a longer prefix fails the reader with `MessageTooLargeError`. */
  maxFrameBytes: number
}

/**
 * Reads length-prefixed frames from a libp2p stream. Decoded frames queue until `next()` takes
 * them; while the queue holds more than two frames' worth of bytes the stream is paused, so a fast
 * sender is held back by the muxer's flow control instead of filling our memory.
 */
export class FrameReader {
  readonly #stream: Stream
  readonly #maxFrameBytes: number
  readonly #highWaterBytes: number
  readonly #pending = new Uint8ArrayList()
  readonly #frames: Uint8Array[] = []
  #queuedBytes = 0
  #remoteEnded = false
  #failure: Error | undefined
  #wake: (() => void) | undefined

  constructor(stream: Stream, options: FrameReaderOptions) {
    this.#stream = stream
    this.#maxFrameBytes = options.maxFrameBytes
    this.#highWaterBytes = 2 * options.maxFrameBytes + 1024
    // while paused the remote may still fill the muxer's window (up to 16 MiB with yamux)
    stream.maxReadBufferLength = Math.max(
      stream.maxReadBufferLength,
      this.#highWaterBytes + 16 * 1024 * 1024,
    )
    stream.addEventListener('message', this.#onMessage)
    stream.addEventListener('remoteCloseWrite', this.#onRemoteEnd)
    stream.addEventListener('close', this.#onClose)
    // the stream may have ended (or failed) before this reader was attached
    if (stream.status === 'reset' || stream.status === 'aborted') {
      this.#failure = new DecodeError(`stream was ${stream.status}`)
    } else if (stream.remoteWriteStatus === 'closed' || stream.readStatus === 'closed') {
      this.#remoteEnded = true
    }
  }

  /** The next frame body, or `undefined` when the remote closed its end after a whole frame. */
  async next(): Promise<Uint8Array | undefined> {
    for (;;) {
      const frame = this.#frames.shift()
      if (frame !== undefined) {
        this.#queuedBytes -= frame.length
        if (this.#stream.readStatus === 'paused' && this.#queuedBytes < this.#highWaterBytes) {
          this.#stream.resume()
        }
        return frame
      }
      if (this.#failure !== undefined) throw this.#failure
      // data buffered by the stream before our listener was attached is dispatched in a microtask
      if (this.#remoteEnded && this.#stream.readBufferLength === 0) {
        if (this.#pending.byteLength > 0) throw new DecodeError('stream ended inside a frame')
        return undefined
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve
      })
    }
  }

  /** Detaches the reader from the stream. */
  dispose(): void {
    this.#stream.removeEventListener('message', this.#onMessage)
    this.#stream.removeEventListener('remoteCloseWrite', this.#onRemoteEnd)
    this.#stream.removeEventListener('close', this.#onClose)
    this.#notify()
  }

  readonly #onMessage = (event: { data: Uint8Array | Uint8ArrayList }): void => {
    if (this.#failure !== undefined) return
    this.#pending.append(event.data)
    try {
      this.#decodeFrames()
    } catch (error) {
      this.#failure = error as Error
    }
    if (
      this.#queuedBytes >= this.#highWaterBytes &&
      this.#stream.readStatus === 'readable' &&
      this.#stream.status === 'open'
    ) {
      this.#stream.pause()
    }
    this.#notify()
  }

  readonly #onRemoteEnd = (): void => {
    this.#remoteEnded = true
    this.#notify()
  }

  readonly #onClose = (event: Event & { error?: Error }): void => {
    if (event.error !== undefined) this.#failure ??= event.error
    this.#remoteEnded = true
    this.#notify()
  }

  #decodeFrames(): void {
    for (;;) {
      const header = readUvarint(this.#pending)
      if (header === undefined) return
      if (header.value > this.#maxFrameBytes) {
        throw new MessageTooLargeError('inbound frame exceeds the size limit', {
          details: { size: header.value, limit: this.#maxFrameBytes },
        })
      }
      const end = header.length + header.value
      if (this.#pending.byteLength < end) return
      const frame = plainBytes(this.#pending.slice(header.length, end))
      this.#pending.consume(end)
      this.#frames.push(frame)
      this.#queuedBytes += frame.length
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
