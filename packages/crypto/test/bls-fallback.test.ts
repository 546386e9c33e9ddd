// Without the native addon (browsers, platforms without a prebuilt blst), the module must still
// work on noble, say so once, and report which backend runs.
import { afterEach, describe, expect, it, vi } from 'vitest'

vi.mock('../src/bls-blst.js', () => ({
  createBlstEngine: () => {
    throw new Error('no prebuilt binary for this platform')
  },
}))

describe('bls without @chainsafe/blst', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('falls back to noble with a single process warning', async () => {
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const { bls, createBls } = await import('../src/bls.js')
    expect(bls.backend).toBe('noble')
    expect(createBls().backend).toBe('noble')
    expect(createBls({ backend: 'blst' }).backend).toBe('noble')
    expect(emitWarning).toHaveBeenCalledTimes(1)
    const [text, options] = emitWarning.mock.calls[0]!
    expect(String(text)).toContain('no prebuilt binary for this platform')
    expect(options).toMatchObject({ code: 'METANODE_BLS_NOBLE_FALLBACK' })
  })

  it('still signs and verifies on the fallback', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const { bls } = await import('../src/bls.js')
    const { secretKey, publicKey } = bls.keygen(new Uint8Array(32).fill(3))
    const message = new TextEncoder().encode('fallback')
    expect(bls.verify(bls.sign(message, secretKey), message, publicKey)).toBe(true)
  })
})
