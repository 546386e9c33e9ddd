/**
 * What the engine must remember across a crash, in the `Store`:
 *
 * - `ibft/signed/<height u64be><round u32be><kind>`: the body of every message it signed, written
 *   BEFORE the message leaves, so a restarted engine refuses to sign a different message for the
 *   same height, round and kind ({@link DoubleSignPreventedError});
 * - `ibft/prepared`: its latest prepared certificate (round, block, PREPARE quorum), written in the
 *   same batch as the COMMIT it leads to, so ROUND-CHANGEs after a restart still report it;
 * - `ibft/block/<height u64be>`: each decided block with its commit certificate, from which a
 *   restart resumes at the next height and the catch-up protocol serves blocks;
 * - `ibft/applied`: the highest height whose block `Application.finalize` accepted (u64be),
 *   written after `finalize` resolves (and, as the previous height, with each block), so a
 *   restart re-delivers a block that was stored but never applied.
 */
import type { CommitCertificate, Store } from '@metanode/core'
import { decodeAs, encode, shape } from '@metanode/core'
import { equalBytes, u32be, u64be, utf8 } from './bytes.js'
import { DoubleSignPreventedError } from './errors.js'
import {
  DIGEST_LENGTH,
  decodeBody,
  type MessageKind,
  type PrepareBody,
  type SignedBody,
} from './messages.js'

/** A prepared block: a PREPARE quorum for (height, round, digest) and the block itself. */
export interface PreparedCertificate {
  /** Height prepared at. */
  height: number
  /** Round prepared in. */
  round: number
  /** Block id prepared. */
  digest: Uint8Array
  /** The block. */
  payload: Uint8Array
  /** The PREPARE quorum. */
  prepares: SignedBody<PrepareBody>[]
}

/** A decided block as the engine stores it. */
export interface StoredBlock {
  /** The payload decided. */
  payload: Uint8Array
  /** Its commit certificate. */
  certificate: CommitCertificate
  /** Id of the validator whose proposal was decided (the next height's rotation starts after it). */
  proposer: Uint8Array
}

const KIND_CODES: Record<MessageKind, number> = {
  PROPOSAL: 0,
  PREPARE: 1,
  COMMIT: 2,
  'ROUND-CHANGE': 3,
}

const SIGNED_PREFIX = utf8('ibft/signed/')
const BLOCK_PREFIX = utf8('ibft/block/')
const PREPARED_KEY = utf8('ibft/prepared')
const APPLIED_KEY = utf8('ibft/applied')

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** Store key of the decided block at `height`. */
export function blockKey(height: number): Uint8Array {
  return concat(BLOCK_PREFIX, u64be(height))
}

function signedKey(height: number, round: number, kind: MessageKind): Uint8Array {
  return concat(SIGNED_PREFIX, u64be(height), u32be(round), Uint8Array.of(KIND_CODES[kind]))
}

const readU64 = (bytes: Uint8Array, offset: number): number =>
  Number(new DataView(bytes.buffer, bytes.byteOffset + offset, 8).getBigUint64(0))
const readU32 = (bytes: Uint8Array, offset: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0)

const wireSignedShape = shape.object({
  body: shape.bytes({ min: 1 }),
  signature: shape.bytes(),
  author: shape.bytes(),
})
const preparedShape = shape.object({
  height: shape.uint(),
  round: shape.uint(),
  digest: shape.bytes({ length: DIGEST_LENGTH }),
  payload: shape.bytes(),
  prepares: shape.array(wireSignedShape),
})
const blockShape = shape.object({
  payload: shape.bytes(),
  proposer: shape.bytes(),
  certificate: shape.object({
    height: shape.uint(),
    round: shape.uint(),
    blockId: shape.bytes(),
    signers: shape.bytes(),
    signature: shape.bytes(),
  }),
})

/** Encodes a stored block (the value under {@link blockKey}). */
export function encodeStoredBlock(block: StoredBlock): Uint8Array {
  return encode({
    payload: block.payload,
    proposer: block.proposer,
    certificate: { ...block.certificate },
  })
}

