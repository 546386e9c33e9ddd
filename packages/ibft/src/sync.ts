/**
 * Catch-up (block sync): a node that fell behind asks a peer for the decided blocks from its
 * current height on, checks each block's commit certificate (over the application's block id of
 * the payload) against the validator set of its height and applies the blocks strictly in
 * height order, exactly as if it had decided them.
 *
 * Wire protocol `metanode/ibft/sync/v1` (request/response over the transport), DAG-CBOR:
 * - request `{ fromHeight, maxBlocks }`;
 * - response `{ blocks: [{ height, payload, certificate }] }`, the consecutive decided blocks from
 *   `fromHeight` on that the server has, at most `maxBlocks` of them and never more bytes than the
 *   transport carries.
 *
 * Nothing a peer says is trusted beyond what certificates prove: heights a peer claims only make
 * this node ask, and a block is applied only once its certificate verifies.
 */
import type { Clock, FinalizedBlock, Logger, PeerId, Transport, ValidatorSet } from '@metanode/core'
import { decodeAs, encode, isMetanodeError, type RejectionError, shape } from '@metanode/core'
import { verifyCommitCertificate } from './certificate.js'
import { type IbftRejectionError, type RejectionCode, rejection } from './errors.js'
import { blockIdOf, checkedBlockId, DEFAULT_MESSAGE_LIMITS, DIGEST_LENGTH } from './messages.js'
import { SEAL_LENGTH, type SignatureScheme } from './signing.js'
import { MAX_VALIDATORS } from './validators.js'

/** Protocol id of catch-up requests. */
export const IBFT_SYNC_PROTOCOL = 'metanode/ibft/sync/v1'

/** Most blocks one response may carry, whatever a request or a configuration asks. */
export const MAX_SYNC_BLOCKS = 1024

// a request is two small integers in a two-key map
const MAX_REQUEST_BYTES = 64
// room for the response's map key and array header around the encoded blocks
const RESPONSE_OVERHEAD_BYTES = 16

/** Bounds and pacing of catch-up. */
export interface SyncLimits {
  /** Blocks asked for per request, and most blocks served per response. Default 64, at most {@link MAX_SYNC_BLOCKS}. */
  maxBlocksPerResponse: number
  /** Deadline of one request, in ms. Default 5,000. */
  requestTimeoutMs: number
  /** Least time between the end of one catch-up attempt and the next one triggered by a hint, in ms. Default 500. */
  minIntervalMs: number
  /** How often the engine checks whether it made progress, asking a peer when it did not, in ms. Default 5,000. */
  statusIntervalMs: number
  /** How long a peer that served an invalid block is not asked again, in ms. Default 60,000. */
  peerPenaltyMs: number
  /** Peers tried in one attempt before giving up until the next trigger. Default 4. */
  maxPeersPerAttempt: number
  /** Heights ahead of the current one a verified message must be to trigger catch-up at once (1 behind is usually just slower). Default 2. */
  hintHeightGap: number
}

/** Default {@link SyncLimits}. */
export const DEFAULT_SYNC_LIMITS: Readonly<SyncLimits> = Object.freeze({
  maxBlocksPerResponse: 64,
  requestTimeoutMs: 5000,
  minIntervalMs: 500,
  statusIntervalMs: 5000,
  peerPenaltyMs: 60_000,
  maxPeersPerAttempt: 4,
  hintHeightGap: 2,
})

/** A catch-up request. */
export interface SyncRequest {
  /** First height wanted (the requester's current height). */
  fromHeight: number
  /** Most blocks wanted. */
  maxBlocks: number
}

/** Checks every field of `limits` and fills the defaults. */
export function resolveSyncLimits(limits: Partial<SyncLimits> = {}): SyncLimits {
  if (typeof limits !== 'object' || limits === null) throw new TypeError('sync must be an object')
  const resolved = { ...DEFAULT_SYNC_LIMITS, ...limits }
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new TypeError(`sync.${name} must be a safe integer`)
    }
    if (value < (name === 'minIntervalMs' ? 0 : 1)) {
      throw new RangeError(`sync.${name} must be at least ${name === 'minIntervalMs' ? 0 : 1}`)
    }
  }
  if (resolved.maxBlocksPerResponse > MAX_SYNC_BLOCKS) {
    throw new RangeError(`sync.maxBlocksPerResponse must be at most ${MAX_SYNC_BLOCKS}`)
  }
  return resolved
}

const requestShape = shape.object({
  fromHeight: shape.int({ min: 1 }),
  maxBlocks: shape.int({ min: 1, max: MAX_SYNC_BLOCKS }),
})

