// Internal: a portable BLAKE3 for inputs of at most one chunk (1024 bytes) with a 32-byte output.
// It exists because Merkle trees hash hundreds of thousands of 64-byte nodes, and the per-call cost
// of the native binding (~1.5 µs) or of noble's general hasher (~3 µs) dwarfs the work of one
// compression (~0.2 µs here). Words are assembled from bytes arithmetically, so the code is
// independent of platform endianness, and no call allocates except the returned digest.

/** BLAKE3's IV: the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
export const IV = Uint32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
)

/** Domain flags from the BLAKE3 specification, section 2.1. */
export const FLAGS = {
  CHUNK_START: 1,
  CHUNK_END: 2,
  PARENT: 4,
  ROOT: 8,
  KEYED_HASH: 16,
  DERIVE_KEY_CONTEXT: 32,
  DERIVE_KEY_MATERIAL: 64,
} as const

/** Bytes in one BLAKE3 block. */
export const BLOCK_LEN = 64
/** Bytes in one BLAKE3 chunk: the most this module hashes in one call. */
export const CHUNK_LEN = 1024

/**
 * The BLAKE3 compression function with block counter 0 (the only counter a single-chunk root
 * uses), writing the 8-word truncated output `v[i] ^ v[i + 8]` to `out` at `outOffset`. All inputs
 * are read before anything is written, so `out` may alias `cv` or `block`.
 */
