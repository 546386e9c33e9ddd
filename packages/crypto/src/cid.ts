/**
 * Content identifiers: CIDv1 over a BLAKE3-256 multihash, the identifier of every block and
 * object in Metanode, with parsing and formatting in base32 (canonical) and base58btc.
 *
 * Built on `multiformats`; the BLAKE3 digest comes from `@metanode/crypto/hash` (native where
 * available), so CIDs are computed synchronously.
 *
 * @example
 * ```ts
 * import { cidForBytes, formatCid, parseCid, verifyCid } from '@metanode/crypto/cid'
 *
 * const block = new TextEncoder().encode('hello')
 * const cid = cidForBytes(block) // raw codec
 * const text = formatCid(cid) // 'bafkr4i…' (base32)
 * parseCid(text).equals(cid) // true
 * verifyCid(cid, block) // true
 * ```
 *
 * @module
 */
import { base32 } from 'multiformats/bases/base32'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { from } from 'multiformats/hashes/hasher'
import type { MultihashHasher } from 'multiformats/hashes/interface'
import { blake3 } from './hash.js'
import { abytes, equalBytes } from './utils.js'

export type { CID } from 'multiformats/cid'

/** Multicodec code of the BLAKE3 multihash (32-byte default output). */
export const BLAKE3_CODE = 0x1e
/** Multicodec code of DAG-CBOR blocks. */
export const DAG_CBOR_CODE = 0x71
/** Multicodec code of raw binary blocks. */
export const RAW_CODE = 0x55

/** The block codecs {@link cidForBytes} names CIDs with. */
export type BlockCodec = 'raw' | 'dag-cbor'

/** The string encodings {@link formatCid} writes. */
export type CidBase = 'base32' | 'base58btc'

/** The longest CID string {@link parseCid} accepts; real CIDs are under 120 characters. */
export const MAX_CID_STRING_LENGTH = 256
/** The longest binary CID {@link cidFromBytes} accepts. */
export const MAX_CID_BYTES = 160

const DIGEST_LENGTH = 32

/** Thrown by {@link parseCid} and {@link cidFromBytes} for input that is not a valid CID. */
export class CidParseError extends Error {
  /** Always `'CidParseError'`, to match on. */
  override readonly name = 'CidParseError'

