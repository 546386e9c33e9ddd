/**
 * The node's YAML configuration: a JSON schema (unknown keys and bad values are errors naming
 * the key), defaults, and paths resolved against the config file's directory.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { MetanodeError } from '@metanode/core'
import type { IbftDissemination } from '@metanode/ibft'
import { Ajv, type ErrorObject } from 'ajv'
import { parse as parseYaml } from 'yaml'

/** A configuration file that cannot be read, parsed or validated. */
export class ConfigError extends MetanodeError {
  override readonly name = 'ConfigError'
}

/** A validated node configuration with absolute paths. */
export interface NodeConfig {
  /** The config file it came from (absolute), or `undefined` when built in code. */
  file: string | undefined
  /** The genesis JSON file. */
  genesis: string
  /** The LevelDB directory. */
  dataDir: string
  /** Where the running node writes its process id (optional). */
  pidFile: string | undefined
  /** The validator's encrypted keystore and where its password comes from. */
  validator: {
    /** The keystore file (see keys.ts). */
    keystore: string
    /** A file whose first line is the password. */
    passwordFile: string | undefined
    /** An environment variable holding the password. */
    passwordEnv: string | undefined
  }
  /** libp2p addresses. */
  network: {
    /** Multiaddrs to listen on. */
    listen: string[]
    /** Multiaddrs (with `/p2p/<peer id>`) of nodes to dial at start and after they drop. */
    bootstrap: string[]
  }
  /** The HTTP/WebSocket API. */
  api: {
    /** Interface to bind. */
    host: string
    /** TCP port (0: any free port). */
    port: number
    /** Most transactions per submit request. */
    maxBatch: number
    /** Largest request body in bytes. */
    bodyLimitBytes: number
    /** Requests per client per window. */
    rateLimitMax: number
    /** The rate limit's window in ms. */
    rateLimitWindowMs: number
  }
  /** Consensus timing. */
  consensus: {
    /** Pause between blocks in ms. */
    blockPeriodMs: number
    /** First round timeout in ms. */
    roundTimeoutMs: number
    /** How consensus messages travel: `gossip` (relayed) or `direct` (full mesh, no relay). */
    dissemination: IbftDissemination
  }
  /** Mempool capacity. */
  mempool: {
    /** Most executable transactions. */
    maxPending: number
    /** Most transactions waiting for an earlier nonce. */
    maxQueued: number
    /** Most transactions per sender. */
    maxPerSender: number
    /** Most transactions per sender waiting for an earlier nonce. */
    maxQueuedPerSender: number
  }
  /** Log level (pino). */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
}

const multiaddr = { type: 'string', minLength: 1, maxLength: 512, pattern: '^/' }
const port = { type: 'integer', minimum: 0, maximum: 65_535 }

/** The JSON schema of the YAML file (snake_case keys). */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['genesis', 'data_dir', 'validator'],
  properties: {
    genesis: { type: 'string', minLength: 1, maxLength: 4_096 },
    data_dir: { type: 'string', minLength: 1, maxLength: 4_096 },
    pid_file: { type: 'string', minLength: 1, maxLength: 4_096 },
    validator: {
      type: 'object',
      additionalProperties: false,
      required: ['keystore'],
      properties: {
        keystore: { type: 'string', minLength: 1, maxLength: 4_096 },
        password_file: { type: 'string', minLength: 1, maxLength: 4_096 },
        password_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listen: { type: 'array', items: multiaddr, maxItems: 16 },
        bootstrap: { type: 'array', items: multiaddr, maxItems: 256 },
      },
    },
    api: {
      type: 'object',
      additionalProperties: false,
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 255 },
        port,
        max_batch: { type: 'integer', minimum: 1, maximum: 10_000 },
        body_limit_bytes: { type: 'integer', minimum: 1_024, maximum: 256 * 1024 * 1024 },
        rate_limit: {
          type: 'object',
          additionalProperties: false,
          properties: {
            max: { type: 'integer', minimum: 1, maximum: 1_000_000 },
            window_ms: { type: 'integer', minimum: 10, maximum: 3_600_000 },
          },
        },
      },
    },
    consensus: {
      type: 'object',
      additionalProperties: false,
      properties: {
        block_period_ms: { type: 'integer', minimum: 0, maximum: 600_000 },
        // The engine caps round timeouts at 60 s and refuses a first timeout above the cap.
        round_timeout_ms: { type: 'integer', minimum: 10, maximum: 60_000 },
        dissemination: { enum: ['gossip', 'direct'] },
      },
    },
    mempool: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max_pending: { type: 'integer', minimum: 1, maximum: 10_000_000 },
        max_queued: { type: 'integer', minimum: 0, maximum: 10_000_000 },
        max_per_sender: { type: 'integer', minimum: 1, maximum: 100_000 },
        max_queued_per_sender: { type: 'integer', minimum: 0, maximum: 100_000 },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      properties: {
        level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
      },
    },
  },
} as const

/** Defaults of the optional settings. */
export const CONFIG_DEFAULTS = {
  listen: ['/ip4/127.0.0.1/tcp/0'],
  apiHost: '127.0.0.1',
  apiPort: 8080,
  maxBatch: 1_000,
  bodyLimitBytes: 4 * 1024 * 1024,
  rateLimitMax: 2_000,
  rateLimitWindowMs: 1_000,
  blockPeriodMs: 100,
  roundTimeoutMs: 2_000,
  dissemination: 'gossip' as IbftDissemination,
  maxPending: 50_000,
  maxQueued: 10_000,
  maxPerSender: 1_000,
  maxQueuedPerSender: 64,
  logLevel: 'info',
} as const

