/**
 * The deterministic codec of everything that crosses a boundary: DAG-CBOR (`@ipld/dag-cbor`),
 * with size and depth limits, one accepted encoding per value, and small validators
 * ({@link shape}) that turn decoded `unknown` values into typed ones.
 *
 * Determinism: map keys are sorted (length first, then bytewise, the DAG-CBOR rule), integers
 * take their shortest form, floats are always 64-bit, and `decode` re-encodes what it read and
 * refuses input that is not byte-for-byte that canonical form, so no value has two encodings
 * and no signed message can be re-encoded into another.
 *
 * Data model:
 * - `null`, booleans, strings (well-formed UTF-16: a lone surrogate has no UTF-8 form),
 *   `Uint8Array` bytes, arrays, plain objects with string keys, and CIDs.
 * - Numbers must be finite. Integer-valued numbers within ±(2^53 − 1) encode as CBOR integers,
 *   other numbers as 64-bit floats; `-0` encodes as `0`.
 * - `bigint` values must lie in the signed 64-bit range [−2^63, 2^63 − 1], which every DAG-CBOR
 *   implementation (Go `int64`, Rust `i64`) reads without loss; others are an `EncodeError`.
 *   `decode` returns an integer as a `number` when it is a safe integer and as a `bigint`
 *   otherwise, so `5n` decodes as `5`; use {@link ShapeBuilders.bigint | shape.bigint()} to
 *   read either as a `bigint`.
 * - `undefined`, functions, symbols, `Map`, `Set`, `Date`, class instances, typed arrays other
 *   than `Uint8Array`, cycles and nesting deeper than {@link CODEC_LIMITS}.maxDepth are an
 *   `EncodeError` (on decode, a `DecodeError`).
 */
import * as dagCbor from '@ipld/dag-cbor'
import { cidForBytes } from '@metanode/crypto/cid'
import { CID } from 'multiformats/cid'
import { DecodeError, EncodeError, MessageTooLargeError } from './errors.js'

/** Limits of {@link encode} and {@link decode}. */
export const CODEC_LIMITS = {
  /** Default largest encoding, in bytes (4 MiB). */
  maxBytes: 4 * 1024 * 1024,
  /** Deepest nesting of arrays and objects; the top-level value is depth 0. */
  maxDepth: 128,
  /** Smallest integer, as a `bigint`: −2^63. */
  minInteger: -(2n ** 63n),
  /** Largest integer, as a `bigint`: 2^63 − 1. */
  maxInteger: 2n ** 63n - 1n,
} as const

/** Options of {@link encode}. */
export interface EncodeOptions {
  /** Largest encoding accepted, in bytes. Default {@link CODEC_LIMITS}.maxBytes. */
  maxBytes?: number
}

/** Options of {@link decode} and {@link decodeAs}. */
export interface DecodeOptions {
  /** Largest input accepted, in bytes. Default {@link CODEC_LIMITS}.maxBytes. */
  maxBytes?: number
}

const LONE_SURROGATE = /\p{Cs}/u

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (value instanceof Uint8Array) return 'bytes'
  if (typeof value === 'object') return value.constructor?.name ?? 'object'
  return typeof value
}

