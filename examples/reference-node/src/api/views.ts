/**
 * JSON views of chain data for the HTTP/WebSocket API and the CLI's `--json` output: snake_case
 * keys, bytes as lowercase hex, amounts (bigints) as decimal strings. Pure functions, plus the
 * JSON schemas that describe their results (used as fastify response schemas).
 *
 * @example
 * ```ts
 * import { toBlockJson, toStatusJson } from './views.js'
 *
 * const stored = await node.block(1)
 * if (stored !== undefined) console.log(JSON.stringify(toBlockJson(stored)))
 * console.log(toStatusJson(node.status()).blockchain_state.current_block_height)
 * ```
 *
 * @module
 */
import {
  type Account,
  type BlockHeader,
  headerId,
  prepareTransaction,
  type Receipt,
  type SignedTransaction,
  type StoredBlock,
  type TransactionAction,
  transactionId,
} from '@metanode/chain'
import type { CommitCertificate } from '@metanode/core'
import { bytesToHex } from '@metanode/crypto/bytes'
import type {
  NodeEvents,
  NodeStatus,
  SubmitOutcome,
  TransactionLookup,
  ValidatorView,
} from '../service.js'

/** A block header. */
export interface HeaderJson {
  /** The chain id. */
  chain_id: string
  /** The height. */
  height: number
  /** Hex id of the parent header. */
  parent_id: string
  /** Hex validator id of the proposer. */
  proposer: string
  /** Proposer's time, ms since the epoch. */
  timestamp: number
  /** Hex Merkle root of the transaction ids. */
  tx_root: string
  /** Hex state root after the block. */
  state_root: string
  /** Hex Merkle root of the receipts. */
  receipts_root: string
  /** Hex Merkle root of the slashing evidence. */
  evidence_root: string
  /** Hex hash of the validator set deciding this height. */
  validator_set_hash: string
  /** Hex hash of the validator set deciding the next height. */
  next_validator_set_hash: string
}

/** What a transaction does, with the fields of its kind. */
export type ActionJson =
  | {
      /** Discriminant. */
      kind: 'transfer'
      /** Hex address of the recipient. */
      to: string
      /** Decimal amount. */
      amount: string
    }
  | {
      /** Discriminant. */
      kind: 'register-validator'
      /** Hex BLS public key. */
      bls_public_key: string
      /** Hex proof of possession. */
      proof_of_possession: string
      /** Decimal stake bonded. */
      stake: string
      /** Commission in basis points. */
      commission_bps: number
      /** Public description. */
      metadata: {
        /** Display name. */
        moniker: string
        /** Website. */
        website: string
        /** Free text. */
        details: string
      }
    }
  | {
      /** Discriminant. */
      kind: 'stake' | 'unstake'
      /** Decimal amount. */
      amount: string
      /** Hex id of the validator delegated to, when delegating. */
      validator?: string
    }
  | {
      /** Discriminant. */
      kind: 'unjail'
    }
  | {
      /** Discriminant. */
      kind: 'submit-inclusion-list'
      /** The signed inclusion list. */
      list: {
        /** Hex id of the publishing validator. */
        validator: string
        /** The height the list constrains. */
        height: number
        /** Hex ids of the listed transactions. */
        tx_ids: string[]
        /** Hex signature. */
        signature: string
      }
    }
  | {
      /** Discriminant. */
      kind: 'app'
      /** The handler's route. */
      route: string
      /** Hex payload. */
      payload: string
    }

/** A signed transaction. */
export interface TransactionJson {
  /** Hex transaction id (CID bytes). */
  hash: string
  /** The chain id it is signed for. */
  chain_id: string
  /** Hex address of the sender. */
  sender: string
  /** The sender nonce it consumes. */
  nonce: number
  /** Decimal fee cap per unit of cost. */
  max_fee: string
  /** Decimal tip cap per unit of cost. */
  max_priority_fee: string
  /** What it does. */
  action: ActionJson
  /** Hex Ed25519 signature. */
  signature: string
}

/** The outcome of an included transaction. */
export interface ReceiptJson {
  /** Hex transaction id. */
  transaction_hash: string
  /** Whether the action took effect. */
  status: 'success' | 'failed'
  /** Decimal fee charged. */
  fee: string
  /** Why it failed; absent on success. */
  code?: string
}