const validate = new Ajv({ allErrors: true, strict: true }).compile(CONFIG_SCHEMA)

function describe(error: ErrorObject): string {
  const path = error.instancePath.slice(1).replaceAll('/', '.')
  if (error.keyword === 'additionalProperties') {
    const key = (error.params as { additionalProperty: string }).additionalProperty
    return `unknown key "${path ? `${path}.` : ''}${key}"`
  }
  if (error.keyword === 'required') {
    const key = (error.params as { missingProperty: string }).missingProperty
    return `missing key "${path ? `${path}.` : ''}${key}"`
  }
  return `"${path || '(root)'}" ${error.message ?? 'is invalid'}`
}

interface RawConfig {
  genesis: string
  data_dir: string
  pid_file?: string
  validator: { keystore: string; password_file?: string; password_env?: string }
  network?: { listen?: string[]; bootstrap?: string[] }
  api?: {
    host?: string
    port?: number
    max_batch?: number
    body_limit_bytes?: number
    rate_limit?: { max?: number; window_ms?: number }
  }
  consensus?: {
    block_period_ms?: number
    round_timeout_ms?: number
    dissemination?: IbftDissemination
  }
  mempool?: {
    max_pending?: number
    max_queued?: number
    max_per_sender?: number
    max_queued_per_sender?: number
  }
  log?: { level?: NodeConfig['logLevel'] }
}

/**
 * Validates a parsed configuration object and applies defaults; relative paths are resolved
 * against `baseDir`.
 *
 * @throws ConfigError listing every problem, each naming its key.
 */
export function parseConfig(input: unknown, baseDir: string, file?: string): NodeConfig {
  if (!validate(input)) {
    const problems = (validate.errors ?? []).map(describe)
    throw new ConfigError(`${file ?? 'config'}: ${problems.join('; ')}`, {
      details: { problems },
    })
  }
  const raw = input as unknown as RawConfig
  const { validator } = raw
  if ((validator.password_file === undefined) === (validator.password_env === undefined)) {
    throw new ConfigError(
      `${file ?? 'config'}: "validator" needs exactly one of "password_file" and "password_env"`,
      { details: { problems: ['validator.password_file / validator.password_env'] } },
    )
  }
  const path = (value: string) => resolve(baseDir, value)
  return {
    file,
    genesis: path(raw.genesis),
    dataDir: path(raw.data_dir),
    pidFile: raw.pid_file === undefined ? undefined : path(raw.pid_file),
    validator: {
      keystore: path(validator.keystore),
      passwordFile:
        validator.password_file === undefined ? undefined : path(validator.password_file),
      passwordEnv: validator.password_env,
    },
    network: {
      listen: raw.network?.listen ?? [...CONFIG_DEFAULTS.listen],
      bootstrap: raw.network?.bootstrap ?? [],
    },
    api: {
      host: raw.api?.host ?? CONFIG_DEFAULTS.apiHost,
      port: raw.api?.port ?? CONFIG_DEFAULTS.apiPort,
      maxBatch: raw.api?.max_batch ?? CONFIG_DEFAULTS.maxBatch,
      bodyLimitBytes: raw.api?.body_limit_bytes ?? CONFIG_DEFAULTS.bodyLimitBytes,
      rateLimitMax: raw.api?.rate_limit?.max ?? CONFIG_DEFAULTS.rateLimitMax,
      rateLimitWindowMs: raw.api?.rate_limit?.window_ms ?? CONFIG_DEFAULTS.rateLimitWindowMs,
    },
    consensus: {
      blockPeriodMs: raw.consensus?.block_period_ms ?? CONFIG_DEFAULTS.blockPeriodMs,
      roundTimeoutMs: raw.consensus?.round_timeout_ms ?? CONFIG_DEFAULTS.roundTimeoutMs,
      dissemination: raw.consensus?.dissemination ?? CONFIG_DEFAULTS.dissemination,
    },
    mempool: {
      maxPending: raw.mempool?.max_pending ?? CONFIG_DEFAULTS.maxPending,
      maxQueued: raw.mempool?.max_queued ?? CONFIG_DEFAULTS.maxQueued,
      maxPerSender: raw.mempool?.max_per_sender ?? CONFIG_DEFAULTS.maxPerSender,
      maxQueuedPerSender: raw.mempool?.max_queued_per_sender ?? CONFIG_DEFAULTS.maxQueuedPerSender,
    },
    logLevel: raw.log?.level ?? CONFIG_DEFAULTS.logLevel,
  }
}

/** Largest config file read, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024

/**
 * Reads, parses and validates a YAML config file.
 *
 * @throws ConfigError when the file is missing, too large, not YAML, or invalid.
 */
export async function loadConfig(file: string): Promise<NodeConfig> {
  const absolute = resolve(file)
  let text: string
  try {
    const bytes = await readFile(absolute)
    if (bytes.length > MAX_CONFIG_BYTES) {
      throw new ConfigError(`${absolute}: larger than ${MAX_CONFIG_BYTES} bytes`)
    }
    text = bytes.toString('utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`${absolute}: cannot read (${(error as Error).message})`, {
      cause: error,
    })
  }
  let parsed: unknown
  try {
    parsed = parseYaml(text, { maxAliasCount: 100, uniqueKeys: true })
  } catch (error) {
    throw new ConfigError(`${absolute}: not valid YAML (${(error as Error).message})`, {
      cause: error,
    })
  }
  return parseConfig(parsed ?? {}, dirname(absolute), absolute)
}
