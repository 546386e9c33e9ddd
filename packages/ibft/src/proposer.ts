/**
 * Who proposes in a round. The selector is pluggable (`IbftInit.proposerSelector`).
 *
 * The engine's default rotates round-robin from the proposer of the previous block
 * ({@link roundRobinProposer}), so a faulty proposer loses its turn after one round, when the
 * application tells which proposer a decided payload records (`Application.proposerOf`). That
 * proposer comes from the decided bytes, identical on every node. Without `proposerOf` the
 * default is {@link rotatingProposer}, which depends only on (height, round): the only other
 * candidate, the proposer of the round the block was decided in, is not the same on every node,
 * because honest nodes may hold certificates of different rounds for one decided block, and a
 * rotation following it would split them on every later proposer.
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
  /**
   * The proposer of the previous height's decided block: what `Application.proposerOf` reads from
   * its payload or, for an application without it, the proposer of the round this node saw it
   * decided in. Absent for the first height (and when the payload records none).
   */
  previousProposer?: Uint8Array
}

/** Picks the proposer of a round; must be deterministic. Returns the index in canonical order. */
export type ProposerSelector = (context: ProposerContext) => number

/**
 * Round-robin from the previous block's proposer: `validators[(index of previousProposer + 1 +
 * round) mod n]`. The first height, and a previous proposer absent or no longer in the set, start
 * from index 0. The engine's default when the application implements `proposerOf`.
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
 * `validators[(height - 1 + round) mod n]`, round-robin by height from index 0: the engine's
 * default when the application does not implement `proposerOf`. It equals
 * {@link roundRobinProposer} while every height is decided in round 0 by its round-0 proposer,
 * and depends only on (height, round), so nodes agree on it without knowing who proposed.
 */
export const rotatingProposer: ProposerSelector = ({ height, round, validators }) =>
  (((height - 1 + round) % validators.validators.length) + validators.validators.length) %
  validators.validators.length
