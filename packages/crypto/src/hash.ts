/**
 * Hash functions: BLAKE3 (plain, keyed, derive-key, extendable output), SHA-256, SHA3-256, and
 * `domainHash`, the domain-separated BLAKE3 that every Metanode protocol hash goes through.
 *
 * Backends are chosen once at load: BLAKE3 uses the native `@napi-rs/blake-hash` binding where it
 * loads and is faster ({@link blake3Backend} says which), SHA-2/SHA-3 use `node:crypto`
 * ({@link shaBackend}); otherwise `@noble/hashes` runs everywhere. Every backend gives identical
 * output; results are always plain `Uint8Array`.
 *
 * @example
 * ```ts
 * import { blake3, domainHash, sha256 } from '@metanode/crypto/hash'
 *
 * const data = new TextEncoder().encode('hello')
 * blake3(data) // 32-byte digest
 * blake3(data, { dkLen: 64 }) // 64 bytes of extendable output
 * blake3(data, { key: new Uint8Array(32) }) // keyed hash (MAC)
 * sha256(data)
 * // A hash no other protocol message can collide with: tag and parts are length-prefixed.
 * const txId = domainHash('metanode/tx', data)
 * ```
 *
 * @module
 */
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { sha3_256 as nobleSha3_256 } from '@noble/hashes/sha3.js'
import { CHUNK_LEN, FLAGS, hashChunkInto, keyToWords, wordsToBytes } from './blake3-compress.js'
import { bytesToHex as hex } from './bytes.js'
import { abytes, aint, equalBytes, getNodeBuiltin, toUint8Array, utf8 } from './utils.js'

/** Options of {@link blake3}, as in `@noble/hashes`. Use `key` or `context`, never both. */
export interface Blake3Opts {
  /** Output length in bytes, 1..65536 (default 32); more than 32 uses BLAKE3's extendable output. */
  dkLen?: number
  /** A 32-byte key: keyed-hash mode, a MAC / PRF. */
  key?: Uint8Array
  /**
   * Key derivation mode: the context bytes (normally a UTF-8 string of the form
   * `"[application] [commit timestamp] [purpose]"`, hard-coded and globally unique); the hashed
   * data is the key material.
   */
  context?: Uint8Array
}

/** A BLAKE3 function with the signature of {@link blake3}. */
export type Blake3Fn = (data: Uint8Array, opts?: Blake3Opts) => Uint8Array

/** A 32-byte hash function of one byte string. */
export type HashFn = (data: Uint8Array) => Uint8Array

/** Which BLAKE3 implementation runs: the native binding or pure-JS noble. */
export type Blake3Backend = 'native' | 'noble'

/** Which SHA-2/SHA-3 implementation runs: OpenSSL through `node:crypto`, or pure-JS noble. */
export type ShaBackend = 'node' | 'noble'

/** The largest `dkLen` {@link blake3} accepts. */
export const MAX_DK_LEN = 65_536

// What we use of @napi-rs/blake-hash, typed locally so the package's Buffer-based types never leak.
interface NativeBlake3Hasher {
  update(input: Uint8Array): unknown
  digestBuffer(): Uint8Array
}
interface NativeBlake3Module {
  blake3(input: Uint8Array): Uint8Array
  Blake3Hasher: {
    newKeyed(key: Uint8Array): NativeBlake3Hasher
    newDeriveKey(context: string): NativeBlake3Hasher
  }
}

// BLAKE3("") from the official test vectors: a binding that loads but computes garbage (wrong
// binary for the platform, a broken build) must not be used.
const BLAKE3_EMPTY = 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262'
const SHA256_EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const SHA3_256_EMPTY = 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a'

// `getNodeBuiltin` rather than a static `import 'node:module'`, so the module still loads in
// browsers and other runtimes, where it falls back to noble.
function loadNativeBlake3(): NativeBlake3Module | undefined {
  try {
    const nodeModule = getNodeBuiltin<typeof import('node:module')>('node:module')
    if (nodeModule === undefined) return undefined
    const native = nodeModule.createRequire(import.meta.url)(
      '@napi-rs/blake-hash',
    ) as NativeBlake3Module
    return hex(native.blake3(new Uint8Array(0))) === BLAKE3_EMPTY ? native : undefined
  } catch {
    // No prebuilt binary for this platform: noble takes over.
    return undefined
  }
}

