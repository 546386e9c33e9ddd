/**
 * One replica of the replicated key-value store: an `Application` for `@metanode/ibft`. A
 * replica packs the writes made through it into its next proposal; every replica applies the
 * decided blocks, in height order, to its own map, so all of them hold the same state.
 */
import type { Application, FinalizedBlock, Store, Transport, ValidatorSet } from '@metanode/core'
import { decodeAs, encode, type Infer, shape, systemClock } from '@metanode/core'
import { createIbft, type IbftEngine, type SignerKeys } from '@metanode/ibft'

/** A write as it travels in blocks; without `value` it deletes `key`. */
const Command = shape.object({
  id: shape.string({ max: 128 }),
  key: shape.string({ max: 1_024 }),
  value: shape.optional(shape.string({ max: 64 * 1_024 })),
})
const Block = shape.array(Command, { max: 1_000 })
/** One write; without `value` it deletes `key`. */
export type Command = Infer<typeof Command>

/** What a replica needs: its validator keys, the fixed validator set, a transport and a store. */
export interface KvReplicaInit {
  /** This validator's secret keys. */
  signer: SignerKeys
  /** The validators deciding every height (a fixed set in this example). */
  validators: ValidatorSet
  /** Messaging with the other replicas. */
  transport: Transport
  /** The engine's signing state and decided blocks; with LevelDB they survive a restart. */
  store: Store
  /** Pause between blocks, in ms (default 50), so an idle cluster does not spin. */
  blockPeriodMs?: number | undefined
}

/** A replica of the key-value store, running its own consensus engine. */
export class KvReplica {
  /** The consensus engine, for its events (`finalized` carries the commit certificate). */
  readonly engine: IbftEngine
  /** The validator set, which verifies commit certificates (see `verifyCommitCertificate`). */
  readonly validators: ValidatorSet
  /** Messaging with the other replicas. */
  readonly transport: Transport
  readonly #state = new Map<string, string>()
  readonly #pending = new Map<string, { command: Command; applied: () => void }>()
  #height = 0

  constructor(private readonly init: KvReplicaInit) {
    this.validators = init.validators
    this.transport = init.transport
    const application: Application = {
      validatorSet: async () => init.validators,
      buildProposal: async () =>
        encode([...this.#pending.values()].slice(0, 1_000).map((pending) => pending.command)),
      validateProposal: async (_context, payload) => {
        try {
          decodeAs(payload, Block) // throws unless the payload is a list of commands
          return { valid: true }
        } catch (error) {
          return { valid: false, code: 'malformed-block', reason: String(error) }
        }
      },
      finalize: async (block) => this.#apply(block),
    }
    const { signer, blockPeriodMs = 50, transport, store } = init
    const engine = createIbft({ chainId: 'embedded-kv', application, signer, blockPeriodMs })
    this.engine = engine({ clock: systemClock, transport, store })
  }

  /** The last height this replica applied. */
  get height(): number {
    return this.#height
  }

  /** Reads the local state. */
  get(key: string): string | undefined {
    return this.#state.get(key)
  }

  /** The local state, sorted by key. */
  entries(): [string, string][] {
    return [...this.#state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /** Writes `value` under `key`; resolves once the write is decided and applied here. */
  set(key: string, value: string): Promise<void> {
    return this.#submit({ id: '', key, value })
  }

  /** Removes `key`; resolves once the deletion is decided and applied here. */
  delete(key: string): Promise<void> {
    return this.#submit({ id: '', key })
  }

  /** Rebuilds the state from the stored blocks and starts consensus. */
  async start(): Promise<void> {
    await this.init.store.open()
    // the engine's block log is the state's write-ahead log: replaying it rebuilds the map
    for (let block = await this.engine.finalizedBlock(1); block; ) {
      this.#apply(block)
      block = await this.engine.finalizedBlock(block.height + 1)
    }
    await this.transport.start()
    await this.engine.start()
  }

  /** Stops consensus, the transport and the store; writes not yet decided stay unresolved. */
  async stop(): Promise<void> {
    await this.engine.stop()
    await this.transport.stop()
    await this.init.store.close()
  }

  // Round-robin proposers give every replica a turn within n heights, so a write needs no
  // gossip; a chain with many clients would gossip them to all proposers (a mempool).
  async #submit(write: Command): Promise<void> {
    const id = crypto.randomUUID()
    const command = Command({ ...write, id }, '$') // DecodeError for oversized input
    return new Promise((applied) => this.#pending.set(id, { command, applied }))
  }

  #apply({ height, payload }: FinalizedBlock): void {
    this.#height = height
    for (const { id, key, value } of decodeAs(payload, Block)) {
      if (value === undefined) this.#state.delete(key)
      else this.#state.set(key, value)
      this.#pending.get(id)?.applied()
      this.#pending.delete(id)
    }
  }
}
