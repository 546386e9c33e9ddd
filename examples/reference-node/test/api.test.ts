import { decodeTransaction, encodeTransaction, transactionId } from '@metanode/chain'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import fc from 'fast-check'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import {
  type ApiServer,
  createApiServer,
  MAX_RAW_HEX_LENGTH,
  startApiServer,
} from '../src/api/server.js'
import type {
  BlockJson,
  PeersJson,
  StatusJson,
  SubmitResultJson,
  TransactionLookupJson,
  ValidatorJson,
} from '../src/api/views.js'
import { createNodeMetrics, MAX_REJECTION_CODES, type NodeMetrics } from '../src/metrics.js'
import type { MetanodeNode } from '../src/node.js'
import type { NodeEvents, NodeService } from '../src/service.js'
import {
  CHAIN_ID,
  signed,
  startNetwork,
  type TestNetwork,
  transferBytes,
  until,
  userKeys,
} from './helpers.js'

const SUBMIT = '/api/v1/blockchain/transactions/submit'
const alice = userKeys(1)
const bob = userKeys(2)
const carol = userKeys(3)
const dave = userKeys(4)
const recipient = userKeys(50).publicKey

function hashOf(bytes: Uint8Array): string {
  return bytesToHex(transactionId(decodeTransaction(bytes)))
}

async function postJson(app: FastifyInstance, url: string, body: unknown, remoteAddress?: string) {
  return app.inject({
    method: 'POST',
    url,
    payload: body as object,
    ...(remoteAddress === undefined ? {} : { remoteAddress }),
  })
}

async function finalized(app: FastifyInstance, hash: string): Promise<TransactionLookupJson> {
  return until(
    async () => {
      const response = await app.inject({ url: `/api/v1/blockchain/transactions/${hash}` })
      return response.statusCode === 200 ? (response.json() as TransactionLookupJson) : undefined
    },
    (lookup) => lookup?.status === 'finalized',
    `transaction ${hash} to finalize`,
  ) as Promise<TransactionLookupJson>
}

/** Delegates to a real node and records the listeners added through it. */
function recordingNode(node: MetanodeNode) {
  const listeners: { [K in keyof NodeEvents]: Set<(detail: NodeEvents[K]) => void> } = {
    block: new Set(),
    transaction: new Set(),
    round: new Set(),
  }
  const service: NodeService = {
    chainId: node.chainId,
    genesis: node.genesis,
    chain: node.chain,
    status: () => node.status(),
    submitTransactions: (encoded) => node.submitTransactions(encoded),
    transaction: (id) => node.transaction(id),
    block: (height) => node.block(height),
    validators: () => node.validators(),
    peers: () => node.peers(),
    healthy: () => node.healthy(),
    on(event, listener) {
      const set = listeners[event] as Set<typeof listener>
      set.add(listener)
      const off = node.on(event, listener)
      return () => {
        set.delete(listener)
        off()
      }
    },
  }
  const count = () => listeners.block.size + listeners.transaction.size + listeners.round.size
  return { service, listeners, count }
}

interface StreamClient {
  socket: WebSocket
  frames: Record<string, unknown>[]
  next(match: (frame: Record<string, unknown>) => boolean, what: string): Promise<unknown>
  closed: Promise<number>
}

