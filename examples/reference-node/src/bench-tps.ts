/**
 * `bpci bench tps`: a load generator. It signs transfers between a devnet's funded accounts
 * (nonces in order per account), submits them in batches spread round-robin over the nodes with
 * a bounded number of requests in flight (optionally at a fixed offered rate), follows finality
 * on the first node's event stream, and reports throughput and finality latency.
 *
 * Figures: `tps` = finalized / (last finality seen − first submission); a transaction's
 * finality = when its `finalized` event arrived − when the request carrying it was sent.
 *
 * @example
 * ```ts
 * import { benchTps, toBenchTpsJson } from './bench-tps.js'
 *
 * const report = await benchTps({
 *   apis: ['http://127.0.0.1:8080', 'http://127.0.0.1:8081'],
 *   dataDir: '/tmp/devnet',
 *   count: 10_000,
 *   concurrency: 8,
 * })
 * console.log(JSON.stringify(toBenchTpsJson(report))) // {"submitted":10000,"finalized":10000,...}
 * ```
 *
 * @module
 */
import { encodeTransaction, signTransaction, transactionIdOfBytes } from '@metanode/chain'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ApiClient, ApiError, type EventStream, type StreamEvent } from './client.js'
import { type DevnetAccount, readDevnetAccounts } from './devnet.js'
import { createProgress, type Progress, type ProgressStream } from './progress.js'

/** Options of {@link benchTps}. */
export interface BenchTpsOptions {
  /** API base URLs of the nodes to submit to (round-robin); finality is followed on the first. */
  apis: readonly string[]
  /** The devnet directory holding `accounts.json`. */
  dataDir: string
  /** Transfers to sign and submit. */
  count: number
  /** Submit requests in flight at once. */
  concurrency: number
  /** Transactions per submit request (default 250). */
  batch?: number
  /** Offered load in transactions per second (default: as fast as the nodes answer). */
  rate?: number
  /** Give up waiting when no transaction was finalized for this long, in ms (default 30,000). */
  stallTimeoutMs?: number
  /** Fee cap per unit of cost (default 10). */
  maxFee?: bigint
  /** Tip per unit of cost (default 1). */
  maxPriorityFee?: bigint
  /** Progress display on this stream (default stderr); `false` for none. */
  progress?: ProgressStream | false
  /** Notes for the operator (default: lines on stderr). */
  log?: (line: string) => void
  /** Called right before the first submission, after nonces are read and everything is signed. */
  onLoadStart?: () => void | Promise<void>
}

/** The four figures `bench tps --json` prints. */
export interface BenchTpsJson {
  /** Transactions the nodes accepted (pending, queued or duplicate). */
  submitted: number
  /** Of those, transactions seen finalized. */
  finalized: number
  /** finalized / (last finality − first submission), per second. */
  tps: number
  /** Finality latency percentiles in ms. */
  finality_ms: {
    /** Median. */
    p50: number
    /** 99th percentile. */
    p99: number
  }
}

/** Everything {@link benchTps} measured. */
export interface BenchTpsReport extends BenchTpsJson {
  /** Transactions signed. */
  signed: number
  /** Transactions the nodes refused, by rejection code. */
  rejected: Record<string, number>
  /** Transactions in requests that failed even after retries. */
  failed: number
  /** Time from the first submission to the last submit answer, in ms. */
  submitMs: number
  /** Time from the first submission to the last finality seen, in ms. */
  spanMs: number
  /** Transactions finalized in each second after the first submission. */
  finalizedPerSecond: number[]
  /** Largest finality latency, in ms. */
  maxFinalityMs: number
}

