// Conformance of @metanode/crypto/bls on both backends: the Ethereum consensus-spec BLS vectors,
// Wycheproof's POP-scheme verification and hash-to-G2 vectors, and the RFC 9380 suite.
import { bls12_381 } from '@noble/curves/bls12-381.js'
import { describe, expect, it } from 'vitest'
import { type BlsBackend, createBls, hashToG2, SIGNATURE_DST } from '../src/bls.js'
import { bytesToHex, hexToBytes, listVectors, readVectorJson } from './helpers/vectors.js'

const backends: BlsBackend[] = ['blst', 'noble']
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text)
const hex = (bytes: Uint8Array): string => `0x${bytesToHex(bytes)}`

interface Vector<I, O> {
  input: I
  output: O
}

const G1_INFINITY = `c0${'00'.repeat(47)}`
const G2_INFINITY = `c0${'00'.repeat(95)}`
const RFC9380_G2_DST = 'QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_'
/** sk = 1, so that sign(m) is the hash of m itself. */
const SECRET_KEY_ONE = hexToBytes(`${'00'.repeat(31)}01`)

/** The compressed encoding of the G2 point written as x, y = "0x<c0>,0x<c1>" pairs. */
function compressG2(x: string, y: string): Uint8Array {
  const fp2 = (text: string) => {
    const [c0, c1] = text.split(',')
    return bls12_381.fields.Fp2.fromBigTuple([BigInt(c0!), BigInt(c1!)])
  }
  const point = bls12_381.G2.Point.fromAffine({ x: fp2(x), y: fp2(y) })
  point.assertValidity()
  return bls12_381.longSignatures.Signature.toBytes(point)
}

function vectorName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1, -'.json'.length)
}

const families = {
  sign: listVectors('ethereum-bls12-381-tests/sign'),
  verify: listVectors('ethereum-bls12-381-tests/verify'),
  aggregate: listVectors('ethereum-bls12-381-tests/aggregate'),
  fastAggregateVerify: listVectors('ethereum-bls12-381-tests/fast_aggregate_verify'),
  aggregateVerify: listVectors('ethereum-bls12-381-tests/aggregate_verify'),
  batchVerify: listVectors('ethereum-bls12-381-tests/batch_verify'),
  deserializationG1: listVectors('ethereum-bls12-381-tests/deserialization_G1'),
  deserializationG2: listVectors('ethereum-bls12-381-tests/deserialization_G2'),
  hashToG2: listVectors('ethereum-bls12-381-tests/hash_to_G2'),
}

describe('Ethereum BLS vector families are present', () => {
  it.each(Object.entries(families))('%s', (_, files) => {
    expect(files.length).toBeGreaterThan(0)
  })
})

