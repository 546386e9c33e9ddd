// Small byte helpers internal to the package (not exported).
import { bytesToHex } from '@metanode/crypto/bytes'

/** Bytewise equality (not constant-time: every value compared here is public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Unsigned bytewise order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const diff = (a[i] as number) - (b[i] as number)
    if (diff !== 0) return diff
  }
  return a.length - b.length
}

/** A string map key for bytes. */
export function hexKey(bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** Big-endian unsigned 64-bit encoding of a safe integer, so keys sort in numeric order. */
export function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value))
  return out
}

const encoder = new TextEncoder()
/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text)
}

/** `prefix ‖ rest` as one array. */
export function withPrefix(prefix: Uint8Array, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + rest.length)
  out.set(prefix)
  out.set(rest, prefix.length)
  return out
}