export function compress(
  cv: Uint32Array,
  cvOffset: number,
  block: Uint32Array,
  blockOffset: number,
  blockLen: number,
  flags: number,
  out: Uint32Array,
  outOffset: number,
): void {
  const m0 = block[blockOffset]! | 0
  const m1 = block[blockOffset + 1]! | 0
  const m2 = block[blockOffset + 2]! | 0
  const m3 = block[blockOffset + 3]! | 0
  const m4 = block[blockOffset + 4]! | 0
  const m5 = block[blockOffset + 5]! | 0
  const m6 = block[blockOffset + 6]! | 0
  const m7 = block[blockOffset + 7]! | 0
  const m8 = block[blockOffset + 8]! | 0
  const m9 = block[blockOffset + 9]! | 0
  const m10 = block[blockOffset + 10]! | 0
  const m11 = block[blockOffset + 11]! | 0
  const m12 = block[blockOffset + 12]! | 0
  const m13 = block[blockOffset + 13]! | 0
  const m14 = block[blockOffset + 14]! | 0
  const m15 = block[blockOffset + 15]! | 0
  let v0 = cv[cvOffset]! | 0
  let v1 = cv[cvOffset + 1]! | 0
  let v2 = cv[cvOffset + 2]! | 0
  let v3 = cv[cvOffset + 3]! | 0
  let v4 = cv[cvOffset + 4]! | 0
  let v5 = cv[cvOffset + 5]! | 0
  let v6 = cv[cvOffset + 6]! | 0
  let v7 = cv[cvOffset + 7]! | 0
  let v8 = 0x6a09e667
  let v9 = 0xbb67ae85 | 0
  let v10 = 0x3c6ef372
  let v11 = 0xa54ff53a | 0
  let v12 = 0
  let v13 = 0
  let v14 = blockLen | 0
  let v15 = flags | 0
  // The seven rounds and the message permutation between them are unrolled: the permuted word
  // order of each round is written out instead of shuffling an array.
  // round 1
  v0 = (v0 + v4 + m0) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m1) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m2) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m3) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m4) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m5) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m6) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m7) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m8) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m9) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m10) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m11) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m12) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m13) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m14) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m15) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 2
  v0 = (v0 + v4 + m2) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m6) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m3) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m10) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m7) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m0) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m4) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m13) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m1) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m11) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m12) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m5) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m9) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m14) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m15) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m8) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 3
  v0 = (v0 + v4 + m3) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m4) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m10) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m12) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m13) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m2) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m7) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m14) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m6) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m5) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m9) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m0) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m11) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m15) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m8) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m1) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 4
  v0 = (v0 + v4 + m10) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m7) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m12) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m9) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m14) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m3) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m13) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m15) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m4) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m0) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m11) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m2) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m5) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m8) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m1) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m6) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 5
  v0 = (v0 + v4 + m12) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m13) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m9) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m11) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m15) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m10) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m14) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m8) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m7) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m2) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m5) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m3) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m0) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m1) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m6) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m4) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 6
  v0 = (v0 + v4 + m9) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m14) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m11) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m5) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m8) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m12) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m15) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m1) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m13) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m3) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m0) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m10) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m2) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m6) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m4) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m7) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)
  // round 7
  v0 = (v0 + v4 + m11) | 0
  v12 ^= v0
  v12 = (v12 >>> 16) | (v12 << 16)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 12) | (v4 << 20)
  v0 = (v0 + v4 + m15) | 0
  v12 ^= v0
  v12 = (v12 >>> 8) | (v12 << 24)
  v8 = (v8 + v12) | 0
  v4 ^= v8
  v4 = (v4 >>> 7) | (v4 << 25)
  v1 = (v1 + v5 + m5) | 0
  v13 ^= v1
  v13 = (v13 >>> 16) | (v13 << 16)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 12) | (v5 << 20)
  v1 = (v1 + v5 + m0) | 0
  v13 ^= v1
  v13 = (v13 >>> 8) | (v13 << 24)
  v9 = (v9 + v13) | 0
  v5 ^= v9
  v5 = (v5 >>> 7) | (v5 << 25)
  v2 = (v2 + v6 + m1) | 0
  v14 ^= v2
  v14 = (v14 >>> 16) | (v14 << 16)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 12) | (v6 << 20)
  v2 = (v2 + v6 + m9) | 0
  v14 ^= v2
  v14 = (v14 >>> 8) | (v14 << 24)
  v10 = (v10 + v14) | 0
  v6 ^= v10
  v6 = (v6 >>> 7) | (v6 << 25)
  v3 = (v3 + v7 + m8) | 0
  v15 ^= v3
  v15 = (v15 >>> 16) | (v15 << 16)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 12) | (v7 << 20)
  v3 = (v3 + v7 + m6) | 0
  v15 ^= v3
  v15 = (v15 >>> 8) | (v15 << 24)
  v11 = (v11 + v15) | 0
  v7 ^= v11
  v7 = (v7 >>> 7) | (v7 << 25)
  v0 = (v0 + v5 + m14) | 0
  v15 ^= v0
  v15 = (v15 >>> 16) | (v15 << 16)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 12) | (v5 << 20)
  v0 = (v0 + v5 + m10) | 0
  v15 ^= v0
  v15 = (v15 >>> 8) | (v15 << 24)
  v10 = (v10 + v15) | 0
  v5 ^= v10
  v5 = (v5 >>> 7) | (v5 << 25)
  v1 = (v1 + v6 + m2) | 0
  v12 ^= v1
  v12 = (v12 >>> 16) | (v12 << 16)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 12) | (v6 << 20)
  v1 = (v1 + v6 + m12) | 0
  v12 ^= v1
  v12 = (v12 >>> 8) | (v12 << 24)
  v11 = (v11 + v12) | 0
  v6 ^= v11
  v6 = (v6 >>> 7) | (v6 << 25)
  v2 = (v2 + v7 + m3) | 0
  v13 ^= v2
  v13 = (v13 >>> 16) | (v13 << 16)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 12) | (v7 << 20)
  v2 = (v2 + v7 + m4) | 0
  v13 ^= v2
  v13 = (v13 >>> 8) | (v13 << 24)
  v8 = (v8 + v13) | 0
  v7 ^= v8
  v7 = (v7 >>> 7) | (v7 << 25)
  v3 = (v3 + v4 + m7) | 0
  v14 ^= v3
  v14 = (v14 >>> 16) | (v14 << 16)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 12) | (v4 << 20)
  v3 = (v3 + v4 + m13) | 0
  v14 ^= v3
  v14 = (v14 >>> 8) | (v14 << 24)
  v9 = (v9 + v14) | 0
  v4 ^= v9
  v4 = (v4 >>> 7) | (v4 << 25)

  out[outOffset] = v0 ^ v8
  out[outOffset + 1] = v1 ^ v9
  out[outOffset + 2] = v2 ^ v10
  out[outOffset + 3] = v3 ^ v11
  out[outOffset + 4] = v4 ^ v12
  out[outOffset + 5] = v5 ^ v13
  out[outOffset + 6] = v6 ^ v14
  out[outOffset + 7] = v7 ^ v15
}

