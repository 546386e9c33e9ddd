import type { FinalizedBlock, ProposalContext, Transport, ValidatorSet } from '@metanode/core'
import {
  createMemoryNetwork,
  encode,
  isMetanodeError,
  memoryStore,
  RejectionError,
} from '@metanode/core'
import { describe, expect, it } from 'vitest'
import { hexKey } from '../src/bytes.js'
import {
  blockIdOf,
  buildCommitCertificate,
  commitSealBytes,
  createIbft,
  DEFAULT_SYNC_LIMITS,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  IBFT_SYNC_PROTOCOL,
  type IbftEngine,
  type IbftEvents,
  type IbftInit,
  type IbftSigner,
  realScheme,
  serveSyncRequest,
  verifyCommitCertificate,
  verifySyncedBlock,
} from '../src/index.js'
import {
  CHAIN,
  flush,
  ManualClock,
  makeValidators,
  RecordingApp,
  recordedPayload,
} from './harness.js'

type Store = ReturnType<ReturnType<typeof memoryStore>>

/** A recording application whose `finalize` can be held at one height. */
class GatedApp extends RecordingApp {
  gateHeight: number | undefined
  #release: (() => void) | undefined
  reached = false
  override async finalize(block: FinalizedBlock): Promise<void> {
    await super.finalize(block)
    if (block.height === this.gateHeight) {
      this.reached = true
      await new Promise<void>((resolve) => {
        this.#release = resolve
      })
    }
  }
  release(): void {
    this.gateHeight = undefined
    this.#release?.()
  }
}

interface Node {
  index: number
  engine: IbftEngine
  app: GatedApp
  transport: Transport
  store: Store
  rejected: IbftEvents['rejected'][]
  synced: IbftEvents['synced'][]
}

/** An id other than `blockIdOf`, refusing payloads that start with "forged". */
function appBlockId(payload: Uint8Array): Uint8Array {
  if (new TextDecoder().decode(payload.subarray(0, 6)) === 'forged') throw new Error('malformed')
  return blockIdOf(Uint8Array.of(0x42, ...payload))
}

/**
 * A gated application with its own block id, whose payloads record their proposer for the
 * engine's rotation (`proposerOf`).
 */
class AppIdGatedApp extends GatedApp {
  blockId(payload: Uint8Array): Uint8Array {
    return appBlockId(payload)
  }
  override async buildProposal(context: ProposalContext): Promise<Uint8Array> {
    return recordedPayload(await super.buildProposal(context), context.proposer)
  }
  proposerOf(payload: Uint8Array): Uint8Array | undefined {
    return payload.length < 32 ? undefined : payload.slice(payload.length - 32)
  }
}

function createCluster(options: { app?: (set: ValidatorSet) => GatedApp } = {}) {
  const clock = new ManualClock()
  const network = createMemoryNetwork({ clock })
  const { signers, set } = makeValidators(4, realScheme)
  const nodes: Node[] = []

  function engineFor(node: Omit<Node, 'engine' | 'rejected' | 'synced'>, sync?: IbftInit['sync']) {
    const engine = createIbft({
      chainId: CHAIN,
      application: node.app,
      signer: signers[node.index] as IbftSigner,
      roundTimeoutBaseMs: 1000,
      blockPeriodMs: 100,
      ...(sync === undefined ? {} : { sync }),
    })({ clock, transport: node.transport, store: node.store })
    return engine
  }

  function watch(node: Node): void {
    node.engine.on('rejected', (detail) => node.rejected.push(detail))
    node.engine.on('synced', (detail) => node.synced.push(detail))
  }

  async function start(): Promise<void> {
    for (let index = 0; index < 4; index++) {
      const base = {
        index,
        app: options.app?.(set) ?? new GatedApp(set),
        transport: network.transport({ peerId: `node-${index}` }),
        store: memoryStore()(),
      }
      const node: Node = { ...base, engine: engineFor(base), rejected: [], synced: [] }
      watch(node)
      nodes.push(node)
      await node.transport.start()
    }
    await Promise.all(nodes.map((node) => node.engine.start()))
  }

  /** Replaces a node's engine by a new one over the same store: a process restart. */
  async function restart(node: Node, sync?: IbftInit['sync']): Promise<void> {
    await node.engine.stop()
    node.engine = engineFor(node, sync)
    watch(node)
    await node.engine.start()
  }

  /** Runs the network in virtual time until `done` holds (or nothing is left to happen). */
  async function drive(done: () => boolean, maxSteps = 20_000): Promise<void> {
    for (let step = 0; step < maxSteps && !done(); step++) {
      await network.settle()
      await flush(3)
      if (done()) return
      const before = nodes.map(({ app }) => app.finalized.length).join()
      await network.settle()
      await flush(3)
      if (nodes.map(({ app }) => app.finalized.length).join() !== before) continue
      const next = clock.nextAt()
      if (next === undefined) return
      await clock.advance(next - clock.now())
    }
  }

  async function stopAll(): Promise<void> {
    for (const node of nodes) node.app.release()
    await Promise.all(nodes.map((node) => node.engine.stop()))
    await Promise.all(nodes.map((node) => node.transport.stop()))
  }

  return { clock, network, signers, set, nodes, start, restart, drive, stopAll }
}

