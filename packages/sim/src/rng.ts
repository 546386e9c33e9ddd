/**
 * Seeded randomness: xoshiro128** (Blackman and Vigna), a small, fast generator with a 128-bit
 * state, seeded through a murmur3-style hash of the seed and splitmix32. {@link SeededRng.fork}
 * derives an independent stream from the *seed* and a label, never from the parent's position, so
 * giving each node and link its own fork means adding a node or drawing more numbers in one
 * place never shifts the numbers drawn anywhere else.
 */
import type { Rng } from '@metanode/core'

/** A simulation seed: a safe integer (as typed on a command line) or any string. */
export type Seed = number | string

const TAG_NUMBER = 0x6e756d62
const TAG_STRING = 0x73747269
const TAG_FORK = 0x666f726b
const TWO_POW_32 = 2 ** 32
const TWO_POW_53 = 2 ** 53
const utf8 = new TextEncoder()

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift))
}

function fmix32(value: number): number {
  let h = value
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

// murmur3_x86_32 over 32-bit words; four differently seeded runs give the 128 bits of key.
function hashWords(words: readonly number[], seed: number): number {
  let h = seed >>> 0
  for (const word of words) {
    let k = Math.imul(word, 0xcc9e2d51)
    k = rotl(k, 15)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = rotl(h, 13)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  h ^= words.length
  return fmix32(h)
}

function bytesToWords(bytes: Uint8Array, into: number[]): void {
  into.push(bytes.length)
  for (let i = 0; i < bytes.length; i += 4) {
    into.push(
      (bytes[i] ?? 0) |
        ((bytes[i + 1] ?? 0) << 8) |
        ((bytes[i + 2] ?? 0) << 16) |
        ((bytes[i + 3] ?? 0) << 24),
    )
  }
}

function deriveKey(words: readonly number[]): Uint32Array {
  return Uint32Array.of(
    hashWords(words, 0x243f6a88),
    hashWords(words, 0x85a308d3),
    hashWords(words, 0x13198a2e),
    hashWords(words, 0x03707344),
  )
}

function seedWords(seed: Seed): number[] {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed)) {
      throw new RangeError(`seed must be a safe integer or a string, got ${seed}`)
    }
    const high = Math.floor(seed / TWO_POW_32)
    return [TAG_NUMBER, high >>> 0, (seed - high * TWO_POW_32) >>> 0]
  }
  if (typeof seed === 'string') {
    const words = [TAG_STRING]
    bytesToWords(utf8.encode(seed), words)
    return words
  }
  throw new TypeError(
    `seed must be a number or a string, got ${seed === null ? 'null' : typeof seed}`,
  )
}

/**
 * A seeded `Rng`: the same seed yields the same numbers on every run and machine.
 *
 * Besides the core `Rng` methods it offers the draws simulations need (integers in a range,
 * Bernoulli trials, normal and exponential variates, picks and shuffles). The continuous
 * distributions use `Math.log`, `Math.sqrt` and `Math.cos`, which V8 computes identically on
 * every platform, so results replay exactly on one Node major version.
 *
 * @example
 * ```ts
 * const rng = new SeededRng(42)
 * const linkRng = rng.fork('link a->b') // unaffected by draws from `rng`
 * rng.integer(1, 6) // a die roll
 * ```
 */
export class SeededRng implements Rng {
  /** The seed this generator (or the root it was forked from) was created with. */
  readonly seed: Seed
  readonly #key: Uint32Array
  #s0: number
  #s1: number
  #s2: number
  #s3: number

  // Set by `fork` for the one constructor call it makes, so a fork reuses the constructor without
  // a second public signature.
  static #forkKey: Uint32Array | undefined

  /** Creates a generator from `seed`. */
  constructor(seed: Seed) {
    const forkKey = SeededRng.#forkKey
    SeededRng.#forkKey = undefined
    this.#key = forkKey ?? deriveKey(seedWords(seed))
    this.seed = seed
    // splitmix32 spreads the key over the state; the all-zero state (a fixed point) is patched.
    let mix = this.#key[0]! ^ this.#key[1]! ^ this.#key[2]! ^ this.#key[3]!
    const next = (): number => {
      mix = (mix + 0x9e3779b9) | 0
      return fmix32(mix)
    }
    this.#s0 = (next() ^ this.#key[0]!) >>> 0
    this.#s1 = (next() ^ this.#key[1]!) >>> 0
    this.#s2 = (next() ^ this.#key[2]!) >>> 0
    this.#s3 = (next() ^ this.#key[3]!) >>> 0
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1
  }

