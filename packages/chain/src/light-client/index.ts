/**
 * `@metanode/chain/light-client`: verifies headers of a Metanode chain with one aggregate BLS
 * check per header, and follows the validator set across epochs. No Node-only imports: it runs
 * in browsers and is the base of bridges.
 *
 * The consensus engine certifies the header's id (the chain application's `blockId` is
 * `headerId(header)`), and the header commits to the rest of its block: the transactions
 * (`txRoot`), the slashing evidence (`evidenceRoot`) and the parent's commit certificate
 * (`parentCertificateHash`). So the client needs headers only; a body obtained elsewhere is
 * checked against its (verified) header with {@link verifyBlockBody}.
 *
 * Validator-set changes: every header commits to the set that decides it (`validatorSetHash`)
 * and to the set that decides the next height (`nextValidatorSetHash`). The client trusts a
 * header and the next set; a later header is accepted when its `validatorSetHash` is that of
 * the trusted next set and a quorum of that set certified it. When the header announces a
 * different next set, the caller supplies that set and the client checks it against the hash.
 *
 * @example
 * ```ts
 * import { LightClient, verifyBlockBody } from '@metanode/chain/light-client'
 *
 * const client = new LightClient({ trustedHeader, trustedNextValidatorSet })
 * client.update(header, certificate, nextValidatorSet) // throws LightClientError when forged
 * client.height // the header's height
 * verifyBlockBody(block) // block.header is client.header: are these its transactions?
 * ```
 *
 * @module
 */
import type { CommitCertificate, ValidatorSet } from '@metanode/core'
import { MetanodeError } from '@metanode/core'
import {
  realScheme,
  type SignatureScheme,
  validatorSetHash,
  verifyCommitCertificate,
} from '@metanode/ibft'
import { type BlockHeader, headerId } from '../block.js'
import { equalBytes } from '../bytes.js'

export type { Block, BlockHeader } from '../block.js'
export { certificateHash, verifyBlockBody } from '../block.js'
export type { SignedVote, SlashingEvidence } from '../evidence.js'

/** Options of {@link verifyHeader} and {@link LightClient}. */
export interface LightClientOptions {
  /** Signature scheme of the commit seals. Default ibft's `realScheme` (BLS12-381). */
  scheme?: SignatureScheme
}

/** Why the light client refused an update. */
export type LightClientFailure =
  | 'not-newer'
  | 'wrong-chain'
  | 'wrong-validator-set'
  | 'bad-certificate'
  | 'wrong-parent'
  | 'next-set-required'
  | 'next-set-mismatch'

/** An update the light client refused; `code` says why. */
export class LightClientError extends MetanodeError {
  override name = 'LightClientError'
  /** Why it was refused. */
  readonly code: LightClientFailure

  constructor(code: LightClientFailure, message: string) {
    super(message, { details: { code } })
    this.code = code
  }
}

function failure(
  header: BlockHeader,
  certificate: CommitCertificate,
  set: ValidatorSet,
  scheme: SignatureScheme,
): LightClientFailure | undefined {
  let id: Uint8Array
  try {
    if (!equalBytes(header.validatorSetHash, validatorSetHash(set))) return 'wrong-validator-set'
    if (certificate.height !== header.height) return 'bad-certificate'
    id = headerId(header)
  } catch {
    // a header or set that does not encode is not one a quorum certified
    return 'bad-certificate'
  }
  return verifyCommitCertificate(certificate, id, set, header.chainId, scheme)
    ? undefined
    : 'bad-certificate'
}

/**
 * Whether `certificate` proves that `trustedValidatorSet` decided `header`: the header names that
 * set, and one aggregate BLS check over the signers passes for the header's id. Only the header
 * is needed; check a body against it with {@link verifyBlockBody}. Returns `false` for anything
 * forged or mismatched; never throws for well-typed input.
 */
export function verifyHeader(
  header: BlockHeader,
  certificate: CommitCertificate,
  trustedValidatorSet: ValidatorSet,
  options: LightClientOptions = {},
): boolean {
  return (
    failure(header, certificate, trustedValidatorSet, options.scheme ?? realScheme) === undefined
  )
}

