/**
 * The chain as a consensus `Application`: builds blocks from the mempool, re-executes proposals,
 * and applies decided blocks to state and the store. The engine certifies each block's header id
 * (`blockId`, which first checks that the header commits to the whole body) and rotates proposers
 * from the one each block's header records (`proposerOf`).
 */
import type {
  Application,
  BatchOperation,
  Clock,
  CommitCertificate,
  FinalizedBlock,
  ProposalContext,
  ProposalVerdict,
  Store,
  ValidatorSet,
} from '@metanode/core'
import { decodeAs, encode, isMetanodeError, shape } from '@metanode/core'
import {
  bitmapIndices,
  blockIdOf,
  realScheme,
  type SignatureScheme,
  validatorSetHash,
  verifyCommitCertificate,
} from '@metanode/ibft'
import {
  type AccountState,
  type AddResult,
  checkInclusion,
  decodeInclusionList,
  type InclusionList,
  Mempool,
  type MempoolLimits,
  type OrderingPolicy,
  type TransactionAdapter,
} from '@metanode/mempool'
import {
  BLOCK_LIMITS,
  type Block,
  type BlockHeader,
  blockBodyMismatch,
  CommitCertificateShape,
  certificateHash,
  decodeBlock,
  decodeReceipts,
  encodeBlock,
  encodeReceipts,
  evidenceRoot,
  headerId,
  type Receipt,
  receiptsRoot,
  txRoot,
} from './block.js'
import { equalBytes, hexKey, u64be, utf8, withPrefix } from './bytes.js'
import { totalDelegated } from './delegation.js'
import { ChainRejectionError, GenesisError, ReplayMismatchError } from './errors.js'
import {
  type EvidenceSlot,
  evidenceKey,
  isEvidenceExpired,
  type SlashingEvidence,
  toSlashingEvidence,
  verifySlashingEvidence,
} from './evidence.js'
import {
  type AppHandler,
  type BlockExecution,
  executeBlock,
  readPerformance,
  type ValidatorPerformance,
} from './execute.js'
import { type Genesis, genesisId, genesisState } from './genesis.js'
import { type Account, type PreparedStateUpdate, StateOverlay, StateTree } from './state.js'
import {
  decodeTransaction,
  encodeTransaction,
  type PreparedTransaction,
  prepareTransaction,
  type SignedTransaction,
  transactionIdOfBytes,
  transactionValue,
  verifyTransactionSignature,
} from './transaction.js'
import {
  inclusionListKey,
  readActiveSet,
  readValidator,
  readValidatorIds,
  type ValidatorRecord,
} from './validators.js'

/** Store key prefixes of the chain (all under `chain/`). */
export const CHAIN_STORE_KEYS = {
  /** `chain/block/<u64be height>` → encoded block (the consensus payload). */
  block: utf8('chain/block/'),
  /** `chain/cert/<u64be height>` → the commit certificate. */
  certificate: utf8('chain/cert/'),
  /** `chain/receipts/<u64be height>` → the block's receipts. */
  receipts: utf8('chain/receipts/'),
  /** `chain/state/<state key>` → state value. */
  state: utf8('chain/state/'),
  /** `chain/set/<u64be epoch>` → the validator set of an epoch. */
  validatorSet: utf8('chain/set/'),
  /** `chain/head` → the last applied height, header id, block id, state root and timestamp. */
  head: utf8('chain/head'),
  /** `chain/genesis` → the id of the genesis the store was started from. */
  genesis: utf8('chain/genesis'),
  /** `chain/tx/<transaction id>` → where the transaction was included (height and index). */
  transaction: utf8('chain/tx/'),
} as const

/** Configuration of {@link createChainApplication}. */
export interface ChainApplicationInit {
  /** The validated genesis ({@link parseGenesis}). */
  genesis: Genesis
  /** Where blocks, certificates, receipts and state are kept (opened by the caller). */
  store: Store
  /** Handlers of `app` transactions, by route. */
  appHandlers?: Readonly<Record<string, AppHandler>>
  /** Mempool limits; defaults as in `@metanode/mempool`. */
  mempoolLimits?: Partial<MempoolLimits>
  /** Mempool ordering; default `priorityFee()`. */
  ordering?: OrderingPolicy
  /** Clock of the mempool's queued lifetime. Default the system clock. */
  clock?: Clock
  /** How many signature checks to remember, by transaction id. Default 100,000. */
  signatureCacheSize?: number
  /**
   * Signature scheme of the consensus engine, for parent certificates and evidence. Default
   * ibft's `realScheme`; it must be the engine's.
   */
  scheme?: SignatureScheme
}

