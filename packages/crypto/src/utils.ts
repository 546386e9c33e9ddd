// Internal helpers shared by the crypto modules. Not part of the public API (no subpath export).

/** Throws a TypeError unless `value` is a Uint8Array; with `lengths`, a RangeError unless its length is one of them. */
export function abytes(value: unknown, name: string, ...lengths: number[]): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`)
  }
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw new RangeError(`${name} must be ${lengths.join(' or ')} bytes long, got ${value.length}`)
  }
  return value
}

/** Throws a TypeError unless `value` is an array of Uint8Array (each checked like {@link abytes}). */
export function abytesArray(value: unknown, name: string, ...lengths: number[]): Uint8Array[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${describe(value)}`)
  for (let i = 0; i < value.length; i++) abytes(value[i], `${name}[${i}]`, ...lengths)
  return value as Uint8Array[]
}

/** Throws unless `value` is an integer in [min, max]. */
export function aint(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${describe(value)}`)
  }
  if (value < min || value > max)
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`)
  return value
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

/** Concatenates byte arrays into a fresh Uint8Array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

const encoder = new TextEncoder()
/** UTF-8 encodes a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** Cryptographically secure random bytes from the platform (Web Crypto, present in Node >= 19 and browsers). */
export function randomBytes(length: number): Uint8Array {
  aint(length, 'length', 0, 1 << 16)
  const out = new Uint8Array(length)
  globalThis.crypto.getRandomValues(out)
  return out
}

/** A plain Uint8Array view over the same memory, so Buffer never escapes a public API. */
export function toUint8Array(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Writes `value` as a big-endian unsigned 32-bit integer. */
export function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value, false)
  return out
}

/** Zeroes a buffer holding secret material once it is no longer needed. */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0)
}

/**
 * A Node.js built-in module (`node:crypto`, ...) when this runtime has one, else `undefined`.
 * `process.getBuiltinModule` rather than a static import, so a module using it still loads in
 * browsers and other runtimes, where it falls back to noble.
 */
export function getNodeBuiltin<T>(id: string): T | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process
    return proc?.getBuiltinModule?.(id) as T | undefined
  } catch {
    return undefined
  }
}
