import * as dagCbor from '@ipld/dag-cbor'
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import { sha1 } from '@noble/hashes/legacy.js'
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js'
import { sha3_512 } from '@noble/hashes/sha3.js'
import fc from 'fast-check'
import { base32 } from 'multiformats/bases/base32'
import { base36 } from 'multiformats/bases/base36'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import {
  BLAKE3_CODE,
  blake3Multihash,
  CidParseError,
  cidForBytes,
  cidFromBytes,
  cidToBytes,
  DAG_CBOR_CODE,
  formatCid,
  isBlake3Cid,
  MAX_CID_BYTES,
  MAX_CID_STRING_LENGTH,
  parseCid,
  RAW_CODE,
  verifyCid,
} from '../src/cid.js'
import { sha256 } from '../src/hash.js'
import {
  bytesToHex,
  hexToBytes,
  listVectors,
  readVectorBytes,
  readVectorText,
} from './helpers/vectors.js'

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)

// The two multibase codecs src/cid.ts reads and writes.
const SUPPORTED_BASES = { base32, base58btc } as const
// Every other base named by the multibase vectors; a name in neither list fails the test, so a new
// base in the vectors is a decision, not a silent skip.
const UNSUPPORTED_BASES = new Set([
  'base2',
  'base8',
  'base10',
  'base16',
  'base16upper',
  'base32upper',
  'base32hex',
  'base32hexupper',
  'base32pad',
  'base32padupper',
  'base32hexpad',
  'base32hexpadupper',
  'base32z',
  'base36',
  'base36upper',
  'base45',
  'base58flickr',
  'base64',
  'base64pad',
  'base64url',
  'base64urlpad',
  'base256emoji',
  'proquint',
  'none',
])

/** `name, "value"` rows; values may hold `\xNN` escapes. */
function parseMultibaseCsv(text: string): { input: Uint8Array; rows: [string, string][] } {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  const parseRow = (line: string): [string, string] => {
    const match = /^([^,]+),\s*"(.*)"\s*$/.exec(line)
    if (match === null) throw new Error(`bad row: ${line}`)
    return [match[1]!.trim(), match[2]!]
  }
  const [, inputText] = parseRow(lines[0]!)
  const unescaped = inputText.replace(/\\x([0-9a-f]{2})/gi, (_, h: string) =>
    String.fromCharCode(Number.parseInt(h, 16)),
  )
  return { input: utf8(unescaped), rows: lines.slice(1).map(parseRow) }
}

describe('multibase vectors', () => {
  const files = [
    { file: 'multiformats/multibase/tests/basic.csv', canonical: true },
    { file: 'multiformats/multibase/tests/leading_zero.csv', canonical: true },
    { file: 'multiformats/multibase/tests/two_leading_zeros.csv', canonical: true },
    { file: 'multiformats/multibase/tests/case_insensitivity.csv', canonical: false },
  ]
  for (const { file, canonical } of files) {
    it(`base32 and base58btc rows of ${file} round-trip`, () => {
      const { input, rows } = parseMultibaseCsv(readVectorText(file))
      let checked = 0
      let skipped = 0
      for (const [name, encoded] of rows) {
        if (name in SUPPORTED_BASES) {
          const codec = SUPPORTED_BASES[name as keyof typeof SUPPORTED_BASES]
          expect(codec.decode(encoded), `${file} ${name}`).toEqual(input)
          // Non-canonical (mixed-case) strings must decode; encoding gives the canonical form.
          const expected = canonical ? encoded : `${encoded[0]}${encoded.slice(1).toLowerCase()}`
          expect(codec.encode(input)).toBe(expected)
          checked++
        } else {
          expect(UNSUPPORTED_BASES.has(name), `unexpected base ${name}`).toBe(true)
          skipped++
        }
      }
      // basic / leading zero files: 23 bases, 2 ours; case insensitivity: 12 bases, base32 only.
      expect({ checked, skipped }).toEqual(
        canonical ? { checked: 2, skipped: 21 } : { checked: 1, skipped: 11 },
      )
    })
  }

  it('multiformats/multibase/multibase.csv gives base32 and base58btc the prefixes we use', () => {
    const lines = readVectorText('multiformats/multibase/multibase.csv').split('\n').slice(1)
    const rows = lines
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(',').map((cell) => cell.trim()))
    let checked = 0
    let skipped = 0
    for (const [, character, name] of rows) {
      if (name !== undefined && name in SUPPORTED_BASES) {
        expect(SUPPORTED_BASES[name as keyof typeof SUPPORTED_BASES].prefix).toBe(character)
        checked++
      } else {
        expect(UNSUPPORTED_BASES.has(name ?? ''), `unexpected base ${name}`).toBe(true)
        skipped++
      }
    }
    expect(checked).toBe(2)
    expect(skipped).toBe(rows.length - 2)
    expect(skipped).toBe(27)
  })
})

