/**
 * The consensus plug-in and the application it drives (ABCI-like). The engine orders opaque
 * payloads; the application builds, validates and applies them. Heights start at 1 (0 is
 * genesis); rounds start at 0.
 */

import type { Startable } from './startable.js'
import type { PeerId } from './transport.js'

/** One validator of a height. */
export interface Validator {
  /** Stable identity: the validator's Ed25519 public key (32 bytes), which signs consensus messages. */
  id: Uint8Array
  /** BLS12-381 public key (48 bytes, G1) that signs commit seals. */
  blsPublicKey: Uint8Array
  /** Voting power; positive. Equal powers give count-based quorums. */
  votingPower: bigint
}

/** The validators of one height, in their canonical order (the order of certificate bitmaps and proposer rotation). */
export interface ValidatorSet {
  /** Validators in canonical order; ids are unique. */
  validators: readonly Validator[]
}

/** Where a proposal is being built or checked. */
export interface ProposalContext {
  /** The height being decided. */
  height: number
  /** The round within the height. */
  round: number
  /** The proposer's validator id. */
  proposer: Uint8Array
  /** Consensus time of the proposal, in milliseconds since the epoch (from the engine's clock). */
  timestamp: number
}

/** The outcome of validating a payload. Invalid payloads carry a machine-readable code. */
export type ProposalVerdict = { valid: true } | { valid: false; code: string; reason: string }

/** The finality proof of a block: the aggregated BLS commit seals of a quorum. */
export interface CommitCertificate {
  /** The height decided. */
  height: number
  /** The round in which it was decided. */
  round: number
  /** The decided block's id: `Application.blockId(payload)`, by default a hash of all its bytes. */
  blockId: Uint8Array
  /** Bit i set when validator i of the height's set sealed (little-endian bit order within bytes). */
  signers: Uint8Array
  /** Aggregate BLS signature (96 bytes, G2) of the signers' commit seals. */
  signature: Uint8Array
}

/** A decided payload with its proof, handed to the application to apply. */
export interface FinalizedBlock {
  /** The height decided. */
  height: number
  /** The payload the application built and the network agreed on. */
  payload: Uint8Array
  /** The proof of the decision. */
  certificate: CommitCertificate
}

/** Proof that a validator signed two conflicting messages for the same height, round and kind. */
export interface EquivocationEvidence {
  /** The offender's validator id. */
  validator: Uint8Array
  /** Height of the conflicting messages. */
  height: number
  /** Round of the conflicting messages. */
  round: number
  /** The message kind, e.g. `PREPARE`. */
  kind: string
  /** The two signed messages, each as sent on the wire. */
  messages: readonly [Uint8Array, Uint8Array]
}

/** What a chain or an embedding app implements; the engine calls it and nothing else. */
export interface Application {
  /** The validator set that decides `height`. Deterministic: every node answers the same. */
  validatorSet(height: number): Promise<ValidatorSet>
  /** Builds the payload to propose at `context.height` when this node is the proposer. */
  buildProposal(context: ProposalContext): Promise<Uint8Array>
  /** Checks a proposed payload; must be deterministic (same answer on every honest node). */
  validateProposal(context: ProposalContext, payload: Uint8Array): Promise<ProposalVerdict>
  /** Applies a decided block. Called once per height, in height order. */
  finalize(block: FinalizedBlock): Promise<void>
  /** Receives evidence of equivocation, to slash. Optional. */
  reportEvidence?(evidence: EquivocationEvidence): Promise<void>
  /**
   * The id the engine certifies for `payload`: a 32-byte collision-resistant digest that must
   * commit to every byte of the payload that affects execution, so that a certificate of the id
   * proves the whole payload. Deterministic, and synchronous because the engine calls it on every
   * proposal, ROUND-CHANGE and fetched block. When the id is computed from part of the payload
   * (e.g. a block header), this method must check the rest against that part and throw when they
   * disagree; the engine treats a throw as an invalid payload and never certifies it. Optional;
   * default ibft's `blockIdOf` (a domain hash of all the bytes).
   */
  blockId?(payload: Uint8Array): Uint8Array
  /**
   * The validator id (32 bytes) that a decided `payload` records as its proposer, or `undefined`
   * when it records none. Optional; when present, the engine's default proposer rotation starts
   * after the previous block's recorded proposer (round-robin), which every node reads from the
   * same decided bytes whatever round its certificate is for. Must be deterministic; it is only
   * called on payloads the network decided.
   */
  proposerOf?(payload: Uint8Array): Uint8Array | undefined
}

/** Payloads of the engine's events. */
export interface ConsensusEvents {
  /** A height was decided and applied. */
  finalized: { block: FinalizedBlock; latencyMs: number }
  /** The engine moved to a new round of the current height. */
  'round-change': { height: number; round: number }
  /** Equivocation was detected. */
  evidence: { evidence: EquivocationEvidence }
}

/** A consensus engine: started and stopped, fed messages from the transport, emitting decisions. */
export interface ConsensusEngine extends Startable {
  /** The height being decided now. */
  readonly height: number
  /** The round being run now. */
  readonly round: number
  /** Hands the engine a message received from `from`; resolves to what the transport should do with the sender. */
  submit(from: PeerId, data: Uint8Array): Promise<'accept' | 'ignore' | 'reject'>
  /** Listens to an event; returns a function that removes the listener. */
  on<K extends keyof ConsensusEvents>(
    event: K,
    listener: (detail: ConsensusEvents[K]) => void,
  ): () => void
}
