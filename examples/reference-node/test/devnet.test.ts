// The devnet: its directory layout, reuse rules, and a real 4-validator run of `bpci devnet`
// (processes, LevelDB, libp2p on loopback) with `bpci bench tps` against it. The run needs the
// build: `pnpm exec tsc -b examples/reference-node`.
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { parseGenesis } from '@metanode/chain'
import { bytesToHex } from '@metanode/crypto/bytes'
import { peerIdFromEd25519Seed } from '@metanode/transport-libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient } from '../src/client.js'
import { loadConfig } from '../src/config.js'
import { DevnetError, initDevnet, readDevnetAccounts } from '../src/devnet.js'
import { readPassword, readValidatorKeystore } from '../src/keys.js'
import { spawnBpci } from './spawn-bpci.js'

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A base port P with P..P+n-1 and P+100..P+100+n-1 free on loopback. */
async function freeBasePort(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 20_000)
    const ports = Array.from({ length: n }, (_, i) => [base + i, base + 100 + i]).flat()
    const free = await Promise.all(ports.map(portFree))
    if (free.every(Boolean)) return base
  }
  throw new Error('no free port range')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** After a failed run: no node process may outlive the test. */
async function killLeftoverNodes(dataDir: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const text = await readFile(join(dataDir, `node-${i}`, 'node.pid'), 'utf8').catch(() => '')
    const pid = Number(text.trim())
    if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL')
  }
}

let root: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'bpci-devnet-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('initDevnet', () => {
  it('creates genesis, keys, accounts and one config per node', async () => {
    const dataDir = join(root, 'layout')
    const info = await initDevnet({ dataDir, validators: 4, basePort: 30_000, accounts: 5 })
    expect(info.created).toBe(true)
    expect(info.chainId).toBe('devnet')
    expect(info.endpoints).toEqual([0, 1, 2, 3].map((i) => `http://127.0.0.1:${30_000 + i}`))

    const devnetJson = JSON.parse(await readFile(join(dataDir, 'devnet.json'), 'utf8'))
    expect(devnetJson).toMatchObject({
      chain_id: 'devnet',
      validators: 4,
      endpoints: info.endpoints,
    })

    const genesis = parseGenesis(await readFile(join(dataDir, 'genesis.json'), 'utf8'))
    expect(genesis.chainId).toBe('devnet')
    expect(genesis.validators).toHaveLength(4)
    const accounts = await readDevnetAccounts(dataDir)
    expect(accounts).toHaveLength(5)
    const funded = new Set(
      genesis.accounts.filter((a) => a.balance > 0n).map((a) => bytesToHex(a.address)),
    )
    for (const account of accounts) expect(funded.has(bytesToHex(account.address))).toBe(true)
    expect((await stat(join(dataDir, 'accounts.json'))).mode & 0o777).toBe(0o600)

    for (const node of info.nodes) {
      const config = await loadConfig(node.config)
      expect(config.api.port).toBe(30_000 + node.index)
      expect(config.network.listen).toEqual([`/ip4/127.0.0.1/tcp/${30_100 + node.index}`])
      expect(config.dataDir).toBe(join(dataDir, `node-${node.index}`, 'data'))
      expect(config.pidFile).toBe(join(dataDir, `node-${node.index}`, 'node.pid'))
      expect(config.genesis).toBe(join(dataDir, 'genesis.json'))
      // the validators bootstrap to each other: a full mesh, so consensus messages go direct
      expect(config.consensus.dissemination).toBe('direct')

      // The keystore decrypts with the password file and holds a genesis validator whose peer
      // id the other nodes bootstrap to.
      expect(config.validator.passwordFile).toBeDefined()
      expect((await stat(config.validator.passwordFile!)).mode & 0o777).toBe(0o600)
      const password = await readPassword({ file: config.validator.passwordFile })
      const keys = await readValidatorKeystore(config.validator.keystore, password)
      expect(bytesToHex(keys.id)).toBe(node.validatorId)
      expect(genesis.validators.map((v) => bytesToHex(v.id))).toContain(node.validatorId)
      const peerId = peerIdFromEd25519Seed(keys.ed25519SecretKey)
      expect(node.peerId).toBe(peerId)
      expect(config.network.bootstrap).toHaveLength(3)
      expect(config.network.bootstrap.some((address) => address.endsWith(peerId))).toBe(false)
      for (const other of info.nodes.filter((n) => n.index !== node.index)) {
        expect(config.network.bootstrap).toContain(
          `/ip4/127.0.0.1/tcp/${30_100 + other.index}/p2p/${other.peerId}`,
        )
      }
    }
  })

  it('reuses an existing devnet unchanged and refuses one made with another N', async () => {
    const dataDir = join(root, 'reuse')
    await initDevnet({ dataDir, validators: 2, basePort: 31_000, accounts: 3 })
    const genesis = await readFile(join(dataDir, 'genesis.json'), 'utf8')
    const accounts = await readFile(join(dataDir, 'accounts.json'), 'utf8')

    const again = await initDevnet({ dataDir, validators: 2 })
    expect(again.created).toBe(false)
    expect(again.basePort).toBe(31_000)
    expect(await readFile(join(dataDir, 'genesis.json'), 'utf8')).toBe(genesis)
    expect(await readFile(join(dataDir, 'accounts.json'), 'utf8')).toBe(accounts)

    await expect(initDevnet({ dataDir, validators: 3 })).rejects.toThrow(DevnetError)
    await expect(initDevnet({ dataDir, validators: 3 })).rejects.toThrow('--validators 2')
    await expect(initDevnet({ dataDir, basePort: 31_001 })).rejects.toThrow('--base-port')
    expect(await readFile(join(dataDir, 'genesis.json'), 'utf8')).toBe(genesis)
  })

  it('refuses a non-empty directory that is not a devnet, and bad options', async () => {
    const dataDir = join(root, 'other')
    await mkdir(dataDir)
    await writeFile(join(dataDir, 'notes.txt'), 'mine\n')
    await expect(initDevnet({ dataDir })).rejects.toThrow(DevnetError)
    expect(existsSync(join(dataDir, 'genesis.json'))).toBe(false)

    await expect(initDevnet({ dataDir: join(root, 'x'), validators: 0 })).rejects.toThrow(
      RangeError,
    )
    await expect(initDevnet({ dataDir: join(root, 'x'), accounts: 1.5 })).rejects.toThrow(TypeError)
    await expect(initDevnet({ dataDir: join(root, 'x'), basePort: 65_500 })).rejects.toThrow(
      RangeError,
    )
  })
})

