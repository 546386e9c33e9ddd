import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type Blake3Backend,
  blake3,
  blake3Backend,
  createBlake3,
  createSha3_256,
  createSha256,
  DOMAIN_HASH_CONTEXT,
  DOMAIN_HASH_PREFIX,
  domainHash,
  domainHasher,
  type ShaBackend,
  sha3_256,
  sha256,
  shaBackend,
} from '../src/hash.js'
import { bytesToHex, hexToBytes, readVectorJson, readVectorText } from './helpers/vectors.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

const blake3Backends: Blake3Backend[] = blake3Backend === 'native' ? ['native', 'noble'] : ['noble']
const shaBackends: ShaBackend[] = shaBackend === 'node' ? ['node', 'noble'] : ['noble']

interface Blake3Vectors {
  key: string
  context_string: string
  cases: { input_len: number; hash: string; keyed_hash: string; derive_key: string }[]
}

const blake3Vectors = readVectorJson<Blake3Vectors>('blake3/test_vectors.json')

function vectorInput(length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = i % 251
  return out
}

const isPlainUint8Array = (value: unknown): boolean =>
  value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype

describe('blake3', () => {
  // @napi-rs/blake-hash ships prebuilt binaries for these; elsewhere noble is the expected backend.
  const hasPrebuilt =
    ['linux', 'darwin', 'win32'].includes(process.platform) &&
    ['x64', 'arm64'].includes(process.arch)
  it.runIf(hasPrebuilt)('loads the native binding on this platform', () => {
    expect(blake3Backend).toBe('native')
  })

  for (const backend of blake3Backends) {
    describe(`${backend} backend`, () => {
      const hash = createBlake3({ backend })
      const key = utf8(blake3Vectors.key)
      const context = utf8(blake3Vectors.context_string)

      it(`matches every official vector (${blake3Vectors.cases.length} lengths, 3 modes, extended output)`, () => {
        expect(key.length).toBe(32)
        for (const c of blake3Vectors.cases) {
          const input = vectorInput(c.input_len)
          const extended = c.hash.length / 2
          expect(bytesToHex(hash(input)), `hash ${c.input_len}`).toBe(c.hash.slice(0, 64))
          expect(bytesToHex(hash(input, { dkLen: extended })), `xof ${c.input_len}`).toBe(c.hash)
          expect(bytesToHex(hash(input, { key })), `keyed ${c.input_len}`).toBe(
            c.keyed_hash.slice(0, 64),
          )
          expect(bytesToHex(hash(input, { key, dkLen: extended }))).toBe(c.keyed_hash)
          expect(bytesToHex(hash(input, { context })), `derive ${c.input_len}`).toBe(
            c.derive_key.slice(0, 64),
          )
          expect(bytesToHex(hash(input, { context, dkLen: extended }))).toBe(c.derive_key)
        }
      })

      it('returns plain Uint8Array in every mode', () => {
        const data = new Uint8Array(4096)
        for (const opts of [{}, { key }, { context }, { dkLen: 64 }]) {
          expect(isPlainUint8Array(hash(data, opts))).toBe(true)
          expect(isPlainUint8Array(hash(data.subarray(0, 10), opts))).toBe(true)
        }
      })

      it('rejects bad arguments', () => {
        const data = new Uint8Array(1)
        expect(() => hash('abc' as unknown as Uint8Array)).toThrow(TypeError)
        expect(() => hash(data, { key, context })).toThrow(TypeError)
        expect(() => hash(data, { key: new Uint8Array(31) })).toThrow(RangeError)
        expect(() => hash(data, { key: 'k' as unknown as Uint8Array })).toThrow(TypeError)
        expect(() => hash(data, { context: 'c' as unknown as Uint8Array })).toThrow(TypeError)
        expect(() => hash(data, { dkLen: 0 })).toThrow(RangeError)
        expect(() => hash(data, { dkLen: 65_537 })).toThrow(RangeError)
        expect(() => hash(data, { dkLen: 1.5 })).toThrow(TypeError)
        expect(() => hash(data, null as unknown as undefined)).toThrow(TypeError)
        expect(hash(data, { dkLen: 65_536 }).length).toBe(65_536)
        expect(hash(data, { dkLen: 1 }).length).toBe(1)
      })
    })
  }

  it('defaults to the load-time backend', () => {
    const data = vectorInput(1000)
    expect(blake3(data)).toEqual(createBlake3()(data))
  })

  it('rejects an unknown backend', () => {
    expect(() => createBlake3({ backend: 'wasm' as Blake3Backend })).toThrow(TypeError)
  })

  it.skipIf(blake3Backend !== 'native')('native and noble agree on random inputs', () => {
    const native = createBlake3({ backend: 'native' })
    const noble = createBlake3({ backend: 'noble' })
    // Lengths cross the 512-byte switch to native hashers and BLAKE3's 1024-byte chunk size.
    const data = fc.uint8Array({ maxLength: 3000 })
    const context = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }).map(utf8),
      fc.uint8Array({ maxLength: 40 }),
    )
    const opts = fc.record(
      {
        dkLen: fc.integer({ min: 1, max: 300 }),
        key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(data, opts, (input, options) => {
        expect(native(input, options)).toEqual(noble(input, options))
      }),
      { numRuns: 150 },
    )
    fc.assert(
      fc.property(data, context, fc.constantFrom(32, 77), (input, ctx, dkLen) => {
        const withContext = { context: ctx, dkLen }
        expect(native(input, withContext)).toEqual(noble(input, withContext))
      }),
      { numRuns: 150 },
    )
  })

  it.skipIf(blake3Backend !== 'native')(
    'native derive-key agrees on contexts that are not valid UTF-8',
    () => {
      const native = createBlake3({ backend: 'native' })
      const data = vectorInput(2000)
      for (const context of [
        Uint8Array.of(0xff, 0xfe),
        Uint8Array.of(0xc3),
        Uint8Array.of(0xef, 0xbb, 0xbf, 0x61),
        Uint8Array.of(0x61, 0x00, 0x62),
      ]) {
        expect(native(data, { context })).toEqual(nobleBlake3(data, { context }))
      }
    },
  )
})

