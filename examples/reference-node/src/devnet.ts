/**
 * A local devnet: genesis, keys and one config per validator in a data directory, and N
 * validator processes (`bpci node start`) on loopback. Running it again on the same directory
 * resumes the chain where it stopped.
 *
 * Layout of `DIR`: `devnet.json` (chain id, endpoints, N), `genesis.json`, `accounts.json` (the
 * funded accounts, `[{ address, secretKey }]` in hex, for load tests), and per node `node-<i>/config.yaml`,
 * `validator.keystore.json`, `password`, `data/` (LevelDB), `node.pid` and `node.log`.
 *
 * @example
 * ```ts
 * import { startDevnet } from './devnet.js'
 *
 * const devnet = await startDevnet({ dataDir: '/tmp/devnet', validators: 4, basePort: 8080 })
 * console.log(devnet.endpoints) // ['http://127.0.0.1:8080', ..., 'http://127.0.0.1:8083']
 * await devnet.stop()
 * ```
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MetanodeError } from '@metanode/core'
import { bytesToHex, hexToBytes, randomBytes } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { peerIdFromEd25519Seed } from '@metanode/transport-libp2p'
import { stringify as stringifyYaml } from 'yaml'
import { ApiClient } from './client.js'
import { generateValidatorKeys, validatorPublicInfo, writeValidatorKeystore } from './keys.js'

/** A devnet directory that cannot be created, read or reused as asked, or a devnet that fails. */
export class DevnetError extends MetanodeError {
  override readonly name = 'DevnetError'
}

/** Defaults of {@link DevnetOptions}. */
export const DEVNET_DEFAULTS = {
  validators: 4,
  basePort: 8080,
  blockPeriodMs: 100,
  accounts: 1_000,
  chainId: 'devnet',
  host: '127.0.0.1',
} as const

/** Offset of the libp2p ports from the API ports (node i listens on basePort + 100 + i). */
export const P2P_PORT_OFFSET = 100

/** Most validators a devnet runs (their API and libp2p port ranges must not overlap). */
export const MAX_DEVNET_VALIDATORS = 64

/** Most funded accounts a devnet creates. */
export const MAX_DEVNET_ACCOUNTS = 100_000

/** Options of {@link initDevnet}; on a directory that exists, any option given must match it. */
export interface DevnetOptions {
  /** The devnet's directory (created when missing). */
  dataDir: string
  /** Validator processes (default 4). */
  validators?: number
  /** Node i's HTTP API listens on basePort + i, its libp2p on basePort + 100 + i (default 8080). */
  basePort?: number
  /** Pause between blocks in ms (default 100). */
  blockPeriodMs?: number
  /** Funded accounts in genesis and `accounts.json` (default 1,000). */
  accounts?: number
}

/** One validator node of a devnet. */
export interface DevnetNode {
  /** Its index i (0-based). */
  index: number
  /** The API base URL. */
  api: string
  /** Its libp2p address with `/p2p/<peer id>`. */
  multiaddr: string
  /** Its libp2p peer id. */
  peerId: string
  /** Hex validator id (Ed25519 public key). */
  validatorId: string
  /** Its directory (absolute). */
  dir: string
  /** Its config file (absolute). */
  config: string
  /** Its pid file (absolute). */
  pidFile: string
  /** Its log file (absolute). */
  logFile: string
}

/** What `devnet.json` records, with absolute paths resolved. */
export interface DevnetInfo {
  /** The devnet's directory (absolute). */
  dataDir: string
  /** The chain id. */
  chainId: string
  /** Number of validators. */
  validators: number
  /** The first API port. */
  basePort: number
  /** Pause between blocks in ms. */
  blockPeriodMs: number
  /** Number of funded accounts in `accounts.json`. */
  accounts: number
  /** The API base URLs, node 0 first. */
  endpoints: string[]
  /** The nodes. */
  nodes: DevnetNode[]
  /** Whether this call created the directory (false: it was reused). */
  created: boolean
}

