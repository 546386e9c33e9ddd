// Small byte helpers internal to the package (not exported); the general ones come from
// @metanode/crypto and @metanode/core.
import { bytesToHex } from '@metanode/crypto/bytes'

export { compareBytes } from '@metanode/core'
export {
  concatBytes as withPrefix,
  equalBytes,
  utf8ToBytes as utf8,
} from '@metanode/crypto/bytes'

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
