/**
 * Byte helpers for the edges of an application: hex for HTTP and CLI, constant-time comparison,
 * concatenation and secure randomness. Everything inside Metanode passes `Uint8Array`; hex exists
 * only where bytes meet people.
 *
 * @example
 * ```ts
 * import { bytesToHex, hexToBytes, equalBytes } from '@metanode/crypto/bytes'
 *
 * const bytes = hexToBytes('0xdeadbeef')
 * bytesToHex(bytes) // 'deadbeef'
 * equalBytes(bytes, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)) // true
 * ```
 *
 * @module
 */
import { abytes } from './utils.js'

export { concatBytes, equalBytes, randomBytes, utf8 as utf8ToBytes } from './utils.js'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lowercase hex of `bytes`, without a `0x` prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  abytes(bytes, 'bytes')
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48 // 0-9
  if (code >= 97 && code <= 102) return code - 87 // a-f
  if (code >= 65 && code <= 70) return code - 55 // A-F
  return -1
}

/**
 * Parses hex (either case, optional `0x` prefix) into bytes.
 *
 * @throws TypeError when `hex` is not a string or holds a non-hex character.
 * @throws RangeError when it has an odd number of digits.
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError(`hex must be a string, got ${typeof hex}`)
  const digits = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex
  if (digits.length % 2 !== 0)
    throw new RangeError(`hex must have an even number of digits, got ${digits.length}`)
  const out = new Uint8Array(digits.length / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(digits.charCodeAt(2 * i))
    const lo = nibble(digits.charCodeAt(2 * i + 1))
    if (hi < 0 || lo < 0) throw new TypeError(`invalid hex character near offset ${2 * i}`)
    out[i] = (hi << 4) | lo
  }
  return out
}