async function connect(url: string): Promise<StreamClient> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`)
  const frames: Record<string, unknown>[] = []
  socket.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>))
  const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve())
    socket.once('error', reject)
  })
  let seen = 0
  return {
    socket,
    frames,
    closed,
    async next(match, what) {
      const found = await until(
        () => frames.slice(seen).findIndex(match),
        (index) => index >= 0,
        what,
      )
      seen += found + 1
      return frames[seen - 1]
    },
  }
}

describe('HTTP API of one validator', () => {
  let network: TestNetwork
  let node: MetanodeNode
  let app: FastifyInstance

  beforeAll(async () => {
    network = await startNetwork(1)
    node = network.nodes[0]!
    app = createApiServer(node, { maxBatch: 8 })
    await app.ready()
  })

  afterAll(async () => {
    await app.close()
    await network.stop()
  })

  it('reports the chain status with every field', async () => {
    await until(
      () => node.chain.height,
      (height) => height >= 1,
      'a first block',
    )
    const response = await app.inject({ url: '/api/v1/blockchain/status' })
    expect(response.statusCode).toBe(200)
    const { blockchain_state: state, performance_metrics: performance } =
      response.json() as StatusJson
    expect(state.chain_id).toBe(CHAIN_ID)
    expect(state.current_block_height).toBeGreaterThanOrEqual(1)
    expect(state.finalized_block_height).toBe(state.current_block_height)
    expect(state.current_block_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(state.state_root).toMatch(/^[0-9a-f]{64}$/)
    expect(state.active_validators).toBe(1)
    expect(state.network_peers).toBe(0)
    expect(state.consensus_round).toBeGreaterThanOrEqual(0)
    expect(state.total_transactions).toBeGreaterThanOrEqual(0)
    expect(state.uptime_seconds).toBeGreaterThanOrEqual(0)
    expect(state.mempool).toEqual({
      pending: expect.any(Number),
      queued: expect.any(Number),
      bytes: expect.any(Number),
    })
    expect(Object.keys(performance).sort()).toEqual([
      'average_block_time',
      'finality_time',
      'transactions_per_second',
    ])
  })

  it('submits one transaction and finds it finalized with its receipt', async () => {
    const raw = transferBytes(alice, 0, recipient, 7n)
    const hash = hashOf(raw)
    const response = await postJson(app, SUBMIT, { raw: bytesToHex(raw) })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ results: [{ transaction_hash: hash, status: 'pending' }] })

    const lookup = await finalized(app, hash)
    expect(lookup.block_height).toBeGreaterThanOrEqual(1)
    expect(lookup.index).toBe(0)
    expect(lookup.receipt).toMatchObject({ transaction_hash: hash, status: 'success' })
    expect(BigInt(lookup.receipt!.fee)).toBeGreaterThan(0n)
    expect(lookup.transaction).toMatchObject({
      hash,
      chain_id: CHAIN_ID,
      sender: bytesToHex(alice.publicKey),
      nonce: 0,
      action: { kind: 'transfer', to: bytesToHex(recipient), amount: '7' },
    })

    const block = (
      await app.inject({ url: `/api/v1/blockchain/blocks/${lookup.block_height}` })
    ).json() as BlockJson
    expect(block.transactions.map((tx) => tx.hash)).toContain(hash)
  })

  it('serves an account with its balance and next nonce', async () => {
    const before = (
      await app.inject({ url: `/api/v1/accounts/${bytesToHex(recipient)}` })
    ).json() as { balance: string; nonce: number }
    const response = await app.inject({ url: `/api/v1/accounts/${bytesToHex(alice.publicKey)}` })
    expect(response.statusCode).toBe(200)
    const account = response.json() as { address: string; nonce: number; stake: string }
    expect(account.address).toBe(bytesToHex(alice.publicKey))
    expect(account.nonce).toBeGreaterThanOrEqual(1)
    expect(BigInt(before.balance)).toBeGreaterThanOrEqual(7n)
    const bad = await app.inject({ url: '/api/v1/accounts/1234' })
    expect(bad.statusCode).toBe(400)
    expect(bad.json()).toMatchObject({ code: 'invalid-request' })
  })

  it('submits a batch; every transaction finalizes; resubmissions are reported per item', async () => {
    const raws = [1, 2, 3, 4].map((nonce) => transferBytes(alice, nonce, recipient))
    const response = await postJson(
      app,
      SUBMIT,
      raws.map((raw) => ({ raw: `0x${bytesToHex(raw)}` })),
    )
    expect(response.statusCode).toBe(200)
    const { results } = response.json() as { results: SubmitResultJson[] }
    expect(results.map((result) => result.status)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ])
    expect(results.map((result) => result.transaction_hash)).toEqual(raws.map(hashOf))

    for (const raw of raws) await finalized(app, hashOf(raw))
    const again = await postJson(app, SUBMIT, [{ raw: bytesToHex(raws[0]!) }, { raw: '00' }])
    expect(again.statusCode).toBe(200)
    const [stale, garbage] = (again.json() as { results: SubmitResultJson[] }).results
    expect(stale).toMatchObject({ status: 'rejected', code: 'nonce-too-low' })
    expect(garbage).toMatchObject({ status: 'rejected', code: 'malformed', transaction_hash: null })
  })

  it('answers a pooled duplicate as duplicate', async () => {
    // Nonce 11 leaves a gap, so the transaction waits in the pool.
    const raw = bytesToHex(transferBytes(dave, 11, recipient))
    const first = await postJson(app, SUBMIT, [{ raw }])
    expect((first.json() as { results: SubmitResultJson[] }).results[0]?.status).toBe('queued')
    const second = await postJson(app, SUBMIT, [{ raw }])
    expect((second.json() as { results: SubmitResultJson[] }).results[0]?.status).toBe('duplicate')
    const pooled = await app.inject({
      url: `/api/v1/blockchain/transactions/${(first.json() as { results: SubmitResultJson[] }).results[0]?.transaction_hash}`,
    })
    expect(pooled.json()).toMatchObject({ status: 'queued', transaction: { nonce: 11 } })
  })

  it('serves a block with its header, receipts and commit certificate', async () => {
    const raw = transferBytes(bob, 0, recipient, 3n)
    const hash = hashOf(raw)
    await postJson(app, SUBMIT, { raw: bytesToHex(raw) })
    const { block_height: height } = await finalized(app, hash)

    const response = await app.inject({ url: `/api/v1/blockchain/blocks/${height}` })
    expect(response.statusCode).toBe(200)
    const block = response.json() as BlockJson
    const stored = await node.block(height!)
    expect(block.header).toMatchObject({
      chain_id: CHAIN_ID,
      height,
      state_root: bytesToHex(stored!.block.header.stateRoot),
      proposer: bytesToHex(stored!.block.header.proposer),
    })
    expect(block.hash).toMatch(/^[0-9a-f]{64}$/)
    const index = block.transactions.findIndex((tx) => tx.hash === hash)
    expect(block.receipts[index]).toMatchObject({ transaction_hash: hash, status: 'success' })
    expect(block.receipts).toHaveLength(block.transactions.length)
    expect(block.commit_certificate).toMatchObject({
      height,
      block_id: bytesToHex(stored!.certificate.blockId),
      signers: '01',
      signer_indices: [0],
      aggregate_signature: bytesToHex(stored!.certificate.signature),
    })
    expect(block.commit_certificate.aggregate_signature).toHaveLength(192)
  })

  it('answers 404 for an absent block and 400 for a bad height', async () => {
    const absent = await app.inject({ url: '/api/v1/blockchain/blocks/999999999' })
    expect(absent.statusCode).toBe(404)
    expect(absent.json()).toMatchObject({ code: 'not-found' })
    for (const height of ['abc', '-1', '01', '1.5', '1e3', '9999999999999999']) {
      const response = await app.inject({ url: `/api/v1/blockchain/blocks/${height}` })
      expect(response.statusCode, height).toBe(400)
      expect(response.json(), height).toMatchObject({ code: 'invalid-request' })
      expect(response.json().message, height).toContain('params/height')
    }
  })

  it('registers a validator from a signed register-validator transaction', async () => {
    const blsKeys = bls.keygen(new Uint8Array(32).fill(77))
    const registration = signed(carol, 0, {
      kind: 'register-validator',
      blsPublicKey: blsKeys.publicKey,
      proofOfPossession: bls.popProve(blsKeys.secretKey),
      stake: 2_000n,
      commissionBps: 250,
      metadata: { moniker: 'carol', website: '', details: '' },
    })
    const raw = encodeTransaction(registration)
    const response = await postJson(app, '/api/v1/validators/register', { raw: bytesToHex(raw) })
    expect(response.statusCode).toBe(200)
    const hash = bytesToHex(transactionId(registration))
    expect(response.json()).toEqual({ results: [{ transaction_hash: hash, status: 'pending' }] })
    const lookup = await finalized(app, hash)
    expect(lookup.receipt?.status).toBe('success')
    expect(lookup.transaction?.action).toMatchObject({
      kind: 'register-validator',
      stake: '2000',
      commission_bps: 250,
      metadata: { moniker: 'carol' },
    })

    const transfer = await postJson(app, '/api/v1/validators/register', {
      raw: bytesToHex(transferBytes(carol, 1, recipient)),
    })
    expect(transfer.statusCode).toBe(400)
    expect(transfer.json()).toMatchObject({ code: 'wrong-kind' })
  })

  it('lists the validators', async () => {
    const response = await app.inject({ url: '/api/v1/validators' })
    expect(response.statusCode).toBe(200)
    const { validators } = response.json() as { validators: ValidatorJson[] }
    const [validator] = network.genesis.validators
    // the genesis validator, active, and carol, registered above: a candidate until the epoch ends
    expect(validators).toHaveLength(2)
    const genesisValidator = validators.find((v) => v.id === bytesToHex(validator!.id))
    expect(genesisValidator).toEqual(
      expect.objectContaining({
        bls_public_key: bytesToHex(validator!.blsPublicKey),
        stake: '5000',
        voting_power: expect.stringMatching(/^[1-9][0-9]*$/),
        active: true,
        jailed: false,
        jailed_height: null,
      }),
    )
    expect(genesisValidator!.proposals_made).toBeGreaterThan(0)
    expect(validators.find((v) => v.id === bytesToHex(carol.publicKey))).toEqual(
      expect.objectContaining({
        stake: '2000',
        voting_power: '0',
        active: false,
        commission_bps: 250,
      }),
    )
  })

  it('serves the height a jailed validator was jailed at', async () => {
    const { service } = recordingNode(node)
    const [genesisValidator] = await node.validators()
    const jailedNode: NodeService = {
      ...service,
      validators: async () => [
        { ...genesisValidator!, active: false, jailed: true, jailedHeight: 12 },
      ],
    }
    const jailedApp = createApiServer(jailedNode)
    try {
      const response = await jailedApp.inject({ url: '/api/v1/validators' })
      expect(response.statusCode).toBe(200)
      const { validators } = response.json() as { validators: ValidatorJson[] }
      expect(validators).toEqual([
        expect.objectContaining({ active: false, jailed: true, jailed_height: 12 }),
      ])
    } finally {
      await jailedApp.close()
    }
  })

  it('lists no peers for a lone validator', async () => {
    const response = await app.inject({ url: '/api/v1/network/peers' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ peers: [] })
  })

  it('answers every bad input with its 4xx and code, and keeps serving', async () => {
    const good = transferBytes(dave, 0, recipient)
    const badSignature = encodeTransaction({
      ...signed(dave, 0, { kind: 'transfer', to: recipient, amount: 1n }),
      signature: new Uint8Array(64).fill(1),
    })
    const json = { 'content-type': 'application/json' }
    const cases: [string, InjectOptions, number, string, string?][] = [
      [
        'malformed JSON',
        { method: 'POST', url: SUBMIT, headers: json, payload: '{"raw":' },
        400,
        'malformed-json',
      ],
      [
        'empty JSON body',
        { method: 'POST', url: SUBMIT, headers: json, payload: '' },
        400,
        'malformed-json',
      ],
      [
        'a number for raw',
        { method: 'POST', url: SUBMIT, payload: { raw: 12 } },
        400,
        'invalid-request',
        'body/raw',
      ],
      [
        'an unknown field',
        { method: 'POST', url: SUBMIT, payload: { raw: '00', fee: 1 } },
        400,
        'invalid-request',
        "'fee'",
      ],
      [
        'a bad batch item',
        { method: 'POST', url: SUBMIT, payload: [{ raw: '00' }, { raw: 1 }] },
        400,
        'invalid-request',
        'body/1/raw',
      ],
      ['an empty batch', { method: 'POST', url: SUBMIT, payload: [] }, 400, 'invalid-request'],
      [
        'a batch above the maximum',
        { method: 'POST', url: SUBMIT, payload: Array(9).fill({ raw: '00' }) },
        400,
        'invalid-request',
      ],
      ['no body', { method: 'POST', url: SUBMIT }, 400, 'invalid-request'],
      [
        'raw above 64 KiB',
        { method: 'POST', url: SUBMIT, payload: { raw: '0'.repeat(MAX_RAW_HEX_LENGTH + 2) } },
        400,
        'invalid-request',
        'body/raw',
      ],
      [
        'a body above the limit',
        {
          method: 'POST',
          url: SUBMIT,
          headers: json,
          payload: JSON.stringify({ raw: 'a'.repeat(5 * 1024 * 1024) }),
        },
        413,
        'body-too-large',
      ],
      [
        'a body announced above the limit (refused from the headers)',
        {
          method: 'POST',
          url: SUBMIT,
          headers: { ...json, 'content-length': String(64 * 1024 * 1024) },
          payload: '{"raw": "ab"}',
        },
        413,
        'body-too-large',
      ],
      [
        'a text body',
        { method: 'POST', url: SUBMIT, headers: { 'content-type': 'text/plain' }, payload: 'raw' },
        415,
        'unsupported-media-type',
      ],
      [
        'non-hex raw',
        { method: 'POST', url: SUBMIT, payload: { raw: 'zz' } },
        400,
        'invalid-hex',
        'body/raw',
      ],
      [
        'odd-length raw',
        { method: 'POST', url: SUBMIT, payload: { raw: 'abc' } },
        400,
        'invalid-hex',
      ],
      [
        'bytes that are no transaction',
        { method: 'POST', url: SUBMIT, payload: { raw: 'deadbeef' } },
        400,
        'malformed',
      ],
      [
        'a bad signature',
        { method: 'POST', url: SUBMIT, payload: { raw: bytesToHex(badSignature) } },
        400,
        'bad-signature',
      ],
      [
        'another chain',
        {
          method: 'POST',
          url: SUBMIT,
          payload: { raw: bytesToHex(transferBytes(dave, 0, recipient, 1n, 'other-chain')) },
        },
        400,
        'wrong-chain',
      ],
      [
        'a used nonce',
        {
          method: 'POST',
          url: SUBMIT,
          payload: { raw: bytesToHex(transferBytes(alice, 0, recipient, 99n)) },
        },
        400,
        'nonce-too-low',
      ],
      [
        'an unknown query parameter',
        { url: '/api/v1/blockchain/status?verbose=1' },
        400,
        'invalid-request',
        'verbose',
      ],
      [
        'a non-hex hash',
        { url: '/api/v1/blockchain/transactions/xyz1' },
        400,
        'invalid-hex',
        'params/hash',
      ],
      [
        'an overlong hash',
        { url: `/api/v1/blockchain/transactions/${'ab'.repeat(100)}` },
        400,
        'invalid-request',
      ],
      [
        'an unknown transaction',
        { url: `/api/v1/blockchain/transactions/${'ab'.repeat(36)}` },
        404,
        'not-found',
      ],
      ['an unknown route', { url: '/api/v2/nothing' }, 404, 'not-found'],
      ['a wrong method', { method: 'DELETE', url: '/api/v1/validators' }, 404, 'not-found'],
      [
        'a malformed register body',
        { method: 'POST', url: '/api/v1/validators/register', payload: { raw: 'zz' } },
        400,
        'invalid-hex',
      ],
      ['plain HTTP on the stream', { url: '/ws' }, 426, 'upgrade-required'],
    ]
    for (const [what, request, status, code, mentions] of cases) {
      const response = await app.inject(request)
      expect(response.statusCode, what).toBe(status)
      const body = response.json() as { code: string; message: string }
      expect(body.code, what).toBe(code)
      expect(typeof body.message, what).toBe('string')
      if (mentions !== undefined) expect(body.message, what).toContain(mentions)
      expect(body.message, what).not.toMatch(/at .*\.(ts|js):\d+/)
    }
    const after = await postJson(app, SUBMIT, { raw: bytesToHex(good) })
    expect(after.statusCode).toBe(200)
    expect((await app.inject({ url: '/api/v1/blockchain/status' })).statusCode).toBe(200)
  })

  it('never answers a 5xx to arbitrary submission bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.array(fc.record({ raw: fc.string() }), { maxLength: 3 }),
          fc.record({ raw: fc.uint8Array({ maxLength: 64 }).map((bytes) => bytesToHex(bytes)) }),
        ),
        async (payload) => {
          const response = await app.inject({
            method: 'POST',
            url: SUBMIT,
            headers: { 'content-type': 'application/json' },
            payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          })
          expect(response.statusCode).toBeLessThan(500)
          if (response.statusCode !== 200) {
            expect(response.json()).toEqual({
              code: expect.any(String),
              message: expect.any(String),
            })
          }
        },
      ),
      { numRuns: 150 },
    )
    expect(node.healthy()).toBe(true)
  })

  it('exposes Prometheus metrics with a finality histogram fed by blocks', async () => {
    await until(
      () => node.chain.height,
      (height) => height >= 3,
      'three blocks',
    )
    await app.inject({ url: '/api/v1/blockchain/transactions/zz' })
    const response = await app.inject({ url: '/metrics' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain/)
    const text = response.body
    for (const name of [
      'metanode_block_height',
      'metanode_finalized_block_height',
      'metanode_consensus_round',
      'metanode_mempool_pending_transactions',
      'metanode_mempool_queued_transactions',
      'metanode_mempool_bytes',
      'metanode_network_peers',
      'metanode_active_validators',
      'metanode_finalized_blocks_total',
      'metanode_finalized_transactions_total',
      'metanode_process_cpu_seconds_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name} \\d+`, 'm'))
    }
    const count = Number(/^metanode_finality_latency_seconds_count (\d+)/m.exec(text)?.[1])
    expect(count).toBeGreaterThan(0)
    expect(text).toMatch(/^metanode_finality_latency_seconds_bucket\{le="10"\} \d+/m)
    expect(text).toMatch(/^metanode_api_rejected_requests_total\{code="invalid-hex"\} [1-9]/m)
    expect(Number(/^metanode_active_validators (\d+)/m.exec(text)?.[1])).toBe(1)
  })
})