interface ShaCase {
  message: Uint8Array
  digest: string
}

// CAVS .rsp: `Len = <bits>`, `Msg = <hex>`, `MD = <hex>` blocks, CRLF line endings. A zero-length
// message is written `Msg = 00`.
function parseRsp(text: string): ShaCase[] {
  const cases: ShaCase[] = []
  let length: number | undefined
  let message: Uint8Array | undefined
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim()
    const match = /^(Len|Msg|MD) = ([0-9a-f]+)$/i.exec(line)
    if (match === null) continue
    const [, field, value] = match as unknown as [string, string, string]
    if (field === 'Len') length = Number(value)
    else if (field === 'Msg') message = length === 0 ? new Uint8Array(0) : hexToBytes(value)
    else {
      if (length === undefined || message === undefined) throw new Error('MD before Len/Msg')
      expect(message.length * 8).toBe(length)
      cases.push({ message, digest: value.toLowerCase() })
      length = undefined
      message = undefined
    }
  }
  return cases
}

const shaFiles = {
  sha256: ['nist-cavp-sha/SHA256ShortMsg.rsp', 'nist-cavp-sha/SHA256LongMsg.rsp.gz'],
  sha3_256: ['nist-cavp-sha/SHA3_256ShortMsg.rsp', 'nist-cavp-sha/SHA3_256LongMsg.rsp.gz'],
} as const

describe('sha256 and sha3_256', () => {
  it('use node:crypto on this platform', () => {
    expect(shaBackend).toBe('node')
  })

  for (const backend of shaBackends) {
    const functions = {
      sha256: createSha256({ backend }),
      sha3_256: createSha3_256({ backend }),
    }
    for (const algorithm of ['sha256', 'sha3_256'] as const) {
      for (const file of shaFiles[algorithm]) {
        it(`${algorithm} (${backend}) matches ${file}`, () => {
          const cases = parseRsp(readVectorText(file))
          expect(cases.length).toBeGreaterThan(60)
          expect(cases.some((c) => c.message.length === 0)).toBe(file.includes('Short'))
          for (const c of cases) {
            expect(
              bytesToHex(functions[algorithm](c.message)),
              `${file} len ${c.message.length}`,
            ).toBe(c.digest)
          }
        })
      }
    }
    it(`${backend}: rejects non-bytes and returns plain Uint8Array`, () => {
      for (const fn of Object.values(functions)) {
        expect(() => fn('abc' as unknown as Uint8Array)).toThrow(TypeError)
        expect(isPlainUint8Array(fn(new Uint8Array(3)))).toBe(true)
      }
    })
  }

  it('default functions are the load-time backend', () => {
    const data = utf8('abc')
    expect(bytesToHex(sha256(data))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(bytesToHex(sha3_256(data))).toBe(
      '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    )
  })

  it('rejects an unknown backend', () => {
    expect(() => createSha256({ backend: 'wasm' as ShaBackend })).toThrow(TypeError)
  })
})

// The documented domainHash message, built independently of the implementation, and its inverse:
// decoding back to the very same (tag, parts) proves the encoding injective.
const PREFIX = utf8('MNDH\x01')

function encodeDomainMessage(tag: string, parts: Uint8Array[]): Uint8Array {
  const chunks: Uint8Array[] = [PREFIX, Uint8Array.of(tag.length), utf8(tag)]
  const u32 = (n: number): Uint8Array => {
    const out = new Uint8Array(4)
    new DataView(out.buffer).setUint32(0, n)
    return out
  }
  chunks.push(u32(parts.length))
  for (const part of parts) chunks.push(u32(part.length), part)
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

function decodeDomainMessage(message: Uint8Array): { tag: string; parts: Uint8Array[] } {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength)
  let offset = PREFIX.length
  expect(message.subarray(0, offset)).toEqual(PREFIX)
  const tagLength = message[offset++]!
  const tag = new TextDecoder().decode(message.subarray(offset, offset + tagLength))
  offset += tagLength
  const count = view.getUint32(offset)
  offset += 4
  const parts: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(offset)
    offset += 4
    parts.push(message.slice(offset, offset + length))
    offset += length
  }
  expect(offset).toBe(message.length)
  return { tag, parts }
}

const domainKey = nobleBlake3(new Uint8Array(0), { context: utf8(DOMAIN_HASH_CONTEXT) })
const referenceDomainHash = (tag: string, parts: Uint8Array[]): Uint8Array =>
  nobleBlake3(encodeDomainMessage(tag, parts), { key: domainKey })

const tagArb = fc
  .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 1, maxLength: 255 })
  .map((codes) => String.fromCharCode(...codes))
