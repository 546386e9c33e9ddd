import { cidForBytes } from '@metanode/crypto/cid'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CODEC_LIMITS,
  cidOf,
  DecodeError,
  decode,
  decodeAs,
  EncodeError,
  encode,
  type Infer,
  shape,
} from '../src/index.js'

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')
const fromHex = (text: string): Uint8Array =>
  Uint8Array.from(text.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16))

// Values of the data model in the form decode returns them: integers within the safe range as
// numbers, larger ones as bigints, no -0.
const dataModel = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .map((value) => (Object.is(value, -0) ? 0 : value)),
    fc
      .bigInt({ min: CODEC_LIMITS.minInteger, max: CODEC_LIMITS.maxInteger })
      .filter(
        (value) =>
          value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER),
      ),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.uint8Array({ maxLength: 16 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
})).value

/** The same value with every object's keys inserted in reverse order. */
function reverseKeyOrder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeyOrder)
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value
  const reversed: Record<string, unknown> = {}
  for (const key of Object.keys(value).reverse()) {
    Object.defineProperty(reversed, key, {
      value: reverseKeyOrder((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  }
  return reversed
}

function decodeError(action: () => unknown): DecodeError {
  try {
    action()
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError)
    return error as DecodeError
  }
  throw new Error('expected a DecodeError')
}

describe('encode and decode', () => {
  it('round-trips every value of the data model', () => {
    fc.assert(
      fc.property(dataModel, (value) => {
        expect(decode(encode(value))).toEqual(value)
      }),
      { numRuns: 300 },
    )
  })

  it('encodes the same value to the same bytes whatever the key insertion order', () => {
    fc.assert(
      fc.property(dataModel, (value) => {
        expect(hex(encode(reverseKeyOrder(value)))).toBe(hex(encode(value)))
      }),
      { numRuns: 300 },
    )
  })

  it('either decodes arbitrary bytes to their canonical value or throws DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        let value: unknown
        try {
          value = decode(bytes)
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError)
          return
        }
        expect(hex(encode(value))).toBe(hex(bytes))
      }),
      { numRuns: 500 },
    )
  })

  it('rejects or canonically decodes every single-byte corruption of a valid encoding', () => {
    fc.assert(
      fc.property(dataModel, fc.nat(), fc.integer({ min: 1, max: 255 }), (value, at, flip) => {
        const bytes = encode(value)
        const corrupted = bytes.slice()
        const index = at % corrupted.length
        corrupted[index] = corrupted[index]! ^ flip
        try {
          expect(hex(encode(decode(corrupted)))).toBe(hex(corrupted))
        } catch (error) {
          expect(error).toBeInstanceOf(DecodeError)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('matches known DAG-CBOR encodings', () => {
    expect(hex(encode(null))).toBe('f6')
    expect(hex(encode(true))).toBe('f5')
    expect(hex(encode(0))).toBe('00')
    expect(hex(encode(-0))).toBe('00')
    expect(hex(encode(23))).toBe('17')
    expect(hex(encode(24))).toBe('1818')
    expect(hex(encode(-1))).toBe('20')
    expect(hex(encode(1.5))).toBe('fb3ff8000000000000')
    expect(hex(encode('a'))).toBe('6161')
    expect(hex(encode(Uint8Array.of(1, 2)))).toBe('420102')
    expect(hex(encode([1, [2]]))).toBe('82018102')
    // keys sort by length first, then bytewise
    expect(hex(encode({ bb: 1, c: 2, a: 3 }))).toBe('a361610361630262626201')
  })

  it('encodes integer bigints in the signed 64-bit range, as integers', () => {
    expect(hex(encode(5n))).toBe(hex(encode(5)))
    expect(decode(encode(5n))).toBe(5)
    expect(hex(encode(CODEC_LIMITS.maxInteger))).toBe('1b7fffffffffffffff')
    expect(hex(encode(CODEC_LIMITS.minInteger))).toBe('3b7fffffffffffffff')
    expect(decode(encode(CODEC_LIMITS.maxInteger))).toBe(CODEC_LIMITS.maxInteger)
    expect(decode(encode(CODEC_LIMITS.minInteger))).toBe(CODEC_LIMITS.minInteger)
  })

  it('returns plain Uint8Arrays, also for Buffer input', () => {
    const bytes = encode({ data: Uint8Array.of(1, 2, 3) })
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
    const value = decode(Buffer.from(bytes)) as { data: Uint8Array }
    expect(Object.getPrototypeOf(value.data)).toBe(Uint8Array.prototype)
    expect(value.data).toEqual(Uint8Array.of(1, 2, 3))
  })

  it('returns decoded bytes that do not alias the input', () => {
    const bytes = encode({ data: Uint8Array.of(1, 2, 3) })
    const value = decode(bytes) as { data: Uint8Array }
    bytes.fill(0)
    expect(value.data).toEqual(Uint8Array.of(1, 2, 3))
  })

  it('round-trips CIDs', () => {
    const cid = cidOf('block')
    const decoded = decode(encode({ parent: cid })) as { parent: unknown }
    expect(String(decoded.parent)).toBe(String(cid))
  })
})

describe('encode errors', () => {
  class Point {
    x = 1
  }
  const circular: Record<string, unknown> = {}
  circular.self = circular
  let deep: unknown = 0
  for (let i = 0; i <= CODEC_LIMITS.maxDepth; i++) deep = [deep]

  const cases: [string, unknown, string][] = [
    ['undefined', undefined, '$'],
    ['NaN', { a: [0, Number.NaN] }, '$.a[1]'],
    ['Infinity', [Number.POSITIVE_INFINITY], '$[0]'],
    ['-Infinity', Number.NEGATIVE_INFINITY, '$'],
    ['a nested undefined', { a: [{ b: undefined }] }, '$.a[0].b'],
    ['a function', { f: () => 1 }, '$.f'],
    ['a symbol', Symbol('s'), '$'],
    ['a Map', new Map([['a', 1]]), '$'],
    ['a Set', new Set([1]), '$'],
    ['a Date', new Date(0), '$'],
    ['a class instance', { p: new Point() }, '$.p'],
    ['an Int16Array', new Int16Array(2), '$'],
    ['an ArrayBuffer', new ArrayBuffer(2), '$'],
    ['a circular reference', circular, '$.self'],
    ['a lone surrogate', { s: 'a\ud800' }, '$.s'],
    ['a bigint above 2^63 - 1', 2n ** 63n, '$'],
    ['a bigint below -2^63', -(2n ** 63n) - 1n, '$'],
    ['nesting beyond maxDepth', deep, `$${'[0]'.repeat(CODEC_LIMITS.maxDepth)}`],
    ['a sparse array', Object.assign(new Array(3), { 0: 1, 2: 3 }), '$[1]'],
  ]

  for (const [label, value, path] of cases) {
    it(`throws EncodeError for ${label}, naming ${path.length > 20 ? 'its path' : path}`, () => {
      let thrown: unknown
      try {
        encode(value)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(EncodeError)
      expect((thrown as EncodeError).details.path).toBe(path)
    })
  }

  it('encodes the same object twice when it is shared, not circular', () => {
    const shared = { x: 1 }
    expect(decode(encode({ a: shared, b: shared }))).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })

  it('accepts null-prototype objects', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 })
    expect(hex(encode(value))).toBe(hex(encode({ a: 1 })))
  })

  it('throws MessageTooLargeError above maxBytes', () => {
    expect(() => encode(new Uint8Array(100), { maxBytes: 100 })).toThrow(
      expect.objectContaining({ name: 'MessageTooLargeError' }),
    )
    expect(encode(new Uint8Array(98), { maxBytes: 100 })).toHaveLength(100)
    expect(() => encode(1, { maxBytes: 0 })).toThrow(RangeError)
    expect(() => encode(1, { maxBytes: '5' as never })).toThrow(TypeError)
  })
})

describe('decode errors', () => {
  const cases: [string, string][] = [
    ['trailing bytes', '0102'],
    ['a truncated array', '8301'],
    ['a truncated string', '6461'],
    ['a non-minimal integer', '1801'],
    ['a non-minimal length', '780161'],
    ['unsorted map keys', 'a2616201616102'],
    ['bytewise instead of length-first key order', 'a262616102616201'],
    ['duplicate map keys', 'a2616101616102'],
    ['an indefinite-length array', '9f01ff'],
    ['an indefinite-length string', '7f6161ff'],
    ['a 32-bit float', 'fa3fc00000'],
    ['a 16-bit float', 'f93e00'],
    ['an integer written as a float', 'fb3ff0000000000000'],
    ['a float NaN', 'fb7ff8000000000000'],
    ['a float Infinity', 'fb7ff0000000000000'],
    ['undefined', 'f7'],
    ['an unsigned integer beyond int64', '1bffffffffffffffff'],
    ['a negative integer beyond int64', '3b8000000000000000'],
    ['an unknown tag', 'c001'],
    ['a CID tag over a non-CID', 'd82a420001'],
    ['a non-string map key', 'a10101'],
    ['invalid UTF-8', '62c328'],
    ['a break without an indefinite container', 'ff'],
  ]

  for (const [label, bytes] of cases) {
    it(`throws DecodeError for ${label}`, () => {
      decodeError(() => decode(fromHex(bytes)))
    })
  }

  it('throws DecodeError for empty input', () => {
    decodeError(() => decode(new Uint8Array(0)))
  })

  it('throws DecodeError, not a stack overflow, for absurdly deep input', () => {
    const deep = new Uint8Array(500_000).fill(0x81)
    deep[deep.length - 1] = 0
    decodeError(() => decode(deep))
  })

  it('throws DecodeError for nesting beyond maxDepth that the parser accepts', () => {
    const depth = CODEC_LIMITS.maxDepth + 1
    const bytes = new Uint8Array(depth + 1).fill(0x81)
    bytes[depth] = 0
    decodeError(() => decode(bytes))
  })

  it('keeps the parser error as the cause', () => {
    const error = decodeError(() => decode(fromHex('8301')))
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('throws MessageTooLargeError above maxBytes, by default 4 MiB', () => {
    const large = encode(new Uint8Array(CODEC_LIMITS.maxBytes - 5))
    expect(large.length).toBe(CODEC_LIMITS.maxBytes)
    expect((decode(large) as Uint8Array).length).toBe(CODEC_LIMITS.maxBytes - 5)
    expect(() => decode(new Uint8Array(CODEC_LIMITS.maxBytes + 1))).toThrow(
      expect.objectContaining({ name: 'MessageTooLargeError' }),
    )
    expect(() => decode(encode('abc'), { maxBytes: 3 })).toThrow(
      expect.objectContaining({ name: 'MessageTooLargeError' }),
    )
  })

  it('throws TypeError for input that is not a Uint8Array', () => {
    expect(() => decode('f6' as never)).toThrow(TypeError)
    expect(() => decode(new ArrayBuffer(1) as never)).toThrow(TypeError)
    expect(() => decode([0xf6] as never)).toThrow(TypeError)
  })
})

describe('decodeAs and shapes', () => {
  const parent = cidOf({ height: 0 })
  const Header = shape.object({
    height: shape.uint(),
    round: shape.int({ min: 0, max: 1000 }),
    parent: shape.cid(),
    proposer: shape.bytes({ length: 32 }),
    gasUsed: shape.bigint({ min: 0n }),
    chainId: shape.string({ min: 1, max: 32 }),
    kind: shape.union(shape.literal('block'), shape.literal('genesis')),
    txs: shape.array(shape.bytes({ max: 64 }), { max: 4 }),
    labels: shape.record(shape.string(), { maxKeys: 2 }),
    memo: shape.optional(shape.string({ max: 16 })),
    final: shape.boolean(),
    weight: shape.number(),
  })
  type Header = Infer<typeof Header>

  const header: Header = {
    height: 10,
    round: 2,
    parent,
    proposer: new Uint8Array(32).fill(7),
    gasUsed: 2n ** 60n,
    chainId: 'metanode-devnet',
    kind: 'block',
    txs: [Uint8Array.of(1), Uint8Array.of(2, 3)],
    labels: { region: 'eu' },
    final: true,
    weight: 0.5,
  }

  function pathOf(value: unknown, schema: (value: unknown, path: string) => unknown): unknown {
    return decodeError(() => decodeAs(encode(value), schema)).details.path
  }

  it('returns the typed value when it fits', () => {
    const decoded = decodeAs(encode(header), Header)
    expect(decoded).toEqual({ ...header, parent: expect.anything() })
    expect(decoded.parent.equals(parent)).toBe(true)
    expect(decoded.memo).toBeUndefined()
    expect('memo' in decoded).toBe(false)
  })

  it('reads an optional property when present', () => {
    expect(decodeAs(encode({ ...header, memo: 'hi' }), Header).memo).toBe('hi')
  })

  it('reads small integers as bigint through shape.bigint', () => {
    expect(decodeAs(encode({ ...header, gasUsed: 21_000n }), Header).gasUsed).toBe(21_000n)
  })

  it('names the path of the first mismatch', () => {
    expect(pathOf({ ...header, height: -1 }, Header)).toBe('$.height')
    expect(pathOf({ ...header, height: 1.5 }, Header)).toBe('$.height')
    expect(pathOf({ ...header, round: 1001 }, Header)).toBe('$.round')
    expect(pathOf({ ...header, parent: 'not a cid' }, Header)).toBe('$.parent')
    expect(pathOf({ ...header, proposer: new Uint8Array(31) }, Header)).toBe('$.proposer')
    expect(pathOf({ ...header, gasUsed: -1 }, Header)).toBe('$.gasUsed')
    expect(pathOf({ ...header, chainId: '' }, Header)).toBe('$.chainId')
    expect(pathOf({ ...header, chainId: 'x'.repeat(33) }, Header)).toBe('$.chainId')
    expect(pathOf({ ...header, kind: 'other' }, Header)).toBe('$.kind')
    expect(pathOf({ ...header, txs: [Uint8Array.of(1), 'x'] }, Header)).toBe('$.txs[1]')
    expect(pathOf({ ...header, txs: [new Uint8Array(65)] }, Header)).toBe('$.txs[0]')
    expect(pathOf({ ...header, txs: [1, 2, 3, 4, 5] }, Header)).toBe('$.txs')
    expect(pathOf({ ...header, labels: { a: 1 } }, Header)).toBe('$.labels.a')
    expect(pathOf({ ...header, labels: { a: 'x', b: 'y', c: 'z' } }, Header)).toBe('$.labels')
    expect(pathOf({ ...header, memo: 'x'.repeat(17) }, Header)).toBe('$.memo')
    expect(pathOf({ ...header, final: 1 }, Header)).toBe('$.final')
    expect(pathOf({ ...header, extra: 1 }, Header)).toBe('$.extra')
    expect(pathOf([header], Header)).toBe('$')
    const { height: _, ...withoutHeight } = header
    expect(pathOf(withoutHeight, Header)).toBe('$.height')
  })

  it('rejects a __proto__ key as unknown instead of following it', () => {
    const bytes = encode(JSON.parse('{"__proto__": {"height": 1}}'))
    const error = decodeError(() => decodeAs(bytes, shape.object({ height: shape.uint() })))
    expect(error.details.path).toBe('$.__proto__')
  })

  it('passes malformed bytes through as DecodeError', () => {
    decodeError(() => decodeAs(fromHex('8301'), Header))
  })

  it('refuses malformed shape options', () => {
    expect(() => shape.bytes({ min: -1 })).toThrow(RangeError)
    expect(() => shape.bytes({ min: 5, max: 4 })).toThrow(RangeError)
    expect(() => shape.string({ max: 1.5 })).toThrow(TypeError)
    expect(() => shape.int({ min: 2, max: 1 })).toThrow(RangeError)
    expect(() => shape.bigint({ min: 1 as never })).toThrow(TypeError)
    expect(() => shape.array('item' as never)).toThrow(TypeError)
    expect(() => shape.object({ a: 'x' as never })).toThrow(TypeError)
    expect(() => shape.union('x' as never)).toThrow(TypeError)
  })

  it('accepts anything decodable through shape.unknown', () => {
    expect(decodeAs(encode([1, 'a']), shape.unknown())).toEqual([1, 'a'])
  })
})

describe('cidOf', () => {
  it('is the dag-cbor BLAKE3 CID of the encoding', () => {
    const value = { height: 1, parent: null }
    const cid = cidOf(value)
    expect(cid.code).toBe(0x71)
    expect(cid.multihash.code).toBe(0x1e)
    expect(cid.equals(cidForBytes(encode(value), 'dag-cbor'))).toBe(true)
  })

  it('does not depend on key insertion order', () => {
    expect(cidOf({ a: 1, b: 2 }).equals(cidOf({ b: 2, a: 1 }))).toBe(true)
    expect(cidOf({ a: 1, b: 2 }).equals(cidOf({ a: 1, b: 3 }))).toBe(false)
  })

  it('throws EncodeError for values outside the data model', () => {
    expect(() => cidOf({ a: undefined })).toThrow(EncodeError)
  })
})