/** A commit certificate: the finality proof of a block. */
export interface CertificateJson {
  /** The height decided. */
  height: number
  /** The round it was decided in. */
  round: number
  /** Hex id of the decided block. */
  block_id: string
  /** Hex bitmap of the sealing validators (bit i, little-endian within bytes = validator i). */
  signers: string
  /** Positions of the sealing validators in the height's validator set. */
  signer_indices: number[]
  /** Hex aggregate BLS signature. */
  aggregate_signature: string
}

/** A finalized block. */
export interface BlockJson {
  /** Hex header id. */
  hash: string
  /** The header. */
  header: HeaderJson
  /** The transactions, in execution order. */
  transactions: TransactionJson[]
  /** Their receipts, in the same order. */
  receipts: ReceiptJson[]
  /** Pieces of slashing evidence the block carries. */
  evidence_count: number
  /** The parent's certificate chosen by the proposer (`null` at height 1). */
  parent_certificate: CertificateJson | null
  /** The certificate that finalized this block. */
  commit_certificate: CertificateJson
}

/** A validator of the registry. */
export interface ValidatorJson {
  /** Hex validator id (Ed25519 public key). */
  id: string
  /** Hex BLS public key. */
  bls_public_key: string
  /** Decimal own stake. */
  stake: string
  /** Decimal voting power in the next height's set. */
  voting_power: string
  /** In the next height's active set. */
  active: boolean
  /** Jailed for equivocation. */
  jailed: boolean
  /** The height it was jailed at, or `null` when it never was (or was unjailed since). */
  jailed_height: number | null
  /** Commission in basis points. */
  commission_bps: number
  /** Commits signed this epoch. */
  commits_signed: number
  /** Proposals made this epoch. */
  proposals_made: number
}

/** The answer of `GET /api/v1/network/peers`. */
export interface PeersJson {
  /** Transport peer ids of the connected peers (libp2p: base58 `12D3KooW...`). */
  peers: string[]
}

/** The answer of `GET /api/v1/blockchain/status`. */
export interface StatusJson {
  /** The chain and the node's place in it. */
  blockchain_state: {
    /** The chain id. */
    chain_id: string
    /** Last applied height. */
    current_block_height: number
    /** Hex id of the last applied header. */
    current_block_hash: string
    /** Last finalized height. */
    finalized_block_height: number
    /** Transactions included since genesis. */
    total_transactions: number
    /** Validators deciding the next height. */
    active_validators: number
    /** Connected peers. */
    network_peers: number
    /** Consensus round of the height being decided. */
    consensus_round: number
    /** Hex state root. */
    state_root: string
    /** Seconds since the node started. */
    uptime_seconds: number
    /** The transaction pool. */
    mempool: {
      /** Executable transactions. */
      pending: number
      /** Transactions waiting for a nonce gap to close. */
      queued: number
      /** Bytes held. */
      bytes: number
    }
  }
  /** Recent throughput and latency. */
  performance_metrics: {
    /** Finalized transactions per second, recent window. */
    transactions_per_second: number
    /** Mean time between recent blocks, ms. */
    average_block_time: number
    /** Mean proposal-to-finality latency, ms. */
    finality_time: number
  }
}

/** The outcome of one submitted transaction. */
export interface SubmitResultJson {
  /** Hex transaction id, `null` when the bytes did not decode. */
  transaction_hash: string | null
  /** What the node did with it. */
  status: 'pending' | 'queued' | 'duplicate' | 'rejected'
  /** Machine-readable reason, when rejected. */
  code?: string
  /** Human-readable reason, when rejected. */
  message?: string
}

/** Where a transaction is. */
export interface TransactionLookupJson {
  /** Hex transaction id. */
  transaction_hash: string
  /** Its status on this node. */
  status: 'pending' | 'queued' | 'finalized' | 'unknown'
  /** The including height, when finalized. */
  block_height?: number
  /** Position in the block, when finalized. */
  index?: number
  /** The receipt, when finalized. */
  receipt?: ReceiptJson
  /** The transaction, when known. */
  transaction?: TransactionJson
}