type NodeCrypto = typeof import('node:crypto')

function loadNodeCrypto(): NodeCrypto | undefined {
  const nodeCrypto = getNodeBuiltin<NodeCrypto>('node:crypto')
  if (nodeCrypto === undefined) return undefined
  try {
    const empty = new Uint8Array(0)
    const sha2ok = hex(nodeCrypto.createHash('sha256').update(empty).digest()) === SHA256_EMPTY
    const sha3ok = hex(nodeCrypto.createHash('sha3-256').update(empty).digest()) === SHA3_256_EMPTY
    return sha2ok && sha3ok ? nodeCrypto : undefined
  } catch {
    // An OpenSSL built without SHA-3.
    return undefined
  }
}

const native = loadNativeBlake3()
const nodeCrypto = loadNodeCrypto()

/** The BLAKE3 implementation {@link blake3} uses in this process, chosen at load. */
export const blake3Backend: Blake3Backend = native === undefined ? 'noble' : 'native'

/** The implementation {@link sha256} and {@link sha3_256} use in this process, chosen at load. */
export const shaBackend: ShaBackend = nodeCrypto === undefined ? 'noble' : 'node'

// Constructing a native hasher object costs ~9 µs (the one-shot plain `blake3()` call needs none),
// while noble hashes ~55 MB/s: below this size noble is faster for keyed and derive-key modes.
const NATIVE_HASHER_MIN_BYTES = 512

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

// The native binding takes the derive-key context as a JS string, so only contexts that are
// valid UTF-8 and encode back to the very same bytes can go through it.
function contextAsString(context: Uint8Array): string | undefined {
  try {
    const text = strictUtf8.decode(context)
    return equalBytes(utf8(text), context) ? text : undefined
  } catch {
    return undefined
  }
}

function checkBlake3Args(data: Uint8Array, opts: Blake3Opts | undefined): number {
  abytes(data, 'data')
  if (opts === undefined) return 32
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError('blake3 options must be an object')
  }
  const { dkLen, key, context } = opts
  if (key !== undefined && context !== undefined) {
    throw new TypeError('blake3: use either key or context, not both')
  }
  if (key !== undefined) abytes(key, 'key', 32)
  if (context !== undefined) abytes(context, 'context')
  return dkLen === undefined ? 32 : aint(dkLen, 'dkLen', 1, MAX_DK_LEN)
}

function nobleBlake3Checked(data: Uint8Array, opts: Blake3Opts | undefined): Uint8Array {
  const dkLen = checkBlake3Args(data, opts)
  const nobleOpts: { dkLen: number; key?: Uint8Array; context?: Uint8Array } = { dkLen }
  if (opts?.key !== undefined) nobleOpts.key = opts.key
  if (opts?.context !== undefined) nobleOpts.context = opts.context
  return nobleBlake3(data, nobleOpts)
}

function makeNativeBlake3(binding: NativeBlake3Module): Blake3Fn {
  return (data, opts) => {
    // The common call, checked inline: small hashes are dominated by per-call overhead.
    if (opts === undefined && data instanceof Uint8Array) return toUint8Array(binding.blake3(data))
    const dkLen = checkBlake3Args(data, opts)
    // The binding only produces the 32-byte default output; longer output is noble's XOF.
    if (dkLen === 32) {
      const key = opts?.key
      const context = opts?.context
      if (key === undefined && context === undefined) return toUint8Array(binding.blake3(data))
      if (data.length >= NATIVE_HASHER_MIN_BYTES) {
        if (key !== undefined) {
          const hasher = binding.Blake3Hasher.newKeyed(key)
          hasher.update(data)
          return toUint8Array(hasher.digestBuffer())
        }
        const contextText = context === undefined ? undefined : contextAsString(context)
        if (contextText !== undefined) {
          const hasher = binding.Blake3Hasher.newDeriveKey(contextText)
          hasher.update(data)
          return toUint8Array(hasher.digestBuffer())
        }
      }
    }
    return nobleBlake3Checked(data, opts)
  }
}

/**
 * A BLAKE3 function on a chosen backend, for tests and benchmarks that compare implementations
 * (normal code uses {@link blake3}).
 *
 * @param options.backend `'native'` (throws an `Error` when the binding is unavailable on this
 *   platform) or `'noble'`; defaults to {@link blake3Backend}.
 */
