// The `bpci` command as users run it: a real process from bin/bpci.js (build first with
// `pnpm exec tsc -b examples/reference-node`).
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { peerIdFromEd25519Seed } from '@metanode/transport-libp2p'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, ApiError } from '../src/client.js'
import { readValidatorKeystore } from '../src/keys.js'
import { createProgress } from '../src/progress.js'
import { runBpci as bpci } from './spawn-bpci.js'

/** A loopback port nothing listens on (just released by a server bound to port 0). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpci-cli-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('argument errors', () => {
  it('rejects a non-integer option value, naming the option', async () => {
    const run = await bpci(['bench', 'tps', '--data-dir', dir, '--count', 'many'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain("'--count <n>'")
    expect(run.stdout).toBe('')
  })

  it('rejects a missing required option', async () => {
    const run = await bpci(['node', 'start'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--config')
  })

  it('rejects an unknown command and an unknown option', async () => {
    expect((await bpci(['launch'])).code).toBe(1)
    const run = await bpci(['blockchain', 'status', '--colour'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--colour')
  })

  it('refuses a tip above the fee cap before reading keys or asking a node, for every signing command', async () => {
    const fees = ['--fee', '5', '--tip', '6', '--api', 'http://127.0.0.1:9']
    const submit = await bpci([
      'blockchain',
      'transaction',
      'submit',
      '--from-key',
      join(dir, 'no-such-key.json'),
      '--to',
      '00'.repeat(32),
      '--value',
      '1',
      ...fees,
    ])
    const register = await bpci([
      'validator',
      'register',
      '--key',
      join(dir, 'no-such-keystore.json'),
      '--stake',
      '1',
      '--password-env',
      'NO_SUCH_VAR',
      ...fees,
    ])
    for (const run of [submit, register]) {
      expect(run.code).toBe(1)
      expect(run.stderr).toContain('--tip must not exceed --fee')
    }
  })

  it('rejects an API URL that is not http(s)', async () => {
    const run = await bpci(['blockchain', 'status', '--api', 'ftp://example.org'])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('ftp://example.org')
  })

  it('reports an unreachable node in one line', async () => {
    const port = await closedPort()
    const run = await bpci(['blockchain', 'status', '--api', `http://127.0.0.1:${port}`])
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain('ECONNREFUSED')
  })

  it('prints help with exit status 0', async () => {
    const run = await bpci(['--help'])
    expect(run.code).toBe(0)
    for (const command of ['node', 'devnet', 'keys', 'blockchain', 'validator', 'bench']) {
      expect(run.stdout).toContain(command)
    }
  })

  it('prints the help of the signing commands, whose fee defaults are bigints', async () => {
    for (const args of [
      ['blockchain', 'transaction', 'submit'],
      ['validator', 'register'],
    ]) {
      const run = await bpci([...args, '--help'])
      expect(run.code, args.join(' ')).toBe(0)
      expect(run.stdout).toContain('--fee <amount>')
      expect(run.stdout).toContain('(default: 10)')
      expect(run.stdout).toContain('--tip <amount>')
      expect(run.stdout).toContain('--wait')
    }
  })
})

describe('node start with a bad config', () => {
  it('names an unknown key and exits 1 without a stack trace', async () => {
    const file = join(dir, 'unknown-key.yaml')
    await writeFile(
      file,
      'genesis: genesis.json\ndata_dir: data\nvalidator:\n  keystore: k.json\n  password_file: pw\n' +
        'api:\n  port: 8080\n  colour: blue\n',
    )
    const run = await bpci(['node', 'start', '--config', file])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('api.colour')
    expect(run.stderr).not.toMatch(/\n\s+at /)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('names a value of the wrong type', async () => {
    const file = join(dir, 'bad-port.yaml')
    await writeFile(
      file,
      'genesis: genesis.json\ndata_dir: data\nvalidator:\n  keystore: k.json\n  password_file: pw\n' +
        'api:\n  port: eighty\n',
    )
    const run = await bpci(['node', 'start', '--config', file])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('api.port')
  })

  it('reports a missing config file and a missing genesis file, naming them', async () => {
    const missing = await bpci(['node', 'start', '--config', join(dir, 'nope.yaml')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('nope.yaml')

    const file = join(dir, 'no-genesis.yaml')
    await writeFile(
      file,
      'genesis: absent-genesis.json\ndata_dir: data\nvalidator:\n  keystore: k.json\n  password_file: pw\n',
    )
    const run = await bpci(['node', 'start', '--config', file])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('absent-genesis.json')
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('keys generate', () => {
  it('writes an account key file (0600) and prints only the public parts with --json', async () => {
    const out = join(dir, 'account.json')
    const run = await bpci(['keys', 'generate', '--out', out, '--json'])
    expect(run.code).toBe(0)
    const printed = JSON.parse(run.stdout) as Record<string, string>
    expect(Object.keys(printed).sort()).toEqual(['address', 'file'])
    const saved = JSON.parse(await readFile(out, 'utf8')) as { address: string; secretKey: string }
    expect(saved.address).toBe(printed.address)
    expect(bytesToHex(ed25519.getPublicKey(hexToBytes(saved.secretKey)))).toBe(saved.address)
    expect((await stat(out)).mode & 0o777).toBe(0o600)

    // An existing key file is never overwritten.
    const again = await bpci(['keys', 'generate', '--out', out])
    expect(again.code).toBe(1)
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(saved)
  })

  it('prints a fresh key pair without --out', async () => {
    const one = JSON.parse((await bpci(['keys', 'generate', '--json'])).stdout)
    const two = JSON.parse((await bpci(['keys', 'generate', '--json'])).stdout)
    expect(bytesToHex(ed25519.getPublicKey(hexToBytes(one.secret_key)))).toBe(one.address)
    expect(one.address).not.toBe(two.address)
  })

  it('writes a validator keystore that decrypts with the password', async () => {
    const out = join(dir, 'validator.json')
    const passwordFile = join(dir, 'password')
    await writeFile(passwordFile, 'correct horse battery staple\n')
    const run = await bpci([
      'keys',
      'generate',
      '--validator',
      '--out',
      out,
      '--password-file',
      passwordFile,
      '--json',
    ])
    expect(run.code).toBe(0)
    const printed = JSON.parse(run.stdout) as Record<string, string>
    const keys = await readValidatorKeystore(out, 'correct horse battery staple')
    expect(printed.id).toBe(bytesToHex(keys.id))
    expect(printed.bls_public_key).toBe(bytesToHex(keys.blsPublicKey))
    expect(printed.peer_id).toBe(peerIdFromEd25519Seed(keys.ed25519SecretKey))
    expect(JSON.stringify(printed)).not.toContain(bytesToHex(keys.ed25519SecretKey))
    expect((await stat(out)).mode & 0o777).toBe(0o600)
  })

  it('refuses a validator keystore without a password source', async () => {
    const run = await bpci(['keys', 'generate', '--validator', '--out', join(dir, 'v2.json')])
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--password-file')
    expect(existsSync(join(dir, 'v2.json'))).toBe(false)
  })
})

describe('ApiClient', () => {
  it('turns error answers, silence and refused connections into ApiError with status and code', async () => {
    const server = createHttpServer((request, response) => {
      if (request.url === '/api/v1/blockchain/status') {
        response.writeHead(429, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ code: 'rate-limited', message: 'slow down' }))
      } else if (request.url === '/api/v1/validators') {
        response.writeHead(502, { 'content-type': 'text/html' })
        response.end('<h1>bad gateway</h1>')
      }
      // Anything else is never answered.
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const client = new ApiClient(`http://127.0.0.1:${port}`, { timeoutMs: 300 })
    try {
      await expect(client.status()).rejects.toMatchObject({
        name: 'ApiError',
        status: 429,
        code: 'rate-limited',
      })
      await expect(client.validators()).rejects.toMatchObject({ status: 502, code: 'http-502' })
      await expect(client.block(1)).rejects.toMatchObject({ status: 0, code: 'timeout' })
      expect(await client.healthy()).toBe(false)
    } finally {
      server.closeAllConnections()
      server.close()
    }
    const refused = new ApiClient(`http://127.0.0.1:${await closedPort()}`)
    const error = await refused.status().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 0, code: 'unreachable' })
  })

  it('refuses a base URL that is not http(s)', () => {
    expect(() => new ApiClient('ws://127.0.0.1:8080')).toThrow(TypeError)
    expect(() => new ApiClient('not a url')).toThrow(TypeError)
  })
})

describe('progress', () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = []
    return { chunks, stream: { isTTY, columns: 60, write: (text: string) => chunks.push(text) } }
  }

  it('writes plain lines at most once per interval when stderr is not a terminal', () => {
    let now = 0
    const { chunks, stream } = capture(false)
    const progress = createProgress({ label: 'submit', total: 100, stream, now: () => now })
    progress.update(10)
    now = 500
    progress.update(20) // within the interval: not written
    now = 2_500
    progress.update(50, 'finalized 30')
    progress.finish('done')
    expect(chunks).toHaveLength(3)
    expect(chunks.every((chunk) => chunk.endsWith('\n') && !chunk.includes('\r'))).toBe(true)
    expect(chunks[1]).toContain('50/100')
    expect(chunks[1]).toContain('finalized 30')
    expect(chunks[2]).toBe('done\n')
  })

  it('leaves units done before the display started out of the rate', () => {
    let now = 0
    const { chunks, stream } = capture(false)
    const progress = createProgress({
      label: 'finality',
      total: 1_000,
      initial: 900,
      stream,
      now: () => now,
    })
    now = 2_000
    progress.update(950)
    expect(chunks[0]).toContain('950/1000')
    expect(chunks[0]).toContain(' 25.0/s')
  })

  it('redraws one bar in place on a terminal and ends it with a newline', () => {
    let now = 0
    const { chunks, stream } = capture(true)
    const progress = createProgress({ label: 'sign', total: 4, stream, now: () => now })
    progress.update(1)
    now = 1_000
    progress.update(4)
    progress.finish()
    expect(
      chunks.slice(0, 2).every((chunk) => chunk.startsWith('\r') && !chunk.includes('\n')),
    ).toBe(true)
    expect(chunks[1]).toContain('[########################]')
    expect(chunks.at(-1)?.endsWith('\n')).toBe(true)
  })

  it('writes nothing when disabled', () => {
    const { chunks, stream } = capture(true)
    const progress = createProgress({ label: 'x', total: 1, stream, disabled: true })
    progress.update(1)
    progress.finish('done')
    expect(chunks).toEqual([])
  })
})
