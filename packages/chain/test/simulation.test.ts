// Seeded simulations over @metanode/sim: chain nodes on the ibft engine under random transfer
// load, one of them a Byzantine validator that signs conflicting PREPAREs.
import type { Startable, Transport } from '@metanode/core'
import { bytesToHex } from '@metanode/crypto/bytes'
import {
  createIbft,
  decodeMessage,
  encodeMessage,
  type IbftEngine,
  realScheme,
  signBody,
} from '@metanode/ibft'
import { runScenario, SeededRng, type SimNodeComponents } from '@metanode/sim'
import { describe, expect, it } from 'vitest'
import {
  type ChainApplication,
  createChainApplication,
  decodeBlock,
  genesisState,
  readActiveSet,
  StateOverlay,
} from '../src/index.js'
import { CHAIN_ID, makeGenesis, tx, userKeys, validatorKeys } from './fixtures.js'

/**
 * A validator that runs the honest engine and chain, but publishes a second, conflicting
 * PREPARE (another digest) next to every PREPARE it signs: equivocation every honest node sees.
 */
function equivocatingTransport(transport: Transport, index: number): Transport {
  const keys = validatorKeys(index)
  const signer = realScheme.createSigner({
    ed25519SecretKey: keys.secretKey,
    blsSecretKey: keys.blsSecretKey,
  })
  return new Proxy(transport, {
    get(target, property) {
      if (property === 'publish') {
        return async (topic: string, data: Uint8Array) => {
          await target.publish(topic, data)
          const message = decodeMessage(data)
          const { body } = message.signed
          if (body.kind !== 'PREPARE') return
          const twin = signBody(CHAIN_ID, signer, {
            ...body,
            digest: body.digest.map((b) => b ^ 0xff),
          })
          await target.publish(
            topic,
            encodeMessage({ signed: twin, roundChanges: [], prepares: [] }),
          )
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

class ChainNode implements Startable {
  chain: ChainApplication | undefined
  engine: IbftEngine | undefined
  /** State root after each height, recorded as the engine finalizes it. */
  readonly roots = new Map<number, string>()
  transactions = 0
  constructor(
    readonly components: SimNodeComponents,
    readonly index: number,
    readonly genesis: ReturnType<typeof makeGenesis>,
    readonly equivocates = false,
  ) {}

  async start(): Promise<void> {
    const { components } = this
    const keys = validatorKeys(this.index)
    this.chain = await createChainApplication({
      genesis: this.genesis,
      store: components.store,
      clock: components.clock,
    })
    this.engine = createIbft({
      chainId: CHAIN_ID,
      application: this.chain,
      signer: { ed25519SecretKey: keys.secretKey, blsSecretKey: keys.blsSecretKey },
      roundTimeoutBaseMs: 200,
      roundTimeoutMaxMs: 3_200,
      blockPeriodMs: 20,
    })({
      clock: components.clock,
      transport: this.equivocates
        ? equivocatingTransport(components.transport, this.index)
        : components.transport,
      store: components.store,
      logger: components.logger,
      rng: components.rng,
    })
    this.engine.on('error', ({ error }) => components.violation(`halted: ${String(error.cause)}`))
    this.engine.on('finalized', ({ block }) => {
      const chain = this.chain as ChainApplication
      this.roots.set(block.height, bytesToHex(chain.stateRoot))
      this.transactions += decodeBlock(block.payload).txs.length
    })
    await this.engine.start()
  }

  async stop(): Promise<void> {
    await this.engine?.stop()
  }
}

async function simulate(seed: number, validators: number, heights: number) {
  // Virtual time starts at 0, so genesis does too.
  const genesis = {
    ...makeGenesis({ validators, users: 4, epochLength: 4, stake: 10_000n }),
    genesisTime: 0,
  }
  const set = readActiveSet(new StateOverlay(genesisState(genesis)))
  const ids = set.validators.map((_, index) => `v${index}`)
  // Validator i of the set is validatorKeys(k) with k the genesis index: map back by id.
  const keyIndex = set.validators.map(
    (validator) =>
      Array.from({ length: validators }, (_, k) => k).find(
        (k) => bytesToHex(validatorKeys(k).publicKey) === bytesToHex(validator.id),
      ) as number,
  )
  const rng = new SeededRng(seed)
  const byzantine = rng.fork('byzantine').below(validators)
  const honest = new Map<string, ChainNode>()
  const users = [1, 2, 3, 4].map(userKeys)
  const nonces = users.map(() => 0)
  const load = rng.fork('load')
  const offender = validatorKeys(keyIndex[byzantine] as number).publicKey
  const done = () => [...honest.values()].every((node) => (node.chain?.height ?? 0) >= heights)
  const result = await runScenario<Startable>({
    seed,
    nodes: ids.map((id, index) => ({
      id,
      create: (components: SimNodeComponents) => {
        const node = new ChainNode(
          components,
          keyIndex[index] as number,
          genesis,
          index === byzantine,
        )
        if (index !== byzantine) honest.set(id, node)
        return node
      },
    })),
    network: { latency: { kind: 'uniform', minMs: 1, maxMs: 20 } },
    trace: 'none',
    setup: (sim) => {
      for (let at = 50; at < 3_000; at += 100) {
        sim.schedule(at, () => {
          const from = load.below(users.length)
          const to = (from + 1 + load.below(users.length - 1)) % users.length
          const transfer = tx(users[from] as (typeof users)[number], nonces[from] as number, {
            kind: 'transfer',
            to: (users[to] as (typeof users)[number]).publicKey,
            amount: BigInt(1 + load.below(1_000)),
          })
          nonces[from] = (nonces[from] as number) + 1
          for (const node of honest.values()) node.chain?.submitTransaction(transfer)
        })
      }
    },
    until: (sim) => sim.now >= 60_000 || done(),
  })
  return { result, honest, offender, offenderIndex: keyIndex[byzantine] as number }
}

describe('seeded simulation with an equivocating validator', () => {
  for (const [seed, validators] of [
    [1, 4],
    [2, 5],
    [3, 6],
    [4, 7],
  ] as const) {
    it(`seed ${seed}, ${validators} validators: the equivocator is slashed and jailed, honest nodes agree on every state root`, async () => {
      const heights = 12
      const { result, honest, offender, offenderIndex } = await simulate(seed, validators, heights)
      expect(result.violations).toEqual([])
      const nodes = [...honest.values()]
      // The run stops as soon as every honest node reached `heights`; compare up to there.
      for (let height = 1; height <= heights; height++) {
        const roots = new Set(nodes.map((node) => node.roots.get(height)))
        expect(roots.size).toBe(1)
        expect(roots.has(undefined)).toBe(false)
      }
      const first = nodes[0]?.chain as ChainApplication
      expect(first.account(offender).stake).toBe(
        10_000n + BigInt(offenderIndex) - (10_000n + BigInt(offenderIndex)) / 10n,
      )
      const next = await first.validatorSet(first.height + 1)
      expect(next.validators.map((v) => bytesToHex(v.id))).not.toContain(bytesToHex(offender))
      expect(nodes.every((node) => node.transactions > 0)).toBe(true)
    })
  }
})
