/**
 * `@metanode/chain`: the Metanode chain — transactions, blocks, genesis, state with an
 * incremental Merkle root, the validator registry, and the consensus `Application` that ties
 * them to `@metanode/ibft` and `@metanode/mempool`.
 *
 * @example
 * ```ts
 * import { MemoryStore } from '@metanode/core'
 * import { createChainApplication, parseGenesis } from '@metanode/chain'
 *
 * const store = new MemoryStore()
 * await store.open()
 * const chain = await createChainApplication({ genesis: parseGenesis(genesisJson), store })
 * chain.submitTransaction(signedTxBytes) // verified once, then pooled
 * // hand `chain` to createIbft({ application: chain, ... })
 * ```
 *
 * @module
 */
export {
  CHAIN_STORE_KEYS,
  type ChainApplication,
  type ChainApplicationInit,
  createChainApplication,
  type IncludedTransaction,
  type RegisteredValidator,
  replayChain,
  type StoredBlock,
  transactionAdapter,
} from './application.js'
export {
  BLOCK_LIMITS,
  type Block,
  type BlockHeader,
  BlockHeaderShape,
  CERTIFICATE_TAG,
  CommitCertificateShape,
  certificateHash,
  decodeBlock,
  decodeReceipts,
  encodeBlock,
  encodeReceipt,
  encodeReceipts,
  evidenceRoot,
  HEADER_TAG,
  headerId,
  type Receipt,
  receiptsRoot,
  txRoot,
  verifyBlockBody,
} from './block.js'
export {
  delegationKey,
  MAX_DELEGATORS,
  readDelegation,
  readDelegators,
  totalDelegated,
  writeDelegation,
} from './delegation.js'
export {
  type ChainRejectionCode,
  ChainRejectionError,
  GenesisError,
  ReplayMismatchError,
} from './errors.js'
export {
  type EvidenceSlot,
  encodeSlashingEvidence,
  evidenceKey,
  isEvidenceExpired,
  type SignedVote,
  type SlashingEvidence,
  SlashingEvidenceShape,
  toSlashingEvidence,
  verifySlashingEvidence,
} from './evidence.js'
export {
  type AppCall,
  type AppHandler,
  type AppState,
  type BlockExecution,
  chargeTransaction,
  type EpochReward,
  type ExecutionContext,
  executeBlock,
  executeTransaction,
  readPerformance,
  type ValidatorPerformance,
} from './execute.js'
export {
  type ChainParameters,
  DEFAULT_CHAIN_PARAMETERS,
  type Genesis,
  type GenesisAccount,
  type GenesisValidator,
  genesisAnchor,
  genesisId,
  genesisState,
  parseGenesis,
} from './genesis.js'
export {
  type Account,
  accountKey,
  decodeAccount,
  EMPTY_ACCOUNT,
  encodeAccount,
  type PreparedStateUpdate,
  STATE_BUCKET_BITS,
  STATE_PREFIX,
  StateOverlay,
  StateTree,
  type StateWrite,
} from './state.js'
export {
  type AppAction,
  decodeTransaction,
  encodeTransaction,
  MAX_AMOUNT,
  type PreparedTransaction,
  prepareSignedTransaction,
  prepareTransaction,
  type RegisterValidatorAction,
  type SignedTransaction,
  type StakeAction,
  type SubmitInclusionListAction,
  signTransaction,
  TRANSACTION_COSTS,
  TRANSACTION_LIMITS,
  TRANSACTION_TAG,
  type TransactionAction,
  type TransactionBody,
  type TransactionKind,
  type TransferAction,
  transactionCost,
  transactionId,
  transactionIdOfBytes,
  transactionSigningBytes,
  transactionValue,
  type UnjailAction,
  type UnstakeAction,
  type ValidatorMetadata,
  verifyTransactionSignature,
} from './transaction.js'
export { readUnbonding, type UnbondingEntry } from './unbonding.js'
export {
  inclusionListKey,
  readActiveSet,
  readValidator,
  readValidatorIds,
  selectActiveSet,
  type ValidatorRecord,
  validatorKey,
} from './validators.js'
