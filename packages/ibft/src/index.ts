/**
 * `@metanode/ibft`: a QBFT (IBFT 2.0, EEA spec) consensus engine with BLS-aggregated commit
 * certificates, crash-safe signing state and bounded buffers.
 *
 * @example
 * ```ts
 * import { createMemoryNetwork, memoryStore, systemClock } from '@metanode/core'
 * import type { Application, ValidatorSet } from '@metanode/core'
 * import { createIbft, insecureTestScheme } from '@metanode/ibft'
 *
 * const keys = [1, 2, 3, 4].map((n) => insecureTestScheme.keygen(new Uint8Array(32).fill(n)))
 * const set: ValidatorSet = {
 *   validators: keys.map((k) => ({ id: k.id, blsPublicKey: k.blsPublicKey, votingPower: 1n })),
 * }
 * const network = createMemoryNetwork()
 * const engines = keys.map((signer, i) => {
 *   const app: Application = {
 *     validatorSet: async () => set,
 *     buildProposal: async ({ height }) => new TextEncoder().encode(`block ${height}`),
 *     validateProposal: async () => ({ valid: true }),
 *     finalize: async ({ height }) => console.log(`node ${i} finalized ${height}`),
 *   }
 *   const transport = network.transport({ peerId: `node-${i}` })
 *   const store = memoryStore()()
 *   const engine = createIbft({ chainId: 'demo', application: app, signer, scheme: insecureTestScheme })(
 *     { clock: systemClock, transport, store },
 *   )
 *   return { engine, transport }
 * })
 * for (const { transport } of engines) await transport.start()
 * for (const { engine } of engines) await engine.start()
 * ```
 *
 * @packageDocumentation
 */

export type { BufferedMessage, BufferRefusal, FutureBufferLimits } from './buffer.js'
export { DEFAULT_FUTURE_BUFFER_LIMITS, FutureMessageBuffer } from './buffer.js'
export type { CertificateInput, IndexedSeal, SealCheck, SealToCheck } from './certificate.js'
export {
  bitmapIndices,
  bitmapLength,
  buildCommitCertificate,
  checkSeals,
  findInvalidSeals,
  verifyCommitCertificate,
} from './certificate.js'
export type {
  IbftComponents,
  IbftDissemination,
  IbftEngine,
  IbftEvents,
  IbftInit,
  IbftLimits,
} from './engine.js'
export {
  createIbft,
  DEFAULT_IBFT_LIMITS,
  DEFAULT_IBFT_TOPIC,
  isIbftDissemination,
} from './engine.js'
export type { IbftRejectionError, RejectionCode } from './errors.js'
export {
  DoubleSignPreventedError,
  FinalizeFailedError,
  REJECTION_CODES,
  rejection,
} from './errors.js'
export type { EvidenceLimits } from './evidence.js'
export { EquivocationDetector } from './evidence.js'
export type { JustificationContext, JustificationVerdict } from './justification.js'
export {
  highestPrepared,
  isAuthenticSigned,
  isPrepareQuorum,
  justifyProposal,
  justifyRoundChange,
} from './justification.js'
export type {
  CommitBody,
  IbftMessage,
  MessageBody,
  MessageKind,
  MessageLimits,
  PrepareBody,
  ProposalBody,
  RoundChangeBody,
  SignedBody,
} from './messages.js'
export {
  blockIdOf,
  DEFAULT_MESSAGE_LIMITS,
  DIGEST_LENGTH,
  decodeBody,
  decodeMessage,
  encodeBody,
  encodeMessage,
  MalformedMessageError,
  MESSAGE_KINDS,
  messageHash,
  signBody,
  signingBytes,
} from './messages.js'
export type { PreparedCertificate, StoredBlock } from './persistence.js'
export { blockKey, decodeStoredBlock, encodeStoredBlock, SigningState } from './persistence.js'
export type { ProposerContext, ProposerSelector } from './proposer.js'
export { heightRoundProposer, rotatingProposer, roundRobinProposer } from './proposer.js'
export type { QuorumThresholds } from './quorum.js'
export { maxFaulty, quorum, quorumThresholds, weakQuorum } from './quorum.js'
export type { IbftSigner, SignatureScheme, SignerKeys, ValidatorKeys } from './signing.js'
export {
  commitSealBytes,
  insecureTestScheme,
  realScheme,
  SEAL_LENGTH,
  SIGNATURE_LENGTH,
} from './signing.js'
export type {
  BlockSyncOptions,
  DecodeSyncResponseOptions,
  SyncApplyResult,
  SyncBlockSource,
  SyncHost,
  SyncLimits,
  SyncRequest,
} from './sync.js'
export {
  BlockSync,
  DEFAULT_SYNC_LIMITS,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  IBFT_SYNC_PROTOCOL,
  MAX_SYNC_BLOCKS,
  resolveSyncLimits,
  serveSyncRequest,
  verifySyncedBlock,
} from './sync.js'
export type { ValidatorIndex } from './validators.js'
export {
  BLS_PUBLIC_KEY_LENGTH,
  indexValidators,
  MAX_VALIDATORS,
  sortValidators,
  VALIDATOR_ID_LENGTH,
  validatorSetHash,
} from './validators.js'
