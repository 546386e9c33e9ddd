// Input handling between the Store contract and classic-level. Internal: not re-exported.
import type { BatchOperation, RangeOptions } from '@metanode/core'
import { assertBatch, assertRangeOptions, compareBytes } from '@metanode/core'

/** A batch operation rebuilt from the caller's, carrying nothing but the fields LevelDB needs. */
export type LevelOperation =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array }

/**
 * Checks every operation before any is applied (core's `assertBatch`) and returns fresh
 * operation objects: abstract-level honours extra per-operation fields such as `keyEncoding` or
 * `sublevel`, which a caller's objects must not be able to smuggle in.
 */
export function levelOperations(operations: unknown): LevelOperation[] {
  assertBatch(operations)
  const checked = new Array<LevelOperation>(operations.length)
  for (let i = 0; i < operations.length; i++) {
    const operation = operations[i] as BatchOperation
    checked[i] =
      operation.type === 'put'
        ? { type: 'put', key: operation.key, value: operation.value }
        : { type: 'del', key: operation.key }
  }
  return checked
}

/** Range options in the shape classic-level takes. */
export interface LevelRange {
  gt?: Uint8Array
  gte?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  reverse: boolean
  limit: number
}

/**
 * Checks range options (core's `assertRangeOptions`) and turns them into classic-level's. When
 * both an exclusive and an inclusive bound are given on one side, the contract applies both;
 * classic-level would silently use only one of them, so the stricter one is passed.
 */
export function levelRange(options: unknown): LevelRange {
  assertRangeOptions(options)
  const { gt, gte, lt, lte, reverse, limit }: RangeOptions = options ?? {}
  const range: LevelRange = { reverse: reverse ?? false, limit: limit ?? -1 }
  if (gt !== undefined && (gte === undefined || compareBytes(gt, gte) >= 0)) range.gt = gt
  else if (gte !== undefined) range.gte = gte
  if (lt !== undefined && (lte === undefined || compareBytes(lt, lte) <= 0)) range.lt = lt
  else if (lte !== undefined) range.lte = lte
  return range
}
