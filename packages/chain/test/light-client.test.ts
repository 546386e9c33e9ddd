import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import type { CommitCertificate, ValidatorSet } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { validatorSetHash } from '@metanode/ibft'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  type Block,
  type ChainApplication,
  decodeBlock,
  type Genesis,
  genesisAnchor,
  headerId,
} from '../src/index.js'
import { LightClient, verifyBlockBody, verifyHeader } from '../src/light-client/index.js'
import {
  makeGenesis,
  newChain,
  produceBlock,
  registerTestValidators,
  type TestKeys,
  tx,
  userKeys,
  validatorKeys,
} from './fixtures.js'

interface Signed {
  block: Block
  certificate: CommitCertificate
  set: ValidatorSet
  nextSet: ValidatorSet
}

const newcomers: TestKeys[] = [userKeys(1), userKeys(2), userKeys(3)]
let app: ChainApplication
let genesis: Genesis
const blocks: Signed[] = []

beforeAll(async () => {
  registerTestValidators([0, 1, 2, 3].map(validatorKeys))
  registerTestValidators(
    newcomers.map((user, i) => ({
      ...validatorKeys(10 + i),
      publicKey: user.publicKey,
      secretKey: user.secretKey,
    })),
  )
  genesis = makeGenesis({ validators: 4, epochLength: 2, maxValidators: 4 })
  app = (await newChain(genesis)).app
  for (let height = 1; height <= 8; height++) {
    // Odd heights register a newcomer whose stake outranks everyone: the set changes after the
    // next even height (an epoch boundary), three times in all.
    const newcomer = newcomers[(height - 1) / 2]
    if (height % 2 === 1 && newcomer !== undefined) {
      const keys = validatorKeys(10 + (height - 1) / 2)
      app.submitTransaction(
        tx(newcomer, 0, {
          kind: 'register-validator',
          blsPublicKey: keys.blsPublicKey,
          proofOfPossession: keys.proofOfPossession,
          stake: 50_000n + BigInt(height),
          commissionBps: 100,
          metadata: { moniker: `newcomer-${height}`, website: '', details: '' },
        }),
      )
    }
    const set = await app.validatorSet(height)
    const { certificate } = await produceBlock(app)
    const stored = await app.block(height)
    blocks.push({
      block: stored?.block as Block,
      certificate,
      set,
      nextSet: await app.validatorSet(height + 1),
    })
  }
}, 60_000)

const at = (height: number) => blocks[height - 1] as Signed