/** Decodes a stored block. */
export function decodeStoredBlock(bytes: Uint8Array): StoredBlock {
  return decodeAs(bytes, blockShape)
}

/** A signature the engine made, identified by what makes two of them conflict. */
interface SignedRecord {
  round: number
  kind: MessageKind
  bodyBytes: Uint8Array
}

/**
 * The persisted signing state of one engine. All writes go through `store` before the engine
 * lets a message leave.
 */
export class SigningState {
  readonly #store: Store
  #height = 0
  #appliedHeight = 0
  /** The last stored block, kept decoded: every height starts by asking for its proposer. */
  #last: StoredBlock | undefined
  readonly #signed = new Map<string, SignedRecord>()
  #prepared: PreparedCertificate | undefined

  private constructor(store: Store) {
    this.#store = store
  }

  /** Loads the state from `store` (which must be open). */
  static async load(store: Store): Promise<SigningState> {
    const state = new SigningState(store)
    const last = await state.lastBlock()
    state.#last = last
    state.#height = (last?.certificate.height ?? 0) + 1
    const appliedBytes = await store.get(APPLIED_KEY)
    // a store written before the marker existed: its blocks were handed to the application
    state.#appliedHeight =
      appliedBytes === undefined || appliedBytes.length !== 8
        ? state.#height - 1
        : Math.min(readU64(appliedBytes, 0), state.#height - 1)
    const preparedBytes = await store.get(PREPARED_KEY)
    if (preparedBytes !== undefined) {
      const stored = decodeAs(preparedBytes, preparedShape)
      if (stored.height === state.#height) {
        state.#prepared = {
          height: stored.height,
          round: stored.round,
          digest: stored.digest,
          payload: stored.payload,
          prepares: stored.prepares.map((item) => ({
            body: decodeBody(item.body) as PrepareBody,
            bodyBytes: item.body,
            signature: item.signature,
            author: item.author,
          })),
        }
      }
    }
    for await (const { key, value } of store.iterate({
      gte: signedKey(state.#height, 0, 'PROPOSAL'),
      lt: concat(SIGNED_PREFIX, u64be(state.#height + 1)),
    })) {
      const round = readU32(key, SIGNED_PREFIX.length + 8)
      const code = key[SIGNED_PREFIX.length + 12]
      const kind = (Object.keys(KIND_CODES) as MessageKind[]).find(
        (name) => KIND_CODES[name] === code,
      )
      if (kind === undefined || readU64(key, SIGNED_PREFIX.length) !== state.#height) continue
      state.#signed.set(`${round}/${kind}`, { round, kind, bodyBytes: value })
    }
    return state
  }

  /** The height after the last decided one: where the engine resumes. */
  get height(): number {
    return this.#height
  }

  /**
   * The highest height whose block the application accepted (`Application.finalize` resolved).
   * Below {@link SigningState.height} - 1 when a stored block still has to be applied.
   */
  get appliedHeight(): number {
    return this.#appliedHeight
  }

  /** The latest prepared certificate of the current height, if any. */
  get prepared(): PreparedCertificate | undefined {
    return this.#prepared
  }

  /** The highest round this engine signed anything in at the current height (0 if none). */
  get highestSignedRound(): number {
    let highest = 0
    for (const record of this.#signed.values()) highest = Math.max(highest, record.round)
    return highest
  }

  /** The body signed for (current height, round, kind), if any. */
  signedBody(round: number, kind: MessageKind): Uint8Array | undefined {
    return this.#signed.get(`${round}/${kind}`)?.bodyBytes
  }

  /**
   * Records that the engine is about to sign `bodyBytes` for (height, round, kind), together with
   * a new prepared certificate when given, in one atomic batch. Re-recording the identical body
   * is allowed (a re-broadcast).
   *
   * @throws DoubleSignPreventedError when a different body was signed for the same slot, or the
   *   height is not the current one.
   */
  async recordSigned(
    height: number,
    round: number,
    kind: MessageKind,
    bodyBytes: Uint8Array,
    prepared?: PreparedCertificate,
  ): Promise<void> {
    if (height !== this.#height) {
      throw new DoubleSignPreventedError('refusing to sign for a height that is not current', {
        details: { height, current: this.#height, round, kind },
      })
    }
    const slot = `${round}/${kind}`
    const previous = this.#signed.get(slot)
    if (previous !== undefined) {
      if (equalBytes(previous.bodyBytes, bodyBytes) && prepared === undefined) return
      if (!equalBytes(previous.bodyBytes, bodyBytes)) {
        throw new DoubleSignPreventedError('refusing to sign a conflicting message', {
          details: { height, round, kind },
        })
      }
    }
    const operations: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = [
      { type: 'put', key: signedKey(height, round, kind), value: bodyBytes },
    ]
    if (prepared !== undefined) {
      operations.push({
        type: 'put',
        key: PREPARED_KEY,
        value: encode({
          height: prepared.height,
          round: prepared.round,
          digest: prepared.digest,
          payload: prepared.payload,
          prepares: prepared.prepares.map((item) => ({
            body: item.bodyBytes,
            signature: item.signature,
            author: item.author,
          })),
        }),
      })
    }
    await this.#store.batch(operations)
    this.#signed.set(slot, { round, kind, bodyBytes })
    if (prepared !== undefined) this.#prepared = prepared
  }

  /**
   * Stores the decided block of the current height and moves to the next height, dropping the
   * signing records and prepared certificate of the decided one (in one batch). The previous
   * block must have been applied ({@link SigningState.recordApplied}).
   */
  async recordFinalized(block: StoredBlock): Promise<void> {
    const height = block.certificate.height
    if (height !== this.#height) {
      throw new RangeError(`cannot finalize height ${height} while at ${this.#height}`)
    }
    if (this.#appliedHeight !== height - 1) {
      throw new RangeError(
        `cannot store height ${height} before height ${this.#appliedHeight + 1} is applied`,
      )
    }
    const operations: (
      | { type: 'put'; key: Uint8Array; value: Uint8Array }
      | { type: 'del'; key: Uint8Array }
    )[] = [
      { type: 'put', key: blockKey(height), value: encodeStoredBlock(block) },
      { type: 'del', key: PREPARED_KEY },
      // so that the marker exists from the first block on: a missing one means an older store
      { type: 'put', key: APPLIED_KEY, value: u64be(height - 1) },
    ]
    for (const record of this.#signed.values()) {
      operations.push({ type: 'del', key: signedKey(height, record.round, record.kind) })
    }
    await this.#store.batch(operations)
    this.#last = block
    this.#signed.clear()
    this.#prepared = undefined
    this.#height = height + 1
  }

  /**
   * Records that the application accepted the stored block at `height`, the next one to apply.
   *
   * @throws RangeError when `height` is not the next stored block to apply.
   */
  async recordApplied(height: number): Promise<void> {
    if (height !== this.#appliedHeight + 1 || height >= this.#height) {
      throw new RangeError(
        `cannot mark height ${height} applied: applied through ${this.#appliedHeight}, stored through ${this.#height - 1}`,
      )
    }
    await this.#store.put(APPLIED_KEY, u64be(height))
    this.#appliedHeight = height
  }

  /** The proposer of the decided block at `height`, if stored. */
  async proposer(height: number): Promise<Uint8Array | undefined> {
    if (this.#last !== undefined && this.#last.certificate.height === height) {
      return this.#last.proposer
    }
    return (await this.block(height))?.proposer
  }

  /** The decided block at `height`, if stored. */
  async block(height: number): Promise<StoredBlock | undefined> {
    if (this.#last !== undefined && this.#last.certificate.height === height) return this.#last
    const bytes = await this.#store.get(blockKey(height))
    return bytes === undefined ? undefined : decodeStoredBlock(bytes)
  }

  /** The last decided block, if any. */
  async lastBlock(): Promise<StoredBlock | undefined> {
    for await (const { value } of this.#store.iterate({
      gte: BLOCK_PREFIX,
      lt: concat(BLOCK_PREFIX, new Uint8Array(8).fill(0xff), Uint8Array.of(0)),
      reverse: true,
      limit: 1,
    })) {
      return decodeStoredBlock(value)
    }
    return undefined
  }
}