describe.each(backends)('%s backend: Ethereum consensus-spec BLS vectors', (backend) => {
  const bls = createBls({ backend })

  it('runs on the requested backend', () => {
    expect(bls.backend).toBe(backend)
  })

  it.each(families.sign.map(vectorName))('sign %s', (name) => {
    const { input, output } = readVectorJson<
      Vector<{ privkey: string; message: string }, string | null>
    >(`ethereum-bls12-381-tests/sign/${name}.json`)
    const secretKey = hexToBytes(input.privkey)
    const message = hexToBytes(input.message)
    if (output === null) {
      expect(() => bls.sign(message, secretKey)).toThrow(RangeError)
      return
    }
    const signature = bls.sign(message, secretKey)
    expect(hex(signature)).toBe(output)
    expect(bls.verify(signature, message, bls.getPublicKey(secretKey))).toBe(true)
  })

  it.each(families.verify.map(vectorName))('verify %s', (name) => {
    const { input, output } = readVectorJson<
      Vector<{ pubkey: string; message: string; signature: string }, boolean>
    >(`ethereum-bls12-381-tests/verify/${name}.json`)
    const verified = bls.verify(
      hexToBytes(input.signature),
      hexToBytes(input.message),
      hexToBytes(input.pubkey),
    )
    expect(verified).toBe(output)
  })

  it.each(families.aggregate.map(vectorName))('aggregate %s', (name) => {
    const { input, output } = readVectorJson<Vector<string[], string | null>>(
      `ethereum-bls12-381-tests/aggregate/${name}.json`,
    )
    const signatures = input.map(hexToBytes)
    if (output === null) {
      expect(() => bls.aggregateSignatures(signatures)).toThrow(RangeError)
      return
    }
    expect(hex(bls.aggregateSignatures(signatures))).toBe(output)
  })

  it.each(families.fastAggregateVerify.map(vectorName))('fast_aggregate_verify %s', (name) => {
    const { input, output } = readVectorJson<
      Vector<{ pubkeys: string[]; message: string; signature: string }, boolean>
    >(`ethereum-bls12-381-tests/fast_aggregate_verify/${name}.json`)
    const verified = bls.fastAggregateVerify(
      hexToBytes(input.signature),
      hexToBytes(input.message),
      input.pubkeys.map(hexToBytes),
    )
    expect(verified).toBe(output)
  })

  it.each(families.aggregateVerify.map(vectorName))('aggregate_verify %s', (name) => {
    const { input, output } = readVectorJson<
      Vector<{ pubkeys: string[]; messages: string[]; signature: string }, boolean>
    >(`ethereum-bls12-381-tests/aggregate_verify/${name}.json`)
    const verified = bls.aggregateVerify(
      hexToBytes(input.signature),
      input.messages.map(hexToBytes),
      input.pubkeys.map(hexToBytes),
    )
    expect(verified).toBe(output)
  })

  it.each(families.batchVerify.map(vectorName))('batch_verify %s', (name) => {
    const { input, output } = readVectorJson<
      Vector<{ pubkeys: string[]; messages: string[]; signatures: string[] }, boolean>
    >(`ethereum-bls12-381-tests/batch_verify/${name}.json`)
    const sets = input.pubkeys.map((pubkey, i) => ({
      publicKey: hexToBytes(pubkey),
      message: hexToBytes(input.messages[i]!),
      signature: hexToBytes(input.signatures[i]!),
    }))
    expect(bls.verifyBatch(sets)).toBe(output)
  })

  // These vectors test decoding alone, where the identity decodes successfully. isValidPublicKey
  // and isValidSignature also apply KeyValidate / the signature infinity check (IETF BLS §2.5),
  // so they reject the identity that decoding accepts.
  it.each(families.deserializationG1.map(vectorName))('deserialization_G1 %s', (name) => {
    const { input, output } = readVectorJson<Vector<{ pubkey: string }, boolean>>(
      `ethereum-bls12-381-tests/deserialization_G1/${name}.json`,
    )
    const isIdentity = input.pubkey === G1_INFINITY
    expect(bls.isValidPublicKey(hexToBytes(input.pubkey))).toBe(output && !isIdentity)
  })

  it.each(families.deserializationG2.map(vectorName))('deserialization_G2 %s', (name) => {
    const { input, output } = readVectorJson<Vector<{ signature: string }, boolean>>(
      `ethereum-bls12-381-tests/deserialization_G2/${name}.json`,
    )
    const bytes = hexToBytes(input.signature)
    const isIdentity = input.signature === G2_INFINITY
    expect(bls.isValidSignature(bytes)).toBe(output && !isIdentity)
    if (output && bytes.length === 96) {
      // Aggregation decodes without the infinity check, so a decodable point round-trips.
      expect(bytesToHex(bls.aggregateSignatures([bytes]))).toBe(input.signature)
    }
  })

  // hashToG2 runs on noble for both backends (blst exposes no hash under a chosen DST), so the
  // backend's own hash-to-curve is checked through sign with sk = 1, whose output is H(m).
  it.each(families.hashToG2.map(vectorName))('hash_to_G2 %s', (name) => {
    const { input, output } = readVectorJson<Vector<{ msg: string }, { x: string; y: string }>>(
      `ethereum-bls12-381-tests/hash_to_G2/${name}.json`,
    )
    const message = utf8(input.msg)
    expect(bytesToHex(hashToG2(message, RFC9380_G2_DST))).toBe(
      bytesToHex(compressG2(output.x, output.y)),
    )
    expect(bytesToHex(bls.sign(message, SECRET_KEY_ONE))).toBe(
      bytesToHex(hashToG2(message, SIGNATURE_DST)),
    )
  })
})

