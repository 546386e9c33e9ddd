/**
 * Starts one node from its configuration: LevelDB store, libp2p transport, the validator key
 * from its keystore, consensus, the HTTP/WebSocket API and metrics, and a pid file.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseGenesis } from '@metanode/chain'
import { levelStore } from '@metanode/store-level'
import { libp2pTransport } from '@metanode/transport-libp2p'
import { type Logger as PinoLogger, pino } from 'pino'
import { Registry } from 'prom-client'
import { type ApiServer, startApiServer } from './api/server.js'
import type { NodeConfig } from './config.js'
import { ConfigError } from './config.js'
import { readPassword, readValidatorKeystore } from './keys.js'
import { createNodeMetrics, promMetrics } from './metrics.js'
import { createNode, type MetanodeNode } from './node.js'

/** Largest genesis file read, in bytes. */
export const MAX_GENESIS_BYTES = 64 * 1024 * 1024

/** A node started by {@link startNodeFromConfig}. */
export interface RunningNode {
  /** The node. */
  node: MetanodeNode
  /** The API server. */
  api: ApiServer
  /** The API's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string
  /** The libp2p addresses others can bootstrap from (with `/p2p/<peer id>`). */
  multiaddrs: string[]
  /** Stops the API, consensus, the transport and the store, and removes the pid file. */
  stop(): Promise<void>
}

/** Reads and validates the genesis file named by a config. */
export async function readGenesisFile(file: string): Promise<ReturnType<typeof parseGenesis>> {
  let text: string
  try {
    const bytes = await readFile(file)
    if (bytes.length > MAX_GENESIS_BYTES) {
      throw new ConfigError(`genesis ${file}: larger than ${MAX_GENESIS_BYTES} bytes`)
    }
    text = bytes.toString('utf8')
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`genesis ${file}: cannot read (${(error as Error).message})`, {
      cause: error,
    })
  }
  return parseGenesis(text)
}

/**
 * Starts a node as `config` describes and resolves once consensus and the API run.
 *
 * @throws ConfigError, KeyFileError, GenesisError, or a store error (e.g. the data directory is
 *   in use by another process).
 */
export async function startNodeFromConfig(
  config: NodeConfig,
  options: { logger?: PinoLogger } = {},
): Promise<RunningNode> {
  const logger = options.logger ?? pino({ level: config.logLevel })
  const genesis = await readGenesisFile(config.genesis)
  const password = await readPassword({
    file: config.validator.passwordFile,
    env: config.validator.passwordEnv,
  })
  const signer = await readValidatorKeystore(config.validator.keystore, password)
  await mkdir(config.dataDir, { recursive: true })
  const store = levelStore({ location: config.dataDir })()
  const transport = libp2pTransport({
    privateKey: signer.ed25519SecretKey,
    listen: config.network.listen,
    bootstrap: config.network.bootstrap,
  })({ logger })
  const registry = new Registry()
  const node = await createNode({
    genesis,
    signer,
    store,
    transport,
    blockPeriodMs: config.consensus.blockPeriodMs,
    roundTimeoutBaseMs: config.consensus.roundTimeoutMs,
    dissemination: config.consensus.dissemination,
    mempoolLimits: {
      maxPending: config.mempool.maxPending,
      maxQueued: config.mempool.maxQueued,
      maxPerSender: config.mempool.maxPerSender,
      maxQueuedPerSender: config.mempool.maxQueuedPerSender,
    },
    logger,
    metrics: promMetrics(registry),
  })
  const metrics = createNodeMetrics(node, registry)
  let api: ApiServer | undefined
  try {
    await node.start()
    api = await startApiServer(node, {
      host: config.api.host,
      port: config.api.port,
      maxBatch: config.api.maxBatch,
      bodyLimitBytes: config.api.bodyLimitBytes,
      rateLimit: { max: config.api.rateLimitMax, windowMs: config.api.rateLimitWindowMs },
      logger: logger.child({ component: 'api' }),
      metrics,
    })
  } catch (error) {
    await node.stop().catch(() => {})
    await store.close().catch(() => {})
    metrics.close()
    throw error
  }
  const { pidFile } = config
  if (pidFile !== undefined) {
    await mkdir(dirname(pidFile), { recursive: true })
    await writeFile(pidFile, `${process.pid}\n`)
  }
  const running = api
  logger.info(
    { url: running.url, height: node.chain.height, multiaddrs: transport.multiaddrs() },
    'node ready',
  )
  let stopping: Promise<void> | undefined
  return {
    node,
    api: running,
    url: running.url,
    multiaddrs: transport.multiaddrs(),
    stop() {
      stopping ??= (async () => {
        await running.close()
        await node.stop()
        metrics.close()
        if (pidFile !== undefined) await rm(pidFile, { force: true })
      })()
      return stopping
    },
  }
}
