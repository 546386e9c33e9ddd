/**
 * Who proposes in a round. The selector is pluggable; the default rotates round-robin from the
 * proposer of the previous block, so a faulty proposer loses its turn after one round.
 */
import type { ValidatorSet } from '@metanode/core'
import { equalBytes } from './bytes.js'

/** What a {@link ProposerSelector} decides from. */
export interface ProposerContext {
  /** The height being decided. */
  height: number
  /** The round within the height. */
  round: number
  /** The validators of the height, in canonical order. */
  validators: ValidatorSet
  /** The id of the proposer of the previous height's decided block; absent for the first height. */
  previousProposer?: Uint8Array
}

/** Picks the proposer of a round; must be deterministic. Returns the index in canonical order. */
export type ProposerSelector = (context: ProposerContext) => number

/**
 * The default selector: `validators[(index of previousProposer + 1 + round) mod n]`. The first
 * height, and a previous proposer that has left the set, start from index 0.
 */
export const roundRobinProposer: ProposerSelector = ({ round, validators, previousProposer }) => {
  const list = validators.validators
  const previousIndex =
    previousProposer === undefined
      ? -1
      : list.findIndex((validator) => equalBytes(validator.id, previousProposer))
  return (previousIndex + 1 + round) % list.length
}

/** A selector that ignores the previous proposer: `validators[(height + round) mod n]`. */
export const heightRoundProposer: ProposerSelector = ({ height, round, validators }) =>
  (height + round) % validators.validators.length

/**
 * The engine's default selector: `validators[(height - 1 + round) mod n]`, round-robin by height
 * from index 0. It equals {@link roundRobinProposer} while every height is decided in round 0, but
 * depends only on (height, round): honest nodes may hold certificates of different rounds for the
 * same decided block, so a rotation that follows the decided round's proposer can split them.
 */
export const rotatingProposer: ProposerSelector = ({ height, round, validators }) =>
  (((height - 1 + round) % validators.validators.length) + validators.validators.length) %
  validators.validators.length
