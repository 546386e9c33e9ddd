// js-libp2p 3 (libp2p, @libp2p/utils, yamux, noise, gossipsub, it-queue, mortice, ...) calls
// `Promise.withResolvers` (ES2024), which V8 ships from Node 22 on. Our engines field allows Node
// 20.19+, where it is missing, so the transport installs the standard behaviour before it creates a
// libp2p node. Native implementations are left untouched.

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

type PromiseConstructorWithResolvers = PromiseConstructor & {
  withResolvers?: <T>() => Resolvers<T>
}

/** Installs `Promise.withResolvers` when the runtime lacks it (Node < 22). Idempotent. */
export function ensurePromiseWithResolvers(): void {
  const PromiseConstructor = Promise as PromiseConstructorWithResolvers
  if (typeof PromiseConstructor.withResolvers === 'function') return
  Object.defineProperty(PromiseConstructor, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      // `this` keeps subclass semantics, as the specification requires
      const promise = new this<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}