/** The chain's starting point as a light client trusts it: from `genesisAnchor(genesis)` of the main entry. */
export interface GenesisAnchor {
  /** The chain id. */
  chainId: string
  /** The genesis id (`genesisId(genesis)`): block 1's `parentId`. */
  genesisId: Uint8Array
  /** The set that decides height 1. */
  validatorSet: ValidatorSet
}

/** Where a {@link LightClient} starts: a trusted header and the set deciding the next height. */
export interface TrustedHeaderInit extends LightClientOptions {
  /** A header obtained from a trusted source. */
  trustedHeader: BlockHeader
  /** The set that decides `trustedHeader.height + 1`; its hash must be `trustedHeader.nextValidatorSetHash`. */
  trustedNextValidatorSet: ValidatorSet
}

/** Where a {@link LightClient} starts: genesis. */
export interface GenesisInit extends LightClientOptions {
  /** The chain's genesis, as the client trusts it. */
  genesis: GenesisAnchor
}

/** Where a {@link LightClient} starts. */
export type LightClientInit = TrustedHeaderInit | GenesisInit

/**
 * Follows a chain's headers from a trusted one (or from genesis), across validator-set changes.
 * Each update is checked with one aggregate BLS verification against the set the client already
 * trusts. Headers may skip heights only while the deciding set is unchanged (the trusted next
 * set).
 */
export class LightClient {
  readonly #chainId: string
  #height: number
  #headerId: Uint8Array
  #header: BlockHeader | undefined
  #nextSet: ValidatorSet
  readonly #scheme: SignatureScheme

  /**
   * @throws LightClientError `next-set-mismatch` when the set does not match the header.
   */
  constructor(init: LightClientInit) {
    this.#scheme = init.scheme ?? realScheme
    if ('genesis' in init) {
      this.#chainId = init.genesis.chainId
      this.#height = 0
      this.#headerId = init.genesis.genesisId
      this.#nextSet = init.genesis.validatorSet
      return
    }
    const { trustedHeader, trustedNextValidatorSet } = init
    if (
      !equalBytes(validatorSetHash(trustedNextValidatorSet), trustedHeader.nextValidatorSetHash)
    ) {
      throw new LightClientError('next-set-mismatch', 'trusted next set does not match the header')
    }
    this.#chainId = trustedHeader.chainId
    this.#height = trustedHeader.height
    this.#headerId = headerId(trustedHeader)
    this.#header = trustedHeader
    this.#nextSet = trustedNextValidatorSet
  }

  /** Height of the latest verified header (0 at genesis). */
  get height(): number {
    return this.#height
  }

  /** The latest verified header (undefined at genesis). */
  get header(): BlockHeader | undefined {
    return this.#header
  }

  /** The set that decides the next height, as far as the client knows. */
  get nextValidatorSet(): ValidatorSet {
    return this.#nextSet
  }

  /**
   * Verifies `header` with `certificate` and adopts it. When the header announces a next set
   * different from the current one, `nextValidatorSet` must be given and match it.
   *
   * @throws LightClientError with the reason; the client's state is unchanged then.
   */
  update(
    header: BlockHeader,
    certificate: CommitCertificate,
    nextValidatorSet?: ValidatorSet,
  ): void {
    if (header.chainId !== this.#chainId) {
      throw new LightClientError('wrong-chain', 'another chain')
    }
    if (header.height <= this.#height) {
      throw new LightClientError('not-newer', 'header is not newer')
    }
    if (header.height === this.#height + 1 && !equalBytes(header.parentId, this.#headerId)) {
      throw new LightClientError('wrong-parent', 'header does not follow the trusted one')
    }
    const reason = failure(header, certificate, this.#nextSet, this.#scheme)
    if (reason !== undefined) throw new LightClientError(reason, `cannot verify header: ${reason}`)
    let next = this.#nextSet
    if (!equalBytes(header.nextValidatorSetHash, header.validatorSetHash)) {
      if (nextValidatorSet === undefined) {
        throw new LightClientError('next-set-required', 'the header changes the validator set')
      }
      if (!equalBytes(validatorSetHash(nextValidatorSet), header.nextValidatorSetHash)) {
        throw new LightClientError('next-set-mismatch', 'next set does not match the header')
      }
      next = nextValidatorSet
    }
    this.#height = header.height
    this.#headerId = headerId(header)
    this.#header = header
    this.#nextSet = next
  }
}