describe('multihash vectors', () => {
  it('multiformats/multihash/test_cases.csv: varint(code) ‖ varint(length) ‖ digest', () => {
    const functions: Record<string, { code: number; hash: (data: Uint8Array) => Uint8Array }> = {
      sha1: { code: 0x11, hash: sha1 },
      'sha2-256': { code: 0x12, hash: nobleSha256 },
      'sha2-512': { code: 0x13, hash: sha512 },
      // In this file `sha3` means SHA3-512.
      sha3: { code: 0x14, hash: sha3_512 },
    }
    const rows = readVectorText('multiformats/multihash/test_cases.csv')
      .split('\n')
      .slice(1)
      .filter((line) => line.trim() !== '')
    expect(rows.length).toBe(260)
    for (const row of rows) {
      const [algorithm, bits, input, multihash] = row.split(',') as [string, string, string, string]
      const fn = functions[algorithm]
      if (fn === undefined) throw new Error(`unhandled algorithm ${algorithm}`)
      // The input column is the literal ASCII text (it merely looks like hex).
      const digest = fn.hash(utf8(input)).subarray(0, Number(bits) / 8)
      const encoded = Digest.create(fn.code, digest)
      expect(bytesToHex(encoded.bytes), row).toBe(multihash)
      expect(Digest.decode(hexToBytes(multihash)).digest).toEqual(digest)
    }
  })

  it('blake3Multihash is synchronous BLAKE3-256 under code 0x1e', () => {
    const data = utf8('multihash')
    const digest = blake3Multihash.digest(data)
    expect(digest).not.toBeInstanceOf(Promise)
    const { code, size, digest: bytes } = digest as Digest.Digest<number, number>
    expect({ code, size }).toEqual({ code: 0x1e, size: 32 })
    expect(bytes).toEqual(nobleBlake3(data))
    expect(blake3Multihash.code).toBe(BLAKE3_CODE)
    expect(blake3Multihash.name).toBe('blake3')
  })
})

describe('multicodec table', () => {
  it('multiformats/multicodec/table.csv has our codes for blake3, dag-cbor and raw', () => {
    const table = new Map<string, { tag: string; code: number }>()
    for (const line of readVectorText('multiformats/multicodec/table.csv').split('\n').slice(1)) {
      const [name, tag, code] = line.split(',').map((cell) => cell.trim())
      if (name && tag && code) table.set(name, { tag, code: Number.parseInt(code, 16) })
    }
    expect(table.get('blake3')).toEqual({ tag: 'multihash', code: BLAKE3_CODE })
    expect(table.get('dag-cbor')).toEqual({ tag: 'ipld', code: DAG_CBOR_CODE })
    expect(table.get('raw')).toEqual({ tag: 'ipld', code: RAW_CODE })
  })
})

