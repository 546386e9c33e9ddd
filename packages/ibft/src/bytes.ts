// Small byte helpers internal to the package; the general ones come from @metanode/crypto.
import { bytesToHex } from '@metanode/crypto/bytes'

export { equalBytes, utf8ToBytes as utf8 } from '@metanode/crypto/bytes'

/** A map key for bytes. */
export function hexKey(bytes: Uint8Array): string {
  return bytesToHex(bytes)
}

/** Big-endian unsigned 64-bit encoding of a safe integer. */
export function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(value))
  return out
}

/** Big-endian unsigned 32-bit encoding. */
export function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}