const smallTagArb = fc.string({ minLength: 1, maxLength: 4, unit: fc.constantFrom('a', 'b', '1') })
const partsArb = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 })

describe('domainHash', () => {
  it('is keyed BLAKE3 of the documented encoding, for short and long messages', () => {
    fc.assert(
      fc.property(
        tagArb,
        fc.array(fc.uint8Array({ maxLength: 1500 }), { maxLength: 4 }),
        (tag, parts) => {
          const expected = referenceDomainHash(tag, parts)
          expect(domainHash(tag, ...parts)).toEqual(expected)
          expect(domainHasher(tag)(...parts)).toEqual(expected)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('is exact at the one-chunk boundary of the message', () => {
    const tag = 'metanode/test'
    const fixed = PREFIX.length + 1 + tag.length + 4 + 4
    for (const length of [1024 - fixed - 1, 1024 - fixed, 1024 - fixed + 1]) {
      const part = vectorInput(length)
      expect(domainHash(tag, part)).toEqual(referenceDomainHash(tag, [part]))
    }
  })

  it('encodes injectively: distinct (tag, parts) give distinct messages and hashes', () => {
    fc.assert(
      fc.property(tagArb, partsArb, (tag, parts) => {
        expect(decodeDomainMessage(encodeDomainMessage(tag, parts))).toEqual({ tag, parts })
      }),
      { numRuns: 200 },
    )
    // Small alphabets make near-collisions (moved boundaries, split parts) likely.
    const inputArb = fc.record({
      tag: smallTagArb,
      parts: fc.array(fc.uint8Array({ maxLength: 3, max: 1 }), { maxLength: 3 }),
    })
    fc.assert(
      fc.property(inputArb, inputArb, (a, b) => {
        const same = a.tag === b.tag && JSON.stringify(a.parts) === JSON.stringify(b.parts)
        const equalHashes =
          bytesToHex(domainHash(a.tag, ...a.parts)) === bytesToHex(domainHash(b.tag, ...b.parts))
        expect(equalHashes).toBe(same)
      }),
      { numRuns: 500 },
    )
  })

  it('separates moved boundaries between tag and parts', () => {
    const hashes = [
      domainHash('a', Uint8Array.of(1, 2)),
      domainHash('a', Uint8Array.of(1), Uint8Array.of(2)),
      domainHash('a1', Uint8Array.of(2)),
      domainHash('a', Uint8Array.of(1, 2), new Uint8Array(0)),
      domainHash('a'),
      domainHash('a', new Uint8Array(0)),
      domainHash('b', Uint8Array.of(1, 2)),
    ].map(bytesToHex)
    expect(new Set(hashes).size).toBe(hashes.length)
  })

  it('publishes its prefix and is unaffected when callers mutate the exported copy', () => {
    expect(DOMAIN_HASH_PREFIX).toEqual(PREFIX)
    const before = domainHash('t', utf8('x'))
    DOMAIN_HASH_PREFIX[0] = 0
    expect(domainHash('t', utf8('x'))).toEqual(before)
    DOMAIN_HASH_PREFIX.set(PREFIX)
  })

  it('differs from a plain BLAKE3 of the same message', () => {
    const message = encodeDomainMessage('t', [utf8('x')])
    const result = domainHash('t', utf8('x'))
    expect(result).not.toEqual(nobleBlake3(message))
    expect(result.length).toBe(32)
    expect(isPlainUint8Array(result)).toBe(true)
  })

  it('rejects bad tags and parts', () => {
    expect(() => domainHash('')).toThrow(RangeError)
    expect(() => domainHash('x'.repeat(256))).toThrow(RangeError)
    expect(domainHash('x'.repeat(255)).length).toBe(32)
    expect(() => domainHash('caf\u00e9')).toThrow(RangeError)
    expect(() => domainHash('line\n')).toThrow(RangeError)
    expect(() => domainHash('\u007f')).toThrow(RangeError)
    expect(() => domainHash(42 as unknown as string)).toThrow(TypeError)
    expect(() => domainHash('t', [1, 2] as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => domainHasher('')).toThrow(RangeError)
    expect(() => domainHasher('t')('p' as unknown as Uint8Array)).toThrow(TypeError)
  })
})