  /**
   * An independent generator for `label`, derived from this generator's seed key and the label
   * only: forking the same label twice gives identical streams, and how many numbers this
   * generator has drawn does not matter.
   */
  fork(label: string): SeededRng {
    if (typeof label !== 'string') {
      throw new TypeError(`label must be a string, got ${label === null ? 'null' : typeof label}`)
    }
    const words = [TAG_FORK, this.#key[0]!, this.#key[1]!, this.#key[2]!, this.#key[3]!]
    bytesToWords(utf8.encode(label), words)
    SeededRng.#forkKey = deriveKey(words)
    return new SeededRng(this.seed)
  }

  /** A uniformly random unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.#s1
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    this.#s2 ^= this.#s0
    this.#s3 ^= s1
    this.#s1 ^= this.#s2
    this.#s0 ^= this.#s3
    this.#s2 ^= t
    this.#s3 = rotl(this.#s3, 11)
    return result
  }

  /** A uniformly random float in [0, 1) with 53 bits of precision. */
  nextFloat(): number {
    const high = this.nextU32() >>> 5
    const low = this.nextU32() >>> 6
    return (high * 67_108_864 + low) / TWO_POW_53
  }

  /** `length` random bytes (`length` a non-negative safe integer). */
  bytes(length: number): Uint8Array {
    if (typeof length !== 'number' || !Number.isSafeInteger(length)) {
      throw new TypeError(`length must be a safe integer, got ${typeof length}`)
    }
    if (length < 0) throw new RangeError(`length must not be negative, got ${length}`)
    const out = new Uint8Array(length)
    let i = 0
    for (; i + 4 <= length; i += 4) {
      const word = this.nextU32()
      out[i] = word
      out[i + 1] = word >>> 8
      out[i + 2] = word >>> 16
      out[i + 3] = word >>> 24
    }
    if (i < length) {
      let word = this.nextU32()
      for (; i < length; i++) {
        out[i] = word
        word >>>= 8
      }
    }
    return out
  }

  /** A uniformly random integer in [0, `bound`), without modulo bias (`bound` in [1, 2^32]). */
  below(bound: number): number {
    if (typeof bound !== 'number' || !Number.isSafeInteger(bound)) {
      throw new TypeError(`bound must be a safe integer, got ${typeof bound}`)
    }
    if (bound < 1 || bound > TWO_POW_32) {
      throw new RangeError(`bound must be in [1, 2^32], got ${bound}`)
    }
    // Reject the top partial copy of [0, bound) so every residue is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % bound)
    for (;;) {
      const value = this.nextU32()
      if (value < limit) return value % bound
    }
  }

  /** A uniformly random integer in [`min`, `max`] (inclusive; at most 2^32 values). */
  integer(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
      throw new TypeError('min and max must be safe integers')
    }
    if (max < min) throw new RangeError(`max (${max}) must not be below min (${min})`)
    return min + this.below(max - min + 1)
  }

  /** A uniformly random float in [`min`, `max`). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.nextFloat()
  }

  /** True with probability `probability` (0 never draws true, 1 always does). */
  chance(probability: number): boolean {
    return this.nextFloat() < probability
  }

  /** A normal (Gaussian) variate by the Box–Muller transform. */
  normal(mean: number, stdDev: number): number {
    // 1 - u lies in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.nextFloat()))
    return mean + stdDev * radius * Math.cos(2 * Math.PI * this.nextFloat())
  }

  /** An exponential variate with the given mean (inverse-CDF method). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.nextFloat())
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (!Array.isArray(items)) throw new TypeError('items must be an array')
    if (items.length === 0) throw new RangeError('cannot pick from an empty array')
    return items[this.below(items.length)] as T
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    if (!Array.isArray(items)) throw new TypeError('items must be an array')
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1)
      const swap = items[i] as T
      items[i] = items[j] as T
      items[j] = swap
    }
    return items
  }
}