const certificateShape = shape.object({
  height: shape.int({ min: 1 }),
  round: shape.uint(),
  blockId: shape.bytes({ length: DIGEST_LENGTH }),
  signers: shape.bytes({ min: 1, max: Math.ceil(MAX_VALIDATORS / 8) }),
  signature: shape.bytes({ length: SEAL_LENGTH }),
})

function responseShape(maxBlocks: number, maxPayloadBytes: number) {
  return shape.object({
    blocks: shape.array(
      shape.object({
        height: shape.int({ min: 1 }),
        payload: shape.bytes({ max: maxPayloadBytes }),
        certificate: certificateShape,
      }),
      { max: maxBlocks },
    ),
  })
}

/** Encodes a catch-up request. Throws `TypeError`/`RangeError` for fields out of the protocol's bounds. */
export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  if (typeof request !== 'object' || request === null) {
    throw new TypeError('request must be an object')
  }
  for (const name of ['fromHeight', 'maxBlocks'] as const) {
    if (typeof request[name] !== 'number' || !Number.isSafeInteger(request[name])) {
      throw new TypeError(`${name} must be a safe integer`)
    }
  }
  if (request.fromHeight < 1) throw new RangeError('fromHeight must be at least 1')
  if (request.maxBlocks < 1 || request.maxBlocks > MAX_SYNC_BLOCKS) {
    throw new RangeError(`maxBlocks must be in [1, ${MAX_SYNC_BLOCKS}]`)
  }
  return encode({ fromHeight: request.fromHeight, maxBlocks: request.maxBlocks })
}

/**
 * Decodes a catch-up request.
 *
 * @throws IbftRejectionError with code `malformed` and action `reject` for anything that is not
 *   exactly a request (wrong shape, extra keys, non-canonical encoding, out-of-range numbers).
 */
export function decodeSyncRequest(data: Uint8Array): SyncRequest {
  if (!(data instanceof Uint8Array)) throw rejection('malformed', 'reject', 'request is not bytes')
  try {
    return decodeAs(data, requestShape, { maxBytes: MAX_REQUEST_BYTES })
  } catch (error) {
    throw rejection('malformed', 'reject', `malformed sync request: ${(error as Error).message}`)
  }
}

function blockEntry(block: FinalizedBlock): Record<string, unknown> {
  const { certificate } = block
  return {
    height: block.height,
    payload: block.payload,
    certificate: {
      height: certificate.height,
      round: certificate.round,
      blockId: certificate.blockId,
      signers: certificate.signers,
      signature: certificate.signature,
    },
  }
}

/**
 * Encodes a catch-up response: as many of `blocks` (in order) as fit in `maxBytes`. A block that
 * alone is larger than `maxBytes` ends the response.
 */
export function encodeSyncResponse(
  blocks: readonly FinalizedBlock[],
  maxBytes: number,
): Uint8Array {
  const entries: Record<string, unknown>[] = []
  let size = RESPONSE_OVERHEAD_BYTES
  for (const block of blocks) {
    const entry = blockEntry(block)
    size += encode(entry).length
    if (size > maxBytes) break
    entries.push(entry)
  }
  return encode({ blocks: entries }, { maxBytes })
}

/** Options of {@link decodeSyncResponse}. */
export interface DecodeSyncResponseOptions {
  /** The height the request started from: the first block must be at it. */
  fromHeight: number
  /** Most blocks accepted (what was asked for). */
  maxBlocks: number
  /** Largest response accepted, in bytes. */
  maxBytes: number
  /** Largest payload accepted. Default the engine's 768 KiB. */
  maxPayloadBytes?: number
}

/**
 * Decodes a catch-up response and checks its structure: at most `maxBlocks` blocks, consecutive
 * heights from `fromHeight`, each certificate for its block's height. Certificates are NOT
 * verified here (that needs each height's validator set; see {@link verifySyncedBlock}).
 *
 * @throws IbftRejectionError with code `malformed` and action `reject` otherwise.
 */
export function decodeSyncResponse(
  data: Uint8Array,
  options: DecodeSyncResponseOptions,
): FinalizedBlock[] {
  let decoded: { blocks: FinalizedBlock[] }
  try {
    decoded = decodeAs(
      data,
      responseShape(
        options.maxBlocks,
        options.maxPayloadBytes ?? DEFAULT_MESSAGE_LIMITS.maxPayloadBytes,
      ),
      { maxBytes: options.maxBytes },
    )
  } catch (error) {
    throw rejection('malformed', 'reject', `malformed sync response: ${(error as Error).message}`)
  }
  decoded.blocks.forEach((block, index) => {
    if (block.height !== options.fromHeight + index) {
      throw rejection('malformed', 'reject', 'sync response heights are not the ones asked for')
    }
    if (block.certificate.height !== block.height) {
      throw rejection('malformed', 'reject', 'certificate is for another height than its block')
    }
  })
  return decoded.blocks
}