const heightsOf = (node: Node) => node.app.finalized.map((block) => block.height)

/** Every node applied 1..count once each, in order, the same payloads as node `reference`, with certificates that verify. */
function expectSameChain(
  nodes: Node[],
  set: ValidatorSet,
  count: number,
  reference = nodes[0],
  blockId: (payload: Uint8Array) => Uint8Array = blockIdOf,
) {
  const expected = (reference as Node).app.finalized.slice(0, count)
  for (const node of nodes) {
    const blocks = node.app.finalized.slice(0, count)
    expect(blocks.map((block) => block.height)).toEqual(
      Array.from({ length: count }, (_, i) => i + 1),
    )
    expect(blocks.map((block) => block.payload)).toEqual(expected.map((block) => block.payload))
    for (const block of blocks) {
      expect(block.certificate.blockId).toEqual(blockId(block.payload))
      expect(verifyCommitCertificate(block.certificate, blockId(block.payload), set, CHAIN)).toBe(
        true,
      )
    }
  }
}

const longest = (nodes: Node[]) => Math.max(...nodes.map((node) => node.app.finalized.length))

async function stopNodeFor10Heights(cluster: ReturnType<typeof createCluster>, lagging: Node) {
  const others = cluster.nodes.filter((node) => node !== lagging)
  await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= 2))
  await lagging.engine.stop()
  const stoppedAt = lagging.app.finalized.length
  await cluster.drive(() => others.every((node) => node.app.finalized.length >= stoppedAt + 10))
  expect(lagging.app.finalized.length).toBe(stoppedAt)
  return { others, stoppedAt }
}

