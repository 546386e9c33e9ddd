/**
 * Equivocation detection: the first signed message of each (author, height, round, kind) is
 * remembered; a second one with a different body is proof that its author signed two conflicting
 * messages, kept (bounded) and handed to the application for slashing.
 */
import type { EquivocationEvidence } from '@metanode/core'
import { equalBytes, hexKey } from './bytes.js'
import type { MessageBody, SignedBody } from './messages.js'

/** Bounds of an {@link EquivocationDetector}. */
export interface EvidenceLimits {
  /** Most pieces of evidence retained (oldest dropped first). Default 256. */
  maxEvidence: number
}

interface FirstSeen {
  bodyBytes: Uint8Array
  wire: Uint8Array
}

/** Remembers first messages per slot and reports conflicting second ones. */
export class EquivocationDetector {
  readonly #maxEvidence: number
  readonly #first = new Map<string, FirstSeen>()
  readonly #reported = new Set<string>()
  readonly #evidence: EquivocationEvidence[] = []

  constructor(limits: Partial<EvidenceLimits> = {}) {
    this.#maxEvidence = limits.maxEvidence ?? 256
  }

  /** Evidence retained so far, oldest first. */
  get evidence(): readonly EquivocationEvidence[] {
    return this.#evidence
  }

  /**
   * Checks an authenticated message. Returns evidence when it conflicts with the first message of
   * its slot (once per slot), `'same'` when it repeats it, `'first'` when it is the first.
   */
  observe(
    signed: SignedBody<MessageBody>,
    wire: Uint8Array,
  ): EquivocationEvidence | 'first' | 'same' {
    const { body } = signed
    const slot = `${hexKey(signed.author)}/${body.height}/${body.round}/${body.kind}`
    const first = this.#first.get(slot)
    if (first === undefined) {
      this.#first.set(slot, { bodyBytes: signed.bodyBytes, wire })
      return 'first'
    }
    if (equalBytes(first.bodyBytes, signed.bodyBytes)) return 'same'
    if (this.#reported.has(slot)) return 'same'
    this.#reported.add(slot)
    const evidence: EquivocationEvidence = {
      validator: signed.author,
      height: body.height,
      round: body.round,
      kind: body.kind,
      messages: [first.wire, wire],
    }
    this.#evidence.push(evidence)
    if (this.#evidence.length > this.#maxEvidence) this.#evidence.shift()
    return evidence
  }

  /** Forgets first-seen messages below `height` (their slots can no longer matter). */
  prune(height: number): void {
    for (const key of [...this.#first.keys()]) {
      if (Number(key.split('/')[1]) < height) this.#first.delete(key)
    }
    for (const key of [...this.#reported]) {
      if (Number(key.split('/')[1]) < height) this.#reported.delete(key)
    }
  }
}
