/**
 * FOCIL-style inclusion lists: a validator signs the ids of transactions from its pool that the
 * block at a height must include; other validators check a proposed block against the lists
 * before they PREPARE it, so a proposer cannot censor a valid transaction that fits. A list
 * publisher that signs two different lists for one height is an equivocator and its lists are
 * ignored for that height.
 */
import { decodeAs, encode, shape } from '@metanode/core'
import { ed25519 } from '@metanode/crypto/ed25519'
import { domainHasher } from '@metanode/crypto/hash'
import type { Mempool } from './mempool.js'
import {
  assertBigInt,
  assertBytes,
  assertFunction,
  assertInteger,
  bytesKey,
  describe,
} from './validate.js'

/** The domain tag every inclusion-list signature covers. */
export const INCLUSION_LIST_TAG = 'metanode/mempool/inclusion-list/v1'

/** Bounds of an inclusion list. */
export const INCLUSION_LIST_LIMITS = {
  /** Most transaction ids in one list. */
  maxTxs: 1024,
  /** Longest transaction id, in bytes. */
  maxTxIdBytes: 64,
} as const

/** A validator's signed list of transactions the block at `height` must include. */
export interface InclusionList {
  /** The publisher's 32-byte Ed25519 public key. */
  validator: Uint8Array
  /** The height of the block the list constrains. */
  height: number
  /** Ids of the listed transactions (distinct, at most {@link INCLUSION_LIST_LIMITS}.maxTxs). */
  txIds: Uint8Array[]
  /** Ed25519 signature over `domainHash(INCLUSION_LIST_TAG, chainId, encode({ validator, height, txIds }))`. */
  signature: Uint8Array
}

/** Options of {@link createInclusionList}. */
export interface CreateInclusionListOptions {
  /** The height of the block the list constrains. */
  height: number
  /** Most transactions to list (at most {@link INCLUSION_LIST_LIMITS}.maxTxs). */
  maxTxs: number
  /** The publisher's 32-byte Ed25519 secret key. */
  secretKey: Uint8Array
  /** The chain id the signature is bound to. */
  chainId: Uint8Array
  /** The base fee of the block; default the pool's. */
  baseFee?: bigint
  /** Most bytes of the listed transactions together; default no limit. */
  maxBytes?: number
  /** Most resource units of the listed transactions together; default no limit. */
  maxCost?: bigint
}

const hashMessage = domainHasher(INCLUSION_LIST_TAG)

const InclusionListShape = shape.object({
  validator: shape.bytes({ length: 32 }),
  height: shape.uint(),
  txIds: shape.array(shape.bytes({ min: 1, max: INCLUSION_LIST_LIMITS.maxTxIdBytes }), {
    max: INCLUSION_LIST_LIMITS.maxTxs,
  }),
  signature: shape.bytes({ length: 64 }),
})

function signingMessage(
  validator: Uint8Array,
  height: number,
  txIds: readonly Uint8Array[],
  chainId: Uint8Array,
): Uint8Array {
  return hashMessage(chainId, encode({ validator, height, txIds }))
}

function assertTxIds(txIds: unknown, name: string): Uint8Array[] {
  if (!Array.isArray(txIds)) throw new TypeError(`${name} must be an array, got ${describe(txIds)}`)
  txIds.forEach((id, index) => {
    assertBytes(id, `${name}[${index}]`)
  })
  return txIds as Uint8Array[]
}

/**
 * Signs a list of transaction ids for `height`.
 *
 * @throws TypeError for arguments of the wrong type.
 * @throws RangeError for a key of the wrong length, a negative height, too many ids, an id of 0
 *   or more than 64 bytes, or repeated ids.
 */