/** A stored block with its proof and outcome. */
export interface StoredBlock {
  /** The block. */
  block: Block
  /** The certificate that decided it. */
  certificate: CommitCertificate
  /** Its receipts. */
  receipts: Receipt[]
}

/** Where a finalized transaction was included, with its outcome. */
export interface IncludedTransaction {
  /** The height of the block that included it. */
  height: number
  /** Its position in the block's transactions. */
  index: number
  /** The signed transaction. */
  transaction: SignedTransaction
  /** Its receipt. */
  receipt: Receipt
}

/** A registered validator with its standing after the last applied block. */
export interface RegisteredValidator extends ValidatorRecord {
  /** The validator id (its Ed25519 public key). */
  id: Uint8Array
  /** Its own bonded stake. */
  stake: bigint
  /** Own plus delegated stake. */
  votingPower: bigint
  /** In the set that decides the next height. */
  active: boolean
  /** Commits signed and proposals made in the current epoch. */
  performance: ValidatorPerformance
}

/** The chain application. */
export interface ChainApplication extends Application {
  /** The chain id. */
  readonly chainId: string
  /** The genesis it started from. */
  readonly genesis: Genesis
  /** The last applied height (0 before the first block). */
  readonly height: number
  /** The state root after the last applied block. */
  readonly stateRoot: Uint8Array
  /** The last applied header (undefined at genesis). */
  readonly head: BlockHeader | undefined
  /** Transactions included in the applied blocks, since genesis. */
  readonly transactionCount: number
  /** The pending transactions, admitted against the last applied state. */
  readonly mempool: Mempool<PreparedTransaction>
  /** Nonces and balances after the last applied block (what the mempool admits against). */
  readonly accounts: AccountState
  /** The account `publicKey` after the last applied block. */
  account(publicKey: Uint8Array): Account
  /** Validator `id`'s commits signed and proposals made so far in the current epoch. */
  performance(id: Uint8Array): ValidatorPerformance
  /**
   * Decodes, verifies (once per transaction id) and admits a transaction to the mempool. A
   * {@link PreparedTransaction} (from `prepareTransaction`) is not decoded again.
   *
   * @throws ChainRejectionError (`malformed`, `oversized`, `bad-signature`, `wrong-chain`) or a
   *   mempool `RejectionError`.
   */
  submitTransaction(
    tx: Uint8Array | SignedTransaction | PreparedTransaction,
  ): AddResult<PreparedTransaction>
  /** Every registered validator (active, candidate or jailed), in id order. */
  validators(): RegisteredValidator[]
  /** A stored block with its certificate and receipts. */
  block(height: number): Promise<StoredBlock | undefined>
  /**
   * The block id the engine certifies: the header's id ({@link headerId}), after checking that
   * the header commits to the rest of the block (transactions, evidence, parent certificate).
   *
   * @throws ChainRejectionError `malformed`/`oversized` for a payload that does not decode,
   *   `state-mismatch` for a body its header does not commit to.
   */
  blockId(payload: Uint8Array): Uint8Array
  /**
   * The proposer a block records (`header.proposer`): the engine rotates round 0 of the next
   * height to the validator after it.
   *
   * @throws ChainRejectionError as {@link ChainApplication.blockId}.
   */
  proposerOf(payload: Uint8Array): Uint8Array
  /** A finalized transaction by id (`transactionId`), or `undefined` when none was included. */
  transaction(id: Uint8Array): Promise<IncludedTransaction | undefined>
}

/** The mempool's view of chain transactions. */
export const transactionAdapter: TransactionAdapter<PreparedTransaction> = {
  id: (prepared) => prepared.id,
  sender: (prepared) => prepared.tx.body.sender,
  nonce: (prepared) => prepared.tx.body.nonce,
  maxFee: (prepared) => prepared.tx.body.maxFee,
  maxPriorityFee: (prepared) => prepared.tx.body.maxPriorityFee,
  size: (prepared) => prepared.bytes.length,
  cost: (prepared) => prepared.cost,
  value: (prepared) => transactionValue(prepared.tx),
}

const HeadShape = shape.object({
  height: shape.uint(),
  headerId: shape.bytes({ length: 32 }),
  blockId: shape.bytes({ max: 32 }),
  stateRoot: shape.bytes({ length: 32 }),
  timestamp: shape.uint(),
  transactionCount: shape.uint(),
})

const TxLocationShape = shape.object({ height: shape.uint(), index: shape.uint() })

const CertificateShape = CommitCertificateShape

const SetShape = shape.array(
  shape.object({
    id: shape.bytes({ length: 32 }),
    blsPublicKey: shape.bytes({ length: 48 }),
    votingPower: shape.bigint({ min: 1n }),
  }),
)

