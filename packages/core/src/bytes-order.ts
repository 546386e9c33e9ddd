/**
 * The byte order of store keys: unsigned, lexicographic, a proper prefix before its extensions
 * (the order of LevelDB and of `memcmp` followed by length).
 */
import type { RangeOptions } from './store.js'

/**
 * Compares two byte strings as unsigned bytes, lexicographically; a proper prefix sorts first.
 * Returns a negative number, zero or a positive number, so it can be passed to `Array#sort`.
 *
 * @example
 * ```ts
 * compareBytes(Uint8Array.of(0x01), Uint8Array.of(0xff)) // < 0: 0xff is 255, not -1
 * compareBytes(Uint8Array.of(0x01), Uint8Array.of(0x01, 0x00)) // < 0: the prefix comes first
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const difference = a[i]! - b[i]!
    if (difference !== 0) return difference
  }
  return a.length - b.length
}

/** True when `key` lies within the bounds of `range` (`reverse` and `limit` are ignored). */
export function isKeyInRange(key: Uint8Array, range: RangeOptions): boolean {
  if (range.gt !== undefined && compareBytes(key, range.gt) <= 0) return false
  if (range.gte !== undefined && compareBytes(key, range.gte) < 0) return false
  if (range.lt !== undefined && compareBytes(key, range.lt) >= 0) return false
  if (range.lte !== undefined && compareBytes(key, range.lte) > 0) return false
  return true
}
