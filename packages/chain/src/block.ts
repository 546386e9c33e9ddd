/**
 * Blocks: a header committing to the transactions, the evidence, the parent's certificate, the
 * state after them, their receipts and the validator sets, and a body of encoded signed
 * transactions, evidence and that certificate. The block's encoding is the payload the consensus
 * engine orders; the id it certifies is the header's ({@link headerId}), which commits to every
 * other part of the block through `txRoot`, `evidenceRoot` and `parentCertificateHash`.
 */

import type { CommitCertificate } from '@metanode/core'
import { decodeAs, encode, shape } from '@metanode/core'
import { domainHash } from '@metanode/crypto/hash'
import { merkleRoot } from '@metanode/crypto/merkle'
import { equalBytes } from './bytes.js'
import { ChainRejectionError } from './errors.js'
import { encodeSlashingEvidence, type SlashingEvidence, SlashingEvidenceShape } from './evidence.js'
import { decodeTransaction, transactionId } from './transaction.js'

/** The domain tag of header ids. */
export const HEADER_TAG = 'metanode/chain/header/v1'

/** The domain tag of {@link certificateHash}. */
export const CERTIFICATE_TAG = 'metanode/chain/certificate/v1'

/** Limits of blocks. */
export const BLOCK_LIMITS = {
  /** Largest encoded block (the engine's payload limit is 768 KiB). */
  maxBlockBytes: 768 * 1024,
  /** Most transactions in one block. */
  maxBlockTxs: 10_000,
  /** Most pieces of slashing evidence in one block. */
  maxEvidence: 64,
} as const

/** A block header. */
export interface BlockHeader {
  /** The chain. */
  chainId: string
  /** Height, from 1 (0 is genesis). */
  height: number
  /** Id ({@link headerId}) of the parent header; the genesis id for height 1. */
  parentId: Uint8Array
  /** The proposer's validator id (Ed25519 public key): it receives the fees. */
  proposer: Uint8Array
  /** Proposer's time in ms since the epoch: above the parent's, within the allowed drift of the validators' clocks. */
  timestamp: number
  /** Merkle root of the transaction ids, in block order. */
  txRoot: Uint8Array
  /** State root after applying the block. */
  stateRoot: Uint8Array
  /** Merkle root of the encoded receipts, in block order. */
  receiptsRoot: Uint8Array
  /** Merkle root of the encoded slashing evidence, in block order. */
  evidenceRoot: Uint8Array
  /** {@link certificateHash} of the block's parent certificate (of `null` at height 1). */
  parentCertificateHash: Uint8Array
  /** Hash (ibft `validatorSetHash`) of the set that decides this height. */
  validatorSetHash: Uint8Array
  /** Hash of the set that decides the next height: how light clients follow set changes. */
  nextValidatorSetHash: Uint8Array
}

/** A block: header, encoded signed transactions, slashing evidence and the parent's certificate. */
export interface Block {
  /** The header. */
  header: BlockHeader
  /** Encoded signed transactions, in execution order. */
  txs: Uint8Array[]
  /** Equivocation evidence to slash, applied before the transactions. */
  evidence: SlashingEvidence[]
  /**
   * The commit certificate of the parent (`null` at height 1), chosen by the proposer: its
   * signers are what every node counts as the validators' commits, so rewards are deterministic
   * even though each node may have assembled a different certificate itself.
   */
  parentCertificate: CommitCertificate | null
}

/** Outcome of one transaction. */
export interface Receipt {
  /** The transaction id. */
  txId: Uint8Array
  /** Whether its action took effect (the fee and nonce are charged either way). */
  status: 'success' | 'failed'
  /** Fee charged, paid to the proposer. */
  fee: bigint
  /** Why it failed (a {@link ChainRejectionError} code); absent on success. */
  code?: string
}

const hash32 = shape.bytes({ length: 32 })

/** Shape of a decoded header. */
export const BlockHeaderShape = shape.object({
  chainId: shape.string({ min: 1, max: 64 }),
  height: shape.uint(),
  parentId: hash32,
  proposer: hash32,
  timestamp: shape.uint(),
  txRoot: hash32,
  stateRoot: hash32,
  receiptsRoot: hash32,
  evidenceRoot: hash32,
  parentCertificateHash: hash32,
  validatorSetHash: hash32,
  nextValidatorSetHash: hash32,
})

/** Shape of a decoded commit certificate. */
export const CommitCertificateShape = shape.object({
  height: shape.uint(),
  round: shape.uint(),
  blockId: shape.bytes({ length: 32 }),
  signers: shape.bytes({ min: 1, max: 128 }),
  signature: shape.bytes({ length: 96 }),
})

