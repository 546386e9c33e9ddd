/**
 * The deterministic application the simulated validators run: a payload names its height and
 * proposer and carries a few bytes from the proposer's seeded generator, so two proposals for one
 * height differ and every honest node validates them the same way.
 */
import type {
  Application,
  FinalizedBlock,
  ProposalContext,
  ProposalVerdict,
  Rng,
  ValidatorSet,
} from '@metanode/core'
import { u64be } from '../bytes.js'
import { VALIDATOR_ID_LENGTH } from '../validators.js'

/** First byte of a payload honest validators accept. */
const VALID_MARK = 0x01
/** First byte of a payload every honest validator rejects: what `invalid-proposal` sends. */
const INVALID_MARK = 0xee
const NONCE_LENGTH = 8
/** Length of every simulated payload: mark, height, proposer id, nonce. */
export const SIM_PAYLOAD_LENGTH = 1 + 8 + VALIDATOR_ID_LENGTH + NONCE_LENGTH

/**
 * Builds a simulated payload for `height` by `proposer`; `valid: false` marks it as one the
 * application rejects.
 */
export function simPayload(
  height: number,
  proposer: Uint8Array,
  rng: Rng,
  valid = true,
): Uint8Array {
  const payload = new Uint8Array(SIM_PAYLOAD_LENGTH)
  payload[0] = valid ? VALID_MARK : INVALID_MARK
  payload.set(u64be(height), 1)
  payload.set(proposer.subarray(0, VALIDATOR_ID_LENGTH), 9)
  payload.set(rng.bytes(NONCE_LENGTH), 9 + VALIDATOR_ID_LENGTH)
  return payload
}

/** The height a simulated payload names, or `undefined` when it is not one. */
export function simPayloadHeight(payload: Uint8Array): number | undefined {
  if (payload.length !== SIM_PAYLOAD_LENGTH) return undefined
  return Number(new DataView(payload.buffer, payload.byteOffset + 1, 8).getBigUint64(0))
}

function verdict(code: string, reason: string): ProposalVerdict {
  return { valid: false, code, reason }
}

/** The simulated application of one validator incarnation. */
export class SimApplication implements Application {
  readonly #set: ValidatorSet
  readonly #rng: Rng
  readonly #onFinalize: (block: FinalizedBlock) => void

  /** An application over a fixed `set`, drawing nonces from `rng`, calling `onFinalize` per block. */
  constructor(set: ValidatorSet, rng: Rng, onFinalize: (block: FinalizedBlock) => void) {
    this.#set = set
    this.#rng = rng
    this.#onFinalize = onFinalize
  }

  /** The fixed validator set, at every height. */
  async validatorSet(): Promise<ValidatorSet> {
    return this.#set
  }

  /** A valid payload for the context's height and proposer. */
  async buildProposal(context: ProposalContext): Promise<Uint8Array> {
    return simPayload(context.height, context.proposer, this.#rng)
  }

  /** Rejects payloads of the wrong length, marked invalid, or naming another height. */
  async validateProposal(context: ProposalContext, payload: Uint8Array): Promise<ProposalVerdict> {
    // The proposer is not checked: a later round re-proposes the block of an earlier proposer.
    if (payload.length !== SIM_PAYLOAD_LENGTH) return verdict('length', 'wrong payload length')
    if (payload[0] === INVALID_MARK) return verdict('marked-invalid', 'payload marked invalid')
    if (payload[0] !== VALID_MARK) return verdict('mark', 'unknown payload mark')
    if (simPayloadHeight(payload) !== context.height) {
      return verdict('height', 'payload names another height')
    }
    return { valid: true }
  }

  /** Hands the block to `onFinalize`. */
  async finalize(block: FinalizedBlock): Promise<void> {
    this.#onFinalize(block)
  }
}