/** A frame of the `WS /ws` stream announcing a finalized block. */
export interface BlockEventJson {
  /** Discriminant. */
  type: 'block'
  /** The height. */
  height: number
  /** Hex header id. */
  hash: string
  /** The header. */
  header: HeaderJson
  /** Transactions in the block. */
  transaction_count: number
  /** Proposal-to-finality latency reported by the engine, ms. */
  latency_ms: number
}

/** A frame of the `WS /ws` stream announcing a transaction status change. */
export interface TransactionEventJson {
  /** Discriminant. */
  type: 'transaction'
  /** Hex transaction id. */
  id: string
  /** The new status. */
  status: NodeEvents['transaction']['status']
  /** The including height, when finalized. */
  height?: number
  /** Why it left the pool, when dropped. */
  reason?: string
}

/** A frame of the `WS /ws` stream announcing a new consensus round. */
export interface RoundEventJson {
  /** Discriminant. */
  type: 'round'
  /** The height being decided. */
  height: number
  /** The new round. */
  round: number
}

/** The JSON view of a header. */
export function toHeaderJson(header: BlockHeader): HeaderJson {
  return {
    chain_id: header.chainId,
    height: header.height,
    parent_id: bytesToHex(header.parentId),
    proposer: bytesToHex(header.proposer),
    timestamp: header.timestamp,
    tx_root: bytesToHex(header.txRoot),
    state_root: bytesToHex(header.stateRoot),
    receipts_root: bytesToHex(header.receiptsRoot),
    evidence_root: bytesToHex(header.evidenceRoot),
    validator_set_hash: bytesToHex(header.validatorSetHash),
    next_validator_set_hash: bytesToHex(header.nextValidatorSetHash),
  }
}

/** The JSON view of a transaction action. */
export function toActionJson(action: TransactionAction): ActionJson {
  switch (action.kind) {
    case 'transfer':
      return { kind: action.kind, to: bytesToHex(action.to), amount: action.amount.toString() }
    case 'register-validator':
      return {
        kind: action.kind,
        bls_public_key: bytesToHex(action.blsPublicKey),
        proof_of_possession: bytesToHex(action.proofOfPossession),
        stake: action.stake.toString(),
        commission_bps: action.commissionBps,
        metadata: { ...action.metadata },
      }
    case 'stake':
    case 'unstake':
      return {
        kind: action.kind,
        amount: action.amount.toString(),
        ...(action.validator === undefined ? {} : { validator: bytesToHex(action.validator) }),
      }
    case 'unjail':
      return { kind: action.kind }
    case 'submit-inclusion-list':
      return {
        kind: action.kind,
        list: {
          validator: bytesToHex(action.list.validator),
          height: action.list.height,
          tx_ids: action.list.txIds.map(bytesToHex),
          signature: bytesToHex(action.list.signature),
        },
      }
    case 'app':
      return { kind: action.kind, route: action.route, payload: bytesToHex(action.payload) }
  }
}

/** The JSON view of a signed transaction; `id` saves recomputing its id when known. */
export function toTransactionJson(tx: SignedTransaction, id?: Uint8Array): TransactionJson {
  const { body } = tx
  return {
    hash: bytesToHex(id ?? transactionId(tx)),
    chain_id: body.chainId,
    sender: bytesToHex(body.sender),
    nonce: body.nonce,
    max_fee: body.maxFee.toString(),
    max_priority_fee: body.maxPriorityFee.toString(),
    action: toActionJson(body.action),
    signature: bytesToHex(tx.signature),
  }
}

/** The JSON view of a receipt. */
export function toReceiptJson(receipt: Receipt): ReceiptJson {
  return {
    transaction_hash: bytesToHex(receipt.txId),
    status: receipt.status,
    fee: receipt.fee.toString(),
    ...(receipt.code === undefined ? {} : { code: receipt.code }),
  }
}

/** Positions of the set bits of a certificate's signer bitmap (little-endian within bytes). */
export function signerIndices(signers: Uint8Array): number[] {
  const indices: number[] = []
  signers.forEach((byte, offset) => {
    for (let bit = 0; bit < 8; bit++) if ((byte >> bit) & 1) indices.push(offset * 8 + bit)
  })
  return indices
}