export function createBlake3(options: { backend?: Blake3Backend } = {}): Blake3Fn {
  const backend = options.backend ?? blake3Backend
  if (backend === 'noble') return nobleBlake3Checked
  if (backend !== 'native') throw new TypeError(`unknown BLAKE3 backend: ${String(backend)}`)
  if (native === undefined) {
    throw new Error('the native BLAKE3 binding (@napi-rs/blake-hash) is not available here')
  }
  return makeNativeBlake3(native)
}

/**
 * BLAKE3 of `data`: 32 bytes by default, `dkLen` bytes of extendable output, a MAC with `key`, or
 * key derivation with `context` (the data is then the key material).
 *
 * @throws TypeError when `data`, `key` or `context` is not a Uint8Array, or both `key` and
 *   `context` are given.
 * @throws RangeError when `key` is not 32 bytes or `dkLen` is outside 1..{@link MAX_DK_LEN}.
 */
export const blake3: Blake3Fn = createBlake3()

function makeShaFn(
  algorithm: 'sha256' | 'sha3-256',
  backend: ShaBackend,
  noble: (data: Uint8Array) => Uint8Array,
): HashFn {
  if (backend === 'noble') {
    return (data) => noble(abytes(data, 'data'))
  }
  if (backend !== 'node') throw new TypeError(`unknown SHA backend: ${String(backend)}`)
  if (nodeCrypto === undefined) throw new Error('node:crypto is not available here')
  const { createHash } = nodeCrypto
  return (data) => toUint8Array(createHash(algorithm).update(abytes(data, 'data')).digest())
}

/**
 * A SHA-256 function on a chosen backend, for tests and benchmarks (normal code uses
 * {@link sha256}).
 *
 * @param options.backend `'node'` (throws an `Error` without `node:crypto`) or `'noble'`;
 *   defaults to {@link shaBackend}.
 */
export function createSha256(options: { backend?: ShaBackend } = {}): HashFn {
  return makeShaFn('sha256', options.backend ?? shaBackend, nobleSha256)
}

/**
 * A SHA3-256 function on a chosen backend, for tests and benchmarks (normal code uses
 * {@link sha3_256}).
 *
 * @param options.backend `'node'` (throws an `Error` without SHA-3 in `node:crypto`) or
 *   `'noble'`; defaults to {@link shaBackend}.
 */
export function createSha3_256(options: { backend?: ShaBackend } = {}): HashFn {
  return makeShaFn('sha3-256', options.backend ?? shaBackend, nobleSha3_256)
}

/**
 * SHA-256 (FIPS 180-4) of `data`, 32 bytes.
 *
 * @throws TypeError when `data` is not a Uint8Array.
 */
export const sha256: HashFn = createSha256()

/**
 * SHA3-256 (FIPS 202) of `data`, 32 bytes.
 *
 * @throws TypeError when `data` is not a Uint8Array.
 */
export const sha3_256: HashFn = createSha3_256()

// ---------------------------------------------------------------------------------------------
// domainHash

/** The BLAKE3 derive-key context whose output (over empty key material) keys {@link domainHash}. */
export const DOMAIN_HASH_CONTEXT = 'metanode 2026 domain hash v1'

// ASCII `MNDH` and format version 1. The exported copy can be mutated by callers; this one cannot.
const PREFIX = Uint8Array.of(0x4d, 0x4e, 0x44, 0x48, 0x01)

/** The bytes every {@link domainHash} message starts with: ASCII `MNDH` and format version 1. */
export const DOMAIN_HASH_PREFIX: Uint8Array = PREFIX.slice()

/** The longest tag {@link domainHash} accepts, in bytes. */
export const MAX_TAG_LENGTH = 255

const MAX_PART_LENGTH = 0xffff_ffff

// Keyed mode with a key of our own sets domain hashes apart from every plain BLAKE3 of user data
// (a raw block's CID digest, say), on top of the prefix.
const domainKey = nobleBlake3(new Uint8Array(0), { context: utf8(DOMAIN_HASH_CONTEXT) })
const domainKeyWords = keyToWords(domainKey)

function checkTag(tag: unknown): string {
  if (typeof tag !== 'string') throw new TypeError(`tag must be a string, got ${typeof tag}`)
  if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
    throw new RangeError(`tag must be 1..${MAX_TAG_LENGTH} characters, got ${tag.length}`)
  }
  for (let i = 0; i < tag.length; i++) {
    const code = tag.charCodeAt(i)
    if (code < 0x20 || code > 0x7e) {
      throw new RangeError(`tag must be printable ASCII, got code ${code} at ${i}`)
    }
  }
  return tag
}

