import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_DEFAULTS, ConfigError, loadConfig, parseConfig } from '../src/config.js'
import {
  KeyFileError,
  readPassword,
  readValidatorKeystore,
  validatorKeysFromSeed,
  validatorPublicInfo,
  writeValidatorKeystore,
} from '../src/keys.js'
import { startNodeFromConfig } from '../src/run.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bpci-config-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const minimal = {
  genesis: 'genesis.json',
  data_dir: 'data',
  validator: { keystore: 'validator.json', password_env: 'BPCI_PASSWORD' },
}

function problemsOf(input: unknown): string {
  try {
    parseConfig(input, '/base')
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('accepted')
}

describe('config', () => {
  it('applies defaults and resolves paths against the config directory', () => {
    const config = parseConfig(minimal, '/base')
    expect(config.genesis).toBe('/base/genesis.json')
    expect(config.dataDir).toBe('/base/data')
    expect(config.validator.keystore).toBe('/base/validator.json')
    expect(config.validator.passwordEnv).toBe('BPCI_PASSWORD')
    expect(config.api.port).toBe(CONFIG_DEFAULTS.apiPort)
    expect(config.network.listen).toEqual(CONFIG_DEFAULTS.listen)
    expect(config.consensus.blockPeriodMs).toBe(CONFIG_DEFAULTS.blockPeriodMs)
    expect(config.logLevel).toBe('info')
  })

  it('reads mempool.max_queued_per_sender, 64 when absent', () => {
    expect(CONFIG_DEFAULTS.maxQueuedPerSender).toBe(64)
    expect(parseConfig(minimal, '/base').mempool.maxQueuedPerSender).toBe(64)
    const config = parseConfig({ ...minimal, mempool: { max_queued_per_sender: 0 } }, '/base')
    expect(config.mempool.maxQueuedPerSender).toBe(0)
    expect(problemsOf({ ...minimal, mempool: { max_queued_per_sender: -1 } })).toContain(
      '"mempool.max_queued_per_sender"',
    )
    expect(problemsOf({ ...minimal, mempool: { max_queued_per_sender: 1.5 } })).toContain(
      '"mempool.max_queued_per_sender"',
    )
  })

  it('reads consensus.dissemination, gossip when absent', () => {
    expect(parseConfig(minimal, '/base').consensus.dissemination).toBe('gossip')
    const config = parseConfig({ ...minimal, consensus: { dissemination: 'direct' } }, '/base')
    expect(config.consensus.dissemination).toBe('direct')
    expect(problemsOf({ ...minimal, consensus: { dissemination: 'flood' } })).toContain(
      '"consensus.dissemination"',
    )
  })

  it('names unknown keys, missing keys and bad values', () => {
    expect(problemsOf({ ...minimal, api: { prot: 80 } })).toContain('unknown key "api.prot"')
    expect(problemsOf({ ...minimal, colour: 'blue' })).toContain('unknown key "colour"')
    expect(problemsOf({ genesis: 'g.json', validator: minimal.validator })).toContain(
      'missing key "data_dir"',
    )
    expect(problemsOf({ ...minimal, api: { port: 70_000 } })).toContain('"api.port"')
    expect(problemsOf({ ...minimal, network: { listen: ['not-a-multiaddr'] } })).toContain(
      '"network.listen.0"',
    )
    expect(problemsOf({ ...minimal, log: { level: 'loud' } })).toContain('"log.level"')
    expect(problemsOf({ ...minimal, consensus: { round_timeout_ms: 60_001 } })).toContain(
      '"consensus.round_timeout_ms"',
    )
    expect(
      problemsOf({
        ...minimal,
        validator: { keystore: 'k', password_env: 'A', password_file: 'p' },
      }),
    ).toContain('exactly one of')
  })

  it('reads YAML files and reports unreadable or malformed ones', async () => {
    const file = join(dir, 'node.yaml')
    await writeFile(
      file,
      'genesis: g.json\ndata_dir: d\nvalidator:\n  keystore: k.json\n  password_file: pw\napi:\n  port: 9000\n',
    )
    const config = await loadConfig(file)
    expect(config.api.port).toBe(9000)
    expect(config.validator.passwordFile).toBe(join(dir, 'pw'))
    expect(config.file).toBe(file)

    await writeFile(file, 'genesis: [unclosed\n')
    await expect(loadConfig(file)).rejects.toThrow(/not valid YAML/)
    await expect(loadConfig(join(dir, 'missing.yaml'))).rejects.toThrow(ConfigError)
  })
})

describe('a node started from a config', () => {
  it("runs its mempool with the config's limits", async () => {
    const keys = validatorKeysFromSeed(new Uint8Array(32).fill(9))
    const nodeDir = join(dir, 'limits-node')
    await mkdir(nodeDir)
    const genesis = {
      chainId: 'config-test',
      genesisTime: 0,
      accounts: [],
      validators: [{ ...validatorPublicInfo(keys), stake: '5000' }],
    }
    await writeFile(join(nodeDir, 'genesis.json'), JSON.stringify(genesis))
    await writeValidatorKeystore(join(nodeDir, 'validator.json'), keys, 'pw', {
      insecureTestParams: true,
    })
    await writeFile(join(nodeDir, 'password'), 'pw\n')
    const config = parseConfig(
      {
        genesis: 'genesis.json',
        data_dir: 'data',
        validator: { keystore: 'validator.json', password_file: 'password' },
        api: { port: 0 },
        mempool: {
          max_pending: 300,
          max_queued: 200,
          max_per_sender: 50,
          max_queued_per_sender: 7,
        },
        log: { level: 'silent' },
      },
      nodeDir,
    )
    const running = await startNodeFromConfig(config)
    try {
      expect(running.node.chain.mempool.limits).toMatchObject({
        maxPending: 300,
        maxQueued: 200,
        maxPerSender: 50,
        maxQueuedPerSender: 7,
      })
    } finally {
      await running.stop()
    }
  })
})

describe('validator keystore', () => {
  it('round-trips the keys and refuses a wrong password or a foreign file', async () => {
    const keys = validatorKeysFromSeed(new Uint8Array(32).fill(7))
    const file = join(dir, 'validator.json')
    await writeValidatorKeystore(file, keys, 'correct horse', { insecureTestParams: true })
    const restored = await readValidatorKeystore(file, 'correct horse')
    expect(restored).toEqual(keys)
    await expect(readValidatorKeystore(file, 'wrong')).rejects.toThrow(KeyFileError)
    await expect(
      writeValidatorKeystore(file, validatorKeysFromSeed(new Uint8Array(32).fill(8)), 'x', {
        insecureTestParams: true,
      }),
    ).rejects.toThrow(/exists; not overwritten/)
    expect(await readValidatorKeystore(file, 'correct horse')).toEqual(keys)
    await writeFile(join(dir, 'junk.json'), '{"version": 1}')
    await expect(readValidatorKeystore(join(dir, 'junk.json'), 'x')).rejects.toThrow(KeyFileError)
  })

  it('reads the password from the first line of a file or from the environment', async () => {
    const file = join(dir, 'password.txt')
    await writeFile(file, 'hunter2\nsecond line ignored\n')
    expect(await readPassword({ file })).toBe('hunter2')
    process.env.BPCI_TEST_PASSWORD = 'from-env'
    expect(await readPassword({ env: 'BPCI_TEST_PASSWORD' })).toBe('from-env')
    delete process.env.BPCI_TEST_PASSWORD
    await expect(readPassword({ env: 'BPCI_TEST_PASSWORD' })).rejects.toThrow(/not set/)
    await writeFile(file, '\n')
    await expect(readPassword({ file })).rejects.toThrow(/empty/)
  })
})