describe('IPLD codec fixtures', () => {
  const files = listVectors('ipld-codec-fixtures/fixtures')
  const cborFiles = files.filter((file) => file.endsWith('.dag-cbor'))

  it('hold DAG-CBOR blocks only', () => {
    expect(cborFiles.length).toBe(128)
    expect(files).toEqual(cborFiles)
  })

  it('re-encode identically, carry their sha2-256 CID, and get BLAKE3 CIDs that round-trip', () => {
    for (const file of cborFiles) {
      const bytes = readVectorBytes(file)
      // cborg may hand back a Buffer; compare contents.
      expect(bytesToHex(dagCbor.encode(dagCbor.decode(bytes))), file).toBe(bytesToHex(bytes))

      const name = file.slice(file.lastIndexOf('/') + 1, -'.dag-cbor'.length)
      const shaCid = CID.createV1(DAG_CBOR_CODE, Digest.create(0x12, sha256(bytes)))
      expect(formatCid(shaCid), file).toBe(name)
      const parsedName = parseCid(name)
      expect(parsedName.equals(shaCid)).toBe(true)
      expect(isBlake3Cid(parsedName)).toBe(false)
      expect(verifyCid(parsedName, bytes)).toBe(false)

      const cid = cidForBytes(bytes, 'dag-cbor')
      expect(cid.code).toBe(DAG_CBOR_CODE)
      expect(cid.multihash.digest).toEqual(nobleBlake3(bytes))
      for (const base of ['base32', 'base58btc'] as const) {
        const text = formatCid(cid, base)
        expect(text[0]).toBe(base === 'base32' ? 'b' : 'z')
        expect(parseCid(text).equals(cid)).toBe(true)
      }
      expect(cidFromBytes(cidToBytes(cid)).equals(cid)).toBe(true)
      expect(verifyCid(cid, bytes)).toBe(true)
    }
  })

  it('negative fixtures fail', () => {
    const negative = listVectors('ipld-codec-fixtures/negative-fixtures/dag-cbor')
    expect(negative.length).toBeGreaterThan(0)
    let cases = 0
    for (const file of negative) {
      const entries = JSON.parse(readVectorText(file)) as {
        name: string
        hex?: string
        error: string
      }[]
      // Only decode fixtures are committed; an encode fixture (a dag-json value that must fail to
      // encode) would need a dag-json decoder, so it fails loudly here until handled.
      expect(file, 'unhandled negative fixture kind').toMatch(/\/decode\//)
      for (const entry of entries) {
        expect(entry.hex, entry.name).toBeTypeOf('string')
        expect(() => dagCbor.decode(hexToBytes(entry.hex!)), entry.name).toThrow()
        cases++
      }
    }
    expect(cases).toBeGreaterThan(0)
  })
})

describe('cidForBytes', () => {
  it('names blocks by their BLAKE3-256 digest as CIDv1', () => {
    const block = utf8('hello')
    const raw = cidForBytes(block)
    expect(raw.version).toBe(1)
    expect(raw.code).toBe(RAW_CODE)
    expect(raw.multihash.code).toBe(BLAKE3_CODE)
    expect(raw.multihash.digest).toEqual(nobleBlake3(block))
    expect(formatCid(raw).startsWith('bafkr4i')).toBe(true)
    const cbor = cidForBytes(block, 'dag-cbor')
    expect(cbor.code).toBe(DAG_CBOR_CODE)
    expect(formatCid(cbor).startsWith('bafyr4i')).toBe(true)
    expect(cbor.multihash.digest).toEqual(raw.multihash.digest)
    expect(cbor.equals(raw)).toBe(false)
  })

  it('rejects bad arguments', () => {
    expect(() => cidForBytes('x' as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => cidForBytes(new Uint8Array(1), 'dag-json' as 'raw')).toThrow(TypeError)
  })

  it('round-trips through strings and bytes for random blocks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.constantFrom('raw', 'dag-cbor'),
        (block, codec: 'raw' | 'dag-cbor') => {
          const cid = cidForBytes(block, codec)
          expect(isBlake3Cid(cid)).toBe(true)
          expect(verifyCid(cid, block)).toBe(true)
          expect(parseCid(formatCid(cid)).equals(cid)).toBe(true)
          expect(parseCid(formatCid(cid, 'base58btc')).equals(cid)).toBe(true)
          expect(cidFromBytes(cidToBytes(cid)).equals(cid)).toBe(true)
        },
      ),
      { numRuns: 100 },
    )
  })
})

function expectParseError(fn: () => unknown): CidParseError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(CidParseError)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).name).toBe('CidParseError')
    return error as CidParseError
  }
  throw new Error('expected a CidParseError')
}

