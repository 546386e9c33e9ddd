/**
 * Transactions: Ed25519-signed, domain-separated with the chain id, identified by the CID of
 * their canonical DAG-CBOR encoding.
 */
import { cidOf, decodeAs, encode, type Infer, shape } from '@metanode/core'
import { cidForBytes } from '@metanode/crypto/cid'
import { createEd25519, ed25519 } from '@metanode/crypto/ed25519'
import { domainHash } from '@metanode/crypto/hash'
import type { InclusionList } from '@metanode/mempool'
import { equalBytes } from './bytes.js'
import { ChainRejectionError } from './errors.js'

// A pool sees many more senders in rotation than the default 1,024 prepared keys; re-importing a
// key costs about a sixth of a verification.
const senderKeys = createEd25519({ preparedKeyCacheSize: 16_384 })

/** The domain tag every transaction signature covers. */
export const TRANSACTION_TAG = 'metanode/chain/tx/v1'

/** Size limits of transactions. */
export const TRANSACTION_LIMITS = {
  /** Largest encoded signed transaction, in bytes. */
  maxTxBytes: 64 * 1024,
  /** Largest opaque application payload, in bytes. */
  maxAppPayloadBytes: 32 * 1024,
  /** Longest validator name, in UTF-16 code units. */
  maxMonikerLength: 64,
  /** Longest validator website, in UTF-16 code units. */
  maxWebsiteLength: 256,
  /** Longest validator description, in UTF-16 code units. */
  maxDetailsLength: 1024,
  /** Longest chain id, in UTF-16 code units. */
  maxChainIdLength: 64,
  /** Longest application route name. */
  maxRouteLength: 64,
  /** Largest commission, in basis points (100%). */
  maxCommissionBps: 10_000,
} as const

/** The largest amount the codec carries: 2^63 − 1. */
export const MAX_AMOUNT = 2n ** 63n - 1n

const amount = shape.bigint({ min: 0n, max: MAX_AMOUNT })
const positiveAmount = shape.bigint({ min: 1n, max: MAX_AMOUNT })
const publicKey = shape.bytes({ length: 32 })

const InclusionListShape = shape.object({
  validator: shape.bytes({ length: 32 }),
  height: shape.uint(),
  txIds: shape.array(shape.bytes({ min: 1, max: 64 }), { max: 1024 }),
  signature: shape.bytes({ length: 64 }),
})

const ValidatorMetadataShape = shape.object({
  moniker: shape.string({ min: 1, max: TRANSACTION_LIMITS.maxMonikerLength }),
  website: shape.string({ max: TRANSACTION_LIMITS.maxWebsiteLength }),
  details: shape.string({ max: TRANSACTION_LIMITS.maxDetailsLength }),
})

const ActionShape = shape.union(
  shape.object({ kind: shape.literal('transfer'), to: publicKey, amount: positiveAmount }),
  shape.object({
    kind: shape.literal('register-validator'),
    blsPublicKey: shape.bytes({ length: 48 }),
    proofOfPossession: shape.bytes({ length: 96 }),
    stake: positiveAmount,
    commissionBps: shape.uint({ max: TRANSACTION_LIMITS.maxCommissionBps }),
    metadata: ValidatorMetadataShape,
  }),
  shape.object({
    kind: shape.literal('stake'),
    amount: positiveAmount,
    validator: shape.optional(publicKey),
  }),
  shape.object({
    kind: shape.literal('unstake'),
    amount: positiveAmount,
    validator: shape.optional(publicKey),
  }),
  shape.object({ kind: shape.literal('unjail') }),
  shape.object({ kind: shape.literal('submit-inclusion-list'), list: InclusionListShape }),
  shape.object({
    kind: shape.literal('app'),
    route: shape.string({ min: 1, max: TRANSACTION_LIMITS.maxRouteLength }),
    payload: shape.bytes({ max: TRANSACTION_LIMITS.maxAppPayloadBytes }),
  }),
)

const TransactionBodyShape = shape.object({
  chainId: shape.string({ min: 1, max: TRANSACTION_LIMITS.maxChainIdLength }),
  sender: publicKey,
  nonce: shape.uint(),
  maxFee: amount,
  maxPriorityFee: amount,
  action: ActionShape,
})

const SignedTransactionShape = shape.object({
  body: TransactionBodyShape,
  signature: shape.bytes({ length: 64 }),
})

/** Public description of a validator, bounded by {@link TRANSACTION_LIMITS}. */
export interface ValidatorMetadata {
  /** Display name, 1 to 64 characters. */
  moniker: string
  /** Website, up to 256 characters (may be empty). */
  website: string
  /** Free text, up to 1,024 characters (may be empty). */
  details: string
}