describe('catch-up over the in-memory network', () => {
  it('a validator stopped for 10 heights fetches the verified blocks, applies each once in order, then helps decide', async () => {
    const cluster = createCluster()
    await cluster.start()
    try {
      const lagging = cluster.nodes[3] as Node
      const { stoppedAt } = await stopNodeFor10Heights(cluster, lagging)
      const restartedAt = cluster.clock.now()
      let syncedAt: number | undefined
      lagging.engine.on('synced', () => {
        syncedAt ??= cluster.clock.now()
      })
      await lagging.engine.start()
      const target = longest(cluster.nodes) + 2
      await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= target))
      expect(lagging.synced.length).toBeGreaterThan(0)
      // triggered by the peers' verified messages, not by waiting for the periodic status check (virtual time)
      expect((syncedAt as number) - restartedAt).toBeLessThan(DEFAULT_SYNC_LIMITS.statusIntervalMs)
      expect(lagging.synced[0]?.fromHeight).toBe(stoppedAt + 1)
      expect(lagging.synced[0]?.toHeight).toBeGreaterThanOrEqual(stoppedAt + 10)
      expectSameChain(cluster.nodes, cluster.set, target)
      expect(lagging.rejected.filter((event) => event.action === 'reject')).toEqual([])

      // with node 0 down, a quorum (3 of 4) needs the node that caught up
      const [down, ...rest] = cluster.nodes as [Node, ...Node[]]
      await down.engine.stop()
      const before = longest(rest)
      await cluster.drive(() => rest.every((node) => node.app.finalized.length >= before + 3))
      expectSameChain(rest, cluster.set, before + 3, lagging)
      expect(heightsOf(lagging)).toEqual(
        Array.from({ length: heightsOf(lagging).length }, (_, i) => i + 1),
      )
    } finally {
      await cluster.stopAll()
    }
  }, 30_000)

  it('a peer serving a forged certificate is refused and penalised; the node catches up from an honest peer', async () => {
    const cluster = createCluster()
    await cluster.start()
    try {
      const lagging = cluster.nodes[3] as Node
      await stopNodeFor10Heights(cluster, lagging)
      // sorts before every validator, so the restarted engine asks it first
      const forger = cluster.network.transport({ peerId: 'a-forger' })
      const minority = cluster.signers.slice(0, 2) as IbftSigner[]
      let served = 0
      forger.handle(IBFT_SYNC_PROTOCOL, async ({ data }) => {
        served++
        const { fromHeight, maxBlocks } = decodeSyncRequest(data)
        const blocks: FinalizedBlock[] = []
        for (let height = fromHeight; height < fromHeight + Math.min(maxBlocks, 12); height++) {
          const payload = new TextEncoder().encode(`forged ${height}`)
          const blockId = blockIdOf(payload)
          // real seals, but from 2 of 4 validators: short of a quorum
          const certificate = buildCommitCertificate({
            height,
            round: 0,
            blockId,
            validatorCount: 4,
            seals: minority.map((signer, index) => ({
              index,
              seal: signer.seal(commitSealBytes(CHAIN, height, 0, blockId)),
            })),
          })
          blocks.push({ height, payload, certificate })
        }
        return encodeSyncResponse(blocks, forger.maxMessageBytes)
      })
      await forger.start()
      await cluster.restart(lagging)
      const target = longest(cluster.nodes) + 2
      await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= target))
      expect(served).toBeGreaterThan(0)
      expect(lagging.rejected).toContainEqual(
        expect.objectContaining({ from: 'a-forger', code: 'bad-signature', action: 'reject' }),
      )
      expect(lagging.synced.every((event) => event.from !== 'a-forger')).toBe(true)
      expect(lagging.synced.length).toBeGreaterThan(0)
      expectSameChain(cluster.nodes, cluster.set, target)
      const forged = lagging.app.finalized.filter((block) =>
        new TextDecoder().decode(block.payload).startsWith('forged'),
      )
      expect(forged).toEqual([])
      // penalised: not asked again while the penalty lasts
      const servedSoFar = served
      await cluster.drive(() =>
        cluster.nodes.every((node) => node.app.finalized.length >= target + 3),
      )
      expect(served).toBe(servedSoFar)
      await forger.stop()
    } finally {
      await cluster.stopAll()
    }
  }, 30_000)

  it('a crash in the middle of catch-up resumes after a restart over the same store', async () => {
    const cluster = createCluster()
    await cluster.start()
    try {
      const lagging = cluster.nodes[3] as Node
      const { stoppedAt } = await stopNodeFor10Heights(cluster, lagging)
      // small batches, and the application holds the 4th fetched block: the engine "crashes" there
      const crashAt = stoppedAt + 4
      lagging.app.gateHeight = crashAt
      await cluster.restart(lagging, { maxBlocksPerResponse: 3 })
      await cluster.drive(() => lagging.app.reached)
      expect(lagging.app.reached).toBe(true)
      const stopping = lagging.engine.stop()
      lagging.app.release()
      await stopping
      expect(heightsOf(lagging).at(-1)).toBe(crashAt)
      expect((await lagging.engine.finalizedBlock(crashAt))?.height).toBe(crashAt)
      expect(await lagging.engine.finalizedBlock(crashAt + 1)).toBeUndefined()

      await cluster.restart(lagging, { maxBlocksPerResponse: 3 })
      expect(lagging.engine.height).toBe(crashAt + 1)
      const target = longest(cluster.nodes) + 2
      await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= target))
      expectSameChain(cluster.nodes, cluster.set, target)
      // more than one batch was needed after the restart, and it began where the store left off
      const afterRestart = lagging.synced.filter((event) => event.fromHeight > crashAt)
      expect(afterRestart[0]?.fromHeight).toBe(crashAt + 1)
      expect(lagging.synced.length).toBeGreaterThanOrEqual(3)
    } finally {
      await cluster.stopAll()
    }
  }, 30_000)

  it('with the application block id and proposer rotation: catch-up verifies fetched blocks by that id and refuses ones it cannot id', async () => {
    const cluster = createCluster({ app: (set) => new AppIdGatedApp(set) })
    await cluster.start()
    try {
      const lagging = cluster.nodes[3] as Node
      const { stoppedAt } = await stopNodeFor10Heights(cluster, lagging)
      // a peer serving blocks certified by a quorum, but over payloads the application refuses
      const forger = cluster.network.transport({ peerId: 'a-forger' })
      const quorum = cluster.signers.slice(0, 3) as IbftSigner[]
      forger.handle(IBFT_SYNC_PROTOCOL, async ({ data }) => {
        const { fromHeight } = decodeSyncRequest(data)
        const payload = new TextEncoder().encode(`forged ${fromHeight}`)
        const blockId = blockIdOf(payload)
        const certificate = buildCommitCertificate({
          height: fromHeight,
          round: 0,
          blockId,
          validatorCount: 4,
          seals: quorum.map((signer, index) => ({
            index,
            seal: signer.seal(commitSealBytes(CHAIN, fromHeight, 0, blockId)),
          })),
        })
        return encodeSyncResponse([{ height: fromHeight, payload, certificate }], 1 << 20)
      })
      await forger.start()
      await cluster.restart(lagging)
      const target = longest(cluster.nodes) + 2
      await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= target))
      expect(lagging.rejected).toContainEqual(
        expect.objectContaining({ from: 'a-forger', code: 'bad-signature', action: 'reject' }),
      )
      expect(lagging.synced[0]?.fromHeight).toBe(stoppedAt + 1)
      expectSameChain(cluster.nodes, cluster.set, target, cluster.nodes[0], appBlockId)
      // after catch-up the lagging node agrees on the rotation: it helped decide new heights,
      // and every block was built by the validator after the previous block's recorded builder
      const ids = cluster.set.validators.map((validator) => hexKey(validator.id))
      let previous = -1
      for (const block of (cluster.nodes[0] as Node).app.finalized.slice(0, target)) {
        const builtRound = Number(/\/(\d+)/.exec(new TextDecoder().decode(block.payload))?.[1])
        const recorded = ids.indexOf(hexKey(block.payload.subarray(block.payload.length - 32)))
        expect(recorded).toBe((previous + 1 + builtRound) % 4)
        previous = recorded
      }
      await forger.stop()
    } finally {
      await cluster.stopAll()
    }
  }, 30_000)

  it('rejects malformed sync requests with a typed RejectionError and bans a peer that keeps sending them', async () => {
    const cluster = createCluster()
    await cluster.start()
    try {
      await cluster.drive(() => cluster.nodes.every((node) => node.app.finalized.length >= 3))
      const prober = cluster.network.transport({ peerId: 'prober' })
      await prober.start()
      await cluster.network.settle()
      const valid = await prober.request(
        'node-0',
        IBFT_SYNC_PROTOCOL,
        encodeSyncRequest({ fromHeight: 1, maxBlocks: 2 }),
      )
      const blocks = decodeSyncResponse(valid, { fromHeight: 1, maxBlocks: 2, maxBytes: 1 << 20 })
      expect(blocks.map((block) => block.height)).toEqual([1, 2])
      for (const block of blocks) {
        expect(verifySyncedBlock(block, cluster.set, CHAIN, realScheme)).toBe(true)
      }
      const malformed = [
        new Uint8Array([0xff, 0x00]),
        encode({ fromHeight: 0, maxBlocks: 1 }),
        encode({ fromHeight: 1, maxBlocks: 0 }),
        encode({ fromHeight: 1, maxBlocks: 5000 }),
        encode({ fromHeight: 1, maxBlocks: 1, extra: true }),
      ]
      for (const data of malformed) {
        const outcome = prober.request('node-0', IBFT_SYNC_PROTOCOL, data).then(
          () => undefined,
          (error: unknown) => error,
        )
        await cluster.network.settle()
        const error = await outcome
        expect(isMetanodeError(error, 'RejectionError')).toBe(true)
        expect((error as RejectionError).code).toBe('malformed')
        expect((error as RejectionError).action).toBe('reject')
      }
      await cluster.network.settle()
      expect(cluster.network.isBanned('node-0', 'prober')).toBe(true)
      await prober.stop()
    } finally {
      await cluster.stopAll()
    }
  }, 30_000)
})