// Scratch for one message block and the chaining value between blocks; single-threaded JS makes
// module-level reuse safe, and it keeps the hot path free of allocation.
const blockWords = new Uint32Array(16)
const chainWords = new Uint32Array(8)

/** Loads up to 64 bytes of `data` from `offset` as 16 little-endian words, zero-padded. */
function loadBlock(data: Uint8Array, offset: number, length: number): void {
  const whole = length >>> 2
  let p = offset
  for (let i = 0; i < whole; i++, p += 4) {
    blockWords[i] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24)
  }
  let i = whole
  const rest = length & 3
  if (rest !== 0) {
    let word = 0
    for (let k = 0; k < rest; k++) word |= data[p + k]! << (8 * k)
    blockWords[i++] = word
  }
  for (; i < 16; i++) blockWords[i] = 0
}

/**
 * The 32-byte BLAKE3 root output of `data[offset, offset + length)` (at most {@link CHUNK_LEN}
 * bytes) from the key words `key` in mode `modeFlags` (`KEYED_HASH`, `DERIVE_KEY_MATERIAL`, or 0
 * with {@link IV} as the key for the plain hash), written as 8 words to `out` at `outOffset`.
 */
export function hashChunkInto(
  key: Uint32Array,
  modeFlags: number,
  data: Uint8Array,
  offset: number,
  length: number,
  out: Uint32Array,
  outOffset: number,
): void {
  if (length > CHUNK_LEN) throw new RangeError(`at most ${CHUNK_LEN} bytes, got ${length}`)
  if (length <= BLOCK_LEN) {
    loadBlock(data, offset, length)
    const flags = modeFlags | FLAGS.CHUNK_START | FLAGS.CHUNK_END | FLAGS.ROOT
    compress(key, 0, blockWords, 0, length, flags, out, outOffset)
    return
  }
  chainWords.set(key)
  const end = offset + length
  let flags = modeFlags | FLAGS.CHUNK_START
  while (end - offset > BLOCK_LEN) {
    loadBlock(data, offset, BLOCK_LEN)
    compress(chainWords, 0, blockWords, 0, BLOCK_LEN, flags, chainWords, 0)
    offset += BLOCK_LEN
    flags = modeFlags
  }
  const last = end - offset
  loadBlock(data, offset, last)
  compress(chainWords, 0, blockWords, 0, last, flags | FLAGS.CHUNK_END | FLAGS.ROOT, out, outOffset)
}

/** The 8 little-endian words of a 32-byte key. */
export function keyToWords(key: Uint8Array): Uint32Array {
  const words = new Uint32Array(8)
  for (let i = 0, p = 0; i < 8; i++, p += 4) {
    words[i] = key[p]! | (key[p + 1]! << 8) | (key[p + 2]! << 16) | (key[p + 3]! << 24)
  }
  return words
}

/** 8 words from `offset` as 32 little-endian bytes. */
export function wordsToBytes(words: Uint32Array, offset: number): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0, p = 0; i < 8; i++, p += 4) {
    const word = words[offset + i]!
    out[p] = word
    out[p + 1] = word >>> 8
    out[p + 2] = word >>> 16
    out[p + 3] = word >>> 24
  }
  return out
}

const digestWords = new Uint32Array(8)

/** The 32-byte BLAKE3 root hash of at most one chunk of `data` under `key` words and `modeFlags`. */
export function hashChunk(key: Uint32Array, modeFlags: number, data: Uint8Array): Uint8Array {
  hashChunkInto(key, modeFlags, data, 0, data.length, digestWords, 0)
  return wordsToBytes(digestWords, 0)
}