const BlockShape = shape.object({
  header: BlockHeaderShape,
  txs: shape.array(shape.bytes({ min: 1 }), { max: BLOCK_LIMITS.maxBlockTxs }),
  evidence: shape.array(SlashingEvidenceShape, { max: BLOCK_LIMITS.maxEvidence }),
  parentCertificate: shape.union(shape.literal(null), CommitCertificateShape),
})

const ReceiptShape = shape.object({
  txId: shape.bytes({ min: 1, max: 64 }),
  status: shape.union(shape.literal('success'), shape.literal('failed')),
  fee: shape.bigint({ min: 0n }),
  code: shape.optional(shape.string({ max: 64 })),
})

/**
 * The id of a header: `domainHash(HEADER_TAG, encode(header))`. It is the block id the consensus
 * engine certifies (the application's `blockId`), so a commit certificate proves a header alone.
 */
export function headerId(header: BlockHeader): Uint8Array {
  return domainHash(HEADER_TAG, encode(header))
}

/** The canonical encoding of a block: the consensus payload. */
export function encodeBlock(block: Block): Uint8Array {
  return encode(block, { maxBytes: BLOCK_LIMITS.maxBlockBytes })
}

/**
 * Decodes a block payload and checks its shape.
 *
 * @throws ChainRejectionError `malformed` (decoder error as `cause`).
 */
export function decodeBlock(bytes: Uint8Array): Block {
  try {
    return decodeAs(bytes, BlockShape, { maxBytes: BLOCK_LIMITS.maxBlockBytes })
  } catch (cause) {
    throw new ChainRejectionError('malformed', 'reject', 'malformed block', { cause })
  }
}

/** The canonical encoding of a receipt (what {@link receiptsRoot} hashes). */
export function encodeReceipt(receipt: Receipt): Uint8Array {
  return encode(receipt)
}

/** Encodes a block's receipts for storage. */
export function encodeReceipts(receipts: readonly Receipt[]): Uint8Array {
  return encode(receipts)
}

/**
 * Decodes stored receipts.
 *
 * @throws DecodeError for malformed bytes.
 */
export function decodeReceipts(bytes: Uint8Array): Receipt[] {
  return decodeAs(bytes, shape.array(ReceiptShape)) as Receipt[]
}

/** Merkle root of transaction ids, in block order. */
export function txRoot(txIds: readonly Uint8Array[]): Uint8Array {
  return merkleRoot(txIds)
}

/** Merkle root of encoded receipts, in block order. */
export function receiptsRoot(receipts: readonly Receipt[]): Uint8Array {
  return merkleRoot(receipts.map(encodeReceipt))
}

/** Merkle root of encoded slashing evidence, in block order. */
export function evidenceRoot(evidence: readonly SlashingEvidence[]): Uint8Array {
  return merkleRoot(evidence.map(encodeSlashingEvidence))
}

/**
 * The hash a header commits to its block's parent certificate with:
 * `domainHash(CERTIFICATE_TAG, encode(certificate))`, over exactly the five certificate fields
 * (`null`, at height 1, is hashed too).
 */
export function certificateHash(certificate: CommitCertificate | null): Uint8Array {
  return domainHash(
    CERTIFICATE_TAG,
    encode(
      certificate === null
        ? null
        : {
            height: certificate.height,
            round: certificate.round,
            blockId: certificate.blockId,
            signers: certificate.signers,
            signature: certificate.signature,
          },
    ),
  )
}

/** A part of a block's body that its header does not commit to. */
export type BlockBodyMismatch = 'txRoot' | 'evidenceRoot' | 'parentCertificateHash'

/**
 * The first part of `block`'s body (given its transaction ids, in block order) that does not
 * match its header, or `undefined` when the header commits to the whole body.
 */
export function blockBodyMismatch(
  block: Block,
  txIds: readonly Uint8Array[],
): BlockBodyMismatch | undefined {
  const { header } = block
  if (!equalBytes(header.txRoot, txRoot(txIds))) return 'txRoot'
  if (!equalBytes(header.evidenceRoot, evidenceRoot(block.evidence))) return 'evidenceRoot'
  if (!equalBytes(header.parentCertificateHash, certificateHash(block.parentCertificate))) {
    return 'parentCertificateHash'
  }
  return undefined
}

/**
 * Whether `block`'s body is the one its header commits to: its transactions match `txRoot`, its
 * evidence `evidenceRoot` and its parent certificate `parentCertificateHash`. A verified header
 * ({@link headerId} certified) and a body that passes this are a verified block. Returns `false`
 * for a mismatch or an undecodable transaction; never throws for a well-typed block.
 */
export function verifyBlockBody(block: Block): boolean {
  try {
    const ids = block.txs.map((bytes) => transactionId(decodeTransaction(bytes)))
    return blockBodyMismatch(block, ids) === undefined
  } catch {
    return false
  }
}