describe('sync wire format', () => {
  const { signers, set } = makeValidators(4, realScheme)
  const blockAt = (height: number, size = 8): FinalizedBlock => {
    const payload = new Uint8Array(size).fill(height)
    const blockId = blockIdOf(payload)
    const certificate = buildCommitCertificate({
      height,
      round: 0,
      blockId,
      validatorCount: 4,
      seals: signers.slice(0, 3).map((signer, index) => ({
        index,
        seal: signer.seal(commitSealBytes(CHAIN, height, 0, blockId)),
      })),
    })
    return { height, payload, certificate }
  }

  it('decodes requests strictly and refuses anything else as malformed', () => {
    expect(decodeSyncRequest(encodeSyncRequest({ fromHeight: 7, maxBlocks: 3 }))).toEqual({
      fromHeight: 7,
      maxBlocks: 3,
    })
    for (const data of [
      new Uint8Array(),
      encode([1, 2]),
      encode({ fromHeight: 1 }),
      encode({ fromHeight: -1, maxBlocks: 1 }),
      encode({ fromHeight: 1.5, maxBlocks: 1 }),
      new Uint8Array(100),
    ]) {
      expect(() => decodeSyncRequest(data)).toThrow(RejectionError)
    }
    expect(() => encodeSyncRequest({ fromHeight: 0, maxBlocks: 1 })).toThrow(RangeError)
    expect(() => encodeSyncRequest({ fromHeight: '1' as unknown as number, maxBlocks: 1 })).toThrow(
      TypeError,
    )
  })

  it('serves consecutive stored blocks, capped by count and by bytes', async () => {
    const stored = new Map([1, 2, 3, 4, 5, 6].map((height) => [height, blockAt(height, 1000)]))
    const source = async (height: number) => stored.get(height)
    const request = encodeSyncRequest({ fromHeight: 2, maxBlocks: 100 })
    const byCount = await serveSyncRequest(request, source, { maxBlocks: 3, maxBytes: 1 << 20 })
    const counted = decodeSyncResponse(byCount, {
      fromHeight: 2,
      maxBlocks: 100,
      maxBytes: 1 << 20,
    })
    expect(counted.map((block) => block.height)).toEqual([2, 3, 4])
    const all = await serveSyncRequest(request, source, { maxBlocks: 100, maxBytes: 1 << 20 })
    expect(
      decodeSyncResponse(all, { fromHeight: 2, maxBlocks: 100, maxBytes: 1 << 20 }).map(
        (block) => block.height,
      ),
    ).toEqual([2, 3, 4, 5, 6])
    const bySize = await serveSyncRequest(request, source, { maxBlocks: 100, maxBytes: 2500 })
    expect(bySize.length).toBeLessThanOrEqual(2500)
    const sized = decodeSyncResponse(bySize, { fromHeight: 2, maxBlocks: 100, maxBytes: 2500 })
    expect(sized.map((block) => block.height)).toEqual([2, 3])
    for (const block of sized) expect(verifySyncedBlock(block, set, CHAIN, realScheme)).toBe(true)
  })

  it('refuses responses with heights other than asked, too many blocks or mismatched certificates', () => {
    const maxBytes = 1 << 20
    const ok = encodeSyncResponse([blockAt(3), blockAt(4)], maxBytes)
    expect(decodeSyncResponse(ok, { fromHeight: 3, maxBlocks: 2, maxBytes })).toHaveLength(2)
    const cases: [Uint8Array, number, number][] = [
      [ok, 2, 2], // starts above what was asked
      [ok, 3, 1], // more blocks than asked
      [encodeSyncResponse([blockAt(3), blockAt(5)], maxBytes), 3, 2], // a gap
      [
        encodeSyncResponse([{ ...blockAt(3), certificate: blockAt(4).certificate }], maxBytes),
        3,
        2,
      ],
      [encode({ blocks: [], more: 1 }), 3, 2],
    ]
    for (const [data, fromHeight, maxBlocks] of cases) {
      let caught: unknown
      try {
        decodeSyncResponse(data, { fromHeight, maxBlocks, maxBytes })
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(RejectionError)
      expect(caught).toMatchObject({ code: 'malformed', action: 'reject' })
    }
  })

  it('verifies a block only with its own certificate and a quorum of the right set', () => {
    const block = blockAt(5)
    expect(verifySyncedBlock(block, set, CHAIN, realScheme)).toBe(true)
    expect(verifySyncedBlock(block, set, 'other-chain', realScheme)).toBe(false)
    expect(
      verifySyncedBlock({ ...block, payload: new Uint8Array([1]) }, set, CHAIN, realScheme),
    ).toBe(false)
    expect(verifySyncedBlock({ ...block, height: 6 }, set, CHAIN, realScheme)).toBe(false)
    const otherSet = makeValidators(5, realScheme).set
    expect(verifySyncedBlock(block, otherSet, CHAIN, realScheme)).toBe(false)
  })

  it('verifies against the application block id when given one, and refuses a payload it throws on', () => {
    const payload = new Uint8Array(8).fill(9)
    const blockId = appBlockId(payload)
    const certificate = buildCommitCertificate({
      height: 9,
      round: 0,
      blockId,
      validatorCount: 4,
      seals: signers.slice(0, 3).map((signer, index) => ({
        index,
        seal: signer.seal(commitSealBytes(CHAIN, 9, 0, blockId)),
      })),
    })
    const block = { height: 9, payload, certificate }
    expect(verifySyncedBlock(block, set, CHAIN, realScheme, appBlockId)).toBe(true)
    expect(verifySyncedBlock(block, set, CHAIN, realScheme)).toBe(false)
    const throwing = () => {
      throw new Error('malformed')
    }
    expect(verifySyncedBlock(block, set, CHAIN, realScheme, throwing)).toBe(false)
    expect(verifySyncedBlock(block, set, CHAIN, realScheme, () => new Uint8Array(31))).toBe(false)
  })
})