  /**
   * @param message What was wrong with the input.
   * @param options `cause`: the underlying decoder error, when there is one.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** BLAKE3-256 as a `multiformats` multihash hasher (code 0x1e), for APIs that take a hasher. */
export const blake3Multihash: MultihashHasher<typeof BLAKE3_CODE> = from({
  name: 'blake3',
  code: BLAKE3_CODE,
  // A BLAKE3 digest is never backed by a SharedArrayBuffer.
  encode: (input: Uint8Array) => blake3(input) as Uint8Array<ArrayBuffer>,
  minDigestLength: DIGEST_LENGTH,
  maxDigestLength: DIGEST_LENGTH,
})

/**
 * The CIDv1 of an already-encoded block: the BLAKE3-256 multihash of `bytes`, labelled with
 * `codec`.
 *
 * @throws TypeError when `bytes` is not a Uint8Array or `codec` is unknown.
 */
export function cidForBytes(bytes: Uint8Array, codec: BlockCodec = 'raw'): CID {
  abytes(bytes, 'bytes')
  const code = codec === 'raw' ? RAW_CODE : codec === 'dag-cbor' ? DAG_CBOR_CODE : undefined
  if (code === undefined) {
    throw new TypeError(`codec must be 'raw' or 'dag-cbor', got ${String(codec)}`)
  }
  return CID.createV1(code, Digest.create(BLAKE3_CODE, blake3(bytes)))
}

/**
 * Parses a CID string: multibase base32 (`b…`, either case), base58btc (`z…`), or a bare base58
 * CIDv0 (`Qm…`).
 *
 * @throws TypeError when `text` is not a string.
 * @throws CidParseError for any other base, malformed text, or a string over
 *   {@link MAX_CID_STRING_LENGTH} characters; the decoder's error is the `cause`.
 */
export function parseCid(text: string): CID {
  if (typeof text !== 'string') throw new TypeError(`CID must be a string, got ${typeof text}`)
  if (text.length === 0 || text.length > MAX_CID_STRING_LENGTH) {
    throw new CidParseError(`CID string must be 1..${MAX_CID_STRING_LENGTH} characters long`)
  }
  const first = text[0]
  if (first !== 'b' && first !== 'z' && !text.startsWith('Qm')) {
    throw new CidParseError(`unsupported CID encoding: expected base32 (b), base58btc (z) or Qm…`)
  }
  try {
    return CID.parse(text)
  } catch (cause) {
    throw new CidParseError(`invalid CID string ${JSON.stringify(text)}`, { cause })
  }
}

/**
 * The string form of `cid`: base32 (the canonical CIDv1 form, lowercase) or base58btc. A CIDv0
 * is always written in its bare base58btc form (`Qm…`).
 *
 * @throws TypeError when `cid` is not a CID or `base` is unknown.
 * @throws RangeError when asked for base32 of a CIDv0, which has no such form.
 */
export function formatCid(cid: CID, base: CidBase = 'base32'): string {
  const checked = asCid(cid)
  if (base !== 'base32' && base !== 'base58btc') {
    throw new TypeError(`base must be 'base32' or 'base58btc', got ${String(base)}`)
  }
  // Encoded here rather than through cid.toString(), which returns the exact string a CID was
  // parsed from, mixed case included: formatting must be canonical.
  if (checked.version === 0) {
    if (base === 'base32') throw new RangeError('a CIDv0 can only be written in base58btc')
    return base58btc.baseEncode(checked.bytes)
  }
  return base === 'base32' ? base32.encode(checked.bytes) : base58btc.encode(checked.bytes)
}

/**
 * Decodes a binary CID; the input must be exactly one CID, with nothing after it.
 *
 * @throws TypeError when `bytes` is not a Uint8Array.
 * @throws CidParseError when it is not a valid CID or longer than {@link MAX_CID_BYTES}.
 */
export function cidFromBytes(bytes: Uint8Array): CID {
  abytes(bytes, 'bytes')
  if (bytes.length === 0 || bytes.length > MAX_CID_BYTES) {
    throw new CidParseError(`a binary CID is 1..${MAX_CID_BYTES} bytes, got ${bytes.length}`)
  }
  try {
    // CID.decode rejects trailing bytes; the copy keeps the CID from aliasing the caller's buffer.
    return CID.decode(bytes.slice())
  } catch (cause) {
    throw new CidParseError('invalid binary CID', { cause })
  }
}

/**
 * The binary form of `cid` (a copy).
 *
 * @throws TypeError when `cid` is not a CID.
 */
export function cidToBytes(cid: CID): Uint8Array {
  return asCid(cid).bytes.slice()
}

/** Whether `cid` is a CIDv1 over a 32-byte BLAKE3 multihash. Never throws. */
export function isBlake3Cid(cid: CID): boolean {
  const checked = CID.asCID(cid)
  return (
    checked !== null &&
    checked.version === 1 &&
    checked.multihash.code === BLAKE3_CODE &&
    checked.multihash.size === DIGEST_LENGTH &&
    checked.multihash.digest.length === DIGEST_LENGTH
  )
}

/**
 * Whether `bytes` is the block `cid` names: `false` for a mismatch and for CIDs that are not over
 * BLAKE3-256 (see {@link isBlake3Cid}), which this function cannot check.
 *
 * @throws TypeError when `bytes` is not a Uint8Array.
 */
export function verifyCid(cid: CID, bytes: Uint8Array): boolean {
  abytes(bytes, 'bytes')
  if (!isBlake3Cid(cid)) return false
  return equalBytes(blake3(bytes), cid.multihash.digest)
}

function asCid(value: unknown): CID {
  const cid = CID.asCID(value)
  if (cid === null) throw new TypeError('expected a CID')
  return cid
}