/** Moves `amount` from the sender to `to`. */
export interface TransferAction {
  /** Discriminant. */
  kind: 'transfer'
  /** The recipient's Ed25519 public key (its account address). */
  to: Uint8Array
  /** How much to move; positive. */
  amount: bigint
}

/** Registers the sender as a validator candidate, bonding `stake` from its balance. */
export interface RegisterValidatorAction {
  /** Discriminant. */
  kind: 'register-validator'
  /** BLS12-381 public key (48 bytes) that will sign commit seals. */
  blsPublicKey: Uint8Array
  /** Proof of possession of the BLS secret key (96 bytes, `bls.popProve`). */
  proofOfPossession: Uint8Array
  /** Stake bonded from the sender's balance; with any stake already bonded it must reach the minimum. */
  stake: bigint
  /** Commission on rewards, in basis points (0 to 10,000). */
  commissionBps: number
  /** Public description. */
  metadata: ValidatorMetadata
}

/** Bonds `amount` more of the sender's balance: as its own stake, or delegated to `validator`. */
export interface StakeAction {
  /** Discriminant. */
  kind: 'stake'
  /** How much to bond; positive. */
  amount: bigint
  /** A registered, unjailed validator to delegate to; absent (or the sender) bonds the sender's own stake. */
  validator?: Uint8Array
}

/** Returns `amount` of the sender's own stake, or of its delegation to `validator`, to its balance. */
export interface UnstakeAction {
  /** Discriminant. */
  kind: 'unstake'
  /** How much to unbond; positive. */
  amount: bigint
  /** The validator the stake was delegated to; absent for the sender's own stake. */
  validator?: Uint8Array
}

/**
 * Asks to leave jail: the sender must be a jailed validator that has sat out `minJailHeights`
 * since the height that jailed it (`jail-time-not-served` otherwise), no longer in the active
 * set, with at least the minimum stake; it becomes eligible again at the next epoch boundary.
 */
export interface UnjailAction {
  /** Discriminant. */
  kind: 'unjail'
}

/** Records a validator's signed inclusion list, which the block at `list.height` must honour. */
export interface SubmitInclusionListAction {
  /** Discriminant. */
  kind: 'submit-inclusion-list'
  /** The list, signed by an active validator. */
  list: InclusionList
}

/** An opaque payload for a custom chain's handler, selected by `route`. */
export interface AppAction {
  /** Discriminant. */
  kind: 'app'
  /** Which handler receives the payload. */
  route: string
  /** The payload, up to {@link TRANSACTION_LIMITS}.maxAppPayloadBytes. */
  payload: Uint8Array
}

/** What a transaction does. */
export type TransactionAction =
  | TransferAction
  | RegisterValidatorAction
  | StakeAction
  | UnstakeAction
  | UnjailAction
  | SubmitInclusionListAction
  | AppAction

/** The kinds of transaction. */
export type TransactionKind = TransactionAction['kind']

/** The signed part of a transaction. */
export interface TransactionBody {
  /** The chain the transaction is for. */
  chainId: string
  /** The sender's Ed25519 public key: its account address and the key that signs. */
  sender: Uint8Array
  /** The sender's account nonce this transaction consumes. */
  nonce: number
  /** Fee cap per unit of cost (EIP-1559 `maxFeePerGas`). */
  maxFee: bigint
  /** Tip cap per unit of cost, at most `maxFee`. */
  maxPriorityFee: bigint
  /** What it does. */
  action: TransactionAction
}

/** A transaction with its Ed25519 signature over {@link transactionSigningBytes}. */
export interface SignedTransaction {
  /** The signed body. */
  body: TransactionBody
  /** 64-byte Ed25519 signature. */
  signature: Uint8Array
}

// The decoder's inferred type and the documented interfaces must agree.
type DecodedTransaction = Infer<typeof SignedTransactionShape>
const _sameShape: (tx: DecodedTransaction) => SignedTransaction = (tx) => tx

/** The digest a transaction signature covers: `domainHash(TRANSACTION_TAG, chainId, encode(body))`. */
export function transactionSigningBytes(body: TransactionBody): Uint8Array {
  if (typeof body !== 'object' || body === null) throw new TypeError('body must be an object')
  if (typeof body.chainId !== 'string') throw new TypeError('body.chainId must be a string')
  return domainHash(TRANSACTION_TAG, new TextEncoder().encode(body.chainId), encode(body))
}

/**
 * Signs `body` with the sender's 32-byte Ed25519 secret key.
 *
 * @throws RangeError when the key is not the sender's.
 */
