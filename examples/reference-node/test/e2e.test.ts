/**
 * End to end: a 4-validator devnet of real processes (LevelDB, libp2p on loopback, the HTTP
 * API), driven only through HTTP and signals.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeTransaction, signTransaction } from '@metanode/chain'
import { bytesToHex, hexToBytes } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initDevnet, startDevnet } from '../src/devnet.js'

const BASE_PORT = 19_400
const VALIDATORS = 4

interface Status {
  blockchain_state: {
    current_block_height: number
    current_block_hash: string
    state_root: string
    total_transactions: number
  }
}

let dir: string
let devnet: Awaited<ReturnType<typeof startDevnet>> | undefined
const url = (i: number) => `http://127.0.0.1:${BASE_PORT + i}`

async function api<T>(
  i: number,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url(i)}${path}`, { ...init, signal: AbortSignal.timeout(5_000) })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T }
}

async function status(i: number): Promise<Status['blockchain_state'] | undefined> {
  try {
    return (await api<Status>(i, '/api/v1/blockchain/status')).body.blockchain_state
  } catch {
    return undefined
  }
}

async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Announces a 64 MiB body (the devnet's limit is 16 MiB) and sends only its first bytes: the server must answer 413 from the
 * headers alone, without reading (or buffering) the body.
 */