/** Requests that failed for a transient reason are tried this many times in all. */
const SUBMIT_ATTEMPTS = 4
/** A loaded node may take long to answer a large batch. */
const SUBMIT_TIMEOUT_MS = 60_000

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer`)
  }
  if (value < 1) throw new RangeError(`${name} must be positive`)
  return value
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The value at percentile `p` (0..100) of ascending `sorted`, nearest-rank; 0 when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

function progressOn(
  stream: ProgressStream | false | undefined,
  label: string,
  total: number,
  initial = 0,
): Progress {
  return createProgress({
    label,
    total,
    initial,
    disabled: stream === false,
    ...(stream ? { stream } : {}),
  })
}

/** The next nonce of each account (`GET /api/v1/accounts/:address`), `concurrency` at a time. */
export async function readAccountNonces(
  client: ApiClient,
  addresses: readonly string[],
  options: { concurrency?: number; progress?: ProgressStream | false } = {},
): Promise<Map<string, number>> {
  const nonces = new Map<string, number>()
  const progress = progressOn(options.progress, 'nonces', addresses.length)
  let done = 0
  await mapLimit(addresses, options.concurrency ?? 16, async (address) => {
    nonces.set(address, (await client.account(address)).nonce)
    progress.update(++done)
  })
  progress.finish(`read ${addresses.length} account nonces`)
  return nonces
}

interface SignedBatch {
  /** Index of the node (URL) it goes to. */
  node: number
  /** Transactions submitted before it, in dispatch order. */
  offset: number
  /** Indexes of its transactions. */
  members: number[]
  /** The request body, serialized once ahead of time. */
  body: string
}

interface SubmitAnswer {
  results: { transaction_hash: string | null; status: string; code?: string }[]
}

/**
 * Signs `options.count` transfers, submits them, waits for their finality and reports.
 *
 * @throws DevnetError when `accounts.json` cannot be read; ApiError when the first node cannot
 *   be reached at the start (status, nonces, event stream).
 */
export async function benchTps(options: BenchTpsOptions): Promise<BenchTpsReport> {
  if (!Array.isArray(options.apis) || options.apis.length === 0) {
    throw new RangeError('apis must name at least one node')
  }
  const count = positive(options.count, 'count')
  const concurrency = positive(options.concurrency, 'concurrency')
  const batchSize = positive(options.batch ?? 250, 'batch')
  const rate = options.rate === undefined ? undefined : positive(options.rate, 'rate')
  const stallTimeoutMs = options.stallTimeoutMs ?? 30_000
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const progressStream = options.progress
  const clients = options.apis.map((url) => new ApiClient(url, { timeoutMs: SUBMIT_TIMEOUT_MS }))
  const follower = clients[0]!

  const accounts: DevnetAccount[] = await readDevnetAccounts(options.dataDir)
  if (accounts.length === 0) throw new RangeError(`${options.dataDir} has no funded accounts`)
  const chainId = (await follower.status()).blockchain_state.chain_id
  const used = accounts.slice(0, Math.min(accounts.length, count))
  const addresses = used.map((account) => bytesToHex(account.address))
  const nonces = await readAccountNonces(
    follower,
    addresses,
    progressStream === undefined ? {} : { progress: progressStream },
  )

  // Pre-sign everything so signing never shows up in the submission timing. Each account sends
  // to one node only, so its nonces reach that node in order and reach the others in order by
  // gossip: out-of-order arrival would park transactions as queued, a few per sender at most.
  const maxFee = options.maxFee ?? 10n
  const maxPriorityFee = options.maxPriorityFee ?? 1n
  const indexOf = new Map<string, number>()
  const hashes: string[] = new Array(count)
  const raws: string[] = new Array(count)
  const perNode: number[][] = clients.map(() => [])
  const signing = progressOn(progressStream, 'sign', count)
  for (let i = 0; i < count; i++) {
    const slot = i % used.length
    const sender = used[slot]!
    const recipient = used[(slot + 1) % used.length]!
    const nonce = nonces.get(addresses[slot]!)! + Math.floor(i / used.length)
    const bytes = encodeTransaction(
      signTransaction(
        {
          chainId,
          sender: sender.address,
          nonce,
          maxFee,
          maxPriorityFee,
          action: { kind: 'transfer', to: recipient.address, amount: 1n },
        },
        sender.secretKey,
      ),
    )
    const hash = bytesToHex(transactionIdOfBytes(bytes))
    indexOf.set(hash, i)
    hashes[i] = hash
    raws[i] = bytesToHex(bytes)
    perNode[slot % clients.length]!.push(i)
    if (i % 500 === 0) signing.update(i)
  }
  signing.finish(`signed ${count} transfers from ${used.length} accounts`)

  // Batches alternate between the nodes; `offset` (transactions before a batch) sets its due
  // time under a fixed rate.
  const batches: SignedBatch[] = []
  const queues = perNode.map((members) => ({ members, next: 0 }))
  let offset = 0
  while (offset < count) {
    queues.forEach((queue, node) => {
      if (queue.next >= queue.members.length) return
      const members = queue.members.slice(queue.next, queue.next + batchSize)
      queue.next += members.length
      batches.push({
        node,
        offset,
        members,
        body: `[${members.map((i) => `{"raw":"${raws[i]}"}`).join(',')}]`,
      })
      offset += members.length
    })
  }
  raws.length = 0

  const submittedAt = new Float64Array(count).fill(Number.NaN)
  const finalizedAt = new Float64Array(count).fill(Number.NaN)
  const accepted = new Uint8Array(count)
  let acceptedCount = 0
  let finalizedCount = 0
  let lastFinalityAt = Number.NaN
  let lastProgressAt = performance.now()
  const rejected: Record<string, number> = {}
  let failed = 0

  const onEvent = (event: StreamEvent) => {
    if (event.type !== 'transaction' || event.status !== 'finalized') return
    const i = indexOf.get(event.id)
    if (i === undefined || !Number.isNaN(finalizedAt[i]!)) return
    const at = performance.now()
    finalizedAt[i] = at
    lastFinalityAt = at
    lastProgressAt = at
    // An event may overtake the answer to its own submit request: it counts once accepted.
    if (accepted[i] === 1) finalizedCount++
  }
  let streamLost = false
  const follow = async (): Promise<EventStream> => {
    const stream = await follower.subscribe(['transactions'], onEvent)
    streamLost = false
    void stream.closed.then(() => {
      streamLost = true
    })
    return stream
  }
  let stream = await follow()
  let startedAt = performance.now()
  let lastAnsweredAt = startedAt
  try {
    const record = (batch: SignedBatch, answer: SubmitAnswer) => {
      answer.results.forEach((result, k) => {
        const i = batch.members[k]!
        if (result.status === 'rejected') {
          const code = result.code ?? 'unknown'
          rejected[code] = (rejected[code] ?? 0) + 1
          return
        }
        if (result.transaction_hash !== hashes[i]) {
          // Finality is matched by id: a different id would make every figure wrong.
          throw new Error(
            `node reports id ${result.transaction_hash} for transaction ${i}, computed ${hashes[i]}`,
          )
        }
        if (accepted[i] === 1) return
        accepted[i] = 1
        acceptedCount++
        if (!Number.isNaN(finalizedAt[i]!)) finalizedCount++
      })
    }

    const progress = progressOn(progressStream, 'submit', count)
    const note = () => `accepted ${acceptedCount} finalized ${finalizedCount}`
    let answered = 0
    await options.onLoadStart?.()
    startedAt = performance.now()
    lastAnsweredAt = startedAt

    const submitBatch = async (batch: SignedBatch) => {
      const client = clients[batch.node]!
      for (let attempt = 1; ; attempt++) {
        const sentAt = performance.now()
        for (const i of batch.members) submittedAt[i] = sentAt
        let answer: SubmitAnswer
        try {
          answer = await client.request(
            'POST',
            '/api/v1/blockchain/transactions/submit',
            batch.body,
          )
        } catch (error) {
          const transient =
            error instanceof ApiError &&
            (error.status === 0 || error.status === 429 || error.status >= 500)
          if (!transient || attempt >= SUBMIT_ATTEMPTS) {
            failed += batch.members.length
            log(`a batch of ${batch.members.length} failed: ${(error as Error).message}`)
            break
          }
          await sleep(100 * attempt)
          continue
        }
        record(batch, answer)
        break
      }
      answered += batch.members.length
      lastAnsweredAt = performance.now()
      progress.update(answered, note())
    }

    let nextBatch = 0
    const submitter = async () => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++]!
        if (rate !== undefined) {
          // Open loop: every batch has a due time, so slow answers do not lower the offered load.
          const wait = startedAt + (batch.offset / rate) * 1_000 - performance.now()
          if (wait > 0) await sleep(wait)
        }
        await submitBatch(batch)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, submitter))
    progress.finish(`submitted ${answered}: ${note()}`)

    // what finalized while submitting is shown but not counted in this phase's rate
    const waiting = progressOn(progressStream, 'finality', acceptedCount, finalizedCount)
    lastProgressAt = Math.max(lastProgressAt, performance.now())
    while (finalizedCount < acceptedCount) {
      if (performance.now() - lastProgressAt > stallTimeoutMs) {
        log(
          `no transaction finalized for ${stallTimeoutMs} ms; giving up with ` +
            `${acceptedCount - finalizedCount} not finalized`,
        )
        break
      }
      if (streamLost) {
        // Events were missed while the stream was down: look the outstanding ones up.
        log(`event stream of ${follower.baseUrl} closed; looking transactions up`)
        const outstanding: number[] = []
        for (let i = 0; i < count && outstanding.length < 2_000; i++) {
          if (accepted[i] === 1 && Number.isNaN(finalizedAt[i]!)) outstanding.push(i)
        }
        await mapLimit(outstanding, 16, async (i) => {
          const lookup = await follower.transaction(hashes[i]!).catch(() => undefined)
          if (lookup?.status === 'finalized') {
            onEvent({ type: 'transaction', id: hashes[i]!, status: 'finalized' })
          }
        })
        stream = await follow().catch(async () => {
          await sleep(500)
          return stream
        })
        continue
      }
      waiting.update(finalizedCount)
      await sleep(50)
    }
    waiting.finish(`finalized ${finalizedCount} of ${acceptedCount}`)
  } finally {
    await stream.close()
  }

  let firstSubmitAt = Number.POSITIVE_INFINITY
  for (const at of submittedAt) if (at < firstSubmitAt) firstSubmitAt = at
  const latencies: number[] = []
  const finalizedPerSecond: number[] = []
  for (let i = 0; i < count; i++) {
    if (accepted[i] !== 1 || Number.isNaN(finalizedAt[i]!)) continue
    latencies.push(finalizedAt[i]! - submittedAt[i]!)
    const second = Math.floor((finalizedAt[i]! - firstSubmitAt) / 1_000)
    while (finalizedPerSecond.length <= second) finalizedPerSecond.push(0)
    finalizedPerSecond[second]!++
  }
  latencies.sort((a, b) => a - b)
  const spanMs = Number.isNaN(lastFinalityAt) ? 0 : lastFinalityAt - firstSubmitAt
  const round1 = (value: number) => Math.round(value * 10) / 10
  return {
    submitted: acceptedCount,
    finalized: latencies.length,
    tps: spanMs > 0 ? round1((latencies.length * 1_000) / spanMs) : 0,
    finality_ms: { p50: round1(percentile(latencies, 50)), p99: round1(percentile(latencies, 99)) },
    signed: count,
    rejected,
    failed,
    submitMs: round1(lastAnsweredAt - startedAt),
    spanMs: round1(spanMs),
    finalizedPerSecond,
    maxFinalityMs: round1(latencies.at(-1) ?? 0),
  }
}

/** The exact JSON object `bench tps --json` prints. */
export function toBenchTpsJson(report: BenchTpsJson): BenchTpsJson {
  return {
    submitted: report.submitted,
    finalized: report.finalized,
    tps: report.tps,
    finality_ms: { p50: report.finality_ms.p50, p99: report.finality_ms.p99 },
  }
}
