/**
 * Compliance suites for the plug-in interfaces of `@metanode/core`, in the js-libp2p style:
 * every implementation calls the suite from its own tests, so all of them are held to one
 * behaviour. The suites register vitest tests, so `vitest` (a peer dependency) must be
 * installed.
 *
 * @example
 * ```ts
 * // test/store.test.ts of a store implementation
 * import { MemoryStore } from '@metanode/core'
 * import { storeSuite } from '@metanode/core/compliance'
 *
 * storeSuite('MemoryStore', async () => {
 *   const store = new MemoryStore()
 *   return { store, reopen: async () => store }
 * })
 * ```
 *
 * @module
 */
export type { StoreSuiteSetup } from './store.js'
export { storeSuite } from './store.js'
export type { TransportSuiteOptions, TransportSuiteSetup } from './transport.js'
export { transportSuite } from './transport.js'
