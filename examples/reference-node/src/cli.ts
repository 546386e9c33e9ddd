/**
 * `bpci`, the command line of the reference node: run a node or a local devnet, make keys,
 * query and feed a node over its HTTP/WebSocket API, and generate load.
 *
 * Every command that talks to a node takes `--api URL` (default `http://127.0.0.1:8080`) and
 * `--json` (machine-readable output on stdout; progress and notes always go to stderr). Errors
 * print one line to stderr and exit with status 1 (set `BPCI_DEBUG=1` for stack traces).
 *
 * @example
 * ```ts
 * import { main } from './cli.js'
 *
 * // the same as `bpci blockchain status --api http://127.0.0.1:8080 --json`
 * const exitCode = await main(['node', 'bpci', 'blockchain', 'status', '--json'])
 * ```
 *
 * @module
 */
import { createWriteStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import type { TransactionBody } from '@metanode/chain'
import { isMetanodeError, MetanodeError } from '@metanode/core'
import { bytesToHex, hexToBytes, randomBytes } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import type { BlockJson, StatusJson, SubmitResultJson, ValidatorJson } from './api/views.js'
import {
  ApiClient,
  ApiError,
  DEFAULT_API_URL,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type StreamEvent,
} from './client.js'
import { createProgress, type ProgressStream } from './progress.js'

/** Where the CLI writes: stdout for results, stderr for errors, notes and progress. */
export interface CliIo {
  /** Results (tables, JSON). */
  stdout: ProgressStream
  /** Errors, notes and progress. */
  stderr: ProgressStream
}

/** A user error: printed as one line, exit status 1. */
export class CliError extends MetanodeError {
  override readonly name = 'CliError'
}

interface ApiOptions {
  api: string
  json?: boolean
  timeout: number
}

/** A commander parser for an integer option within [min, max]. */
function integerArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?[0-9]+$/.test(value)) throw new InvalidArgumentError('must be an integer')
    const parsed = Number(value)
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be between ${min} and ${max}`)
    }
    return parsed
  }
}

/** A commander parser for a decimal amount (bigint, no sign, no exponent). */
function amountArg(value: string): bigint {
  if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) {
    throw new InvalidArgumentError('must be a decimal integer without sign or exponent')
  }
  const parsed = BigInt(value)
  if (parsed > 2n ** 63n - 1n) throw new InvalidArgumentError('must be at most 2^63 - 1')
  return parsed
}

function addressArg(value: string): Uint8Array {
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(value)) {
    throw new InvalidArgumentError('must be 32 bytes of hex (64 digits)')
  }
  return hexToBytes(value)
}

function urlArg(value: string): string {
  try {
    const parsed = new URL(value)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value
  } catch {
    // reported below
  }
  throw new InvalidArgumentError(`not an http(s) URL: ${value}`)
}

function urlListArg(value: string): string[] {
  return value.split(',').map(urlArg)
}

function withApi(command: Command): Command {
  return command
    .option('--api <url>', 'node API base URL', urlArg, DEFAULT_API_URL)
    .option('--json', 'machine-readable output')
    .option('--timeout <ms>', 'request timeout in ms', integerArg(1), DEFAULT_REQUEST_TIMEOUT_MS)
}

/** What every command that signs a transaction takes besides its own options. */
interface TransactionOptions {
  fee: bigint
  tip: bigint
  nonce?: number
  wait?: boolean
}

/** Adds {@link TransactionOptions}; `subject` names what `--wait` waits for. */
function withTransactionOptions(command: Command, subject: string): Command {
  return (
    command
      // bigint defaults need a description: help would otherwise JSON-encode them, and throw
      .addOption(
        new Option('--fee <amount>', 'fee cap per unit of cost')
          .argParser(amountArg)
          .default(10n, '10'),
      )
      .addOption(
        new Option('--tip <amount>', 'tip per unit of cost (at most --fee)')
          .argParser(amountArg)
          .default(1n, '1'),
      )
      .option(
        '--nonce <n>',
        "the nonce (default: the account's next nonce on the node)",
        integerArg(0),
      )
      .option('--wait', `wait until the ${subject} is finalized`)
  )
}

function checkTransactionOptions(options: TransactionOptions): void {
  if (options.tip > options.fee) throw new CliError('--tip must not exceed --fee')
}

function clientOf(options: ApiOptions): ApiClient {
  return new ApiClient(options.api, { timeoutMs: options.timeout })
}

/**
 * An account key file: JSON with the hex secret key as `secretKey` (as `keys generate --out`
 * and the entries of a devnet's `accounts.json`) or `secret_key`, or one line of 64 hex digits.
 */
async function readAccountKey(
  file: string,
): Promise<{ address: Uint8Array; secretKey: Uint8Array }> {
  let text: string
  try {
    text = (await readFile(file, 'utf8')).trim()
  } catch (error) {
    throw new CliError(`${file}: cannot read (${(error as Error).message})`)
  }
  let secret = text
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { secretKey?: unknown; secret_key?: unknown }
      const value = parsed.secretKey ?? parsed.secret_key
      secret = typeof value === 'string' ? value : ''
    } catch {
      throw new CliError(`${file}: not valid JSON`)
    }
  }
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(secret)) {
    throw new CliError(`${file}: no 32-byte secret key (64 hex digits) in "secretKey"`)
  }
  const secretKey = hexToBytes(secret)
  return { address: ed25519.getPublicKey(secretKey), secretKey }
}

function short(hex: string, length = 16): string {
  return hex.length <= length ? hex : `${hex.slice(0, length)}…`
}

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const row of rows) {
    row.forEach((cell, column) => {
      widths[column] = Math.max(widths[column] ?? 0, cell.length)
    })
  }
  return rows
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
        .join('  '),
    )
    .join('\n')
}

function statusLines(status: StatusJson): string {
  const state = status.blockchain_state
  const perf = status.performance_metrics
  return table([
    ['chain id', state.chain_id],
    ['height', `${state.current_block_height} (finalized ${state.finalized_block_height})`],
    ['head', state.current_block_hash],
    ['state root', state.state_root],
    ['transactions', String(state.total_transactions)],
    ['validators', `${state.active_validators} active`],
    ['peers', String(state.network_peers)],
    ['round', String(state.consensus_round)],
    ['uptime', `${state.uptime_seconds} s`],
    [
      'mempool',
      `${state.mempool.pending} pending, ${state.mempool.queued} queued, ${state.mempool.bytes} bytes`,
    ],
    ['throughput', `${perf.transactions_per_second.toFixed(1)} tx/s`],
    ['block time', `${perf.average_block_time.toFixed(0)} ms`],
    ['finality', `${perf.finality_time.toFixed(0)} ms`],
  ])
}

function validatorRows(validators: readonly ValidatorJson[]): string[][] {
  return [
    ['id', 'stake', 'power', 'active', 'jailed', 'commits', 'proposals'],
    ...validators.map((v) => [
      short(v.id),
      v.stake,
      v.voting_power,
      v.active ? 'yes' : 'no',
      v.jailed ? 'yes' : 'no',
      String(v.commits_signed),
      String(v.proposals_made),
    ]),
  ]
}

/** Resolves on the first SIGINT or SIGTERM; later ones are ignored while shutting down. */
function onceStopSignal(): { signal: Promise<NodeJS.Signals>; dispose(): void } {
  let resolveSignal: (signal: NodeJS.Signals) => void = () => {}
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve
  })
  const handler = (received: NodeJS.Signals) => resolveSignal(received)
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** The account's next nonce after the last finalized block (pooled transactions not counted). */
async function nextNonce(client: ApiClient, address: string): Promise<number> {
  return (await client.account(address)).nonce
}

async function submitOne(
  client: ApiClient,
  body: TransactionBody,
  secretKey: Uint8Array,
  register: boolean,
): Promise<SubmitResultJson> {
  const { encodeTransaction, signTransaction } = await import('@metanode/chain')
  const raw = bytesToHex(encodeTransaction(signTransaction(body, secretKey)))
  const result = register ? await client.registerValidator(raw) : (await client.submit([raw]))[0]
  if (result === undefined) throw new CliError('the node answered no result')
  if (result.status === 'rejected') {
    throw new CliError(`rejected: ${result.code ?? 'unknown'}: ${result.message ?? ''}`)
  }
  return result
}

async function waitFinalized(client: ApiClient, hash: string, timeoutMs: number) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const lookup = await client.transaction(hash)
    if (lookup.status === 'finalized') return lookup
    if (performance.now() > deadline) {
      throw new CliError(`transaction ${hash} not finalized within ${timeoutMs} ms`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Builds the `bpci` program; actions write to `io` and set the exit status through `setExit`. */
export function buildProgram(
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  setExit: (code: number) => void = () => {},
): Command {
  const print = (text: string) => io.stdout.write(`${text}\n`)
  const printJson = (value: unknown) => io.stdout.write(`${JSON.stringify(value)}\n`)
  const note = (text: string) => io.stderr.write(`${text}\n`)

  const program = new Command('bpci')
    .description('Metanode reference node: run nodes and devnets, query them, generate load')
    .showHelpAfterError()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride()

  // node ------------------------------------------------------------------------------------
  const node = program.command('node').description('run a node')
  node
    .command('start')
    .description('start one node from a YAML config; SIGINT/SIGTERM stop it')
    .requiredOption('--config <file>', 'the YAML config file')
    .action(async (options: { config: string }) => {
      // Signals before start-up completes must still stop the node cleanly afterwards.
      const stop = onceStopSignal()
      try {
        const { loadConfig } = await import('./config.js')
        const config = await loadConfig(options.config)
        // libp2p and the store load only for a valid config, so config errors come quickly.
        const { startNodeFromConfig } = await import('./run.js')
        const running = await startNodeFromConfig(config)
        await stop.signal
        await running.stop()
      } finally {
        stop.dispose()
      }
    })

  // devnet ----------------------------------------------------------------------------------
  program
    .command('devnet')
    .description(
      'create (first run) or resume a local devnet in --data-dir and run its validators ' +
        'until SIGINT/SIGTERM',
    )
    .option('--validators <n>', 'validator processes (default 4)', integerArg(1, 64))
    .option(
      '--base-port <port>',
      "node i's API port is P+i, its libp2p port P+100+i (default 8080)",
      integerArg(1, 65_000),
    )
    .option('--data-dir <dir>', 'the devnet directory', './devnet')
    .option('--block-period-ms <ms>', 'pause between blocks (default 100)', integerArg(0, 600_000))
    .option(
      '--accounts <k>',
      'funded accounts for load tests (default 1000)',
      integerArg(1, 100_000),
    )
    .option('--json', 'print the endpoints as JSON once ready')
    .action(
      async (options: {
        validators?: number
        basePort?: number
        dataDir: string
        blockPeriodMs?: number
        accounts?: number
        json?: boolean
      }) => {
        const stop = onceStopSignal()
        try {
          const { startDevnet } = await import('./devnet.js')
          note(`starting devnet in ${options.dataDir} ...`)
          const devnet = await startDevnet({
            dataDir: options.dataDir,
            ...(options.validators === undefined ? {} : { validators: options.validators }),
            ...(options.basePort === undefined ? {} : { basePort: options.basePort }),
            ...(options.blockPeriodMs === undefined
              ? {}
              : { blockPeriodMs: options.blockPeriodMs }),
            ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
            onExit: (exit) => {
              note(
                `node ${exit.index} exited (${exit.signal ?? `code ${exit.code}`}); the others keep ` +
                  `running. Last lines of its log:\n${exit.logTail}`,
              )
            },
          })
          const { info } = devnet
          if (options.json === true) {
            printJson({
              chain_id: info.chainId,
              data_dir: info.dataDir,
              validators: info.validators,
              endpoints: info.endpoints,
            })
          } else {
            print(
              `devnet "${info.chainId}" ${info.created ? 'created' : 'resumed'} in ${info.dataDir}`,
            )
            print(table(info.nodes.map((n) => [`node ${n.index}`, n.api, n.multiaddr, n.logFile])))
            print(`funded accounts: ${join(info.dataDir, 'accounts.json')}; Ctrl-C stops all`)
          }
          const signal = await stop.signal
          note(`${signal}: stopping ${info.validators} validators ...`)
          await devnet.stop()
          note('devnet stopped')
        } finally {
          stop.dispose()
        }
      },
    )

  // keys ------------------------------------------------------------------------------------
  program
    .command('keys')
    .description('make keys')
    .command('generate')
    .description('generate an account key, or with --validator an encrypted validator keystore')
    .option('--out <file>', 'write the key to this file (mode 0600)')
    .option('--validator', 'a validator keystore (Ed25519 + BLS), encrypted with a password')
    .option('--password-file <file>', "the keystore password (the file's first line)")
    .option('--password-env <var>', 'the keystore password from an environment variable')
    .option('--json', 'print the public parts as JSON')
    .action(
      async (options: {
        out?: string
        validator?: boolean
        passwordFile?: string
        passwordEnv?: string
        json?: boolean
      }) => {
        if (options.validator === true) {
          if (options.out === undefined) throw new CliError('--validator needs --out <file>')
          if ((options.passwordFile === undefined) === (options.passwordEnv === undefined)) {
            throw new CliError(
              '--validator needs exactly one of --password-file and --password-env',
            )
          }
          const {
            generateValidatorKeys,
            readPassword,
            validatorPublicInfo,
            writeValidatorKeystore,
          } = await import('./keys.js')
          const password = await readPassword({
            file: options.passwordFile,
            env: options.passwordEnv,
          })
          // libp2p takes a second to load: only this branch needs it.
          const { peerIdFromEd25519Seed } = await import('@metanode/transport-libp2p')
          const keys = generateValidatorKeys()
          await writeValidatorKeystore(options.out, keys, password)
          const info = validatorPublicInfo(keys)
          const view = {
            id: info.id,
            bls_public_key: info.blsPublicKey,
            proof_of_possession: info.proofOfPossession,
            peer_id: peerIdFromEd25519Seed(keys.ed25519SecretKey),
            file: options.out,
          }
          if (options.json === true) printJson(view)
          else print(table(Object.entries(view)))
          return
        }
        if (options.passwordFile !== undefined || options.passwordEnv !== undefined) {
          throw new CliError('a password applies only to --validator keystores')
        }
        const { secretKey, publicKey } = ed25519.keygen(randomBytes(32))
        const address = bytesToHex(publicKey)
        if (options.out !== undefined) {
          const content = { address, secretKey: bytesToHex(secretKey) }
          await writeFile(options.out, `${JSON.stringify(content, null, 2)}\n`, {
            mode: 0o600,
            flag: 'wx',
          }).catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'EEXIST')
              throw new CliError(`${options.out} exists; not overwritten`)
            throw error
          })
          if (options.json === true) printJson({ address, file: options.out })
          else
            print(
              table([
                ['address', address],
                ['file', options.out],
              ]),
            )
          return
        }
        // Without --out the secret has nowhere else to go.
        if (options.json === true) printJson({ address, secret_key: bytesToHex(secretKey) })
        else
          print(
            table([
              ['address', address],
              ['secret key', bytesToHex(secretKey)],
            ]),
          )
      },
    )

  // blockchain ------------------------------------------------------------------------------
  const blockchain = program.command('blockchain').description('query and feed the chain')
  withApi(blockchain.command('status').description("the node's view of the chain")).action(
    async (options: ApiOptions) => {
      const status = await clientOf(options).status()
      if (options.json === true) printJson(status)
      else print(statusLines(status))
    },
  )

  const transaction = blockchain.command('transaction').description('transactions')
  withApi(
    withTransactionOptions(
      transaction
        .command('submit')
        .description('sign and submit a transfer')
        .requiredOption('--from-key <file>', "the sender's account key file (keys generate --out)")
        .requiredOption('--to <address>', 'the recipient address (hex)', addressArg)
        .requiredOption('--value <amount>', 'the amount to transfer', amountArg),
      'transaction',
    ),
  ).action(
    async (
      options: ApiOptions &
        TransactionOptions & {
          fromKey: string
          to: Uint8Array
          value: bigint
        },
    ) => {
      if (options.value === 0n) throw new CliError('--value must be positive')
      checkTransactionOptions(options)
      const client = clientOf(options)
      const key = await readAccountKey(options.fromKey)
      const sender = bytesToHex(key.address)
      const chainId = (await client.status()).blockchain_state.chain_id
      const nonce = options.nonce ?? (await nextNonce(client, sender))
      const result = await submitOne(
        client,
        {
          chainId,
          sender: key.address,
          nonce,
          maxFee: options.fee,
          maxPriorityFee: options.tip,
          action: { kind: 'transfer', to: options.to, amount: options.value },
        },
        key.secretKey,
        false,
      )
      const hash = result.transaction_hash ?? ''
      if (options.wait !== true) {
        if (options.json === true) printJson({ ...result, nonce })
        else
          print(
            table([
              ['transaction', hash],
              ['status', result.status],
              ['nonce', `${nonce}`],
            ]),
          )
        return
      }
      const lookup = await waitFinalized(client, hash, Math.max(30_000, options.timeout))
      if (options.json === true) printJson(lookup)
      else {
        print(
          table([
            ['transaction', hash],
            ['status', lookup.status],
            ['block', String(lookup.block_height)],
            ['receipt', `${lookup.receipt?.status} (fee ${lookup.receipt?.fee})`],
          ]),
        )
      }
    },
  )

  withApi(
    transaction
      .command('show')
      .description('where a transaction is')
      .argument('<hash>', 'the transaction hash (hex)'),
  ).action(async (hash: string, options: ApiOptions) => {
    if (!/^(0x)?[0-9a-fA-F]{2,256}$/.test(hash)) throw new CliError('<hash> must be hex')
    const lookup = await clientOf(options).transaction(hash.replace(/^0x/, ''))
    if (options.json === true) printJson(lookup)
    else {
      const rows = [
        ['transaction', lookup.transaction_hash],
        ['status', lookup.status],
      ]
      if (lookup.block_height !== undefined) rows.push(['block', String(lookup.block_height)])
      if (lookup.receipt !== undefined) rows.push(['receipt', lookup.receipt.status])
      print(table(rows))
    }
    if (lookup.status === 'unknown') setExit(1)
  })

  withApi(
    blockchain
      .command('export')
      .description('export finalized blocks (header, transactions, receipts, certificate)')
      .requiredOption('--start-block <height>', 'first height', integerArg(1))
      .requiredOption('--end-block <height>', 'last height', integerArg(1))
      .addOption(new Option('--format <format>', 'output format').choices(['json']).default('json'))
      .option('--compress', 'gzip the output')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(
    async (
      options: ApiOptions & {
        startBlock: number
        endBlock: number
        format: 'json'
        compress?: boolean
        out?: string
      },
    ) => {
      const { startBlock, endBlock } = options
      if (endBlock < startBlock) throw new CliError('--end-block must not be below --start-block')
      if (options.compress === true && options.out === undefined && io.stdout.isTTY === true) {
        throw new CliError('refusing to write gzip to a terminal; use --out <file>')
      }
      const client = clientOf(options)
      const status = await client.status()
      const height = status.blockchain_state.current_block_height
      if (endBlock > height) {
        throw new CliError(`--end-block ${endBlock} is above the node's height ${height}`)
      }
      const total = endBlock - startBlock + 1
      const progress = createProgress({ label: 'export', total, stream: io.stderr })
      const window = 8
      const fetchBlock = async (h: number): Promise<BlockJson> => {
        const block = await client.block(h)
        if (block === undefined) throw new CliError(`block ${h} is missing on the node`)
        return block
      }
      async function* documents(): AsyncGenerator<string> {
        yield `{"chain_id":${JSON.stringify(status.blockchain_state.chain_id)},"start_block":${startBlock},"end_block":${endBlock},"blocks":[`
        // A few requests ahead keep the connection busy while blocks are written in order.
        const ahead: Promise<BlockJson>[] = []
        let next = startBlock
        for (let h = startBlock; h <= endBlock; h++) {
          while (next <= endBlock && ahead.length < window) {
            const pending = fetchBlock(next++)
            // Awaited in order below; a failure ahead of its turn must not count as unhandled.
            pending.catch(() => {})
            ahead.push(pending)
          }
          const block = await ahead.shift()!
          yield `${h === startBlock ? '' : ','}\n${JSON.stringify(block)}`
          progress.update(h - startBlock + 1)
        }
        yield '\n]}\n'
      }
      const source = Readable.from(documents())
      const output = options.out === undefined ? process.stdout : createWriteStream(options.out)
      // stdout stays open for whatever the shell writes after us.
      const end = { end: options.out !== undefined }
      if (options.compress === true) await pipeline(source, createGzip(), output, end)
      else await pipeline(source, output, end)
      progress.finish(
        `exported blocks ${startBlock}..${endBlock}${options.out === undefined ? '' : ` to ${options.out}`}`,
      )
    },
  )

  // validator -------------------------------------------------------------------------------
  const validator = program.command('validator').description('validators')
  withApi(
    withTransactionOptions(
      validator
        .command('register')
        .description("register the keystore's validator as a candidate, bonding --stake")
        .requiredOption('--key <file>', 'the validator keystore (keys generate --validator)')
        .requiredOption('--stake <amount>', 'stake to bond from its balance', amountArg)
        .option('--password-file <file>', "the keystore password (the file's first line)")
        .option('--password-env <var>', 'the keystore password from an environment variable')
        .option('--commission-bps <bps>', 'commission in basis points', integerArg(0, 10_000), 0)
        .option('--moniker <name>', 'display name (1 to 64 characters)')
        .option('--website <url>', 'website', '')
        .option('--details <text>', 'description', ''),
      'registration',
    ),
  ).action(
    async (
      options: ApiOptions &
        TransactionOptions & {
          key: string
          stake: bigint
          passwordFile?: string
          passwordEnv?: string
          commissionBps: number
          moniker?: string
          website: string
          details: string
        },
    ) => {
      checkTransactionOptions(options)
      if ((options.passwordFile === undefined) === (options.passwordEnv === undefined)) {
        throw new CliError('give exactly one of --password-file and --password-env')
      }
      if (options.stake === 0n) throw new CliError('--stake must be positive')
      const { readPassword, readValidatorKeystore } = await import('./keys.js')
      const password = await readPassword({ file: options.passwordFile, env: options.passwordEnv })
      const keys = await readValidatorKeystore(options.key, password)
      const { bls } = await import('@metanode/crypto/bls')
      const client = clientOf(options)
      const sender = bytesToHex(keys.id)
      const chainId = (await client.status()).blockchain_state.chain_id
      const nonce = options.nonce ?? (await nextNonce(client, sender))
      const moniker = options.moniker ?? `validator-${sender.slice(0, 8)}`
      const result = await submitOne(
        client,
        {
          chainId,
          sender: keys.id,
          nonce,
          maxFee: options.fee,
          maxPriorityFee: options.tip,
          action: {
            kind: 'register-validator',
            blsPublicKey: keys.blsPublicKey,
            proofOfPossession: bls.popProve(keys.blsSecretKey),
            stake: options.stake,
            commissionBps: options.commissionBps,
            metadata: { moniker, website: options.website, details: options.details },
          },
        },
        keys.ed25519SecretKey,
        true,
      )
      const hash = result.transaction_hash ?? ''
      const lookup =
        options.wait === true
          ? await waitFinalized(client, hash, Math.max(30_000, options.timeout))
          : undefined
      if (options.json === true) printJson(lookup ?? { ...result, validator_id: sender })
      else {
        const rows = [
          ['validator', sender],
          ['transaction', hash],
          ['status', lookup?.status ?? result.status],
        ]
        if (lookup?.receipt !== undefined) {
          rows.push([
            'receipt',
            `${lookup.receipt.status}${lookup.receipt.code ? ` (${lookup.receipt.code})` : ''}`,
          ])
        }
        print(table(rows))
      }
      if (lookup?.receipt?.status === 'failed') setExit(1)
    },
  )

  withApi(validator.command('list').description('the registered validators')).action(
    async (options: ApiOptions) => {
      const validators = await clientOf(options).validators()
      if (options.json === true) printJson({ validators })
      else print(table(validatorRows(validators)))
    },
  )

  withApi(
    validator
      .command('monitor')
      .description('a live table of the validators, refreshed on every finalized block'),
  ).action(async (options: ApiOptions) => {
    const client = clientOf(options)
    const live = io.stdout.isTTY === true && options.json !== true
    let height = (await client.status()).blockchain_state.current_block_height
    let proposer = ''
    const render = async () => {
      try {
        const validators = await client.validators()
        if (options.json === true) {
          printJson({ height, proposer, validators })
          return
        }
        const rows = validatorRows(validators).map((row, i) =>
          i > 0 && validators[i - 1]?.id === proposer ? [...row, '<- last proposer'] : row,
        )
        const text = `height ${height}  ${new Date().toISOString()}\n${table(rows)}\n`
        io.stdout.write(live ? `\x1b[2J\x1b[H${text}` : `${text}\n`)
      } catch (error) {
        note(`refresh failed: ${(error as Error).message}`)
      }
    }
    // Blocks can come many times a second: redraw at most once a second, after a change.
    let changed = false
    let rendering: Promise<void> = Promise.resolve()
    const timer = setInterval(() => {
      if (!changed) return
      changed = false
      rendering = rendering.then(render)
    }, 1_000)
    try {
      await runStream(
        client,
        ['blocks'],
        io,
        (event) => {
          if (event.type !== 'block') return
          height = event.height
          proposer = event.header.proposer
          changed = true
        },
        render,
      )
    } finally {
      clearInterval(timer)
      await rendering
    }
  })

  // consensus -------------------------------------------------------------------------------
  withApi(
    program
      .command('consensus')
      .description('consensus')
      .command('monitor')
      .description('live rounds and finalized blocks with their finality latency'),
  ).action(async (options: ApiOptions) => {
    const client = clientOf(options)
    let lastTimestamp: number | undefined
    await runStream(client, ['blocks', 'rounds'], io, (event) => {
      if (options.json === true) {
        printJson(event)
        return
      }
      if (event.type === 'round') {
        print(`height ${event.height}  round ${event.round}  round change`)
      } else if (event.type === 'block') {
        const blockTime =
          lastTimestamp === undefined
            ? ''
            : `  block time ${event.header.timestamp - lastTimestamp} ms`
        lastTimestamp = event.header.timestamp
        print(
          `height ${event.height}  finalized  txs ${event.transaction_count}  ` +
            `latency ${Math.round(event.latency_ms)} ms${blockTime}  proposer ${short(event.header.proposer)}`,
        )
      }
    })
  })

  // network ---------------------------------------------------------------------------------
  withApi(program.command('network').description('the peer-to-peer network').command('peers'))
    .description('the peers the node is connected to (libp2p peer ids)')
    .action(async (options: ApiOptions) => {
      const peers = await clientOf(options).peers()
      // The count comes from the same answer as the list, so the two always agree.
      if (options.json === true) printJson({ network_peers: peers.length, peers })
      else {
        print(`${peers.length} peer${peers.length === 1 ? '' : 's'}`)
        for (const peer of peers) print(peer)
      }
    })

  // bench -----------------------------------------------------------------------------------
  program
    .command('bench')
    .description('benchmarks against running nodes')
    .command('tps')
    .description(
      "sign transfers from a devnet's funded accounts, submit them over the nodes and measure " +
        'finalized throughput and finality latency',
    )
    .option(
      '--api <urls>',
      'node API base URLs, comma-separated (batches alternate between them)',
      urlListArg,
      [DEFAULT_API_URL],
    )
    .option('--json', 'print exactly {"submitted","finalized","tps","finality_ms":{"p50","p99"}}')
    .requiredOption('--data-dir <dir>', 'the devnet directory (its accounts.json)')
    .requiredOption('--count <n>', 'transfers to submit', integerArg(1, 10_000_000))
    .option('--concurrency <c>', 'submit requests in flight', integerArg(1, 1_024), 8)
    .option('--batch <b>', 'transactions per request', integerArg(1, 10_000), 250)
    .option('--rate <tx/s>', 'offered load (default: as fast as the nodes answer)', integerArg(1))
    .option(
      '--stall-timeout-ms <ms>',
      'give up after this long without a finality',
      integerArg(1),
      30_000,
    )
    .action(
      async (options: {
        api: string[]
        json?: boolean
        dataDir: string
        count: number
        concurrency: number
        batch: number
        rate?: number
        stallTimeoutMs: number
      }) => {
        const { benchTps, toBenchTpsJson } = await import('./bench-tps.js')
        const report = await benchTps({
          apis: options.api,
          dataDir: options.dataDir,
          count: options.count,
          concurrency: options.concurrency,
          batch: options.batch,
          stallTimeoutMs: options.stallTimeoutMs,
          ...(options.rate === undefined ? {} : { rate: options.rate }),
          progress: io.stderr,
          log: note,
        })
        for (const [code, n] of Object.entries(report.rejected)) note(`rejected ${n}: ${code}`)
        if (report.failed > 0) note(`${report.failed} in failed requests`)
        if (options.json === true) printJson(toBenchTpsJson(report))
        else {
          print(
            table([
              ['submitted', String(report.submitted)],
              ['finalized', String(report.finalized)],
              ['tps', String(report.tps)],
              ['finality p50', `${report.finality_ms.p50} ms`],
              ['finality p99', `${report.finality_ms.p99} ms`],
              ['finality max', `${report.maxFinalityMs} ms`],
              ['submit time', `${report.submitMs} ms`],
              ['span', `${report.spanMs} ms`],
            ]),
          )
        }
        if (report.finalized < report.signed) setExit(1)
      },
    )

  return program
}