/** The JSON view of a commit certificate. */
export function toCertificateJson(certificate: CommitCertificate): CertificateJson {
  return {
    height: certificate.height,
    round: certificate.round,
    block_id: bytesToHex(certificate.blockId),
    signers: bytesToHex(certificate.signers),
    signer_indices: signerIndices(certificate.signers),
    aggregate_signature: bytesToHex(certificate.signature),
  }
}

/** The JSON view of a finalized block with its transactions, receipts and certificate. */
export function toBlockJson(stored: StoredBlock): BlockJson {
  const { block, certificate, receipts } = stored
  return {
    hash: bytesToHex(headerId(block.header)),
    header: toHeaderJson(block.header),
    transactions: block.txs.map((bytes) => {
      const prepared = prepareTransaction(bytes)
      return toTransactionJson(prepared.tx, prepared.id)
    }),
    receipts: receipts.map(toReceiptJson),
    evidence_count: block.evidence.length,
    parent_certificate:
      block.parentCertificate === null ? null : toCertificateJson(block.parentCertificate),
    commit_certificate: toCertificateJson(certificate),
  }
}

/** The JSON view of a validator. */
export function toValidatorJson(validator: ValidatorView): ValidatorJson {
  return {
    id: bytesToHex(validator.id),
    bls_public_key: bytesToHex(validator.blsPublicKey),
    stake: validator.stake.toString(),
    voting_power: validator.votingPower.toString(),
    active: validator.active,
    jailed: validator.jailed,
    jailed_height: validator.jailedHeight ?? null,
    commission_bps: validator.commissionBps,
    commits_signed: validator.commitsSigned,
    proposals_made: validator.proposalsMade,
  }
}

/** The JSON view of an account. */
export interface AccountJson {
  /** The account's address (its Ed25519 public key), hex. */
  address: string
  /** Spendable balance, decimal. */
  balance: string
  /** The nonce its next transaction must carry. */
  nonce: number
  /** Bonded stake, decimal. */
  stake: string
}

/** The JSON view of an account after the last applied block. */
export function toAccountJson(address: Uint8Array, account: Account): AccountJson {
  return {
    address: bytesToHex(address),
    balance: account.balance.toString(),
    nonce: account.nonce,
    stake: account.stake.toString(),
  }
}

/** The JSON view of a node's status. */
export function toStatusJson(status: NodeStatus): StatusJson {
  return {
    blockchain_state: {
      chain_id: status.chainId,
      current_block_height: status.height,
      current_block_hash: bytesToHex(status.headHash),
      finalized_block_height: status.finalizedHeight,
      total_transactions: status.totalTransactions,
      active_validators: status.activeValidators,
      network_peers: status.networkPeers,
      consensus_round: status.consensusRound,
      state_root: bytesToHex(status.stateRoot),
      uptime_seconds: status.uptimeSeconds,
      mempool: { ...status.mempool },
    },
    performance_metrics: {
      transactions_per_second: status.transactionsPerSecond,
      average_block_time: status.averageBlockTimeMs,
      finality_time: status.finalityTimeMs,
    },
  }
}

/** The JSON view of one submission outcome. */
export function toSubmitResultJson(outcome: SubmitOutcome): SubmitResultJson {
  if (outcome.status !== 'rejected') {
    return { transaction_hash: bytesToHex(outcome.id), status: outcome.status }
  }
  return {
    transaction_hash: outcome.id === undefined ? null : bytesToHex(outcome.id),
    status: 'rejected',
    code: outcome.code,
    message: outcome.message,
  }
}

/** The JSON view of a transaction lookup for id `id`. */
export function toTransactionLookupJson(
  id: Uint8Array,
  lookup: TransactionLookup,
): TransactionLookupJson {
  const transaction_hash = bytesToHex(id)
  switch (lookup.status) {
    case 'unknown':
      return { transaction_hash, status: 'unknown' }
    case 'pending':
    case 'queued':
      return {
        transaction_hash,
        status: lookup.status,
        transaction: toTransactionJson(lookup.transaction, id),
      }
    case 'finalized':
      return {
        transaction_hash,
        status: 'finalized',
        block_height: lookup.height,
        index: lookup.index,
        receipt: toReceiptJson(lookup.receipt),
        transaction: toTransactionJson(lookup.transaction, id),
      }
  }
}