interface WycheproofFile<G> {
  algorithm: string
  numberOfTests: number
  testGroups: G[]
}

interface WycheproofVerifyGroup {
  ciphersuite: string
  publicKey: { pk: string }
  tests: { tcId: number; comment: string; msg: string; sig: string; result: string }[]
}

interface WycheproofHashGroup {
  dst: string
  tests: { tcId: number; comment: string; msg: string; expected: string; result: string }[]
}

const wycheproofVerify = readVectorJson<WycheproofFile<WycheproofVerifyGroup>>(
  'wycheproof/bls_sig_g2_pop_verify_test.json',
)
const wycheproofHash = readVectorJson<WycheproofFile<WycheproofHashGroup>>(
  'wycheproof/bls_hash_to_g2_test.json',
)

describe.each(backends)('%s backend: Wycheproof BLS POP verification', (backend) => {
  const bls = createBls({ backend })
  const cases = wycheproofVerify.testGroups.flatMap((group) =>
    group.tests.map((test) => ({ group, test })),
  )

  it('covers every test in the file', () => {
    expect(cases.length).toBe(wycheproofVerify.numberOfTests)
  })

  it.each(cases.map(({ group, test }) => [test.tcId, test.comment, group, test] as const))(
    'tcId %i: %s',
    (_, __, group, test) => {
      expect(group.ciphersuite).toBe(SIGNATURE_DST)
      expect(['valid', 'invalid']).toContain(test.result)
      const verified = bls.verify(
        hexToBytes(test.sig),
        hexToBytes(test.msg),
        hexToBytes(group.publicKey.pk),
      )
      expect(verified).toBe(test.result === 'valid')
    },
  )
})

describe('hashToG2 (noble on every backend)', () => {
  it(`matches all ${wycheproofHash.numberOfTests} Wycheproof hash-to-G2 vectors`, () => {
    let checked = 0
    for (const group of wycheproofHash.testGroups) {
      for (const test of group.tests) {
        expect(test.result, `tcId ${test.tcId}`).toBe('valid')
        expect(bytesToHex(hashToG2(hexToBytes(test.msg), group.dst)), `tcId ${test.tcId}`).toBe(
          test.expected,
        )
        checked++
      }
    }
    expect(checked).toBe(wycheproofHash.numberOfTests)
  })

  const rfc9380 = readVectorJson<{
    ciphersuite: string
    dst: string
    vectors: { msg: string; P: { x: string; y: string } }[]
  }>('rfc9380-hash-to-curve/BLS12381G2_XMD_SHA-256_SSWU_RO_.json')

  it(`matches the RFC 9380 BLS12381G2_XMD:SHA-256_SSWU_RO_ suite (${rfc9380.vectors.length} vectors)`, () => {
    expect(rfc9380.ciphersuite).toBe('BLS12381G2_XMD:SHA-256_SSWU_RO_')
    expect(rfc9380.vectors.length).toBeGreaterThan(0)
    for (const vector of rfc9380.vectors) {
      const expected = bytesToHex(compressG2(vector.P.x, vector.P.y))
      expect(bytesToHex(hashToG2(utf8(vector.msg), rfc9380.dst)), vector.msg).toBe(expected)
      expect(bytesToHex(hashToG2(utf8(vector.msg), utf8(rfc9380.dst))), vector.msg).toBe(expected)
    }
  })
})