/** A funded account of a devnet. */
export interface DevnetAccount {
  /** The address (Ed25519 public key). */
  address: Uint8Array
  /** Its 32-byte Ed25519 secret key. */
  secretKey: Uint8Array
}

/** The serialized `devnet.json`. */
interface DevnetFile {
  chain_id: string
  validators: number
  base_port: number
  block_period_ms: number
  accounts: number
  endpoints: string[]
  nodes: { index: number; api: string; multiaddr: string; peer_id: string; validator_id: string }[]
}

const DEVNET_FILE = 'devnet.json'
const ACCOUNTS_FILE = 'accounts.json'
const GENESIS_FILE = 'genesis.json'

/** Stake bonded by each genesis validator. */
const VALIDATOR_STAKE = 1_000_000n
/** Balance of each funded account unless the supply cap asks for less. */
const ACCOUNT_BALANCE = 10n ** 15n
/** Keep total supply well below the codec's 2^63 − 1. */
const SUPPLY_BUDGET = 2n ** 62n

// The keystore of a throwaway devnet is protected only so the node's normal start-up path runs;
// strong scrypt would add seconds per node start for nothing. Never use these parameters for
// keys that matter.
const DEVNET_KEYSTORE_OPTIONS = {
  insecureTestParams: true,
  kdfParams: { n: 2 ** 12, r: 8, p: 1 },
} as const

