// Validator keys and a trivial application shared by the benchmarks.
import type { Application, ValidatorSet } from '@metanode/core'
import { realScheme, type ValidatorKeys } from '../src/index.js'

/** `count` validators with keys derived from their index, and their set. */
export function makeValidators(count: number): { keys: ValidatorKeys[]; set: ValidatorSet } {
  const keys = Array.from({ length: count }, (_, i) => {
    const seed = new Uint8Array(32)
    new DataView(seed.buffer).setUint32(0, i + 1)
    return realScheme.keygen(seed)
  })
  const set: ValidatorSet = {
    validators: keys.map(({ id, blsPublicKey }) => ({ id, blsPublicKey, votingPower: 1n })),
  }
  return { keys, set }
}

/**
 * An application whose payload is the proposer's clock reading (8 bytes, float64) plus `padding`
 * bytes, so that every node of one process can measure proposal-to-finality from the payload.
 */
export function timestampApplication(
  set: ValidatorSet,
  now: () => number,
  onFinalized: (height: number, proposedAt: number, round: number) => void,
  padding = 120,
): Application {
  return {
    validatorSet: async () => set,
    buildProposal: async () => {
      const payload = new Uint8Array(8 + padding)
      new DataView(payload.buffer).setFloat64(0, now())
      return payload
    },
    validateProposal: async (_context, payload) =>
      payload.length === 8 + padding
        ? { valid: true }
        : { valid: false, code: 'bad-length', reason: 'unexpected payload length' },
    finalize: async ({ height, payload, certificate }) => {
      onFinalized(
        height,
        new DataView(payload.buffer, payload.byteOffset).getFloat64(0),
        certificate.round,
      )
    },
  }
}
