// Argument guards for this package's public functions. The equivalents in @metanode/crypto
// (`abytes`, `aint`) are internal to that package (no subpath export), so these mirror their
// messages and error types.

/** Throws a TypeError unless `value` is a Uint8Array; with `length`, a RangeError unless it has that length. */
export function assertBytes(value: unknown, name: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describe(value)}`)
  }
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes long, got ${value.length}`)
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

/** Throws a TypeError unless `value` is an array of strings. */
export function assertStringArray(value: unknown, name: string): string[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array, got ${describe(value)}`)
  value.forEach((item, index) => {
    if (typeof item !== 'string') {
      throw new TypeError(`${name}[${index}] must be a string, got ${describe(item)}`)
    }
  })
  return value as string[]
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}
