/**
 * A Metanode `Store` on LevelDB, through `classic-level`: ordered binary keys, atomic batches
 * that survive a crash whole or not at all, and snapshot range scans.
 *
 * @example
 * ```ts
 * import { levelStore } from '@metanode/store-level'
 *
 * const store = levelStore({ location: './data/chain' })()
 * await store.open()
 * await store.batch([
 *   { type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(10) },
 *   { type: 'put', key: Uint8Array.of(2), value: Uint8Array.of(20) },
 * ])
 * for await (const { key, value } of store.iterate({ gte: Uint8Array.of(1) })) {
 *   console.log(key, value)
 * }
 * await store.close()
 * ```
 *
 * @module
 */
export {
  StoreCorruptionError,
  StoreIOError,
  StoreLockedError,
  StoreNotFoundError,
} from './errors.js'
export type { LevelStoreInit } from './level-store.js'
export { LevelStore, levelStore } from './level-store.js'