interface Processed {
  block: Block
  txs: PreparedTransaction[]
  execution: BlockExecution
  update: PreparedStateUpdate & { readonly version: number }
}

interface VerifiedPayload {
  block: Block
  txs: PreparedTransaction[]
  id: Uint8Array
}

const MAX_COST = 2n ** 62n
const MAX_PENDING_EVIDENCE = 256
const GENESIS_BATCH = 50_000

/**
 * Creates the chain application over `init.store`, resuming from what the store holds (state,
 * head, validator sets) or starting from genesis.
 *
 * @throws GenesisError / ReplayMismatchError when the store holds another chain or a corrupt state.
 */
export async function createChainApplication(
  init: ChainApplicationInit,
): Promise<ChainApplication> {
  const { genesis, store } = init
  const { chainId, parameters } = genesis
  let tree: StateTree
  let height = 0
  let parentId = genesisId(genesis)
  let parentTimestamp = genesis.genesisTime
  let parentBlockId: Uint8Array = new Uint8Array(0)
  let parentCertificate: CommitCertificate | null = null
  let head: BlockHeader | undefined
  let transactionCount = 0
  const scheme = init.scheme ?? realScheme
  const pendingEvidence: SlashingEvidence[] = []
  const sets = new Map<number, ValidatorSet>()

  const headBytes = await store.get(CHAIN_STORE_KEYS.head)
  if (headBytes === undefined) {
    tree = genesisState(genesis)
    const genesisSet = readActiveSet(new StateOverlay(tree))
    sets.set(0, genesisSet)
    // Height 0 is stored like any other, so a restart reads genesis state from the store too.
    // A large genesis takes several batches; the head goes last, so a crash before it leaves a
    // store that starts from genesis again.
    const entries = [...tree.entries()]
    for (let offset = 0; offset < entries.length; offset += GENESIS_BATCH) {
      await store.batch(
        entries.slice(offset, offset + GENESIS_BATCH).map(({ key, value }) => ({
          type: 'put' as const,
          key: withPrefix(CHAIN_STORE_KEYS.state, key),
          value,
        })),
      )
    }
    const operations: BatchOperation[] = [
      { type: 'put', key: CHAIN_STORE_KEYS.genesis, value: parentId },
    ]
    operations.push(
      {
        type: 'put',
        key: withPrefix(CHAIN_STORE_KEYS.validatorSet, u64be(0)),
        value: encode(genesisSet.validators),
      },
      {
        type: 'put',
        key: CHAIN_STORE_KEYS.head,
        value: encode({
          height: 0,
          headerId: parentId,
          blockId: parentBlockId,
          stateRoot: tree.root,
          timestamp: parentTimestamp,
          transactionCount,
        }),
      },
    )
    await store.batch(operations)
  } else {
    const storedGenesis = await store.get(CHAIN_STORE_KEYS.genesis)
    if (storedGenesis === undefined || !equalBytes(storedGenesis, parentId)) {
      throw new GenesisError('the store holds another chain', { details: { field: '' } })
    }
    const stored = decodeAs(headBytes, HeadShape)
    tree = new StateTree()
    const writes = []
    for await (const { key, value } of store.iterate(prefixRange(CHAIN_STORE_KEYS.state))) {
      writes.push({ key: key.slice(CHAIN_STORE_KEYS.state.length), value })
    }
    tree.apply(writes)
    if (!equalBytes(tree.root, stored.stateRoot)) {
      throw new ReplayMismatchError('stored state does not match the stored head', {
        details: { height: stored.height },
      })
    }
    height = stored.height
    parentId = stored.headerId
    parentTimestamp = stored.timestamp
    parentBlockId = stored.blockId
    transactionCount = stored.transactionCount
    for await (const { key, value } of store.iterate(prefixRange(CHAIN_STORE_KEYS.validatorSet))) {
      const epoch = Number(
        new DataView(key.buffer, key.byteOffset).getBigUint64(CHAIN_STORE_KEYS.validatorSet.length),
      )
      sets.set(epoch, { validators: decodeAs(value, SetShape) })
    }
    const blockBytes =
      height === 0 ? undefined : await store.get(withPrefix(CHAIN_STORE_KEYS.block, u64be(height)))
    if (blockBytes !== undefined) head = decodeBlock(blockBytes).header
    const certificateBytes =
      height === 0
        ? undefined
        : await store.get(withPrefix(CHAIN_STORE_KEYS.certificate, u64be(height)))
    if (certificateBytes !== undefined) {
      parentCertificate = decodeAs(certificateBytes, CertificateShape)
    }
  }

  const current = () => new StateOverlay(tree)
  const accounts: AccountState = {
    nonce: (sender) => current().account(sender).nonce,
    balance: (sender) => current().account(sender).balance,
  }
  const mempool = new Mempool<PreparedTransaction>(
    {
      adapter: transactionAdapter,
      state: accounts,
      baseFee: parameters.baseFee,
      ...(init.ordering === undefined ? {} : { ordering: init.ordering }),
      ...(init.mempoolLimits === undefined ? {} : { limits: init.mempoolLimits }),
      verify: (prepared) => verifySignature(prepared),
    },
    init.clock === undefined ? {} : { clock: init.clock },
  )

  const cacheSize = init.signatureCacheSize ?? 100_000
  const signatureCache = new Map<string, boolean>()
  function verifySignature(prepared: PreparedTransaction): boolean {
    const key = hexKey(prepared.id)
    const known = signatureCache.get(key)
    if (known !== undefined) return known
    const valid = verifyTransactionSignature(prepared.tx)
    if (signatureCache.size >= cacheSize) {
      signatureCache.delete(signatureCache.keys().next().value as string)
    }
    signatureCache.set(key, valid)
    return valid
  }

  const processedByBlockId = new Map<string, Processed>()
  function remember(blockId: Uint8Array, processed: Processed): void {
    if (processedByBlockId.size >= 16) {
      processedByBlockId.delete(processedByBlockId.keys().next().value as string)
    }
    processedByBlockId.set(hexKey(blockId), processed)
  }

  // Payloads whose body was checked against their header, by a hash of their bytes: the engine
  // asks for a payload's id before it hands the same payload to validateProposal or finalize.
  const verifiedPayloads = new Map<string, VerifiedPayload>()
  function rememberVerified(payload: Uint8Array, verified: VerifiedPayload): void {
    if (verifiedPayloads.size >= 8) {
      verifiedPayloads.delete(verifiedPayloads.keys().next().value as string)
    }
    verifiedPayloads.set(hexKey(blockIdOf(payload)), verified)
  }

  /**
   * Decodes a payload and checks that its header commits to its whole body; returns the block,
   * its prepared transactions and its header id.
   *
   * @throws ChainRejectionError `malformed` or `oversized` for a block or transaction that does
   *   not decode, `state-mismatch` for a body its header does not commit to.
   */
  function verifyPayload(payload: Uint8Array): VerifiedPayload {
    const known = verifiedPayloads.get(hexKey(blockIdOf(payload)))
    if (known !== undefined) return known
    const block = decodeBlock(payload)
    const txs = block.txs.map(prepareTransaction)
    const mismatch = blockBodyMismatch(
      block,
      txs.map((tx) => tx.id),
    )
    if (mismatch !== undefined) {
      throw new ChainRejectionError('state-mismatch', 'reject', `${mismatch} does not match`)
    }
    const verified = { block, txs, id: headerId(block.header) }
    rememberVerified(payload, verified)
    return verified
  }

  const epochOf = (h: number) => Math.floor((h - 1) / parameters.epochLength)

  function inclusionLists(forHeight: number): InclusionList[] {
    const state = current()
    const lists: InclusionList[] = []
    for (const validator of readActiveSet(state).validators) {
      const bytes = state.get(inclusionListKey(forHeight, validator.id))
      if (bytes !== undefined) lists.push(decodeInclusionList(bytes))
    }
    return lists
  }

  /** Executes `txs` on the current state; returns everything but the header's roots check. */
  function execute(
    txs: PreparedTransaction[],
    forHeight: number,
    proposer: Uint8Array,
    evidence: readonly SlashingEvidence[],
    parentSigners: readonly Uint8Array[],
  ): { state: StateOverlay; execution: BlockExecution } {
    const state = current()
    const execution = executeBlock(state, txs, {
      chainId,
      parameters,
      height: forHeight,
      proposer,
      verifySignature,
      evidence,
      parentSigners,
      scheme,
      ...(init.appHandlers === undefined ? {} : { appHandlers: init.appHandlers }),
    })
    return { state, execution }
  }

  function checkHeader(header: BlockHeader, context: ProposalContext | undefined): void {
    const bad = (code: 'bad-header' | 'bad-timestamp', message: string): never => {
      throw new ChainRejectionError(code, 'reject', message)
    }
    if (header.chainId !== chainId) bad('bad-header', 'wrong chain id')
    if (header.height !== height + 1)
      bad('bad-header', `height ${header.height}, expected ${height + 1}`)
    if (!equalBytes(header.parentId, parentId)) bad('bad-header', 'wrong parent')
    if (header.timestamp <= parentTimestamp) bad('bad-timestamp', 'timestamp not after the parent')
    // Any validator of the height may have built the block: QBFT re-proposes the block prepared
    // in an earlier round, built (and timestamped) by that round's proposer.
    const deciding = sets.get(epochOf(header.height)) ?? readActiveSet(current())
    if (!deciding.validators.some((validator) => equalBytes(validator.id, header.proposer))) {
      bad('bad-header', 'proposer is not a validator of the height')
    }
    if (context !== undefined) {
      if (context.height !== header.height) bad('bad-header', 'height differs from the round')
      if (header.timestamp > context.timestamp + parameters.maxClockDriftMs) {
        bad('bad-timestamp', 'timestamp too far in the future')
      }
    }
  }

  /** The signers of a block's parent certificate, which must prove the parent. */
  function checkParentCertificate(
    certificate: CommitCertificate | null,
    forHeight: number,
  ): Uint8Array[] {
    const bad = (message: string): never => {
      throw new ChainRejectionError('bad-parent-certificate', 'reject', message)
    }
    if (forHeight === 1) {
      if (certificate !== null) bad('height 1 has no parent certificate')
      return []
    }
    if (certificate === null) return bad('missing parent certificate')
    const set = sets.get(epochOf(forHeight - 1))
    if (set === undefined) return bad('unknown parent validator set')
    if (certificate.height !== forHeight - 1 || !equalBytes(certificate.blockId, parentBlockId)) {
      bad('certificate of another block')
    }
    if (!verifyCommitCertificate(certificate, parentBlockId, set, chainId, scheme)) {
      bad('parent certificate does not verify')
    }
    return bitmapIndices(certificate.signers).map(
      (index) => set.validators[index]?.id as Uint8Array,
    )
  }

  /** Re-executes a block and checks every root; throws ChainRejectionError when it does not match. */
  function processBlock(
    block: Block,
    context: ProposalContext | undefined,
    prepared?: PreparedTransaction[],
  ): Processed {
    checkHeader(block.header, context)
    if (block.txs.length > parameters.maxBlockTxs) {
      throw new ChainRejectionError('too-many-transactions', 'reject', 'too many transactions')
    }
    // Pooled transactions were decoded at admission: only their id (one hash) is computed again.
    const txs =
      prepared ??
      block.txs.map(
        (txBytes) => mempool.get(transactionIdOfBytes(txBytes)) ?? prepareTransaction(txBytes),
      )
    const bytes = txs.reduce((sum, tx) => sum + tx.bytes.length, 0)
    if (bytes > parameters.maxBlockBytes) {
      throw new ChainRejectionError('oversized', 'reject', 'block transactions too large')
    }
    const { header } = block
    const mismatch = (what: string): never => {
      throw new ChainRejectionError('state-mismatch', 'reject', `${what} does not match`)
    }
    const parentSigners = checkParentCertificate(block.parentCertificate, header.height)
    const { state, execution } = execute(
      txs,
      header.height,
      header.proposer,
      block.evidence,
      parentSigners,
    )
    const bodyMismatch = blockBodyMismatch(
      block,
      txs.map((tx) => tx.id),
    )
    if (bodyMismatch !== undefined) mismatch(bodyMismatch)
    if (!equalBytes(header.receiptsRoot, receiptsRoot(execution.receipts))) mismatch('receiptsRoot')
    if (!equalBytes(header.validatorSetHash, validatorSetHash(execution.validatorSet))) {
      mismatch('validatorSetHash')
    }
    if (!equalBytes(header.nextValidatorSetHash, validatorSetHash(execution.nextValidatorSet))) {
      mismatch('nextValidatorSetHash')
    }
    const update = tree.prepare(state.writes())
    if (!equalBytes(header.stateRoot, update.root)) mismatch('stateRoot')
    return { block, txs, execution, update }
  }

  async function applyProcessed(
    processed: Processed,
    certificate: CommitCertificate,
  ): Promise<void> {
    const { block, execution, update } = processed
    const { header } = block
    const id = headerId(header)
    const key = u64be(header.height)
    const operations: BatchOperation[] = [
      { type: 'put', key: withPrefix(CHAIN_STORE_KEYS.block, key), value: encodeBlock(block) },
      {
        type: 'put',
        key: withPrefix(CHAIN_STORE_KEYS.certificate, key),
        value: encode(certificate),
      },
      {
        type: 'put',
        key: withPrefix(CHAIN_STORE_KEYS.receipts, key),
        value: encodeReceipts(execution.receipts),
      },
      {
        type: 'put',
        key: CHAIN_STORE_KEYS.head,
        value: encode({
          height: header.height,
          headerId: id,
          blockId: certificate.blockId,
          stateRoot: header.stateRoot,
          timestamp: header.timestamp,
          transactionCount: transactionCount + processed.txs.length,
        }),
      },
    ]
    processed.txs.forEach((tx, index) => {
      operations.push({
        type: 'put',
        key: withPrefix(CHAIN_STORE_KEYS.transaction, tx.id),
        value: encode({ height: header.height, index }),
      })
    })
    for (const write of update.writes) {
      const storeKey = withPrefix(CHAIN_STORE_KEYS.state, write.key)
      operations.push(
        write.value === undefined
          ? { type: 'del', key: storeKey }
          : { type: 'put', key: storeKey, value: write.value },
      )
    }
    const nextEpoch = epochOf(header.height + 1)
    const setChanged = nextEpoch !== epochOf(header.height)
    if (setChanged) {
      operations.push({
        type: 'put',
        key: withPrefix(CHAIN_STORE_KEYS.validatorSet, u64be(nextEpoch)),
        value: encode(execution.nextValidatorSet.validators),
      })
    }
    // One batch: a crash leaves either the whole block applied or none of it.
    await store.batch(operations)
    tree.apply(update)
    height = header.height
    parentId = id
    parentTimestamp = header.timestamp
    head = header
    transactionCount += processed.txs.length
    parentBlockId = certificate.blockId
    parentCertificate = certificate
    for (let index = pendingEvidence.length - 1; index >= 0; index--) {
      if (!evidenceUsable(pendingEvidence[index] as SlashingEvidence))
        pendingEvidence.splice(index, 1)
    }
    if (setChanged) sets.set(nextEpoch, execution.nextValidatorSet)
    mempool.onFinalized({ txIds: processed.txs.map((tx) => tx.id), seed: certificate.blockId })
  }

  /**
   * Whether evidence would slash in the next block: valid, not expired at the next height, of a
   * registered unjailed validator, not yet counted.
   */
  function evidenceUsable(evidence: SlashingEvidence): boolean {
    const slot = verifySlashingEvidence(evidence, chainId, scheme)
    if (slot === undefined) return false
    if (isEvidenceExpired(slot.height, height + 1, parameters.evidenceMaxAgeHeights)) return false
    const state = current()
    const record = readValidator(state, evidence.validator)
    if (record === undefined || record.jailed) return false
    return state.get(evidenceKey(evidence.validator, slot)) === undefined
  }

  const application: ChainApplication = {
    chainId,
    genesis,
    get height() {
      return height
    },
    get stateRoot() {
      return tree.root
    },
    get head() {
      return head
    },
    get transactionCount() {
      return transactionCount
    },
    mempool,
    accounts,
    account: (publicKey) => current().account(publicKey),
    performance: (id) => readPerformance(current(), id),

    submitTransaction(input) {
      const prepared =
        input instanceof Uint8Array
          ? prepareTransaction(input)
          : 'bytes' in input
            ? input
            : prepareTransaction(encodeTransaction(input))
      if (prepared.tx.body.chainId !== chainId) {
        throw new ChainRejectionError('wrong-chain', 'reject', 'transaction for another chain')
      }
      if (!verifySignature(prepared)) {
        throw new ChainRejectionError('bad-signature', 'reject', 'bad transaction signature')
      }
      return mempool.add(prepared)
    },

    async block(at) {
      const key = u64be(at)
      const [blockBytes, certificateBytes, receiptBytes] = await Promise.all([
        store.get(withPrefix(CHAIN_STORE_KEYS.block, key)),
        store.get(withPrefix(CHAIN_STORE_KEYS.certificate, key)),
        store.get(withPrefix(CHAIN_STORE_KEYS.receipts, key)),
      ])
      if (
        blockBytes === undefined ||
        certificateBytes === undefined ||
        receiptBytes === undefined
      ) {
        return undefined
      }
      return {
        block: decodeBlock(blockBytes),
        certificate: decodeAs(certificateBytes, CertificateShape),
        receipts: decodeReceipts(receiptBytes),
      }
    },

    validators() {
      const state = current()
      const active = new Set(readActiveSet(state).validators.map((v) => hexKey(v.id)))
      return readValidatorIds(state).flatMap((id) => {
        const record = readValidator(state, id)
        if (record === undefined) return []
        const stake = state.account(id).stake
        return [
          {
            ...record,
            id,
            stake,
            votingPower: stake + totalDelegated(state, id),
            active: active.has(hexKey(id)),
            performance: readPerformance(state, id),
          },
        ]
      })
    },

    async transaction(id) {
      if (!(id instanceof Uint8Array)) throw new TypeError('transaction id must be a Uint8Array')
      if (id.length === 0 || id.length > 64) throw new RangeError('transaction id: 1 to 64 bytes')
      const location = await store.get(withPrefix(CHAIN_STORE_KEYS.transaction, id))
      if (location === undefined) return undefined
      const { height: at, index } = decodeAs(location, TxLocationShape)
      const stored = await application.block(at)
      const bytes = stored?.block.txs[index]
      const receipt = stored?.receipts[index]
      if (bytes === undefined || receipt === undefined) return undefined
      return { height: at, index, transaction: decodeTransaction(bytes), receipt }
    },

    async validatorSet(at) {
      if (!Number.isSafeInteger(at) || at < 1) throw new RangeError('height must be at least 1')
      const epoch = epochOf(at)
      const set = sets.get(epoch)
      if (set !== undefined) return set
      // Within the epoch after the last applied height the set is already in state.
      if (epoch === epochOf(height + 1)) return readActiveSet(current())
      throw new RangeError(`the validator set of height ${at} is not known yet`)
    },

    async reportEvidence(evidence) {
      const compact = toSlashingEvidence(evidence)
      if (compact === undefined || !evidenceUsable(compact)) return
      const slot = verifySlashingEvidence(compact, chainId, scheme) as EvidenceSlot
      const key = hexKey(evidenceKey(compact.validator, slot))
      const known = pendingEvidence.some((pending) => {
        const pendingSlot = verifySlashingEvidence(pending, chainId, scheme) as EvidenceSlot
        return hexKey(evidenceKey(pending.validator, pendingSlot)) === key
      })
      if (known) return
      if (pendingEvidence.length >= MAX_PENDING_EVIDENCE) pendingEvidence.shift()
      pendingEvidence.push(compact)
    },

    blockId(payload) {
      return verifyPayload(payload).id
    },

    proposerOf(payload) {
      return verifyPayload(payload).block.header.proposer
    },

    async buildProposal(context) {
      const forHeight = height + 1
      const evidence = pendingEvidence.slice(0, BLOCK_LIMITS.maxEvidence)
      const parentSigners = checkParentCertificate(parentCertificate, forHeight)
      const selection = mempool.selectForBlock({
        maxBytes: parameters.maxBlockBytes,
        maxCost: MAX_COST,
        maxTxs: parameters.maxBlockTxs,
      })
      const candidates = [...selection.txs]
      const chosen = new Set(candidates.map((tx) => hexKey(tx.id)))
      let bytes = selection.bytes
      // Listed transactions the auction left out still go in when they fit (FOCIL).
      for (const list of inclusionLists(forHeight)) {
        for (const id of list.txIds) {
          const listed = mempool.get(id)
          if (listed === undefined || chosen.has(hexKey(id))) continue
          if (candidates.length >= parameters.maxBlockTxs) break
          if (bytes + listed.bytes.length > parameters.maxBlockBytes) continue
          candidates.push(listed)
          chosen.add(hexKey(id))
          bytes += listed.bytes.length
        }
      }
      // Drop what would invalidate the block (stale nonces, fees no longer payable) one by one.
      let included = candidates
      for (;;) {
        try {
          const { state, execution } = execute(
            included,
            forHeight,
            context.proposer,
            evidence,
            parentSigners,
          )
          const update = tree.prepare(state.writes())
          const header: BlockHeader = {
            chainId,
            height: forHeight,
            parentId,
            proposer: context.proposer,
            timestamp: Math.max(context.timestamp, parentTimestamp + 1),
            txRoot: txRoot(included.map((tx) => tx.id)),
            stateRoot: update.root,
            receiptsRoot: receiptsRoot(execution.receipts),
            evidenceRoot: evidenceRoot(evidence),
            parentCertificateHash: certificateHash(parentCertificate),
            validatorSetHash: validatorSetHash(execution.validatorSet),
            nextValidatorSetHash: validatorSetHash(execution.nextValidatorSet),
          }
          const block: Block = {
            header,
            txs: included.map((tx) => tx.bytes),
            evidence,
            parentCertificate,
          }
          const payload = encodeBlock(block)
          const id = headerId(header)
          remember(id, { block, txs: included, execution, update })
          rememberVerified(payload, { block, txs: included, id })
          return payload
        } catch (error) {
          if (!isMetanodeError(error, 'ChainRejectionError')) throw error
          const { index, evidenceIndex } = error.details as {
            index?: number
            evidenceIndex?: number
          }
          if (evidenceIndex !== undefined) {
            const [stale] = evidence.splice(evidenceIndex, 1)
            const at = pendingEvidence.indexOf(stale as SlashingEvidence)
            if (at >= 0) pendingEvidence.splice(at, 1)
            continue
          }
          if (index === undefined) throw error
          // The sender's later transactions follow a nonce that is now missing: they go too,
          // so one bad sender costs one more execution, not one per transaction.
          const sender = (included[index] as PreparedTransaction).tx.body.sender
          const kept: PreparedTransaction[] = []
          included.forEach((candidate, position) => {
            if (position >= index && equalBytes(candidate.tx.body.sender, sender)) {
              if (position === index) mempool.remove(candidate.id)
            } else kept.push(candidate)
          })
          included = kept
        }
      }
    },

    async validateProposal(context, payload): Promise<ProposalVerdict> {
      try {
        // the engine verified the body when it took the payload's id; a direct call checks it
        // with the rest of the block, in execution order
        const verified = verifiedPayloads.get(hexKey(blockIdOf(payload)))
        const block = verified?.block ?? decodeBlock(payload)
        const processed = processBlock(block, context, verified?.txs)
        const post = new StateOverlay(tree)
        for (const write of processed.update.writes) post.set(write.key, write.value)
        const inclusion = checkInclusion(
          {
            height: block.header.height,
            txIds: processed.txs.map((tx) => tx.id),
            bytesUsed: block.txs.reduce((sum, tx) => sum + tx.length, 0),
            costUsed: 0n,
            limits: { maxBytes: parameters.maxBlockBytes, maxCost: MAX_COST },
          },
          inclusionLists(block.header.height),
          (id) => {
            const listed = mempool.get(id)
            if (listed === undefined) return 'unknown'
            const { body } = listed.tx
            const account = post.account(body.sender)
            const needed = body.maxFee * listed.cost + transactionValue(listed.tx)
            return body.nonce === account.nonce && account.balance >= needed ? 'valid' : 'invalid'
          },
          (id) => {
            const listed = mempool.get(id)
            return listed === undefined
              ? undefined
              : { bytes: listed.bytes.length, cost: listed.cost }
          },
        )
        if (!inclusion.ok) {
          return { valid: false, code: 'censorship', reason: 'block ignores an inclusion list' }
        }
        remember(headerId(block.header), processed)
        return { valid: true }
      } catch (error) {
        if (error instanceof ChainRejectionError) {
          return { valid: false, code: error.code, reason: error.message }
        }
        throw error
      }
    },

    async finalize(finalized: FinalizedBlock) {
      if (finalized.height <= height) return
      const verified = verifyPayload(finalized.payload)
      const processed =
        processedByBlockId.get(hexKey(verified.id)) ??
        processBlock(verified.block, undefined, verified.txs)
      // A proposal checked before an earlier block was applied is stale: execute it again.
      const fresh =
        processed.update.version === tree.version && processed.block.header.height === height + 1
          ? processed
          : processBlock(processed.block, undefined)
      await applyProcessed(fresh, finalized.certificate)
      processedByBlockId.clear()
    },
  }
  return application
}

