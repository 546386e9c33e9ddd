/**
 * Slashing evidence: two conflicting consensus messages signed by one validator for the same
 * height, round and kind. Blocks carry it in a compact form (the signed bodies without any block
 * payload), so a proposer cannot escape slashing by equivocating with large blocks.
 */
import type { EquivocationEvidence } from '@metanode/core'
import { decode, encode, shape } from '@metanode/core'
import {
  decodeBody,
  decodeMessage,
  type MessageKind,
  realScheme,
  type SignatureScheme,
  signingBytes,
} from '@metanode/ibft'
import { equalBytes, u64be, utf8 } from './bytes.js'
import { STATE_PREFIX, type StateOverlay } from './state.js'

/** One signed consensus message body. */
export interface SignedVote {
  /** The canonical body bytes (ibft `encodeBody`). */
  body: Uint8Array
  /** The author's signature over ibft `signingBytes(chainId, kind, body)`. */
  signature: Uint8Array
}

/** Proof that `validator` signed two different bodies for one (height, round, kind). */
export interface SlashingEvidence {
  /** The offender's validator id. */
  validator: Uint8Array
  /** One signed body. */
  first: SignedVote
  /** A different signed body for the same slot. */
  second: SignedVote
}

/** The slot two conflicting votes share. */
export interface EvidenceSlot {
  /** Height of the votes. */
  height: number
  /** Round of the votes. */
  round: number
  /** Message kind of the votes. */
  kind: MessageKind
}

const VoteShape = shape.object({
  body: shape.bytes({ min: 1, max: 512 }),
  signature: shape.bytes({ length: 64 }),
})

/** Shape of encoded evidence. */
export const SlashingEvidenceShape = shape.object({
  validator: shape.bytes({ length: 32 }),
  first: VoteShape,
  second: VoteShape,
})

/**
 * Compacts the engine's evidence (two wire messages) into {@link SlashingEvidence}; `undefined`
 * when the messages do not decode or were not both written by the named validator.
 */
export function toSlashingEvidence(evidence: EquivocationEvidence): SlashingEvidence | undefined {
  try {
    const [a, b] = evidence.messages.map((wire) => decodeMessage(wire).signed)
    if (a === undefined || b === undefined) return undefined
    if (!equalBytes(a.author, evidence.validator) || !equalBytes(b.author, evidence.validator)) {
      return undefined
    }
    return {
      validator: evidence.validator,
      first: { body: a.bodyBytes, signature: a.signature },
      second: { body: b.bodyBytes, signature: b.signature },
    }
  } catch {
    return undefined
  }
}

/**
 * The slot of valid evidence: both bodies decode, share height, round and kind, differ, and
 * carry the validator's signatures for `chainId`. `undefined` for anything else; never throws
 * for well-typed input.
 */
export function verifySlashingEvidence(
  evidence: SlashingEvidence,
  chainId: string,
  scheme: SignatureScheme = realScheme,
): EvidenceSlot | undefined {
  try {
    const first = decodeBody(evidence.first.body)
    const second = decodeBody(evidence.second.body)
    if (first.kind !== second.kind || first.height !== second.height) return undefined
    if (first.round !== second.round) return undefined
    if (equalBytes(evidence.first.body, evidence.second.body)) return undefined
    for (const vote of [evidence.first, evidence.second]) {
      const message = signingBytes(chainId, first.kind, vote.body)
      if (!scheme.verify(vote.signature, message, evidence.validator)) return undefined
    }
    return { height: first.height, round: first.round, kind: first.kind }
  } catch {
    return undefined
  }
}

/** The state key marking a slot's evidence as counted, so it slashes once. */
export function evidenceKey(validator: Uint8Array, slot: EvidenceSlot): Uint8Array {
  const kind = utf8(slot.kind)
  const key = new Uint8Array(1 + validator.length + 12 + kind.length)
  key[0] = STATE_PREFIX.evidence
  key.set(validator, 1)
  key.set(u64be(slot.height), 1 + validator.length)
  new DataView(key.buffer).setUint32(9 + validator.length, slot.round)
  key.set(kind, 13 + validator.length)
  return key
}

/**
 * Whether evidence of an offence at `offenceHeight` is too old for a block at `height`: older
 * than `height − evidenceMaxAgeHeights` (evidence exactly `evidenceMaxAgeHeights` old still
 * counts). Expiry keeps the memory of counted slots bounded: a slot that can no longer be
 * reported need not be remembered to be refused a second time.
 */
export function isEvidenceExpired(
  offenceHeight: number,
  height: number,
  evidenceMaxAgeHeights: number,
): boolean {
  return offenceHeight < height - evidenceMaxAgeHeights
}

function evidenceByHeightKey(offenceHeight: number): Uint8Array {
  const key = new Uint8Array(9)
  key[0] = STATE_PREFIX.evidenceByHeight
  key.set(u64be(offenceHeight), 1)
  return key
}

/**
 * Marks `slot`'s evidence against `validator` as counted, and files the mark under the slot's
 * height so {@link forgetExpiredEvidence} finds it without scanning the state.
 */
export function markEvidenceCounted(
  state: StateOverlay,
  validator: Uint8Array,
  slot: EvidenceSlot,
): void {
  const key = evidenceKey(validator, slot)
  state.set(key, Uint8Array.of(1))
  const indexKey = evidenceByHeightKey(slot.height)
  const bytes = state.get(indexKey)
  const keys = bytes === undefined ? [] : (decode(bytes) as Uint8Array[])
  keys.push(key)
  state.set(indexKey, encode(keys))
}

/**
 * Drops the counted marks of the offence height that expires at `height` (the first height
 * whose blocks refuse its evidence as too old). Called for every height, it leaves no mark of an
 * offence older than the evidence window in state.
 */
export function forgetExpiredEvidence(
  state: StateOverlay,
  height: number,
  evidenceMaxAgeHeights: number,
): void {
  const expiredHeight = height - evidenceMaxAgeHeights - 1
  if (expiredHeight < 0) return
  const indexKey = evidenceByHeightKey(expiredHeight)
  const bytes = state.get(indexKey)
  if (bytes === undefined) return
  for (const key of decode(bytes) as Uint8Array[]) state.set(key, undefined)
  state.set(indexKey, undefined)
}

/** The canonical encoding of evidence (what the header's `evidenceRoot` hashes). */
export function encodeSlashingEvidence(evidence: SlashingEvidence): Uint8Array {
  return encode(evidence)
}