/** The stream frame of a finalized block (a summary: fetch the block for its transactions). */
export function toBlockEventJson(event: NodeEvents['block']): BlockEventJson {
  const { header, txs } = event.stored.block
  return {
    type: 'block',
    height: header.height,
    hash: bytesToHex(headerId(header)),
    header: toHeaderJson(header),
    transaction_count: txs.length,
    latency_ms: event.latencyMs,
  }
}

/** The stream frame of a transaction status change. */
export function toTransactionEventJson(event: NodeEvents['transaction']): TransactionEventJson {
  return {
    type: 'transaction',
    id: bytesToHex(event.id),
    status: event.status,
    ...(event.height === undefined ? {} : { height: event.height }),
    ...(event.reason === undefined ? {} : { reason: event.reason }),
  }
}

/** The stream frame of a new consensus round. */
export function toRoundEventJson(event: NodeEvents['round']): RoundEventJson {
  return { type: 'round', height: event.height, round: event.round }
}

const hexString = { type: 'string' } as const
const decimalString = { type: 'string' } as const
const integer = { type: 'integer' } as const

const headerSchema = {
  type: 'object',
  required: [
    'chain_id',
    'height',
    'parent_id',
    'proposer',
    'timestamp',
    'tx_root',
    'state_root',
    'receipts_root',
    'evidence_root',
    'validator_set_hash',
    'next_validator_set_hash',
  ],
  properties: {
    chain_id: { type: 'string' },
    height: integer,
    parent_id: hexString,
    proposer: hexString,
    timestamp: integer,
    tx_root: hexString,
    state_root: hexString,
    receipts_root: hexString,
    evidence_root: hexString,
    validator_set_hash: hexString,
    next_validator_set_hash: hexString,
  },
} as const

// One object with every kind's fields (all optional but `kind`): the serializer then needs no
// per-kind branch selection, and absent fields are simply left out.
const actionSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string' },
    to: hexString,
    amount: decimalString,
    validator: hexString,
    bls_public_key: hexString,
    proof_of_possession: hexString,
    stake: decimalString,
    commission_bps: integer,
    metadata: {
      type: 'object',
      required: ['moniker', 'website', 'details'],
      properties: {
        moniker: { type: 'string' },
        website: { type: 'string' },
        details: { type: 'string' },
      },
    },
    list: {
      type: 'object',
      required: ['validator', 'height', 'tx_ids', 'signature'],
      properties: {
        validator: hexString,
        height: integer,
        tx_ids: { type: 'array', items: hexString },
        signature: hexString,
      },
    },
    route: { type: 'string' },
    payload: hexString,
  },
} as const

const transactionSchema = {
  type: 'object',
  required: [
    'hash',
    'chain_id',
    'sender',
    'nonce',
    'max_fee',
    'max_priority_fee',
    'action',
    'signature',
  ],
  properties: {
    hash: hexString,
    chain_id: { type: 'string' },
    sender: hexString,
    nonce: integer,
    max_fee: decimalString,
    max_priority_fee: decimalString,
    action: actionSchema,
    signature: hexString,
  },
} as const

const receiptSchema = {
  type: 'object',
  required: ['transaction_hash', 'status', 'fee'],
  properties: {
    transaction_hash: hexString,
    status: { type: 'string' },
    fee: decimalString,
    code: { type: 'string' },
  },
} as const

const certificateSchema = {
  type: 'object',
  required: ['height', 'round', 'block_id', 'signers', 'signer_indices', 'aggregate_signature'],
  properties: {
    height: integer,
    round: integer,
    block_id: hexString,
    signers: hexString,
    signer_indices: { type: 'array', items: integer },
    aggregate_signature: hexString,
  },
} as const