function integerOption(value: number, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer`)
  }
  if (value < min || value > max) throw new RangeError(`${name} must be between ${min} and ${max}`)
  return value
}

function nodeDir(dataDir: string, index: number): string {
  return join(dataDir, `node-${index}`)
}

function toInfo(dataDir: string, file: DevnetFile, created: boolean): DevnetInfo {
  return {
    dataDir,
    chainId: file.chain_id,
    validators: file.validators,
    basePort: file.base_port,
    blockPeriodMs: file.block_period_ms,
    accounts: file.accounts,
    endpoints: [...file.endpoints],
    nodes: file.nodes.map((node) => {
      const dir = nodeDir(dataDir, node.index)
      return {
        index: node.index,
        api: node.api,
        multiaddr: node.multiaddr,
        peerId: node.peer_id,
        validatorId: node.validator_id,
        dir,
        config: join(dir, 'config.yaml'),
        pidFile: join(dir, 'node.pid'),
        logFile: join(dir, 'node.log'),
      }
    }),
    created,
  }
}

/**
 * Reads `DIR/devnet.json`.
 *
 * @throws DevnetError when it is missing or malformed.
 */
export async function readDevnetInfo(dataDir: string): Promise<DevnetInfo> {
  const dir = resolve(dataDir)
  let text: string
  try {
    text = await readFile(join(dir, DEVNET_FILE), 'utf8')
  } catch (error) {
    throw new DevnetError(`${join(dir, DEVNET_FILE)}: cannot read (${(error as Error).message})`, {
      cause: error,
    })
  }
  let file: DevnetFile
  try {
    file = JSON.parse(text) as DevnetFile
  } catch (error) {
    throw new DevnetError(`${join(dir, DEVNET_FILE)}: not valid JSON`, { cause: error })
  }
  const valid =
    typeof file === 'object' &&
    file !== null &&
    typeof file.chain_id === 'string' &&
    Number.isSafeInteger(file.validators) &&
    Number.isSafeInteger(file.base_port) &&
    Number.isSafeInteger(file.block_period_ms) &&
    Number.isSafeInteger(file.accounts) &&
    Array.isArray(file.endpoints) &&
    Array.isArray(file.nodes) &&
    file.nodes.length === file.validators
  if (!valid) throw new DevnetError(`${join(dir, DEVNET_FILE)}: not a devnet description`)
  return toInfo(dir, file, false)
}

/**
 * Reads the funded accounts of a devnet (`DIR/accounts.json`).
 *
 * @throws DevnetError when the file is missing or malformed.
 */
export async function readDevnetAccounts(dataDir: string): Promise<DevnetAccount[]> {
  const file = join(resolve(dataDir), ACCOUNTS_FILE)
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new DevnetError(`${file}: cannot read (${(error as Error).message})`, { cause: error })
  }
  if (!Array.isArray(parsed)) throw new DevnetError(`${file}: not an array of accounts`)
  return parsed.map((entry: unknown, index) => {
    const { secretKey: secret } = (entry ?? {}) as { secretKey?: unknown }
    if (typeof secret !== 'string' || !/^[0-9a-f]{64}$/i.test(secret)) {
      throw new DevnetError(`${file}: [${index}].secretKey must be 64 hex digits`)
    }
    const secretKey = hexToBytes(secret)
    return { address: ed25519.getPublicKey(secretKey), secretKey }
  })
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new DevnetError(`${path} exists and is not a directory`)
    }
    throw error
  }
}

function checkMatches(info: DevnetInfo, options: DevnetOptions): void {
  const mismatches: string[] = []
  const compare = (given: number | undefined, stored: number, flag: string) => {
    if (given !== undefined && given !== stored) mismatches.push(`${flag} ${stored} (not ${given})`)
  }
  compare(options.validators, info.validators, '--validators')
  compare(options.basePort, info.basePort, '--base-port')
  compare(options.blockPeriodMs, info.blockPeriodMs, '--block-period-ms')
  compare(options.accounts, info.accounts, '--accounts')
  if (mismatches.length > 0) {
    throw new DevnetError(
      `${info.dataDir} holds a devnet made with ${mismatches.join(', ')}; ` +
        'use another --data-dir for a different devnet',
      { details: { mismatches } },
    )
  }
}

/**
 * Creates the devnet in `options.dataDir` on first use: genesis (chain id `devnet`) with the
 * funded accounts and N validators, encrypted validator keystores with their password files,
 * one `config.yaml` per node, `accounts.json` and `devnet.json`. On a directory that already
 * holds a devnet it changes nothing and returns its description.
 *
 * @throws DevnetError when the directory holds another devnet (different N, ports, ...) or
 *   something that is not a devnet.
 * @throws RangeError / TypeError for out-of-range or non-integer options.
 */
export async function initDevnet(options: DevnetOptions): Promise<DevnetInfo> {
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
    throw new TypeError('dataDir must be a non-empty string')
  }
  const dataDir = resolve(options.dataDir)
  const validators = integerOption(
    options.validators ?? DEVNET_DEFAULTS.validators,
    'validators',
    1,
    MAX_DEVNET_VALIDATORS,
  )
  const basePort = integerOption(
    options.basePort ?? DEVNET_DEFAULTS.basePort,
    'basePort',
    1,
    65_535 - P2P_PORT_OFFSET - MAX_DEVNET_VALIDATORS,
  )
  const blockPeriodMs = integerOption(
    options.blockPeriodMs ?? DEVNET_DEFAULTS.blockPeriodMs,
    'blockPeriodMs',
    0,
    600_000,
  )
  const accountCount = integerOption(
    options.accounts ?? DEVNET_DEFAULTS.accounts,
    'accounts',
    1,
    MAX_DEVNET_ACCOUNTS,
  )

  if (await exists(dataDir)) {
    const entries = await readdir(dataDir)
    if (entries.includes(DEVNET_FILE)) {
      const info = await readDevnetInfo(dataDir)
      checkMatches(info, options)
      return info
    }
    if (entries.length > 0) {
      throw new DevnetError(
        `${dataDir} is not empty and holds no ${DEVNET_FILE}: not a devnet directory ` +
          '(an interrupted first run leaves it so; remove it and run again)',
      )
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })

  const host = DEVNET_DEFAULTS.host
  const chainId = DEVNET_DEFAULTS.chainId
  const validatorKeys = Array.from({ length: validators }, () => generateValidatorKeys())
  const accounts = Array.from({ length: accountCount }, () => ed25519.keygen(randomBytes(32)))
  const holders = BigInt(accountCount + validators)
  const balance =
    ACCOUNT_BALANCE < SUPPLY_BUDGET / holders ? ACCOUNT_BALANCE : SUPPLY_BUDGET / holders

  const genesis = {
    chainId,
    genesisTime: Date.now(),
    accounts: [
      ...accounts.map((account) => ({
        address: bytesToHex(account.publicKey),
        balance: balance.toString(),
      })),
      // Validators also get a balance so they can pay for staking and registration transactions.
      ...validatorKeys.map((keys) => ({
        address: bytesToHex(keys.id),
        balance: balance.toString(),
      })),
    ],
    validators: validatorKeys.map((keys, index) => ({
      ...validatorPublicInfo(keys),
      stake: VALIDATOR_STAKE.toString(),
      metadata: { moniker: `devnet-${index}` },
    })),
    // Load tests fill blocks: allow the largest block the chain accepts.
    // Blocks of at most 2,000 transfers: under overload a block of 5,000 (the default) could take
    // longer to build and validate on every node than a round lasts, and round changes would
    // follow while the backlog grows.
    parameters: { maxBlockBytes: 700 * 1024, maxBlockTxs: 2_000 },
  }
  await writeFile(join(dataDir, GENESIS_FILE), `${JSON.stringify(genesis, null, 2)}\n`)
  await writeFile(
    join(dataDir, ACCOUNTS_FILE),
    `${JSON.stringify(
      accounts.map((account) => ({
        address: bytesToHex(account.publicKey),
        secretKey: bytesToHex(account.secretKey),
      })),
    )}\n`,
    { mode: 0o600 },
  )
  const peers = validatorKeys.map((keys, index) => {
    const peerId = peerIdFromEd25519Seed(keys.ed25519SecretKey)
    return {
      index,
      api: `http://${host}:${basePort + index}`,
      multiaddr: `/ip4/${host}/tcp/${basePort + P2P_PORT_OFFSET + index}/p2p/${peerId}`,
      peer_id: peerId,
      validator_id: bytesToHex(keys.id),
    }
  })
  for (const [index, keys] of validatorKeys.entries()) {
    const dir = nodeDir(dataDir, index)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const password = bytesToHex(randomBytes(16))
    await writeFile(join(dir, 'password'), `${password}\n`, { mode: 0o600 })
    await writeValidatorKeystore(
      join(dir, 'validator.keystore.json'),
      keys,
      password,
      DEVNET_KEYSTORE_OPTIONS,
    )
    const config = {
      genesis: `../${GENESIS_FILE}`,
      data_dir: 'data',
      pid_file: 'node.pid',
      validator: { keystore: 'validator.keystore.json', password_file: 'password' },
      network: {
        listen: [`/ip4/${host}/tcp/${basePort + P2P_PORT_OFFSET + index}`],
        bootstrap: peers.filter((peer) => peer.index !== index).map((peer) => peer.multiaddr),
      },
      api: {
        host,
        port: basePort + index,
        max_batch: 5_000,
        body_limit_bytes: 16 * 1024 * 1024,
        // One load generator on loopback is the only client; per-IP limits would throttle it.
        rate_limit: { max: 1_000_000, window_ms: 1_000 },
      },
      // every validator dials every other: a full mesh, so messages need no relaying
      consensus: { block_period_ms: blockPeriodMs, dissemination: 'direct' },
      // Generous pool limits: `bench tps` keeps tens of thousands of transactions in flight,
      // hundreds per sender.
      mempool: {
        max_pending: 200_000,
        max_queued: 100_000,
        max_per_sender: 10_000,
        // gossip can deliver an account's later nonces first: let them wait for the earlier ones
        max_queued_per_sender: 10_000,
      },
      log: { level: 'info' },
    }
    await writeFile(
      join(dir, 'config.yaml'),
      `# devnet node ${index}; paths are relative to this file\n${stringifyYaml(config)}`,
    )
  }
  const file: DevnetFile = {
    chain_id: chainId,
    validators,
    base_port: basePort,
    block_period_ms: blockPeriodMs,
    accounts: accountCount,
    endpoints: peers.map((peer) => peer.api),
    nodes: peers,
  }
  // Written last: its presence marks a complete devnet directory.
  await writeFile(join(dataDir, DEVNET_FILE), `${JSON.stringify(file, null, 2)}\n`)
  return toInfo(dataDir, file, true)
}