/**
 * Whether `block` is proven decided by `validatorSet` (the set of `block.height`): its certificate
 * is for its height and verifies over the payload's block id under `blockId` (the application's
 * `blockId`, default {@link blockIdOf}). A payload `blockId` throws on is not proven. Never throws
 * for a well-typed block.
 */
export function verifySyncedBlock(
  block: FinalizedBlock,
  validatorSet: ValidatorSet,
  chainId: string,
  scheme: SignatureScheme,
  blockId: (payload: Uint8Array) => Uint8Array = blockIdOf,
): boolean {
  if (block.certificate.height !== block.height) return false
  let id: Uint8Array
  try {
    id = checkedBlockId(blockId, block.payload)
  } catch {
    return false
  }
  return verifyCommitCertificate(block.certificate, id, validatorSet, chainId, scheme)
}

/** Where served blocks come from: the decided block at a height, if stored. */
export type SyncBlockSource = (height: number) => Promise<FinalizedBlock | undefined>

/**
 * Answers one catch-up request from `source`: the consecutive stored blocks from the request's
 * `fromHeight`, at most `min(request.maxBlocks, maxBlocks)` and at most `maxBytes` encoded.
 *
 * @throws IbftRejectionError (`malformed`, `reject`) for a malformed request, which the transport
 *   turns into a penalty of the requester.
 */
export async function serveSyncRequest(
  data: Uint8Array,
  source: SyncBlockSource,
  options: { maxBlocks: number; maxBytes: number },
): Promise<Uint8Array> {
  const request = decodeSyncRequest(data)
  const count = Math.min(request.maxBlocks, options.maxBlocks)
  const blocks: FinalizedBlock[] = []
  for (let height = request.fromHeight; blocks.length < count; height++) {
    if (!Number.isSafeInteger(height)) break
    const block = await source(height)
    if (block === undefined) break
    blocks.push(block)
  }
  return encodeSyncResponse(blocks, options.maxBytes)
}

/** What applying fetched blocks achieved. */
export interface SyncApplyResult {
  /** Blocks verified and applied. */
  applied: number
  /** Why the rest was refused, when a block did not verify. */
  failure?: IbftRejectionError
}

/** What the catch-up client needs from the engine. */
export interface SyncHost {
  /** The height being decided now (the first one to fetch). */
  height(): number
  /** Verifies and applies `blocks` in height order; stops at the first that does not verify. */
  apply(from: PeerId, blocks: FinalizedBlock[]): Promise<SyncApplyResult>
  /** Reports a peer that served something invalid. */
  refuse(from: PeerId, error: IbftRejectionError): void
}

/** What {@link BlockSync} works with. */
export interface BlockSyncOptions {
  /** Where requests go. */
  transport: Transport
  /** Time of rate limits, penalties and the status check. */
  clock: Clock
  /** Where failed attempts are logged. */
  logger: Logger
  /** Bounds and pacing. */
  limits: SyncLimits
  /** The engine being caught up. */
  host: SyncHost
  /** Largest payload accepted in a response. */
  maxPayloadBytes: number
}

type AttemptOutcome = 'full' | 'partial' | 'empty' | 'failed'

/**
 * The requesting side of catch-up. One attempt runs at a time; it asks peers round-robin (skipping
 * penalised ones) for the blocks from the engine's height, keeps asking the same peer while it
 * serves full batches, and moves to the next peer when one has nothing, fails or cheats.
 *
 * Triggers: {@link BlockSync.hint} (a verified message from a later height), rate-limited by
 * `minIntervalMs`, and a status check every `statusIntervalMs` that asks when the engine's height
 * did not move since the previous check.
 */
export class BlockSync {
  readonly #options: BlockSyncOptions
  readonly #penalisedUntil = new Map<PeerId, number>()
  #cursor = 0
  #running = false
  #session = 0
  #inFlight = false
  #lastAttemptEndedAt: number | undefined
  #statusTimer: ReturnType<Clock['setTimeout']> | undefined
  #heightAtLastCheck = 0

  constructor(options: BlockSyncOptions) {
    this.#options = options
  }

  /** Whether an attempt is running. */
  get inFlight(): boolean {
    return this.#inFlight
  }

