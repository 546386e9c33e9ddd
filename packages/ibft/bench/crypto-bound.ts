// The CPU floor of one height with n = 4 in one thread: the cryptography every height needs,
// timed primitive by primitive with realScheme on this machine.
import { performance } from 'node:perf_hooks'
import { commitSealBytes, realScheme, signingBytes } from '../src/index.js'
import { makeValidators } from './validators.js'

/** Per-operation costs (ms) and the bound they imply. */
export interface CryptoBound {
  blsSealMs: number
  /** Aggregate a quorum of 3 seals and fast-aggregate-verify the sum (one subgroup check). */
  verifyAndAggregateMs: number
  ed25519SignMs: number
  ed25519VerifyMs: number
  /** CPU ms of cryptography per height with 4 validators. */
  perHeightMs: number
  /** 1000 / perHeightMs: heights per second if nothing but this cryptography ran. */
  heightsPerSecond: number
}

function timeOf(iterations: number, operation: () => void): number {
  for (let i = 0; i < 20; i++) operation()
  const start = performance.now()
  for (let i = 0; i < iterations; i++) operation()
  return (performance.now() - start) / iterations
}

/**
 * Per height with n = 4 and quorum 3: every node seals once, aggregates a quorum of 3 seals
 * and fast-aggregate-verifies the sum once (`verifyAndAggregate`); 9 message signatures (1 PROPOSAL, 4 PREPAREs, 4 COMMITs)
 * and 23 verifications (the PROPOSAL on 3 nodes, the 3 other PREPAREs on each node, and the 2
 * other COMMITs that complete each node's quorum; the third COMMIT arrives after the node moved
 * to the next height and is dropped before verification).
 */
export function cryptoBound(): CryptoBound {
  const { keys } = makeValidators(4)
  const signers = keys.map((k) => realScheme.createSigner(k))
  const sealBytes = commitSealBytes('bench', 1, 0, new Uint8Array(32))
  const seals = signers.map((s) => s.seal(sealBytes))
  const quorumSeals = seals.slice(0, 3)
  const quorumKeys = keys.slice(0, 3).map((k) => k.blsPublicKey)
  const message = signingBytes('bench', 'PREPARE', new Uint8Array(60))
  const signature = signers[1]!.sign(message)
  const blsSealMs = timeOf(200, () => signers[0]!.seal(sealBytes))
  const verifyAndAggregateMs = timeOf(200, () => {
    if (realScheme.verifyAndAggregate?.(quorumSeals, sealBytes, quorumKeys) === undefined) {
      throw new Error('the quorum of seals must verify')
    }
  })
  const ed25519SignMs = timeOf(1000, () => signers[0]!.sign(message))
  const ed25519VerifyMs = timeOf(1000, () => realScheme.verify(signature, message, keys[1]!.id))
  const perHeightMs =
    4 * (blsSealMs + verifyAndAggregateMs) + 9 * ed25519SignMs + 23 * ed25519VerifyMs
  return {
    blsSealMs,
    verifyAndAggregateMs,
    ed25519SignMs,
    ed25519VerifyMs,
    perHeightMs,
    heightsPerSecond: 1000 / perHeightMs,
  }
}