/** Why a devnet node process ended. */
export interface DevnetExit {
  /** The node's index. */
  index: number
  /** Its exit code, or `null` when a signal ended it. */
  code: number | null
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null
  /** The last lines of its log. */
  logTail: string
}

/** Options of {@link startDevnet}. */
export interface StartDevnetOptions extends DevnetOptions {
  /** How long to wait for every node's `/health` to answer 200, in ms (default 60,000). */
  readyTimeoutMs?: number
  /** How long a node may take to stop after SIGTERM before it is killed, in ms (default 15,000). */
  stopTimeoutMs?: number
  /** Called when a node process ends without being asked to. */
  onExit?: (exit: DevnetExit) => void
  /** Environment of the node processes (default this process's). */
  env?: NodeJS.ProcessEnv
  /** The `bpci` entry script (default this package's `bin/bpci.js`). */
  bin?: string
  /** Node.js flags of the node processes, e.g. `['--cpu-prof']`. */
  nodeFlags?: readonly string[]
}

/** A running devnet; see {@link startDevnet}. */
export interface Devnet {
  /** Its description. */
  info: DevnetInfo
  /** The API base URLs, node 0 first. */
  endpoints: string[]
  /** Process ids of the running nodes (`undefined` for a node not running). */
  pids(): (number | undefined)[]
  /** Stops node `index` (SIGTERM, or `signal`; SIGKILL after the stop timeout); resolves once it exited. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Starts node `index` again (it must be stopped) and resolves once its `/health` answers 200. */
  startNode(index: number): Promise<void>
  /** Stops every node (SIGTERM, then SIGKILL after the stop timeout); resolves once all exited. */
  stop(): Promise<void>
}