function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  const end = prefix.slice()
  end[end.length - 1] = (end[end.length - 1] as number) + 1
  return { gte: prefix, lt: end }
}

/**
 * Re-executes every stored block from genesis and checks that each reproduces its header's
 * state root; returns the roots by height (index 0 is genesis).
 *
 * @throws ReplayMismatchError naming the first height that does not reproduce.
 */
export async function replayChain(
  genesis: Genesis,
  store: Store,
  options: { appHandlers?: Readonly<Record<string, AppHandler>> } = {},
): Promise<Uint8Array[]> {
  const { MemoryStore } = await import('@metanode/core')
  const scratch = new MemoryStore()
  await scratch.open()
  const replica = await createChainApplication({
    genesis,
    store: scratch,
    ...(options.appHandlers === undefined ? {} : { appHandlers: options.appHandlers }),
  })
  const roots = [replica.stateRoot]
  for (let at = 1; ; at++) {
    const payload = await store.get(withPrefix(CHAIN_STORE_KEYS.block, u64be(at)))
    const certificateBytes = await store.get(withPrefix(CHAIN_STORE_KEYS.certificate, u64be(at)))
    if (payload === undefined || certificateBytes === undefined) break
    try {
      await replica.finalize({
        height: at,
        payload,
        certificate: decodeAs(certificateBytes, CertificateShape),
      })
    } catch (cause) {
      throw new ReplayMismatchError(`block ${at} does not replay`, {
        details: { height: at },
        cause,
      })
    }
    roots.push(replica.stateRoot)
  }
  await scratch.close()
  return roots
}