const validatorSchema = {
  type: 'object',
  required: [
    'id',
    'bls_public_key',
    'stake',
    'voting_power',
    'active',
    'jailed',
    'jailed_height',
    'commission_bps',
    'commits_signed',
    'proposals_made',
  ],
  properties: {
    id: hexString,
    bls_public_key: hexString,
    stake: decimalString,
    voting_power: decimalString,
    active: { type: 'boolean' },
    jailed: { type: 'boolean' },
    jailed_height: { type: ['integer', 'null'] },
    commission_bps: integer,
    commits_signed: integer,
    proposals_made: integer,
  },
} as const

/**
 * JSON schemas of the views, as fastify response schemas: they fix the serialized fields, so a
 * view can never leak a property it was not meant to carry.
 */
export const viewSchemas = {
  /** {@link AccountJson}. */
  account: {
    type: 'object',
    required: ['address', 'balance', 'nonce', 'stake'],
    properties: {
      address: hexString,
      balance: decimalString,
      nonce: integer,
      stake: decimalString,
    },
  },
  /** `{ code, message }` of every error answer. */
  error: {
    type: 'object',
    required: ['code', 'message'],
    properties: { code: { type: 'string' }, message: { type: 'string' } },
  },
  /** {@link StatusJson}. */
  status: {
    type: 'object',
    required: ['blockchain_state', 'performance_metrics'],
    properties: {
      blockchain_state: {
        type: 'object',
        required: [
          'chain_id',
          'current_block_height',
          'current_block_hash',
          'finalized_block_height',
          'total_transactions',
          'active_validators',
          'network_peers',
          'consensus_round',
          'state_root',
          'uptime_seconds',
          'mempool',
        ],
        properties: {
          chain_id: { type: 'string' },
          current_block_height: integer,
          current_block_hash: hexString,
          finalized_block_height: integer,
          total_transactions: integer,
          active_validators: integer,
          network_peers: integer,
          consensus_round: integer,
          state_root: hexString,
          uptime_seconds: integer,
          mempool: {
            type: 'object',
            required: ['pending', 'queued', 'bytes'],
            properties: { pending: integer, queued: integer, bytes: integer },
          },
        },
      },
      performance_metrics: {
        type: 'object',
        required: ['transactions_per_second', 'average_block_time', 'finality_time'],
        properties: {
          transactions_per_second: { type: 'number' },
          average_block_time: { type: 'number' },
          finality_time: { type: 'number' },
        },
      },
    },
  },
  /** `{ results: SubmitResultJson[] }`. */
  submitResults: {
    type: 'object',
    required: ['results'],
    properties: {
      results: {
        type: 'array',
        items: {
          type: 'object',
          required: ['transaction_hash', 'status'],
          properties: {
            transaction_hash: { type: ['string', 'null'] },
            status: { type: 'string' },
            code: { type: 'string' },
            message: { type: 'string' },
          },
        },
      },
    },
  },
  /** {@link TransactionLookupJson}. */
  transactionLookup: {
    type: 'object',
    required: ['transaction_hash', 'status'],
    properties: {
      transaction_hash: hexString,
      status: { type: 'string' },
      block_height: integer,
      index: integer,
      receipt: receiptSchema,
      transaction: transactionSchema,
    },
  },
  /** {@link BlockJson}. */
  block: {
    type: 'object',
    required: [
      'hash',
      'header',
      'transactions',
      'receipts',
      'evidence_count',
      'parent_certificate',
      'commit_certificate',
    ],
    properties: {
      hash: hexString,
      header: headerSchema,
      transactions: { type: 'array', items: transactionSchema },
      receipts: { type: 'array', items: receiptSchema },
      evidence_count: integer,
      parent_certificate: { anyOf: [{ type: 'null' }, certificateSchema] },
      commit_certificate: certificateSchema,
    },
  },
  /** `{ validators: ValidatorJson[] }`. */
  validators: {
    type: 'object',
    required: ['validators'],
    properties: { validators: { type: 'array', items: validatorSchema } },
  },
  /** {@link PeersJson}. */
  peers: {
    type: 'object',
    required: ['peers'],
    properties: { peers: { type: 'array', items: { type: 'string' } } },
  },
  /** `{ status: 'ok' | 'unhealthy' }`. */
  health: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string' } },
  },
} as const