describe('bpci node start', () => {
  it('runs one node of a devnet alone and stops it cleanly on SIGINT', async () => {
    const basePort = await freeBasePort(1)
    const info = await initDevnet({
      dataDir: join(root, 'single'),
      validators: 1,
      basePort,
      accounts: 1,
    })
    const node = info.nodes[0]!
    const started = spawnBpci(['node', 'start', '--config', node.config])
    try {
      const client = new ApiClient(node.api)
      await until(async () => ((await client.healthy()) ? true : undefined), 'health', 30_000)
      const pid = Number((await readFile(node.pidFile, 'utf8')).trim())
      expect(pid).toBe(started.child.pid)
      // A single validator is a quorum by itself.
      await until(
        async () =>
          (await client.status()).blockchain_state.current_block_height >= 2 ? true : undefined,
        'height 2',
      )
      started.child.kill('SIGINT')
      expect(await started.exited).toBe(0)
      expect(existsSync(node.pidFile)).toBe(false)
      expect(started.stdout()).toContain('"msg":"node stopped"')
    } finally {
      started.child.kill('SIGKILL')
    }
  })
})

describe('bpci devnet', () => {
  it('runs 4 validators that finalize bench and CLI transactions, reports a dead node, stops cleanly and resumes', async () => {
    const dataDir = join(root, 'run')
    const basePort = await freeBasePort(4)
    const args = [
      'devnet',
      '--validators',
      '4',
      '--base-port',
      String(basePort),
      '--data-dir',
      dataDir,
      '--accounts',
      '20',
      '--json',
    ]
    const devnet = spawnBpci(args)
    try {
      const ready = await until(
        () => (devnet.stdout().includes('\n') ? JSON.parse(devnet.stdout()) : undefined),
        'the devnet to be ready',
        60_000,
      )
      expect(ready.endpoints).toHaveLength(4)
      const clients = (ready.endpoints as string[]).map((url) => new ApiClient(url))
      for (const client of clients) expect(await client.healthy()).toBe(true)

      // Every node finalizes blocks.
      for (const client of clients) {
        await until(
          async () =>
            (await client.status()).blockchain_state.current_block_height >= 2 ? true : undefined,
          'height 2',
        )
      }

      const bench = spawnBpci([
        'bench',
        'tps',
        '--api',
        ready.endpoints.join(','),
        '--data-dir',
        dataDir,
        '--count',
        '200',
        '--concurrency',
        '4',
        '--batch',
        '50',
        '--json',
      ])
      expect(await bench.exited).toBe(0)
      const result = JSON.parse(bench.stdout())
      expect(Object.keys(result)).toEqual(['submitted', 'finalized', 'tps', 'finality_ms'])
      expect(Object.keys(result.finality_ms)).toEqual(['p50', 'p99'])
      expect(result.submitted).toBe(200)
      expect(result.finalized).toBe(200)
      expect(result.tps).toBeGreaterThan(0)
      expect(result.finality_ms.p99).toBeGreaterThanOrEqual(result.finality_ms.p50)
      // The query and transaction commands against the same devnet.
      const api = ['--api', ready.endpoints[1] as string]
      const [sender] = JSON.parse(await readFile(join(dataDir, 'accounts.json'), 'utf8'))
      const keyFile = join(root, 'sender.json')
      await writeFile(keyFile, JSON.stringify(sender))
      const recipient = bytesToHex(new Uint8Array(32).fill(7))
      const submitted = spawnBpci([
        'blockchain',
        'transaction',
        'submit',
        ...api,
        '--from-key',
        keyFile,
        '--to',
        recipient,
        '--value',
        '7',
        '--wait',
        '--json',
      ])
      expect(await submitted.exited).toBe(0)
      const lookup = JSON.parse(submitted.stdout())
      expect(lookup.status).toBe('finalized')
      expect(lookup.receipt.status).toBe('success')
      expect(lookup.transaction.action).toEqual({ kind: 'transfer', to: recipient, amount: '7' })

      const listed = spawnBpci(['validator', 'list', ...api, '--json'])
      expect(await listed.exited).toBe(0)
      expect(JSON.parse(listed.stdout()).validators).toHaveLength(4)

      const exportFile = join(root, 'blocks.json.gz')
      const exported = spawnBpci([
        'blockchain',
        'export',
        ...api,
        '--start-block',
        '1',
        '--end-block',
        '3',
        '--format',
        'json',
        '--compress',
        '--out',
        exportFile,
      ])
      expect(await exported.exited).toBe(0)
      const document = JSON.parse(gunzipSync(await readFile(exportFile)).toString('utf8'))
      expect(document.chain_id).toBe('devnet')
      expect(
        document.blocks.map((block: { header: { height: number } }) => block.header.height),
      ).toEqual([1, 2, 3])

      const heightAfterBench = (await clients[0]!.status()).blockchain_state.current_block_height

      // A node that dies is reported; the other three keep finalizing.
      const pids = await Promise.all(
        [0, 1, 2, 3].map(async (i) =>
          Number((await readFile(join(dataDir, `node-${i}`, 'node.pid'), 'utf8')).trim()),
        ),
      )
      process.kill(pids[3]!, 'SIGKILL')
      await until(() => (devnet.stderr().includes('node 3 exited') ? true : undefined), 'report')
      await until(
        async () =>
          (await clients[0]!.status()).blockchain_state.current_block_height > heightAfterBench + 2
            ? true
            : undefined,
        'finality with 3 of 4 validators',
      )

      devnet.child.kill('SIGTERM')
      expect(await devnet.exited).toBe(0)
      for (const pid of pids) expect(isAlive(pid)).toBe(false)
      // The three running nodes stopped through their own shutdown path.
      for (let i = 0; i < 3; i++) {
        expect(await readFile(join(dataDir, `node-${i}`, 'node.log'), 'utf8')).toContain(
          '"msg":"node stopped"',
        )
      }
      for (let i = 0; i < 4; i++)
        expect(existsSync(join(dataDir, `node-${i}`, 'node.pid'))).toBe(false)
      const stoppedAt = heightAfterBench

      // Running it again on the same directory resumes the chain.
      const resumed = spawnBpci(['devnet', '--data-dir', dataDir, '--json'])
      try {
        await until(() => (resumed.stdout().includes('\n') ? true : undefined), 'resume', 60_000)
        const status = await clients[1]!.status()
        expect(status.blockchain_state.current_block_height).toBeGreaterThanOrEqual(stoppedAt)
        expect(status.blockchain_state.total_transactions).toBeGreaterThanOrEqual(200)
        resumed.child.kill('SIGINT')
        expect(await resumed.exited).toBe(0)
      } finally {
        resumed.child.kill('SIGKILL')
      }
    } finally {
      devnet.child.kill('SIGKILL')
      await killLeftoverNodes(dataDir)
    }
  })
})