export function signInclusionList(
  body: { height: number; txIds: readonly Uint8Array[] },
  secretKey: Uint8Array,
  chainId: Uint8Array,
): InclusionList {
  if (typeof body !== 'object' || body === null) {
    throw new TypeError(`body must be an object, got ${describe(body)}`)
  }
  const height = assertInteger(body.height, 'height', 0, Number.MAX_SAFE_INTEGER)
  const txIds = assertTxIds(body.txIds, 'txIds').map((id, index) =>
    assertBytes(id, `txIds[${index}]`, 1, INCLUSION_LIST_LIMITS.maxTxIdBytes).slice(),
  )
  if (txIds.length > INCLUSION_LIST_LIMITS.maxTxs) {
    throw new RangeError(`an inclusion list holds at most ${INCLUSION_LIST_LIMITS.maxTxs} ids`)
  }
  if (new Set(txIds.map(bytesKey)).size !== txIds.length) {
    throw new RangeError('an inclusion list must not repeat an id')
  }
  assertBytes(secretKey, 'secretKey', 32, 32)
  assertBytes(chainId, 'chainId')
  const validator = ed25519.getPublicKey(secretKey)
  const signature = ed25519.sign(signingMessage(validator, height, txIds, chainId), secretKey)
  return { validator, height, txIds, signature }
}

/**
 * Lists the best `maxTxs` executable transactions of `pool` (in the pool's block order) for
 * `height`, signed by `secretKey`.
 *
 * @throws TypeError / RangeError as {@link signInclusionList}, and for malformed options.
 */