function resolveMaxBytes(maxBytes: unknown): number {
  if (maxBytes === undefined) return CODEC_LIMITS.maxBytes
  if (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes)) {
    throw new TypeError(`maxBytes must be a safe integer, got ${describe(maxBytes)}`)
  }
  if (maxBytes < 1) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`)
  return maxBytes
}

function unsupported(path: string, reason: string, value: unknown): EncodeError {
  return new EncodeError(`cannot encode ${reason} at ${path}`, {
    details: { path, type: describe(value) },
  })
}

/**
 * Walks `value` and throws an `EncodeError` naming the path of the first thing outside the data
 * model. cborg would reject some of these itself, but without a path, and it would silently
 * turn others (a `Map`, a lone surrogate) into something that decodes as a different value.
 */
function assertEncodable(
  value: unknown,
  path: string,
  depth: number,
  ancestors: Set<object>,
): void {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value))
        throw unsupported(path, 'a string with a lone surrogate', value)
      return
    case 'number':
      if (!Number.isFinite(value)) throw unsupported(path, String(value), value)
      return
    case 'bigint':
      if (value < CODEC_LIMITS.minInteger || value > CODEC_LIMITS.maxInteger) {
        throw unsupported(path, 'a bigint outside the signed 64-bit range', value)
      }
      return
    case 'boolean':
      return
    case 'object':
      break
    default:
      throw unsupported(path, typeof value, value)
  }
  if (value === null || value instanceof Uint8Array) return
  if (CID.asCID(value) !== null) return
  if (depth >= CODEC_LIMITS.maxDepth) {
    throw unsupported(path, `nesting deeper than ${CODEC_LIMITS.maxDepth}`, value)
  }
  if (ancestors.has(value)) throw unsupported(path, 'a circular reference', value)
  ancestors.add(value)
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      assertEncodable(value[index], `${path}[${index}]`, depth + 1, ancestors)
    }
  } else {
    const prototype = Object.getPrototypeOf(value)
    if (prototype !== Object.prototype && prototype !== null) {
      throw unsupported(path, `a ${describe(value)}`, value)
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw unsupported(path, 'an object with symbol keys', value)
    }
    for (const [key, property] of Object.entries(value)) {
      if (LONE_SURROGATE.test(key)) throw unsupported(path, 'a key with a lone surrogate', key)
      assertEncodable(property, `${path}.${key}`, depth + 1, ancestors)
    }
  }
  ancestors.delete(value)
}

function encodeChecked(value: unknown): Uint8Array {
  assertEncodable(value, '$', 0, new Set())
  let bytes: Uint8Array
  try {
    bytes = dagCbor.encode(value)
  } catch (cause) {
    throw new EncodeError('cannot encode value as DAG-CBOR', { cause })
  }
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * The canonical DAG-CBOR encoding of `value`: the same value gives the same bytes on every node,
 * whatever the insertion order of its object keys.
 *
 * @throws EncodeError for values outside the data model (see the module description), with the
 *   path of the offending part in `details.path`.
 * @throws MessageTooLargeError when the encoding is longer than `options.maxBytes`.
 * @throws TypeError or RangeError for malformed options.
 *
 * @example
 * ```ts
 * encode({ b: 1, a: [true, null] }) // the same bytes as encode({ a: [true, null], b: 1 })
 * ```
 */
export function encode(value: unknown, options: EncodeOptions = {}): Uint8Array {
  const maxBytes = resolveMaxBytes(options.maxBytes)
  const bytes = encodeChecked(value)
  if (bytes.length > maxBytes) {
    throw new MessageTooLargeError('encoding is larger than the limit', {
      details: { bytes: bytes.length, maxBytes },
    })
  }
  return bytes
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Decodes one canonical DAG-CBOR value. Byte strings in the result are fresh copies.
 *
 * @throws TypeError when `bytes` is not a Uint8Array.
 * @throws MessageTooLargeError when it is longer than `options.maxBytes`.
 * @throws DecodeError for anything else: malformed or truncated CBOR, trailing bytes,
 *   indefinite lengths, duplicate or unsorted map keys, non-minimal integers, floats that are not
 *   64-bit, `undefined`, values outside the data model; the parser's error is the `cause`.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`bytes must be a Uint8Array, got ${describe(bytes)}`)
  }
  const maxBytes = resolveMaxBytes(options.maxBytes)
  if (bytes.length > maxBytes) {
    throw new MessageTooLargeError('input is larger than the limit', {
      details: { bytes: bytes.length, maxBytes },
    })
  }
  if (bytes.length === 0) throw new DecodeError('empty input is not a DAG-CBOR value')
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (cause) {
    // includes RangeError from the parser's recursion on absurdly deep input
    throw new DecodeError('malformed DAG-CBOR', { cause, details: { bytes: bytes.length } })
  }
  let canonical: Uint8Array
  try {
    canonical = encodeChecked(value)
  } catch (cause) {
    throw new DecodeError('value outside the supported data model', {
      cause,
      details: { bytes: bytes.length, ...(cause instanceof EncodeError ? cause.details : {}) },
    })
  }
  if (!equalBytes(canonical, bytes)) {
    throw new DecodeError('not the canonical DAG-CBOR encoding of its value', {
      details: { bytes: bytes.length, canonicalBytes: canonical.length },
    })
  }
  return value
}

/**
 * Decodes `bytes` and checks the value against `schema`.
 *
 * @throws DecodeError for malformed input (see {@link decode}) or a value that does not fit
 *   `schema`, with the path of the first mismatch (e.g. `$.header.height`) in `details.path`.
 * @throws MessageTooLargeError when `bytes` is longer than `options.maxBytes`.
 *
 * @example
 * ```ts
 * const Vote = shape.object({ height: shape.uint(), voter: shape.bytes({ length: 32 }) })
 * const vote = decodeAs(bytes, Vote) // { height: number; voter: Uint8Array }
 * ```
 */
export function decodeAs<T>(bytes: Uint8Array, schema: Shape<T>, options: DecodeOptions = {}): T {
  if (typeof schema !== 'function') throw new TypeError('schema must be a Shape function')
  return schema(decode(bytes, options), '$')
}

/**
 * The CID of `value`'s encoding: CIDv1, codec `dag-cbor`, BLAKE3-256 multihash.
 *
 * @throws EncodeError or MessageTooLargeError as {@link encode} does.
 */
export function cidOf(value: unknown): CID {
  return cidForBytes(encode(value), 'dag-cbor')
}

/**
 * A validator: returns `value` typed as `T`, or throws a `DecodeError` naming `path` (the
 * location in the decoded value, `$` for the root) when it does not fit.
 */
export type Shape<T> = (value: unknown, path: string) => T

/** A {@link Shape} whose property may be absent from an object (see {@link ShapeBuilders.optional}). */
export interface OptionalShape<T> {
  /** Checks a present value; an absent one (`undefined`) passes as `undefined`. */
  (value: unknown, path: string): T | undefined
  /** Marks the shape as optional for {@link ShapeBuilders.object}. */
  readonly optional: true
}

/** The type a shape produces. */
export type Infer<S> = S extends OptionalShape<infer T> ? T : S extends Shape<infer T> ? T : never

/** The property shapes of {@link ShapeBuilders.object}. */
export type PropertyShapes = Record<string, Shape<unknown> | OptionalShape<unknown>>

/** The object type {@link ShapeBuilders.object} produces: optional shapes become optional properties. */
export type ObjectOf<P extends PropertyShapes> = {
  [K in keyof P as P[K] extends OptionalShape<unknown> ? never : K]: Infer<P[K]>
} & {
  [K in keyof P as P[K] extends OptionalShape<unknown> ? K : never]?: Infer<P[K]>
} extends infer O
  ? { [K in keyof O]: O[K] }
  : never

/** Bounds on a length (of bytes, a string or an array). */
export interface LengthBounds {
  /** Smallest length accepted. Default 0. */
  min?: number
  /** Largest length accepted. Default unbounded. */
  max?: number
  /** Exact length; overrides `min` and `max`. */
  length?: number
}

/** Bounds on a `number` integer. */
export interface IntegerBounds {
  /** Smallest value accepted. */
  min?: number
  /** Largest value accepted. */
  max?: number
}

/** Bounds on a `bigint`. */
export interface BigIntBounds {
  /** Smallest value accepted. */
  min?: bigint
  /** Largest value accepted. */
  max?: bigint
}

/** The shape builders available as {@link shape}. */
export interface ShapeBuilders {
  /** A byte string (`Uint8Array`) whose length is within `bounds`. */
  bytes(bounds?: LengthBounds): Shape<Uint8Array>
  /** A non-negative safe integer (a `number`), at most `options.max`. */
  uint(options?: { max?: number }): Shape<number>
  /** A safe integer (a `number`) within `bounds`. */
  int(bounds?: IntegerBounds): Shape<number>
  /** An integer read as a `bigint`, whether it was decoded as a `number` or a `bigint`. */
  bigint(bounds?: BigIntBounds): Shape<bigint>
  /** A finite number (integer or float). */
  number(): Shape<number>
  /** `true` or `false`. */
  boolean(): Shape<boolean>
  /** A string whose length in UTF-16 code units is within `bounds`. */
  string(bounds?: LengthBounds): Shape<string>
  /** Exactly `value` (compared with `===`). */
  literal<const L extends string | number | boolean | null>(value: L): Shape<L>
  /** An array whose items fit `item` and whose length is within `bounds`. */
  array<T>(item: Shape<T>, bounds?: LengthBounds): Shape<T[]>
  /**
   * A plain object with exactly the given properties: unknown keys and missing required ones are
   * errors. Wrap a property's shape in {@link ShapeBuilders.optional} to allow its absence.
   */
  object<P extends PropertyShapes>(properties: P): Shape<ObjectOf<P>>
  /** A plain object used as a string-keyed map, every value fitting `value`, at most `options.maxKeys` keys. */
  record<T>(value: Shape<T>, options?: { maxKeys?: number }): Shape<Record<string, T>>
  /** Marks an object property as optional: it may be absent; if present it must fit `inner`. */
  optional<T>(inner: Shape<T>): OptionalShape<T>
  /** The first of `shapes` that fits; a `DecodeError` when none does. */
  union<S extends readonly Shape<unknown>[]>(...shapes: S): Shape<Infer<S[number]>>
  /** A CID (tag 42 in DAG-CBOR). */
  cid(): Shape<CID>
  /** Anything the codec decodes, unchecked. */
  unknown(): Shape<unknown>
}

function mismatch(path: string, expected: string, value: unknown): DecodeError {
  return new DecodeError(`invalid value at ${path}: expected ${expected}, got ${describe(value)}`, {
    details: { path, expected, actual: describe(value) },
  })
}

function boundOption(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer, got ${describe(value)}`)
  }
  if (value < 0) throw new RangeError(`${name} must not be negative, got ${value}`)
  return value
}