function oversized(i: number): Promise<{ status: number; body: { code: string } }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url(i)}/api/v1/blockchain/transactions/submit`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': 64 * 1024 * 1024 },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () => {
          request.destroy()
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as { code: string } })
        })
      },
    )
    request.on('error', reject)
    request.write('{"raw": "abab')
  })
}

/** SIGKILL: the node gets no chance to flush or say goodbye. */
async function kill(i: number): Promise<void> {
  await devnet?.stopNode(i, 'SIGKILL')
  await until(async () => (await status(i)) === undefined && true, `node ${i} to stop`)
}

/** `bpci node start --config DIR/node-<i>/config.yaml`, as an operator restarts one node. */
async function restart(i: number): Promise<void> {
  await devnet?.startNode(i)
}

interface Account {
  secretKey: string
  address: string
}
let accounts: Account[]
const nonces = new Map<string, number>()

function transfer(from: Account, amount: bigint, chainId = 'devnet'): string {
  const sender = hexToBytes(from.address)
  const nonce = nonces.get(from.address) ?? 0
  nonces.set(from.address, nonce + 1)
  const tx = signTransaction(
    {
      chainId,
      sender,
      nonce,
      maxFee: 10n,
      maxPriorityFee: 1n,
      action: {
        kind: 'transfer',
        to: ed25519.keygen(new Uint8Array(32).fill(99)).publicKey,
        amount,
      },
    },
    hexToBytes(from.secretKey),
  )
  return bytesToHex(encodeTransaction(tx))
}

async function submit(i: number, raws: string[]): Promise<string[]> {
  const { status: code, body } = await api<{
    results: { transaction_hash: string; status: string }[]
  }>(i, '/api/v1/blockchain/transactions/submit', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(raws.map((raw) => ({ raw }))),
  })
  expect(code).toBe(200)
  for (const result of body.results) expect(['pending', 'queued']).toContain(result.status)
  return body.results.map((result) => result.transaction_hash)
}

async function finalized(i: number, hash: string): Promise<number | undefined> {
  const { body } = await api<{ status: string; block_height?: number }>(
    i,
    `/api/v1/blockchain/transactions/${hash}`,
  ).catch(() => ({ body: { status: 'unreachable' } as { status: string; block_height?: number } }))
  return body.status === 'finalized' ? body.block_height : undefined
}

/** Every listed node reports the same block hash and state root at the height of the lowest. */
async function agree(nodes: number[]): Promise<void> {
  const heights = await Promise.all(
    nodes.map(async (i) => (await status(i))?.current_block_height ?? 0),
  )
  const height = Math.min(...heights)
  const blocks = await Promise.all(
    nodes.map(
      async (i) =>
        (await api<{ header: { state_root: string } }>(i, `/api/v1/blockchain/blocks/${height}`))
          .body,
    ),
  )
  const roots = new Set(blocks.map((block) => block.header.state_root))
  expect(roots.size).toBe(1)
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpci-e2e-'))
  const options = {
    validators: VALIDATORS,
    basePort: BASE_PORT,
    dataDir: dir,
    blockPeriodMs: 50,
    accounts: 20,
  }
  await initDevnet(options)
  accounts = JSON.parse(await readFile(join(dir, 'accounts.json'), 'utf8')) as Account[]
  devnet = await startDevnet(options)
}, 120_000)

afterAll(async () => {
  await devnet?.stop()
  await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('a 4-validator devnet', () => {
  const reported: string[] = []

  it('finalizes transfers submitted over HTTP; every node has the same blocks and state root', async () => {
    const raws = accounts.slice(0, 10).map((account) => transfer(account, 5n))
    const hashes = [...(await submit(0, raws.slice(0, 5))), ...(await submit(2, raws.slice(5)))]
    for (const hash of hashes) {
      for (let i = 0; i < VALIDATORS; i++) await until(() => finalized(i, hash), `tx on node ${i}`)
    }
    reported.push(...hashes)
    await agree([0, 1, 2, 3])
  })

  it('answers every bad input with a 4xx and a code, and keeps serving', async () => {
    const post = (body: string, type = 'application/json') =>
      api<{ code: string }>(1, '/api/v1/blockchain/transactions/submit', {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      })
    const forged = transfer(accounts[11] as Account, 1n)
    const flipped = `${forged.slice(0, -4)}${forged.slice(-4, -2) === '00' ? '01' : '00'}${forged.slice(-2)}`
    nonces.set((accounts[11] as Account).address, 0)
    const cases: [Promise<{ status: number; body: { code: string } }>, string][] = [
      [post('{"raw": '), 'malformed-json'],
      [post('{"raw": 5}'), 'invalid-request'],
      [post('{"raw": "zz"}'), 'invalid-hex'],
      [post(JSON.stringify({ raw: flipped })), 'bad-signature'],
      [
        post(JSON.stringify({ raw: transfer(accounts[12] as Account, 1n, 'other') })),
        'wrong-chain',
      ],
      [oversized(1), 'body-too-large'],
      [api<{ code: string }>(1, '/api/v1/blockchain/blocks/-1'), 'invalid-request'],
    ]
    for (const [pending, code] of cases) {
      const { status: httpStatus, body } = await pending
      expect(httpStatus, code).toBeGreaterThanOrEqual(400)
      expect(httpStatus, code).toBeLessThan(500)
      expect(body.code).toBe(code)
    }
    nonces.set((accounts[12] as Account).address, 0)
    expect((await api(1, '/health')).status).toBe(200)
    const [hash] = await submit(1, [transfer(accounts[11] as Account, 1n)])
    await until(() => finalized(1, hash as string), 'a good transaction after bad ones')
    reported.push(hash as string)
  })

  it('keeps finalizing with one validator down, and the restarted one catches up', async () => {
    await kill(3)
    const before = (await status(0))?.current_block_height ?? 0
    const [hash] = await submit(0, [transfer(accounts[13] as Account, 1n)])
    await until(() => finalized(0, hash as string), 'finality with 3 of 4')
    reported.push(hash as string)
    expect((await status(0))?.current_block_height).toBeGreaterThan(before)
    await restart(3)
    const target = (await status(0))?.current_block_height ?? 0
    await until(async () => ((await status(3))?.current_block_height ?? 0) >= target, 'catch-up')
    await agree([0, 1, 2, 3])
  })

  it('stops finalizing with two validators down without diverging, and resumes with one back', async () => {
    await kill(2)
    await kill(3)
    const [hash] = await submit(0, [transfer(accounts[14] as Account, 1n)])
    const stalled = (await status(0))?.current_block_height ?? 0
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect((await status(0))?.current_block_height).toBeLessThanOrEqual(stalled + 1)
    expect(await finalized(1, hash as string)).toBeUndefined()
    await restart(2)
    await until(() => finalized(0, hash as string), 'finality with 3 of 4 again', 90_000)
    reported.push(hash as string)
    await agree([0, 1, 2])
    await restart(3)
  })

  it('loses no finalized transaction across a full stop and restart', async () => {
    await devnet?.stop()
    devnet = await startDevnet({
      validators: VALIDATORS,
      basePort: BASE_PORT,
      dataDir: dir,
      blockPeriodMs: 50,
      accounts: 20,
    })
    for (const hash of reported) {
      for (let i = 0; i < VALIDATORS; i++) {
        expect(await until(() => finalized(i, hash), `tx ${hash} after restart`)).toBeGreaterThan(0)
      }
    }
    const [hash] = await submit(0, [transfer(accounts[15] as Account, 1n)])
    await until(() => finalized(3, hash as string), 'finality after restart')
    await agree([0, 1, 2, 3])
  })
})