/** Follows the event stream until SIGINT/SIGTERM (exit 0) or the connection ends (an error). */
async function runStream(
  client: ApiClient,
  topics: readonly ('blocks' | 'transactions' | 'rounds')[],
  io: CliIo,
  onEvent: (event: StreamEvent) => void,
  onReady?: () => Promise<void>,
): Promise<void> {
  const stop = onceStopSignal()
  try {
    const stream = await client.subscribe(topics, onEvent)
    io.stderr.write(`following ${client.wsUrl} (${topics.join(', ')}); Ctrl-C stops\n`)
    await onReady?.()
    const ended = await Promise.race([stop.signal.then(() => undefined), stream.closed])
    if (ended === undefined) {
      await stream.close()
      return
    }
    throw new ApiError(0, 'unreachable', `${client.wsUrl} closed the stream (${ended.code})`)
  } finally {
    stop.dispose()
  }
}

/** One line describing an error for the user, without a stack trace. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}

/**
 * Runs `bpci` with `argv` (as `process.argv`: the first two entries are skipped) and resolves
 * to the exit status: 0 on success, 1 on any error (printed as one line on stderr).
 */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let exitCode = 0
  const program = buildProgram(io, (code) => {
    exitCode = code
  })
  try {
    await program.parseAsync([...argv])
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (or the help).
      return error.exitCode
    }
    io.stderr.write(`error: ${describeError(error)}\n`)
    if (process.env.BPCI_DEBUG === '1' && error instanceof Error && error.stack !== undefined) {
      io.stderr.write(`${error.stack}\n`)
    } else if (
      !(
        error instanceof CliError ||
        error instanceof TypeError ||
        error instanceof RangeError ||
        isMetanodeError(error)
      )
    ) {
      io.stderr.write('(set BPCI_DEBUG=1 for details)\n')
    }
    return 1
  }
}