function lengthChecker(bounds: LengthBounds, unit: string): (length: number) => string | undefined {
  const exact = boundOption(bounds.length, 'length')
  const min = exact ?? boundOption(bounds.min, 'min') ?? 0
  const max = exact ?? boundOption(bounds.max, 'max') ?? Number.POSITIVE_INFINITY
  if (min > max) throw new RangeError(`min (${min}) must not exceed max (${max})`)
  return (length) => {
    if (length >= min && length <= max) return undefined
    if (exact !== undefined) return `exactly ${exact} ${unit}`
    return max === Number.POSITIVE_INFINITY ? `at least ${min} ${unit}` : `${min} to ${max} ${unit}`
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  if (value instanceof Uint8Array || CID.asCID(value) !== null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * Builders of {@link Shape} validators for {@link decodeAs}.
 *
 * @example
 * ```ts
 * const Header = shape.object({
 *   height: shape.uint(),
 *   parent: shape.cid(),
 *   proposer: shape.bytes({ length: 32 }),
 *   memo: shape.optional(shape.string({ max: 256 })),
 * })
 * type Header = Infer<typeof Header> // { height: number; parent: CID; proposer: Uint8Array; memo?: string }
 * ```
 */
export const shape: ShapeBuilders = {
  bytes(bounds = {}) {
    const check = lengthChecker(bounds, 'bytes')
    return (value, path) => {
      if (!(value instanceof Uint8Array)) throw mismatch(path, 'bytes', value)
      const problem = check(value.length)
      if (problem !== undefined) throw mismatch(path, `bytes of ${problem}`, value)
      return value
    }
  },

  uint(options = {}) {
    return shape.int({ min: 0, ...(options.max === undefined ? {} : { max: options.max }) })
  },

  int(bounds = {}) {
    const min = bounds.min ?? Number.MIN_SAFE_INTEGER
    const max = bounds.max ?? Number.MAX_SAFE_INTEGER
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
      throw new TypeError('integer bounds must be safe integers')
    }
    if (min > max) throw new RangeError(`min (${min}) must not exceed max (${max})`)
    const expected = `an integer in [${min}, ${max}]`
    return (value, path) => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw mismatch(path, expected, value)
      }
      if (value < min || value > max) throw mismatch(path, expected, value)
      return value
    }
  },

  bigint(bounds = {}) {
    const min = bounds.min ?? CODEC_LIMITS.minInteger
    const max = bounds.max ?? CODEC_LIMITS.maxInteger
    if (typeof min !== 'bigint' || typeof max !== 'bigint') {
      throw new TypeError('bigint bounds must be bigints')
    }
    if (min > max) throw new RangeError(`min (${min}) must not exceed max (${max})`)
    const expected = `an integer in [${min}, ${max}]`
    return (value, path) => {
      let integer: bigint
      if (typeof value === 'bigint') integer = value
      else if (typeof value === 'number' && Number.isSafeInteger(value)) integer = BigInt(value)
      else throw mismatch(path, expected, value)
      if (integer < min || integer > max) throw mismatch(path, expected, value)
      return integer
    }
  },

  number() {
    return (value, path) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw mismatch(path, 'a finite number', value)
      }
      return value
    }
  },

  boolean() {
    return (value, path) => {
      if (typeof value !== 'boolean') throw mismatch(path, 'a boolean', value)
      return value
    }
  },

  string(bounds = {}) {
    const check = lengthChecker(bounds, 'characters')
    return (value, path) => {
      if (typeof value !== 'string') throw mismatch(path, 'a string', value)
      const problem = check(value.length)
      if (problem !== undefined) throw mismatch(path, `a string of ${problem}`, value)
      return value
    }
  },

  literal(expected) {
    const label = JSON.stringify(expected)
    return (value, path) => {
      if (value !== expected) throw mismatch(path, label, value)
      return expected
    }
  },

  array(item, bounds = {}) {
    if (typeof item !== 'function') throw new TypeError('item must be a Shape function')
    const check = lengthChecker(bounds, 'items')
    return (value, path) => {
      if (!Array.isArray(value)) throw mismatch(path, 'an array', value)
      const problem = check(value.length)
      if (problem !== undefined) throw mismatch(path, `an array of ${problem}`, value)
      return value.map((element, index) => item(element, `${path}[${index}]`))
    }
  },

  object(properties) {
    if (!isPlainObject(properties)) throw new TypeError('properties must be an object of shapes')
    const entries = Object.entries(properties)
    for (const [key, property] of entries) {
      if (typeof property !== 'function') throw new TypeError(`shape of ${key} is not a function`)
    }
    return (value, path) => {
      if (!isPlainObject(value)) throw mismatch(path, 'an object', value)
      for (const key of Object.keys(value)) {
        if (!Object.hasOwn(properties, key)) {
          throw new DecodeError(`invalid value at ${path}: unexpected key ${JSON.stringify(key)}`, {
            details: { path: `${path}.${key}`, expected: 'no such key' },
          })
        }
      }
      // built with defineProperty so a schema key named __proto__ cannot touch the prototype
      const result: Record<string, unknown> = {}
      for (const [key, property] of entries) {
        const propertyPath = `${path}.${key}`
        const present = Object.hasOwn(value, key)
        if (!present) {
          if ((property as Partial<OptionalShape<unknown>>).optional === true) continue
          throw new DecodeError(`invalid value at ${propertyPath}: missing`, {
            details: { path: propertyPath, expected: 'a value' },
          })
        }
        Object.defineProperty(result, key, {
          value: property(value[key], propertyPath),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return result as ObjectOf<typeof properties>
    }
  },

  record(valueShape, options = {}) {
    if (typeof valueShape !== 'function') throw new TypeError('value must be a Shape function')
    const maxKeys = boundOption(options.maxKeys, 'maxKeys') ?? Number.POSITIVE_INFINITY
    return (value, path) => {
      if (!isPlainObject(value)) throw mismatch(path, 'an object', value)
      const keys = Object.keys(value)
      if (keys.length > maxKeys) throw mismatch(path, `an object of at most ${maxKeys} keys`, value)
      const result: Record<string, unknown> = {}
      for (const key of keys) {
        Object.defineProperty(result, key, {
          value: valueShape(value[key], `${path}.${key}`),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      return result as Record<string, never>
    }
  },

  optional<T>(inner: Shape<T>): OptionalShape<T> {
    if (typeof inner !== 'function') throw new TypeError('inner must be a Shape function')
    const optional = (value: unknown, path: string): T | undefined =>
      value === undefined ? undefined : inner(value, path)
    return Object.assign(optional, { optional: true as const })
  },

  union(...shapes) {
    for (const candidate of shapes) {
      if (typeof candidate !== 'function')
        throw new TypeError('union members must be Shape functions')
    }
    return (value, path) => {
      const failures: string[] = []
      for (const candidate of shapes) {
        try {
          return candidate(value, path) as Infer<(typeof shapes)[number]>
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error
          failures.push(error.message)
        }
      }
      throw new DecodeError(`invalid value at ${path}: matches none of ${shapes.length} shapes`, {
        details: { path, expected: 'one of the union members', failures },
      })
    }
  },

  cid() {
    return (value, path) => {
      const cid = CID.asCID(value)
      if (cid === null) throw mismatch(path, 'a CID', value)
      return cid
    }
  },

  unknown() {
    return (value) => value
  },
}