describe('parseCid and formatCid', () => {
  const cid = cidForBytes(utf8('parse me'))
  const text = formatCid(cid)

  it('accept any case of base32 and format canonically', () => {
    const mixed = `b${text.slice(1).toUpperCase()}`
    const parsed = parseCid(mixed)
    expect(parsed.equals(cid)).toBe(true)
    expect(formatCid(parsed)).toBe(text)
  })

  it('handle CIDv0', () => {
    const v0Text = 'QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n'
    const v0 = parseCid(v0Text)
    expect(v0.version).toBe(0)
    expect(formatCid(v0, 'base58btc')).toBe(v0Text)
    expect(() => formatCid(v0)).toThrow(RangeError)
    expect(isBlake3Cid(v0)).toBe(false)
    expect(verifyCid(v0, utf8('x'))).toBe(false)
    // A v0 CID must not carry a multibase prefix.
    const error = expectParseError(() => parseCid(`z${v0Text}`))
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('throw CidParseError with the cause for bad strings', () => {
    for (const bad of ['bxyz!', 'b', 'zzzzzz0OIl', `${text}a`, text.slice(0, -2), 'Qm']) {
      const error = expectParseError(() => parseCid(bad))
      expect(error.cause, bad).toBeDefined()
    }
    const other = cidForBytes(utf8('x'))
    for (const unsupported of [
      '',
      'x'.repeat(MAX_CID_STRING_LENGTH + 1),
      other.toString(base32).toUpperCase(), // base32upper
      other.toString(base36),
      `f${bytesToHex(other.bytes)}`, // base16
    ]) {
      expectParseError(() => parseCid(unsupported))
    }
    expect(() => parseCid(42 as unknown as string)).toThrow(TypeError)
  })

  it('reject bad arguments to formatCid', () => {
    expect(() => formatCid({} as CID)).toThrow(TypeError)
    expect(() => formatCid(cid, 'base64' as 'base32')).toThrow(TypeError)
  })
})

describe('cidFromBytes and cidToBytes', () => {
  const cid = cidForBytes(utf8('bytes'))

  it('are strict and never alias', () => {
    const bytes = cidToBytes(cid)
    expect(bytes).toEqual(cid.bytes)
    bytes[bytes.length - 1]! ^= 1
    expect(verifyCid(cid, utf8('bytes'))).toBe(true)

    const input = cidToBytes(cid)
    const decoded = cidFromBytes(input)
    input.fill(0)
    expect(decoded.equals(cid)).toBe(true)

    const trailing = new Uint8Array([...cidToBytes(cid), 0])
    expect(expectParseError(() => cidFromBytes(trailing)).cause).toBeDefined()
    expectParseError(() => cidFromBytes(cidToBytes(cid).subarray(0, 20)))
    expectParseError(() => cidFromBytes(new Uint8Array(0)))
    expectParseError(() => cidFromBytes(new Uint8Array(MAX_CID_BYTES + 1)))
    expect(() => cidFromBytes([1, 2] as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => cidToBytes('cid' as unknown as CID)).toThrow(TypeError)
  })
})

describe('verifyCid and isBlake3Cid', () => {
  it('check the block against the digest', () => {
    const block = utf8('block')
    const cid = cidForBytes(block, 'dag-cbor')
    expect(verifyCid(cid, block)).toBe(true)
    expect(verifyCid(cid, utf8('blocK'))).toBe(false)
    expect(verifyCid(cid, new Uint8Array(0))).toBe(false)
    expect(() => verifyCid(cid, 'block' as unknown as Uint8Array)).toThrow(TypeError)
  })

  it('recognise only 32-byte BLAKE3 CIDv1', () => {
    expect(isBlake3Cid(cidForBytes(new Uint8Array(0)))).toBe(true)
    expect(
      isBlake3Cid(CID.createV1(RAW_CODE, Digest.create(0x12, sha256(new Uint8Array(0))))),
    ).toBe(false)
    const short = CID.createV1(RAW_CODE, Digest.create(BLAKE3_CODE, new Uint8Array(16)))
    expect(isBlake3Cid(short)).toBe(false)
    expect(verifyCid(short, new Uint8Array(0))).toBe(false)
    expect(isBlake3Cid(null as unknown as CID)).toBe(false)
    expect(isBlake3Cid({} as CID)).toBe(false)
  })
})