describe('rate limit', () => {
  it('answers 429 with retry-after past the per-client limit, per client IP', async () => {
    const network = await startNetwork(1, { start: false })
    const app = createApiServer(network.nodes[0]!, { rateLimit: { max: 3, windowMs: 300 } })
    try {
      for (let i = 0; i < 3; i++) {
        const response = await app.inject({ url: '/api/v1/validators', remoteAddress: '10.0.0.1' })
        expect(response.statusCode).toBe(200)
      }
      const limited = await app.inject({ url: '/api/v1/validators', remoteAddress: '10.0.0.1' })
      expect(limited.statusCode).toBe(429)
      expect(limited.json()).toMatchObject({ code: 'rate-limited' })
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
      const other = await app.inject({ url: '/api/v1/validators', remoteAddress: '10.0.0.2' })
      expect(other.statusCode).toBe(200)

      await new Promise((resolve) => setTimeout(resolve, 350))
      const later = await app.inject({ url: '/api/v1/validators', remoteAddress: '10.0.0.1' })
      expect(later.statusCode).toBe(200)
      const metrics = await app.inject({ url: '/metrics', remoteAddress: '10.0.0.3' })
      expect(metrics.body).toMatch(/metanode_api_rejected_requests_total\{code="rate-limited"\} 1/)
    } finally {
      await app.close()
      await network.stop()
    }
  })
})