export function signTransaction(body: TransactionBody, secretKey: Uint8Array): SignedTransaction {
  const publicKeyOfSecret = ed25519.getPublicKey(secretKey)
  if (!equalBytes(publicKeyOfSecret, body.sender)) {
    throw new RangeError('secretKey does not belong to body.sender')
  }
  return { body, signature: ed25519.sign(transactionSigningBytes(body), secretKey) }
}

/** Whether the signature is the sender's over the body. Never throws for a well-typed transaction. */
export function verifyTransactionSignature(tx: SignedTransaction): boolean {
  return senderKeys.verify(tx.signature, transactionSigningBytes(tx.body), tx.body.sender)
}

/**
 * The canonical DAG-CBOR bytes of a signed transaction.
 *
 * @throws ChainRejectionError `oversized` above {@link TRANSACTION_LIMITS}.maxTxBytes.
 */
export function encodeTransaction(tx: SignedTransaction): Uint8Array {
  const bytes = encode(tx)
  if (bytes.length > TRANSACTION_LIMITS.maxTxBytes) {
    throw new ChainRejectionError('oversized', 'reject', 'transaction too large', {
      details: { bytes: bytes.length, max: TRANSACTION_LIMITS.maxTxBytes },
    })
  }
  return bytes
}

/**
 * Decodes and shape-checks a signed transaction (not its signature).
 *
 * @throws ChainRejectionError `oversized` or `malformed`, with the decoder's error as `cause`.
 */
export function decodeTransaction(bytes: Uint8Array): SignedTransaction {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array')
  if (bytes.length > TRANSACTION_LIMITS.maxTxBytes) {
    throw new ChainRejectionError('oversized', 'reject', 'transaction too large', {
      details: { bytes: bytes.length, max: TRANSACTION_LIMITS.maxTxBytes },
    })
  }
  try {
    return _sameShape(decodeAs(bytes, SignedTransactionShape))
  } catch (cause) {
    throw new ChainRejectionError('malformed', 'reject', 'malformed transaction', { cause })
  }
}

/** The transaction id: the bytes of the CID of its encoding (DAG-CBOR codec, BLAKE3 multihash). */
export function transactionId(tx: SignedTransaction): Uint8Array {
  return cidOf(tx).bytes
}

/**
 * Resource units a transaction consumes: a fixed cost per kind plus one unit per encoded byte,
 * so large payloads pay for the block space they take.
 */
export const TRANSACTION_COSTS: Readonly<Record<TransactionKind, bigint>> = Object.freeze({
  transfer: 1_000n,
  'register-validator': 50_000n,
  stake: 5_000n,
  unstake: 5_000n,
  unjail: 5_000n,
  'submit-inclusion-list': 10_000n,
  app: 2_000n,
})

/** Resource units of a transaction of `size` encoded bytes (see {@link TRANSACTION_COSTS}). */
export function transactionCost(tx: SignedTransaction, size: number): bigint {
  return TRANSACTION_COSTS[tx.body.action.kind] + BigInt(size)
}

/** Amount debited besides fees: the transferred or bonded value. */
export function transactionValue(tx: SignedTransaction): bigint {
  const { action } = tx.body
  switch (action.kind) {
    case 'transfer':
    case 'stake':
      return action.amount
    case 'register-validator':
      return action.stake
    default:
      return 0n
  }
}

/**
 * A decoded transaction with what every layer needs about it computed once: its bytes, id,
 * size and cost.
 */
export interface PreparedTransaction {
  /** The transaction. */
  tx: SignedTransaction
  /** Its canonical encoding. */
  bytes: Uint8Array
  /** Its id ({@link transactionId}). */
  id: Uint8Array
  /** Its resource units ({@link transactionCost}). */
  cost: bigint
}

/**
 * Decodes `bytes` and computes the id and cost.
 *
 * @throws ChainRejectionError `oversized` or `malformed`.
 */
export function prepareTransaction(bytes: Uint8Array): PreparedTransaction {
  const tx = decodeTransaction(bytes)
  // Decoding accepts only the canonical encoding, so `bytes` is what transactionId would encode.
  return { tx, bytes, id: transactionIdOfBytes(bytes), cost: transactionCost(tx, bytes.length) }
}

/**
 * The id of an encoded signed transaction without decoding it. Equal to
 * `transactionId(decodeTransaction(bytes))` for every encoding that decodes (only canonical
 * encodings do); for other bytes it names no transaction.
 */
export function transactionIdOfBytes(bytes: Uint8Array): Uint8Array {
  return cidForBytes(bytes, 'dag-cbor').bytes
}

/** Prepares an in-memory signed transaction (encodes it once). */
export function prepareSignedTransaction(tx: SignedTransaction): PreparedTransaction {
  return prepareTransaction(encodeTransaction(tx))
}
