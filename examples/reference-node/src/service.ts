/**
 * What a running node offers its HTTP/WebSocket API and its metrics: reads of the chain, the
 * mempool and the network, transaction submission, and events. Bytes stay `Uint8Array` here;
 * hex and snake_case appear only at the HTTP edge.
 */
import type {
  ChainApplication,
  Genesis,
  IncludedTransaction,
  SignedTransaction,
  StoredBlock,
} from '@metanode/chain'

/** A node's view of its chain and network, for `GET /api/v1/blockchain/status`. */
export interface NodeStatus {
  /** The chain id. */
  chainId: string
  /** The last applied height. */
  height: number
  /** The header id of the last applied block (the genesis id at height 0). */
  headHash: Uint8Array
  /** The last finalized height (with BFT finality, the applied height). */
  finalizedHeight: number
  /** Transactions included since genesis. */
  totalTransactions: number
  /** Validators deciding the next height. */
  activeValidators: number
  /** Connected peers. */
  networkPeers: number
  /** The consensus round of the height being decided. */
  consensusRound: number
  /** The state root after the last applied block. */
  stateRoot: Uint8Array
  /** Seconds since the node started. */
  uptimeSeconds: number
  /** Transactions finalized per second over the recent window. */
  transactionsPerSecond: number
  /** Mean time between recent blocks, in ms (0 before two blocks). */
  averageBlockTimeMs: number
  /** Mean proposal-to-finality latency of recent blocks, in ms (0 before the first). */
  finalityTimeMs: number
  /** Pending and queued transactions in the mempool. */
  mempool: { pending: number; queued: number; bytes: number }
}

/** The outcome of submitting one transaction. */
export type SubmitOutcome =
  | {
      /** Admitted to the mempool (`pending` or `queued`), or already known (`duplicate`). */
      status: 'pending' | 'queued' | 'duplicate'
      /** The transaction id (CID bytes). */
      id: Uint8Array
    }
  | {
      /** Refused. */
      status: 'rejected'
      /** The transaction id when the bytes decoded. */
      id: Uint8Array | undefined
      /** Machine-readable reason (`bad-signature`, `wrong-chain`, `nonce-too-low`, ...). */
      code: string
      /** Human-readable reason. */
      message: string
    }

/** Where a transaction is. */
export type TransactionLookup =
  | {
      /** In this node's mempool. */
      status: 'pending' | 'queued'
      /** The transaction. */
      transaction: SignedTransaction
    }
  | ({ /** Included in a finalized block. */ status: 'finalized' } & IncludedTransaction)
  | {
      /** Neither pooled nor finalized here. */
      status: 'unknown'
    }

/** A validator of the registry, with its standing. */
export interface ValidatorView {
  /** The validator id (its Ed25519 public key). */
  id: Uint8Array
  /** Its BLS public key. */
  blsPublicKey: Uint8Array
  /** Own stake. */
  stake: bigint
  /** Voting power in the next height's active set (0 when not active). */
  votingPower: bigint
  /** In the active set of the next height. */
  active: boolean
  /** Jailed for equivocation. */
  jailed: boolean
  /**
   * The height whose evidence jailed it, present only while jailed (absent from records written
   * before the chain kept it).
   */
  jailedHeight?: number
  /** Commission in basis points. */
  commissionBps: number
  /** Commits signed in the current epoch. */
  commitsSigned: number
  /** Proposals made in the current epoch. */
  proposalsMade: number
}

/** Events of a node, streamed on `WS /ws`. */
export interface NodeEvents {
  /** A block was finalized and applied. */
  block: {
    /** The block, its certificate and receipts. */
    stored: StoredBlock
    /** Proposal-to-finality latency reported by the engine, in ms. */
    latencyMs: number
  }
  /** A transaction changed status. */
  transaction: {
    /** The transaction id. */
    id: Uint8Array
    /** Its new status. */
    status: 'pending' | 'queued' | 'finalized' | 'dropped'
    /** The including height, when finalized. */
    height?: number
    /** Why it left the pool, when dropped. */
    reason?: string
  }
  /** The consensus engine moved to a new round. */
  round: {
    /** The height being decided. */
    height: number
    /** The new round. */
    round: number
  }
}

/** A running node, as its API sees it. */
export interface NodeService {
  /** The chain id. */
  readonly chainId: string
  /** The genesis. */
  readonly genesis: Genesis
  /** The chain application (read-only use: blocks, accounts, mempool). */
  readonly chain: ChainApplication
  /** The current status. */
  status(): NodeStatus
  /**
   * Verifies and admits transactions (encoded signed transactions), gossiping the admitted ones.
   * Asynchronous so an implementation may verify off the event loop.
   */
  submitTransactions(encoded: readonly Uint8Array[]): Promise<SubmitOutcome[]>
  /** Where transaction `id` is. */
  transaction(id: Uint8Array): Promise<TransactionLookup>
  /** The finalized block at `height`. */
  block(height: number): Promise<StoredBlock | undefined>
  /** The registered validators. */
  validators(): Promise<ValidatorView[]>
  /** Connected peers (transport peer ids). */
  peers(): string[]
  /** Whether consensus runs (not halted) and the store is open. */
  healthy(): boolean
  /** Listens to an event; returns a function that removes the listener. */
  on<K extends keyof NodeEvents>(event: K, listener: (detail: NodeEvents[K]) => void): () => void
}