/** `PREFIX ‖ u8(tag length) ‖ tag`, the part of the message fixed by the tag. */
function tagHeader(tag: string): Uint8Array {
  const header = new Uint8Array(PREFIX.length + 1 + tag.length)
  header.set(PREFIX)
  header[PREFIX.length] = tag.length
  for (let i = 0; i < tag.length; i++) header[PREFIX.length + 1 + i] = tag.charCodeAt(i)
  return header
}

// Messages up to one BLAKE3 chunk are assembled here and hashed by the portable single-chunk
// compressor, which beats a native call for them by an order of magnitude.
const scratch = new Uint8Array(CHUNK_LEN)
const scratchOut = new Uint32Array(8)

function writeU32(target: Uint8Array, offset: number, value: number): void {
  target[offset] = value >>> 24
  target[offset + 1] = value >>> 16
  target[offset + 2] = value >>> 8
  target[offset + 3] = value
}

function u32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4)
  writeU32(out, 0, value)
  return out
}

function feedMessage(
  hasher: { update(input: Uint8Array): unknown },
  header: Uint8Array,
  parts: readonly Uint8Array[],
): void {
  hasher.update(header)
  hasher.update(u32Bytes(parts.length))
  for (const part of parts) {
    hasher.update(u32Bytes(part.length))
    hasher.update(part)
  }
}

// Long messages stream through one hasher, so no part is copied.
function hashLongMessage(header: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  if (native !== undefined) {
    const hasher = native.Blake3Hasher.newKeyed(domainKey)
    feedMessage(hasher, header, parts)
    return toUint8Array(hasher.digestBuffer())
  }
  const hasher = nobleBlake3.create({ key: domainKey })
  feedMessage(hasher, header, parts)
  return hasher.digest()
}

function hashWithHeader(header: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
  let total = header.length + 4
  for (let i = 0; i < parts.length; i++) {
    const part = abytes(parts[i], `parts[${i}]`)
    if (part.length > MAX_PART_LENGTH) {
      throw new RangeError(`parts[${i}] is longer than ${MAX_PART_LENGTH} bytes`)
    }
    total += 4 + part.length
  }
  if (total > CHUNK_LEN) return hashLongMessage(header, parts)
  scratch.set(header)
  let offset = header.length
  writeU32(scratch, offset, parts.length)
  offset += 4
  for (const part of parts) {
    writeU32(scratch, offset, part.length)
    offset += 4
    scratch.set(part, offset)
    offset += part.length
  }
  hashChunkInto(domainKeyWords, FLAGS.KEYED_HASH, scratch, 0, total, scratchOut, 0)
  return wordsToBytes(scratchOut, 0)
}

/**
 * The domain-separated hash of `parts` under `tag`: 32 bytes of BLAKE3 in keyed mode, with the key
 * `BLAKE3-derive_key(DOMAIN_HASH_CONTEXT, "")`, of the injective encoding
 *
 * `DOMAIN_HASH_PREFIX ‖ u8(len(tag)) ‖ tag ‖ u32be(number of parts) ‖ (u32be(len(part)) ‖ part)*`
 *
 * so distinct (tag, parts) inputs never hash the same message: `('a', [1, 2])`, `('a', [1], [2])`
 * and `('a1', [2])` all differ. Give each message kind its own tag.
 *
 * @param tag 1..255 printable ASCII characters naming the message kind.
 * @throws TypeError when `tag` is not a string or a part is not a Uint8Array.
 * @throws RangeError when `tag` is empty, too long or not printable ASCII, or a part is 4 GiB or
 *   longer.
 */
export function domainHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  return hashWithHeader(tagHeader(checkTag(tag)), parts)
}

/**
 * {@link domainHash} with its tag checked and encoded once: `domainHasher(tag)(...parts)` equals
 * `domainHash(tag, ...parts)`. Keep one per message kind on hot paths.
 *
 * @throws TypeError / RangeError for a bad tag, as {@link domainHash}.
 */
export function domainHasher(tag: string): (...parts: Uint8Array[]) => Uint8Array {
  const header = tagHeader(checkTag(tag))
  return (...parts) => hashWithHeader(header, parts)
}