describe('internal failures', () => {
  it('logs an unexpected error and answers 500 internal without its details', async () => {
    const network = await startNetwork(1, { start: false })
    const node = network.nodes[0]!
    const lines: string[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) })
    const failing: NodeService = {
      ...recordingNode(node).service,
      validators: async () => {
        throw new Error('disk failure at /var/secret/path')
      },
    }
    const app = createApiServer(failing, { logger })
    try {
      const response = await app.inject({ url: '/api/v1/validators' })
      expect(response.statusCode).toBe(500)
      expect(response.json()).toEqual({ code: 'internal', message: 'internal error' })
      expect(response.body).not.toContain('secret')
      expect(lines.some((line) => line.includes('disk failure'))).toBe(true)

      // A closed store is the node being down, not the client's fault or a bug.
      await node.store.close()
      const closed = await app.inject({ url: '/api/v1/blockchain/blocks/1' })
      expect(closed.statusCode).toBe(503)
      expect(closed.json()).toMatchObject({ code: 'unavailable' })
    } finally {
      await app.close()
    }
  })
})

describe('metrics', () => {
  it('bounds the rejection codes it labels and unregisters on close', async () => {
    const network = await startNetwork(1, { start: false })
    const metrics = createNodeMetrics(network.nodes[0]!)
    for (let i = 0; i < MAX_REJECTION_CODES + 6; i++) metrics.rejected(`code-${i}`)
    metrics.rejected('code-0')
    const text = await metrics.registry.metrics()
    const labelled = text.match(/^metanode_api_rejected_requests_total\{code="code-\d+"\}/gm)
    expect(labelled).toHaveLength(MAX_REJECTION_CODES)
    expect(text).toMatch(/^metanode_api_rejected_requests_total\{code="code-0"\} 2$/m)
    expect(text).toMatch(/^metanode_api_rejected_requests_total\{code="other"\} 6$/m)
    metrics.close()
    expect(await metrics.registry.metrics()).not.toContain('metanode_block_height')
  })
})