  /** Starts the periodic status check. */
  start(): void {
    if (this.#running) return
    this.#running = true
    this.#session++
    this.#inFlight = false
    this.#lastAttemptEndedAt = undefined
    this.#heightAtLastCheck = this.#options.host.height()
    this.#armStatusCheck()
  }

  /** Stops; an attempt in flight finishes without applying anything more. */
  stop(): void {
    if (!this.#running) return
    this.#running = false
    this.#session++
    this.#inFlight = false
    if (this.#statusTimer !== undefined) this.#options.clock.clearTimeout(this.#statusTimer)
    this.#statusTimer = undefined
  }

  /**
   * Whether a verified message for `height` would start an attempt now: so the engine verifies a
   * future message's signature only when it matters.
   */
  wantsHint(height: number): boolean {
    if (!this.#running || this.#inFlight) return false
    if (height < this.#options.host.height() + this.#options.limits.hintHeightGap) return false
    const last = this.#lastAttemptEndedAt
    return (
      last === undefined || this.#options.clock.now() >= last + this.#options.limits.minIntervalMs
    )
  }

  /** A verified message for `height` arrived: start an attempt if {@link BlockSync.wantsHint}. */
  hint(height: number): void {
    if (this.wantsHint(height)) this.#startAttempt()
  }

  /** Starts an attempt now unless one is running (e.g. on operator request). */
  trigger(): void {
    if (this.#running && !this.#inFlight) this.#startAttempt()
  }

  #armStatusCheck(): void {
    const session = this.#session
    this.#statusTimer = this.#options.clock.setTimeout(() => {
      if (!this.#running || this.#session !== session) return
      const height = this.#options.host.height()
      const stalled = height === this.#heightAtLastCheck
      this.#heightAtLastCheck = height
      if (stalled && !this.#inFlight) this.#startAttempt()
      this.#armStatusCheck()
    }, this.#options.limits.statusIntervalMs)
  }

  #startAttempt(): void {
    this.#inFlight = true
    const session = this.#session
    this.#attempt(session)
      .catch((error: unknown) => {
        this.#options.logger.warn({ error: String(error) }, 'catch-up attempt failed')
      })
      .finally(() => {
        if (this.#session !== session) return
        this.#inFlight = false
        this.#lastAttemptEndedAt = this.#options.clock.now()
      })
  }

  #eligiblePeers(): PeerId[] {
    const now = this.#options.clock.now()
    for (const [peer, until] of this.#penalisedUntil) {
      if (until <= now) this.#penalisedUntil.delete(peer)
    }
    return this.#options.transport
      .peers()
      .filter((peer) => !this.#penalisedUntil.has(peer))
      .sort()
  }

  #nextPeer(exclude: ReadonlySet<PeerId>): PeerId | undefined {
    const peers = this.#eligiblePeers().filter((peer) => !exclude.has(peer))
    if (peers.length === 0) return undefined
    const peer = peers[this.#cursor % peers.length] as PeerId
    this.#cursor = (this.#cursor + 1) % MAX_SYNC_BLOCKS
    return peer
  }

  async #attempt(session: number): Promise<void> {
    const tried = new Set<PeerId>()
    let peer = this.#nextPeer(tried)
    while (peer !== undefined && this.#session === session) {
      tried.add(peer)
      const outcome = await this.#fetch(peer, session)
      if (this.#session !== session || outcome === 'partial') return
      if (outcome === 'full') continue
      if (tried.size >= this.#options.limits.maxPeersPerAttempt) return
      peer = this.#nextPeer(tried)
    }
  }

  async #fetch(peer: PeerId, session: number): Promise<AttemptOutcome> {
    const { transport, limits, host, logger } = this.#options
    const fromHeight = host.height()
    const maxBlocks = limits.maxBlocksPerResponse
    let data: Uint8Array
    try {
      data = await transport.request(
        peer,
        IBFT_SYNC_PROTOCOL,
        encodeSyncRequest({ fromHeight, maxBlocks }),
        { timeoutMs: limits.requestTimeoutMs },
      )
    } catch (error) {
      // unreachable, slow or not serving: not proof of misbehaviour, just ask someone else
      logger.debug(
        { peer, error: isMetanodeError(error) ? error.name : String(error) },
        'catch-up request failed',
      )
      return 'failed'
    }
    if (this.#session !== session) return 'failed'
    let blocks: FinalizedBlock[]
    try {
      blocks = decodeSyncResponse(data, {
        fromHeight,
        maxBlocks,
        maxBytes: transport.maxMessageBytes,
        maxPayloadBytes: this.#options.maxPayloadBytes,
      })
    } catch (error) {
      this.#penalise(peer, error as RejectionError<RejectionCode>)
      return 'failed'
    }
    if (blocks.length === 0) return 'empty'
    const result = await host.apply(peer, blocks)
    if (result.failure !== undefined) {
      this.#penalise(peer, result.failure)
      return 'failed'
    }
    return blocks.length === maxBlocks ? 'full' : 'partial'
  }

  #penalise(peer: PeerId, error: IbftRejectionError): void {
    this.#penalisedUntil.set(peer, this.#options.clock.now() + this.#options.limits.peerPenaltyMs)
    this.#options.host.refuse(peer, error)
  }
}
