// Reads the conformance vectors committed under test/vectors/. Every file there must be read by
// some test: test/vectors-coverage.test.ts fails on a vector file that no test names.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { gunzipSync } from 'node:zlib'

export const VECTORS_DIR = new URL('../vectors/', import.meta.url).pathname

/** The bytes of `test/vectors/<path>`; `.gz` files are transparently gunzipped. */
export function readVectorBytes(path: string): Uint8Array {
  const raw = readFileSync(join(VECTORS_DIR, path))
  return new Uint8Array(path.endsWith('.gz') ? gunzipSync(raw) : raw)
}

/** The text of `test/vectors/<path>` (gunzipped when it ends in `.gz`). */
export function readVectorText(path: string): string {
  return new TextDecoder().decode(readVectorBytes(path))
}

/** The parsed JSON of `test/vectors/<path>` (gunzipped when it ends in `.gz`). */
export function readVectorJson<T = unknown>(path: string): T {
  return JSON.parse(readVectorText(path)) as T
}

/** Every file under `test/vectors/<dir>`, as paths relative to test/vectors, sorted. */
export function listVectors(dir: string): string[] {
  const out: string[] = []
  const walk = (abs: string): void => {
    for (const name of readdirSync(abs)) {
      const child = join(abs, name)
      if (statSync(child).isDirectory()) walk(child)
      else out.push(relative(VECTORS_DIR, child))
    }
  }
  walk(join(VECTORS_DIR, dir))
  return out.sort()
}

/** Lowercase hex without prefix to bytes; accepts an optional 0x prefix. */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.startsWith('0x') ? hex.slice(2) : hex
  if (clean.length % 2 !== 0) throw new Error(`odd-length hex: ${hex}`)
  return new Uint8Array(Buffer.from(clean, 'hex'))
}

/** Bytes to lowercase hex without prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