/** The directory of this package (holds `package.json` and `bin/`), from this file's location. */
export function packageRoot(): string {
  // src/devnet.ts runs from src/ under vitest and from dist/src/ once built.
  const here = dirname(fileURLToPath(import.meta.url))
  return here.endsWith(join('dist', 'src')) ? resolve(here, '..', '..') : resolve(here, '..')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(file, 'utf8'), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

async function logTail(file: string, lines = 10): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return ''
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Running {
  child: ChildProcess
  exited: Promise<void>
  expected: boolean
}

/**
 * Creates the devnet if needed ({@link initDevnet}), starts one `bpci node start` process per
 * validator (output appended to `node-<i>/node.log`) and resolves once every node's `/health`
 * answers 200.
 *
 * @throws DevnetError when a node is already running from this directory, exits during
 *   start-up, or is not healthy in time (the others are stopped then).
 */
export async function startDevnet(options: StartDevnetOptions): Promise<Devnet> {
  const info = await initDevnet(options)
  const bin = options.bin ?? join(packageRoot(), 'bin', 'bpci.js')
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000
  const running = new Map<number, Running>()
  // Exits during start-up are reported by the start-up error instead.
  let reporting = false

  for (const node of info.nodes) {
    const pid = await readPid(node.pidFile)
    if (pid !== undefined && isAlive(pid)) {
      throw new DevnetError(
        `node ${node.index} already runs (pid ${pid} in ${node.pidFile}); stop it first`,
      )
    }
    // A pid file left by a killed process says nothing true any more.
    await rm(node.pidFile, { force: true })
  }

  const launch = (node: DevnetNode): Running => {
    const log = openSync(node.logFile, 'a')
    let child: ChildProcess
    try {
      const args = [...(options.nodeFlags ?? []), bin, 'node', 'start', '--config', node.config]
      child = spawn(process.execPath, args, {
        stdio: ['ignore', log, log],
        env: options.env ?? process.env,
      })
    } finally {
      closeSync(log)
    }
    let finished = false
    const entry: Running = {
      child,
      expected: false,
      exited: new Promise((resolve) => {
        const finish = async (code: number | null, signal: NodeJS.Signals | null) => {
          if (finished) return
          finished = true
          if (running.get(node.index) === entry) running.delete(node.index)
          // A node that did not stop by itself (killed, crashed) leaves a pid file that names a
          // dead process.
          if ((await readPid(node.pidFile)) === child.pid) await rm(node.pidFile, { force: true })
          if (!entry.expected && reporting && options.onExit !== undefined) {
            options.onExit({
              index: node.index,
              code,
              signal,
              logTail: await logTail(node.logFile),
            })
          }
          resolve()
        }
        child.once('exit', (code, signal) => void finish(code, signal))
        // A process that could not be started at all emits no 'exit'.
        child.once('error', () => {
          if (child.pid === undefined) void finish(null, null)
        })
      }),
    }
    running.set(node.index, entry)
    return entry
  }

  const waitHealthy = async (nodes: readonly DevnetNode[]): Promise<void> => {
    const deadline = performance.now() + readyTimeoutMs
    const pending = new Set(nodes.map((node) => node.index))
    while (pending.size > 0) {
      for (const index of [...pending]) {
        const node = info.nodes[index]!
        const entry = running.get(index)
        if (entry === undefined) {
          throw new DevnetError(
            `node ${index} exited during start-up; ${node.logFile} ends with:\n` +
              (await logTail(node.logFile)),
          )
        }
        if (await new ApiClient(node.api, { timeoutMs: 1_000 }).healthy()) pending.delete(index)
      }
      if (pending.size === 0) break
      if (performance.now() > deadline) {
        throw new DevnetError(
          `node(s) ${[...pending].join(', ')} not healthy within ${readyTimeoutMs} ms; see ` +
            [...pending].map((index) => info.nodes[index]!.logFile).join(', '),
        )
      }
      await sleep(200)
    }
  }

  const stopOne = async (index: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const entry = running.get(index)
    if (entry === undefined) return
    entry.expected = true
    entry.child.kill(signal)
    let timer: NodeJS.Timeout | undefined
    const stopped = await Promise.race([
      entry.exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), stopTimeoutMs)
      }),
    ])
    clearTimeout(timer)
    if (!stopped) {
      entry.child.kill('SIGKILL')
      await entry.exited
    }
  }

  const stopAll = async () => {
    await Promise.all([...running.keys()].map((index) => stopOne(index)))
  }

  try {
    for (const node of info.nodes) launch(node)
    await waitHealthy(info.nodes)
  } catch (error) {
    await stopAll()
    throw error
  }
  reporting = true

  let stopping: Promise<void> | undefined
  return {
    info,
    endpoints: [...info.endpoints],
    pids: () => info.nodes.map((node) => running.get(node.index)?.child.pid),
    stopNode: (index, signal) => {
      integerOption(index, 'index', 0, info.validators - 1)
      return stopOne(index, signal)
    },
    async startNode(index) {
      integerOption(index, 'index', 0, info.validators - 1)
      if (running.has(index)) throw new DevnetError(`node ${index} is running`)
      const node = info.nodes[index]!
      await rm(node.pidFile, { force: true })
      launch(node)
      await waitHealthy([node])
    },
    stop() {
      stopping ??= stopAll()
      return stopping
    },
  }
}