describe('light client', () => {
  it('follows headers across three validator-set changes', () => {
    const changes = blocks.filter(
      (b) => !equal(validatorSetHash(b.set), validatorSetHash(b.nextSet)),
    )
    expect(changes.map((b) => b.block.header.height)).toEqual([2, 4, 6])
    const client = new LightClient({
      trustedHeader: at(1).block.header,
      trustedNextValidatorSet: at(1).nextSet,
    })
    for (let height = 2; height <= 8; height++) {
      const { block, certificate, nextSet } = at(height)
      client.update(block.header, certificate, nextSet)
      expect(client.height).toBe(height)
    }
    expect(client.nextValidatorSet.validators.map((v) => v.id)).toContainEqual(
      newcomers[2]?.publicKey,
    )
    expect(client.header).toEqual(at(8).block.header)
  })

  it('verifies a header alone against the set that decided it, with one aggregate check', () => {
    const { block, certificate, set } = at(5)
    expect(certificate.blockId).toEqual(headerId(block.header))
    expect(verifyHeader(block.header, certificate, set)).toBe(true)
    expect(verifyHeader(block.header, certificate, at(1).set)).toBe(false)
    expect(verifyHeader(at(6).block.header, certificate, set)).toBe(false)
  })

  it('checks a body against its verified header, refusing one that does not match', async () => {
    for (let height = 1; height <= 8; height++) expect(verifyBlockBody(at(height).block)).toBe(true)
    // height 1 has the registration, height 3 another one; height 2 a parent certificate
    const { block } = at(3)
    expect(block.txs.length).toBeGreaterThan(0)
    const other = at(1).block
    expect(verifyBlockBody({ ...block, txs: [...block.txs, ...other.txs] })).toBe(false)
    expect(verifyBlockBody({ ...block, txs: [] })).toBe(false)
    expect(verifyBlockBody({ ...block, txs: [new Uint8Array([1, 2, 3])] })).toBe(false)
    expect(verifyBlockBody({ ...block, parentCertificate: at(1).certificate })).toBe(false)
    expect(verifyBlockBody({ ...block, parentCertificate: null })).toBe(false)
    expect(verifyBlockBody({ ...at(1).block, parentCertificate: at(1).certificate })).toBe(false)
    const vote = { body: new Uint8Array(8), signature: new Uint8Array(64) }
    const withEvidence: Block = {
      ...block,
      evidence: [{ validator: new Uint8Array(32), first: vote, second: vote }],
    }
    expect(verifyBlockBody(withEvidence)).toBe(false)
    // the application refuses such a payload outright: it has no block id
    const { encodeBlock } = await import('../src/index.js')
    expect(() => app.blockId(encodeBlock({ ...block, txs: [] }))).toThrow(
      expect.objectContaining({ code: 'state-mismatch' }),
    )
    const payload = encodeBlock(block)
    expect(app.blockId(payload)).toEqual(headerId(decodeBlock(payload).header))
    expect(app.proposerOf(payload)).toEqual(block.header.proposer)
  })

  it('rejects a forged certificate or a tampered header and leaves its state unchanged', () => {
    const client = new LightClient({
      trustedHeader: at(1).block.header,
      trustedNextValidatorSet: at(1).nextSet,
    })
    const { block, certificate, nextSet } = at(2)
    const { header } = block
    const outsider = bls.keygen(new Uint8Array(32).fill(77))
    const forgedSignature = {
      ...certificate,
      signature: bls.sign(new Uint8Array(32), outsider.secretKey),
    }
    expect(() => client.update(header, forgedSignature, nextSet)).toThrow(
      expect.objectContaining({ name: 'LightClientError', code: 'bad-certificate' }),
    )
    const tooFewSigners = { ...certificate, signers: Uint8Array.of(0b0001) }
    expect(() => client.update(header, tooFewSigners, nextSet)).toThrow(
      expect.objectContaining({ code: 'bad-certificate' }),
    )
    const otherBlock = { ...certificate, blockId: at(3).certificate.blockId }
    expect(() => client.update(header, otherBlock, nextSet)).toThrow(
      expect.objectContaining({ code: 'bad-certificate' }),
    )
    for (const field of ['stateRoot', 'txRoot', 'evidenceRoot', 'parentCertificateHash'] as const) {
      const tampered = { ...header, [field]: new Uint8Array(32).fill(1) }
      expect(() => client.update(tampered, certificate, nextSet)).toThrow(
        expect.objectContaining({ code: 'bad-certificate' }),
      )
    }
    expect(client.height).toBe(1)
    client.update(header, certificate, nextSet)
    expect(client.height).toBe(2)
  })

  it('requires the announced next set and checks it against the header', () => {
    const client = new LightClient({
      trustedHeader: at(1).block.header,
      trustedNextValidatorSet: at(1).nextSet,
    })
    const { block, certificate, nextSet } = at(2)
    expect(() => client.update(block.header, certificate)).toThrow(
      expect.objectContaining({ code: 'next-set-required' }),
    )
    expect(() => client.update(block.header, certificate, at(1).set)).toThrow(
      expect.objectContaining({ code: 'next-set-mismatch' }),
    )
    client.update(block.header, certificate, nextSet)
    expect(() => client.update(block.header, certificate, nextSet)).toThrow(
      expect.objectContaining({ code: 'not-newer' }),
    )
  })

  it('skips heights while the set is unchanged but not across a change', () => {
    const within = new LightClient({
      trustedHeader: at(2).block.header,
      trustedNextValidatorSet: at(2).nextSet,
    })
    within.update(at(4).block.header, at(4).certificate, at(4).nextSet)
    expect(within.height).toBe(4)
    const across = new LightClient({
      trustedHeader: at(1).block.header,
      trustedNextValidatorSet: at(1).nextSet,
    })
    expect(() => across.update(at(3).block.header, at(3).certificate, at(3).nextSet)).toThrow(
      expect.objectContaining({ code: 'wrong-validator-set' }),
    )
  })

  it('starts from genesis and follows every block', () => {
    const client = new LightClient({ genesis: genesisAnchor(genesis) })
    expect(client.height).toBe(0)
    expect(client.header).toBeUndefined()
    const wrongGenesis = new LightClient({
      genesis: { ...genesisAnchor(genesis), genesisId: new Uint8Array(32) },
    })
    expect(() => wrongGenesis.update(at(1).block.header, at(1).certificate, at(1).nextSet)).toThrow(
      expect.objectContaining({ code: 'wrong-parent' }),
    )
    for (let height = 1; height <= 8; height++) {
      client.update(at(height).block.header, at(height).certificate, at(height).nextSet)
    }
    expect(client.height).toBe(8)
  })

  it('refuses a trusted set that does not match the trusted header', () => {
    expect(
      () =>
        new LightClient({ trustedHeader: at(2).block.header, trustedNextValidatorSet: at(1).set }),
    ).toThrow(expect.objectContaining({ code: 'next-set-mismatch' }))
  })
})

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}

describe('light-client subpath', () => {
  it('imports nothing Node-only, directly or through the chain modules it uses', () => {
    const seen = new Set<string>()
    const pending = [new URL('../src/light-client/index.ts', import.meta.url)]
    const external = new Set<string>()
    while (pending.length > 0) {
      const url = pending.pop() as URL
      if (seen.has(url.href)) continue
      seen.add(url.href)
      const source = readFileSync(url, 'utf8')
      for (const [, specifier] of source.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
        if (specifier === undefined) continue
        if (specifier.startsWith('.')) pending.push(new URL(specifier.replace(/\.js$/, '.ts'), url))
        else external.add(specifier)
      }
    }
    expect(seen.size).toBeGreaterThan(3)
    for (const specifier of external) {
      expect(specifier.startsWith('node:')).toBe(false)
      expect(builtinModules).not.toContain(specifier)
    }
  })
})
