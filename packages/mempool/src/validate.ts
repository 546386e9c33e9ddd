// Argument guards for this package's public functions. The equivalents in @metanode/crypto
// (`abytes`, `aint`) are internal to that package (no subpath export), so these mirror their
// messages and error types.

/** Throws a TypeError unless `value` is a Uint8Array, a RangeError unless its length is in [min, max]. */
export function assertBytes(
  value: unknown,
  name: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`)
  }
  if (value.length < min || value.length > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`
    throw new RangeError(`${name} must be ${expected} bytes long, got ${value.length}`)
  }
  return value
}

/** Throws a TypeError unless `value` is a safe integer, a RangeError unless it is in [min, max]. */
export function assertInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${describe(value)}`)
  }
  if (value < min || value > max) {
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`)
  }
  return value
}

/** Throws a TypeError unless `value` is a bigint, a RangeError unless it is at least `min`. */
export function assertBigInt(value: unknown, name: string, min = 0n): bigint {
  if (typeof value !== 'bigint')
    throw new TypeError(`${name} must be a bigint, got ${describe(value)}`)
  if (value < min) throw new RangeError(`${name} must be at least ${min}, got ${value}`)
  return value
}

/** Throws a TypeError unless `value` is a function. */
export function assertFunction(value: unknown, name: string): void {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, got ${describe(value)}`)
  }
}

/** A short description of a value's type for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

/**
 * A string with one UTF-16 code unit per byte: map keys compare in the bytes' unsigned order and
 * cost a third of a hex string (measured in bench/index.ts).
 */
export function bytesKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[])
}

/** The inverse of {@link bytesKey}. */
export function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length)
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i)
  return out
}