export function createInclusionList<Tx>(
  pool: Mempool<Tx>,
  options: CreateInclusionListOptions,
): InclusionList {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`)
  }
  const maxTxs = assertInteger(options.maxTxs, 'maxTxs', 0, INCLUSION_LIST_LIMITS.maxTxs)
  const selection = pool.selectForBlock({
    maxBytes: options.maxBytes ?? Number.MAX_SAFE_INTEGER,
    maxCost: options.maxCost === undefined ? 2n ** 256n : assertBigInt(options.maxCost, 'maxCost'),
    baseFee: options.baseFee ?? pool.baseFee,
    maxTxs,
  })
  const txIds = selection.txs.map((tx) => pool.adapter.id(tx))
  return signInclusionList({ height: options.height, txIds }, options.secretKey, options.chainId)
}

/**
 * Whether `list` is well formed (32-byte key, 64-byte signature, at most 1,024 distinct ids of 1
 * to 64 bytes) and signed by its validator for `chainId`. Never throws for a well-typed but
 * invalid list.
 *
 * @throws TypeError when `list` or `chainId` have the wrong types.
 */
export function verifyInclusionList(list: InclusionList, chainId: Uint8Array): boolean {
  if (typeof list !== 'object' || list === null) {
    throw new TypeError(`list must be an object, got ${describe(list)}`)
  }
  assertBytes(list.validator, 'validator')
  assertBytes(list.signature, 'signature')
  assertBytes(chainId, 'chainId')
  const txIds = assertTxIds(list.txIds, 'txIds')
  if (typeof list.height !== 'number') {
    throw new TypeError(`height must be a number, got ${describe(list.height)}`)
  }
  if (!Number.isSafeInteger(list.height) || list.height < 0) return false
  if (list.validator.length !== 32 || list.signature.length !== 64) return false
  if (txIds.length > INCLUSION_LIST_LIMITS.maxTxs) return false
  const keys = new Set<string>()
  for (const id of txIds) {
    if (id.length === 0 || id.length > INCLUSION_LIST_LIMITS.maxTxIdBytes) return false
    keys.add(bytesKey(id))
  }
  if (keys.size !== txIds.length) return false
  const message = signingMessage(list.validator, list.height, txIds, chainId)
  return ed25519.verify(list.signature, message, list.validator)
}

/** The canonical DAG-CBOR encoding of a list, for gossip. */
export function encodeInclusionList(list: InclusionList): Uint8Array {
  const { validator, height, txIds, signature } = list
  return encode({ validator, height, txIds, signature })
}

/**
 * Decodes a list from gossip (shape and sizes checked; the signature is not: call
 * {@link verifyInclusionList}).
 *
 * @throws DecodeError (from `@metanode/core`) for bytes that are not a canonical list.
 */
export function decodeInclusionList(bytes: Uint8Array): InclusionList {
  return decodeAs(assertBytes(bytes, 'bytes'), InclusionListShape)
}

/** What a checking validator knows about a listed transaction. */
export type TxValidity = 'valid' | 'invalid' | 'unknown'

/** The block space a transaction needs. */
export interface TxFootprint {
  /** Its size in bytes. */
  bytes: number
  /** Its resource cost (gas). */
  cost: bigint
}

/** A proposed block, as {@link checkInclusion} sees it. */
export interface InclusionBlock {
  /** The block's height: only lists for this height apply. */
  height: number
  /** Ids of the transactions it includes. */
  txIds: readonly Uint8Array[]
  /** Bytes its transactions use; without it, no listed transaction is excused for lack of space. */
  bytesUsed?: number
  /** Resource units its transactions use; without it, no listed transaction is excused for lack of space. */
  costUsed?: bigint
  /** The block limits. */
  limits: {
    /** Most bytes of transactions in a block. */
    maxBytes: number
    /** Most resource units in a block. */
    maxCost: bigint
  }
}

/** The outcome of one inclusion list against a block. */
export interface InclusionListOutcome {
  /** The list's publisher. */
  validator: Uint8Array
  /** The height of the list. */
  height: number
  /** Listed, valid transactions the block left out although they fit. */
  missing: Uint8Array[]
  /** Listed transactions the checker does not know (excused; fetch them to judge). */
  unknown: Uint8Array[]
}

/** The result of {@link checkInclusion}. */
export interface InclusionCheck {
  /** True when no list has a missing transaction: the block may be PREPAREd. */
  ok: boolean
  /** One outcome per list applied (equivocators' lists and other heights' lists are not applied). */
  missing: InclusionListOutcome[]
  /** Publishers that gave two different lists for the block's height; their lists were ignored. */
  equivocators: Uint8Array[]
}

/**
 * Whether a proposed block honours the inclusion lists for its height. A listed transaction not
 * in the block is excused when `validity` says it is `invalid` (already included, nonce used,
 * balance short, ...) or `unknown`, or when its `footprint` would not fit in the space the block
 * left (`bytesUsed + bytes > maxBytes` or `costUsed + cost > maxCost`), as in FOCIL; otherwise it
 * is missing and `ok` is false. Lists must already be verified ({@link verifyInclusionList} or
 * {@link InclusionMonitor}); a publisher with two different lists for the height is ignored.
 *
 * @throws TypeError for arguments of the wrong type.
 */
export function checkInclusion(
  block: InclusionBlock,
  lists: readonly InclusionList[],
  validity: (txId: Uint8Array) => TxValidity,
  footprint?: (txId: Uint8Array) => TxFootprint | undefined,
): InclusionCheck {
  if (typeof block !== 'object' || block === null) {
    throw new TypeError(`block must be an object, got ${describe(block)}`)
  }
  if (!Array.isArray(lists)) throw new TypeError(`lists must be an array, got ${describe(lists)}`)
  assertFunction(validity, 'validity')
  if (footprint !== undefined) assertFunction(footprint, 'footprint')
  const included = new Set(assertTxIds(block.txIds, 'block.txIds').map(bytesKey))
  const byPublisher = new Map<string, { list: InclusionList; body: string; equivocated: boolean }>()
  for (const list of lists) {
    if (list.height !== block.height) continue
    const publisher = bytesKey(list.validator)
    const body = list.txIds.map(bytesKey).join('\u0100')
    const seen = byPublisher.get(publisher)
    if (seen === undefined) byPublisher.set(publisher, { list, body, equivocated: false })
    else if (seen.body !== body) seen.equivocated = true
  }
  const missing: InclusionListOutcome[] = []
  const equivocators: Uint8Array[] = []
  let ok = true
  for (const { list, equivocated } of byPublisher.values()) {
    if (equivocated) {
      equivocators.push(list.validator)
      continue
    }
    const outcome: InclusionListOutcome = {
      validator: list.validator,
      height: list.height,
      missing: [],
      unknown: [],
    }
    for (const id of list.txIds) {
      if (included.has(bytesKey(id))) continue
      const status = validity(id)
      if (status === 'invalid') continue
      if (status === 'unknown') {
        outcome.unknown.push(id)
        continue
      }
      if (doesNotFit(block, footprint?.(id))) continue
      outcome.missing.push(id)
    }
    if (outcome.missing.length > 0) ok = false
    missing.push(outcome)
  }
  return { ok, missing, equivocators }
}

function doesNotFit(block: InclusionBlock, needs: TxFootprint | undefined): boolean {
  if (needs === undefined) return false
  if (block.bytesUsed !== undefined && block.bytesUsed + needs.bytes > block.limits.maxBytes) {
    return true
  }
  return block.costUsed !== undefined && block.costUsed + needs.cost > block.limits.maxCost
}

/**
 * What {@link InclusionMonitor.add} did with a list: `accepted`; `duplicate` (the same list
 * again); `equivocation` (a second, different list for the height: the publisher's lists for that
 * height are ignored from now on); `ignored` (the publisher already equivocated at that height, or
 * is not a validator); `invalid` (bad signature or shape); `stale` (a height already pruned).
 */
export type InclusionListVerdict =
  | 'accepted'
  | 'duplicate'
  | 'equivocation'
  | 'ignored'
  | 'invalid'
  | 'stale'

/** Two different lists one publisher signed for the same height: evidence of equivocation. */
export interface InclusionEquivocation {
  /** The publisher. */
  validator: Uint8Array
  /** The height. */
  height: number
  /** The two conflicting lists, both validly signed. */
  lists: [InclusionList, InclusionList]
}

/** A list a proposer's block left transactions out of. */
export interface InclusionViolation {
  /** The block height. */
  height: number
  /** The publisher of the violated list. */
  list: Uint8Array
  /** The transactions left out. */
  missing: Uint8Array[]
}

/** How one proposer's blocks treated the inclusion lists. */
export interface ValidatorCompliance {
  /** The proposer. */
  validator: Uint8Array
  /** Lists its blocks honoured. */
  honoured: number
  /** Lists its blocks violated. */
  violated: number
  /** The most recent violations (at most {@link InclusionMonitorOptions.maxViolationsKept}). */
  violations: InclusionViolation[]
}

/** Options of an {@link InclusionMonitor}. */
export interface InclusionMonitorOptions {
  /** The chain id list signatures are bound to. */
  chainId: Uint8Array
  /** Whether `validator` may publish a list for `height`; default: anyone may. */
  isValidator?: (validator: Uint8Array, height: number) => boolean
  /** Violations kept per proposer; default 64. */
  maxViolationsKept?: number
}

interface HeightLists {
  lists: Map<string, InclusionList>
  bodies: Map<string, string>
  equivocators: Set<string>
}

/**
 * Collects verified inclusion lists per height, detects equivocating publishers, checks blocks
 * against the lists and records, per proposer, how many lists its blocks honoured and violated.
 *
 * @example
 * ```ts
 * const monitor = new InclusionMonitor({ chainId })
 * monitor.add(list) // 'accepted'
 * const check = monitor.record({ ...block, proposer }, (id) => (pool.has(id) ? 'valid' : 'unknown'))
 * if (!check.ok) refuseToPrepare()
 * ```
 */
export class InclusionMonitor {
  readonly #chainId: Uint8Array
  readonly #isValidator: ((validator: Uint8Array, height: number) => boolean) | undefined
  readonly #maxViolationsKept: number
  readonly #heights = new Map<number, HeightLists>()
  readonly #compliance = new Map<string, ValidatorCompliance>()
  readonly #equivocations: InclusionEquivocation[] = []
  #prunedBelow = 0

  /** @throws TypeError / RangeError for malformed options. */
  constructor(options: InclusionMonitorOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object, got ${describe(options)}`)
    }
    this.#chainId = assertBytes(options.chainId, 'chainId').slice()
    if (options.isValidator !== undefined) assertFunction(options.isValidator, 'isValidator')
    this.#isValidator = options.isValidator
    this.#maxViolationsKept = assertInteger(
      options.maxViolationsKept ?? 64,
      'maxViolationsKept',
      0,
      1_000_000,
    )
  }

  /**
   * Verifies and stores a list.
   *
   * @throws TypeError when `list` has the wrong types.
   */
  add(list: InclusionList): InclusionListVerdict {
    if (!verifyInclusionList(list, this.#chainId)) return 'invalid'
    if (list.height < this.#prunedBelow) return 'stale'
    if (this.#isValidator !== undefined && !this.#isValidator(list.validator, list.height)) {
      return 'ignored'
    }
    let atHeight = this.#heights.get(list.height)
    if (atHeight === undefined) {
      atHeight = { lists: new Map(), bodies: new Map(), equivocators: new Set() }
      this.#heights.set(list.height, atHeight)
    }
    const publisher = bytesKey(list.validator)
    if (atHeight.equivocators.has(publisher)) return 'ignored'
    const body = list.txIds.map(bytesKey).join('\u0100')
    const previous = atHeight.lists.get(publisher)
    if (previous !== undefined) {
      if (atHeight.bodies.get(publisher) === body) return 'duplicate'
      atHeight.equivocators.add(publisher)
      atHeight.lists.delete(publisher)
      atHeight.bodies.delete(publisher)
      this.#equivocations.push({
        validator: list.validator.slice(),
        height: list.height,
        lists: [previous, copyList(list)],
      })
      return 'equivocation'
    }
    atHeight.lists.set(publisher, copyList(list))
    atHeight.bodies.set(publisher, body)
    return 'accepted'
  }

  /** The lists that apply at `height`: accepted ones from publishers that did not equivocate there. */
  listsFor(height: number): InclusionList[] {
    return [...(this.#heights.get(height)?.lists.values() ?? [])]
  }

  /** Whether `validator` signed two different lists for `height`. */
  isEquivocator(validator: Uint8Array, height: number): boolean {
    return (
      this.#heights.get(height)?.equivocators.has(bytesKey(assertBytes(validator, 'validator'))) ??
      false
    )
  }

  /** Evidence of every equivocation seen (kept across {@link InclusionMonitor.prune}). */
  equivocations(): InclusionEquivocation[] {
    return [...this.#equivocations]
  }

  /**
   * Checks a proposed block against the lists for its height ({@link checkInclusion}) and
   * records the outcome of each list against `block.proposer`.
   */
  record(
    block: InclusionBlock & { proposer: Uint8Array },
    validity: (txId: Uint8Array) => TxValidity,
    footprint?: (txId: Uint8Array) => TxFootprint | undefined,
  ): InclusionCheck {
    const proposer = assertBytes(block.proposer, 'proposer')
    const check = checkInclusion(block, this.listsFor(block.height), validity, footprint)
    const key = bytesKey(proposer)
    let compliance = this.#compliance.get(key)
    if (compliance === undefined) {
      compliance = { validator: proposer.slice(), honoured: 0, violated: 0, violations: [] }
      this.#compliance.set(key, compliance)
    }
    for (const outcome of check.missing) {
      if (outcome.missing.length === 0) {
        compliance.honoured++
        continue
      }
      compliance.violated++
      compliance.violations.push({
        height: block.height,
        list: outcome.validator,
        missing: outcome.missing,
      })
      if (compliance.violations.length > this.#maxViolationsKept) compliance.violations.shift()
    }
    return check
  }

  /** How `validator`'s blocks treated the lists (zero counts when it proposed nothing checked). */
  compliance(validator: Uint8Array): ValidatorCompliance {
    const found = this.#compliance.get(bytesKey(assertBytes(validator, 'validator')))
    if (found === undefined)
      return { validator: validator.slice(), honoured: 0, violated: 0, violations: [] }
    return { ...found, violations: [...found.violations] }
  }

  /** The compliance of every proposer recorded. */
  report(): ValidatorCompliance[] {
    return [...this.#compliance.values()].map((c) => ({ ...c, violations: [...c.violations] }))
  }

  /** Forgets the lists of heights below `height` (later lists for them are `stale`). */
  prune(height: number): void {
    assertInteger(height, 'height', 0, Number.MAX_SAFE_INTEGER)
    this.#prunedBelow = Math.max(this.#prunedBelow, height)
    for (const stored of [...this.#heights.keys()]) {
      if (stored < height) this.#heights.delete(stored)
    }
  }
}

function copyList(list: InclusionList): InclusionList {
  return {
    validator: list.validator.slice(),
    height: list.height,
    txIds: list.txIds.map((id) => id.slice()),
    signature: list.signature.slice(),
  }
}