describe('health', () => {
  it('is 503 until the node runs and 200 while it does', async () => {
    const network = await startNetwork(1, { start: false })
    const node = network.nodes[0]!
    const app = createApiServer(node)
    try {
      const before = await app.inject({ url: '/health' })
      expect(before.statusCode).toBe(503)
      expect(before.json()).toEqual({ status: 'unhealthy' })
      await node.start()
      const running = await app.inject({ url: '/health' })
      expect(running.statusCode).toBe(200)
      expect(running.json()).toEqual({ status: 'ok' })
      await node.stop()
      expect((await app.inject({ url: '/health' })).statusCode).toBe(503)
    } finally {
      await app.close()
      await network.stop()
    }
  })
})

describe('WebSocket stream', () => {
  let network: TestNetwork
  let recording: ReturnType<typeof recordingNode>
  let api: ApiServer
  let metrics: NodeMetrics

  beforeAll(async () => {
    network = await startNetwork(1)
    recording = recordingNode(network.nodes[0]!)
    // Metrics listen on the node itself, so the recorded listeners are the stream's alone.
    metrics = createNodeMetrics(network.nodes[0]!)
    api = await startApiServer(recording.service, {
      port: 0,
      metrics,
      webSocket: { maxClients: 2, maxBufferedBytes: 64 * 1024 },
    })
  })

  afterAll(async () => {
    await api.close()
    metrics.close()
    await network.stop()
  })

  it('streams transaction and block events to subscribers and removes listeners on close', async () => {
    const baseline = recording.count()
    const client = await connect(api.url)
    client.socket.send(JSON.stringify({ subscribe: ['blocks', 'transactions'] }))
    await client.next((frame) => frame.type === 'subscribed', 'the subscription')
    expect(recording.count()).toBe(baseline + 2)

    const raw = transferBytes(userKeys(1), 0, recipient)
    const hash = hashOf(raw)
    const response = await fetch(`${api.url}${SUBMIT}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ raw: bytesToHex(raw) }),
    })
    expect(response.status).toBe(200)
    await client.next(
      (frame) => frame.type === 'transaction' && frame.id === hash && frame.status === 'pending',
      'the pending event',
    )
    const done = (await client.next(
      (frame) => frame.type === 'transaction' && frame.id === hash && frame.status === 'finalized',
      'the finalized event',
    )) as { height: number }
    expect(done.height).toBeGreaterThanOrEqual(1)
    // The block frame precedes the finalized transaction frames of its block.
    const block = (await until(
      () => client.frames.find((frame) => frame.type === 'block' && frame.height === done.height),
      (frame) => frame !== undefined,
      'the block event',
    )) as { hash: string; transaction_count: number; header: { height: number } }
    expect(block.hash).toMatch(/^[0-9a-f]{64}$/)
    expect(block.transaction_count).toBeGreaterThanOrEqual(1)
    expect(block.header.height).toBe(done.height)

    client.socket.send(JSON.stringify({ unsubscribe: ['transactions'] }))
    const update = (await client.next((frame) => frame.type === 'subscribed', 'unsubscribe')) as {
      topics: string[]
    }
    expect(update.topics).toEqual(['blocks'])
    expect(recording.listeners.transaction.size).toBe(0)

    client.socket.close()
    await client.closed
    await until(
      () => recording.count(),
      (count) => count === baseline,
      'listeners removed',
    )
  })

  it('answers bad client messages with error frames without closing', async () => {
    const client = await connect(api.url)
    const bad: [string | Buffer, string][] = [
      ['not json', 'malformed-json'],
      ['[1,2]', 'invalid-request'],
      ['{"subscribe":"blocks"}', 'invalid-request'],
      ['{"subscribe":["blocks"],"extra":1}', 'invalid-request'],
      ['{}', 'invalid-request'],
      ['{"subscribe":["nope"]}', 'unknown-topic'],
      [Buffer.from('{"subscribe":["blocks"]}'), 'invalid-request'],
    ]
    for (const [message, code] of bad) {
      client.socket.send(message)
      const frame = await client.next((f) => f.type === 'error', `error for ${String(message)}`)
      expect(frame).toMatchObject({ type: 'error', code, message: expect.any(String) })
    }
    client.socket.send(JSON.stringify({ subscribe: ['rounds'] }))
    expect(await client.next((f) => f.type === 'subscribed', 'subscription')).toEqual({
      type: 'subscribed',
      topics: ['rounds'],
    })
    expect(client.socket.readyState).toBe(WebSocket.OPEN)
    client.socket.close()
    await client.closed
  })

  it('closes clients beyond the maximum with 1013', async () => {
    const first = await connect(api.url)
    const second = await connect(api.url)
    const third = await connect(api.url)
    expect(await third.closed).toBe(1013)
    for (const client of [first, second]) {
      expect(client.socket.readyState).toBe(WebSocket.OPEN)
      client.socket.close()
      await client.closed
    }
  })

  it('drops a client that does not read instead of buffering without bound', async () => {
    const baseline = recording.count()
    const client = await connect(api.url)
    client.socket.send(JSON.stringify({ subscribe: ['blocks'] }))
    await client.next((frame) => frame.type === 'subscribed', 'the subscription')
    client.socket.pause()
    const stored = await network.nodes[0]!.block(1)
    // Replays block events through the node's listeners faster than a paused client reads.
    for (let i = 0; i < 50_000 && recording.listeners.block.size > 0; i++) {
      for (const listener of [...recording.listeners.block])
        listener({ stored: stored!, latencyMs: i })
    }
    expect(recording.listeners.block.size).toBe(0)
    client.socket.resume()
    expect(await client.closed).toBe(1006)
    expect(recording.count()).toBe(baseline)
  })
})

describe('HTTP API of four validators', () => {
  it('finalizes a transaction submitted to one node and serves it with a quorum certificate from another', async () => {
    const network = await startNetwork(4)
    const entry = createApiServer(network.nodes[0]!)
    const other = createApiServer(network.nodes[3]!)
    try {
      const raw = transferBytes(alice, 0, recipient, 5n)
      const hash = hashOf(raw)
      const submitted = await postJson(entry, SUBMIT, { raw: bytesToHex(raw) })
      expect(submitted.statusCode).toBe(200)
      const lookup = await finalized(other, hash)
      const block = (
        await other.inject({ url: `/api/v1/blockchain/blocks/${lookup.block_height}` })
      ).json() as BlockJson
      expect(block.commit_certificate.signer_indices.length).toBeGreaterThanOrEqual(3)
      const status = (await other.inject({ url: '/api/v1/blockchain/status' })).json() as StatusJson
      expect(status.blockchain_state.network_peers).toBe(3)
      expect(status.blockchain_state.active_validators).toBe(4)

      const peers = await other.inject({ url: '/api/v1/network/peers' })
      expect(peers.statusCode).toBe(200)
      const others = network.nodes.slice(0, 3).map((node) => node.transport.peerId)
      expect((peers.json() as PeersJson).peers.toSorted()).toEqual(others.toSorted())
    } finally {
      await Promise.all([entry.close(), other.close()])
      await network.stop()
    }
  })
})
