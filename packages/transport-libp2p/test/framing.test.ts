import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeLabelled,
  decodeResponse,
  encodeErrorResponse,
  encodeLabelled,
  encodeOkResponse,
  encodeUvarint,
} from '../src/framing.js'

const topicArbitrary = fc.stringMatching(/^[a-z0-9/._-]{1,128}$/)

describe('wire format', () => {
  it('encodes varints as unsigned LEB128', () => {
    expect(encodeUvarint(0)).toEqual(Uint8Array.of(0))
    expect(encodeUvarint(127)).toEqual(Uint8Array.of(0x7f))
    expect(encodeUvarint(128)).toEqual(Uint8Array.of(0x80, 0x01))
    expect(encodeUvarint(300)).toEqual(Uint8Array.of(0xac, 0x02))
    expect(encodeUvarint(2 ** 32 - 1)).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))
  })

  it('round-trips a topic or protocol label with its payload', () => {
    fc.assert(
      fc.property(topicArbitrary, fc.uint8Array({ maxLength: 512 }), (label, data) => {
        const decoded = decodeLabelled(encodeLabelled(label, data))
        expect(decoded.label).toBe(label)
        expect(decoded.data).toEqual(data)
      }),
      { numRuns: 100 },
    )
  })

  it('round-trips answers and error answers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), fc.string(), (data, message) => {
        expect(decodeResponse(encodeOkResponse(data))).toEqual({ ok: true, data })
        const error = decodeResponse(
          encodeErrorResponse({ kind: 'rejected', code: 'bad', action: 'reject', message }),
        )
        expect(error).toEqual({
          ok: false,
          error: {
            kind: 'rejected',
            code: 'bad',
            action: 'reject',
            message: message.slice(0, 512),
          },
        })
      }),
      { numRuns: 50 },
    )
  })

  it('fails on arbitrary bytes only with DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of [decodeLabelled, decodeResponse]) {
          try {
            decode(bytes)
          } catch (error) {
            expect((error as Error).name).toBe('DecodeError')
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('refuses labels that are not topic names', () => {
    expect(() => decodeLabelled(encodeLabelled('UPPER', Uint8Array.of(1)))).toThrow(
      expect.objectContaining({ name: 'DecodeError' }),
    )
    expect(() => decodeLabelled(Uint8Array.of(5, 0x61))).toThrow(
      expect.objectContaining({ name: 'DecodeError' }),
    )
  })
})
