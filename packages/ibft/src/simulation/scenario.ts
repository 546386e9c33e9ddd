/**
 * The `ibft` scenario: n validators, K of them Byzantine with one behaviour, the rest honest QBFT
 * engines on the simulator's virtual clock, network and stores, under drops, latency, a partition
 * that heals and crash-restarts. It runs until every honest validator has finalized the wanted
 * heights (and at least one after the network stabilised), or a virtual time limit, and checks:
 *
 * - agreement: no two honest validators (nor one validator across restarts) finalize different
 *   blocks at a height;
 * - certificates: every finalized block's commit certificate verifies for its block, and its
 *   signers hold a quorum of power;
 * - liveness: after global stabilisation (the partition healed, drops stopped, every crashed
 *   validator restarted), every honest validator reaches the wanted height within the limit;
 * - no double signing: no honest validator signs two different messages for one (height, round,
 *   kind), across its restarts.
 */
import type {
  CommitCertificate,
  FinalizedBlock,
  PeerId,
  Startable,
  ValidatorSet,
} from '@metanode/core'
import { bytesToHex } from '@metanode/crypto/bytes'
import {
  type FaultSpec,
  type LatencyDistribution,
  type NetworkOptions,
  type RunProgress,
  randomFaultPlan,
  runScenario,
  type ScenarioResult,
  type Seed,
  SeededRng,
  type SimNodeComponents,
  type SimulationStats,
  type TraceSink,
  type Violation,
} from '@metanode/sim'
import { verifyCommitCertificate } from '../certificate.js'
import {
  createIbft,
  type IbftDissemination,
  type IbftEngine,
  isIbftDissemination,
} from '../engine.js'
import { blockIdOf } from '../messages.js'
import { maxFaulty } from '../quorum.js'
import {
  commitSealBytes,
  realScheme,
  type SignatureScheme,
  type ValidatorKeys,
} from '../signing.js'
import { SimApplication } from './application.js'
import {
  BYZANTINE_BEHAVIOURS,
  type ByzantineBehaviour,
  type ByzantineValidator,
  byzantineValidator,
  isByzantineBehaviour,
  type SimEngineSettings,
} from './byzantine.js'

/** The chain id of simulated chains. */
export const SIM_CHAIN_ID = 'metanode-sim'

/** Options of {@link runIbftSimulation}. */
export interface IbftSimulationOptions {
  /** The seed every random decision derives from (keys included). */
  seed: Seed
  /** Number of validators, n (1 to 100). */
  validators: number
  /** Byzantine validators, K (0 to f = floor((n - 1) / 3)). Default 0. */
  byzantine?: number
  /** What the Byzantine validators do. Default `silent`. */
  behaviour?: ByzantineBehaviour
  /** Heights every honest validator must finalize. Default 5. */
  heights?: number
  /** Signature scheme. Default {@link realScheme}. */
  scheme?: SignatureScheme
  /** Probability that a message is lost, until global stabilisation. Default 0. */
  dropProbability?: number
  /** Link latency. Default uniform 1 to 20 ms. */
  latency?: LatencyDistribution
  /** Further network defaults (duplication, reordering); drop and latency above take precedence. */
  network?: NetworkOptions
  /** Split the honest validators so that no side has a quorum from time 0 until this virtual time. */
  partitionUntilMs?: number
  /** Crash-restarts of honest validators, each keeping its store. Default 0. */
  crashRestarts?: number
  /** Virtual time by which faults (drops, crash-restarts) end, at the latest. Default 3,000 ms after the partition heals. */
  faultWindowMs?: number
  /** Virtual time limit. Default: global stabilisation + 20 s + 2 s per height. */
  timeLimitMs?: number
  /** Round-0 timeout in ms. Default 200. */
  roundTimeoutBaseMs?: number
  /** Round timeout cap in ms. Default 3,200. */
  roundTimeoutMaxMs?: number
  /** Time between a decision and the next proposal, in ms. Default 0. */
  blockPeriodMs?: number
  /**
   * How honest validators send their messages (`IbftInit.dissemination`). Default `gossip`.
   * Byzantine validators always publish: their behaviours rewrite what they publish.
   */
  dissemination?: IbftDissemination
  /** Where the simulator's event trace goes. Default none. */
  trace?: TraceSink
  /** Receives the JSONL output: one line per finalized block per honest validator, then the summary line. */
  output?: TraceSink
  /** Progress of the run. */
  onProgress?: (progress: RunProgress) => void
}

/** One finalized block as one honest validator holds it. */
export interface FinalizedRecord {
  /** The validator's node id. */
  node: PeerId
  /** The height. */
  height: number
  /** The decided payload. */
  payload: Uint8Array
  /** Its commit certificate. */
  certificate: CommitCertificate
}

/** Figures of one run, as in the final `{"summary": ...}` line. */
export interface IbftSimulationSummary {
  /** The seed. */
  seed: Seed
  /** n. */
  validators: number
  /** K. */
  byzantine: number
  /** The Byzantine behaviour. */
  behaviour: ByzantineBehaviour
  /** Node ids of the Byzantine validators. */
  byzantineNodes: PeerId[]
  /** Heights wanted. */
  heights: number
  /** Name of the signature scheme. */
  scheme: string
  /** Lowest height every honest validator finalized through. */
  finalizedThrough: number
  /** Blocks finalized, summed over honest validators. */
  finalizedBlocks: number
  /** Highest round any decision was taken in. */
  maxRound: number
  /** Virtual time of global stabilisation, in ms. */
  gstMs: number
  /** Virtual time at the end, in ms. */
  virtualMs: number
  /** Simulator events run. */
  events: number
  /** Messages sent, dropped, rejected. */
  messages: { sent: number; dropped: number; rejected: number }
  /** Crashes and restarts applied. */
  crashes: number
  /** Messages Byzantine validators tampered with or made up. */
  byzantineMessages: number
  /** Equivocation evidence honest validators raised. */
  evidence: number
  /** Violations found. */
  violations: number
}

/** The outcome of {@link runIbftSimulation}. */
export interface IbftSimulationResult {
  /** Every violation, reported during the run or by the final checks. */
  violations: readonly Violation[]
  /** The figures. */
  summary: IbftSimulationSummary
  /** Every finalized block of every honest validator, by node then height. */
  records: readonly FinalizedRecord[]
  /** The JSONL output lines (also written to `output`). */
  lines: readonly string[]
  /** The simulator's counters. */
  stats: SimulationStats
  /** The simulator's result, as `runScenario` returns it. */
  scenario: ScenarioResult
}

/** Every validator's keys, derived from the seed alone. */
export function simulationKeys(
  seed: Seed,
  validators: number,
  scheme: SignatureScheme,
): ValidatorKeys[] {
  const rng = new SeededRng(seed).fork('validator-keys')
  return Array.from({ length: validators }, () => scheme.keygen(rng.bytes(32)))
}

/** The node id of validator `index`. */
export function validatorNodeId(index: number): PeerId {
  return `v${index}`
}

interface Recorder {
  records: Map<PeerId, Map<number, FinalizedRecord>>
  through: Map<PeerId, number>
  afterGst: Map<PeerId, number>
  signed: Map<PeerId, Map<string, string>>
  decided: Map<number, { node: PeerId; blockId: string }>
  verified: Map<string, boolean>
  evidence: number
  gstMs: number
  set: ValidatorSet
  scheme: SignatureScheme
  now: () => number
}

/** An honest validator: a QBFT engine over the simulated components, watched by the checks. */
class HonestValidator implements Startable {
  engine: IbftEngine | undefined
  readonly #components: SimNodeComponents
  readonly #keys: ValidatorKeys
  readonly #settings: SimEngineSettings
  readonly #recorder: Recorder

  constructor(
    components: SimNodeComponents,
    keys: ValidatorKeys,
    settings: SimEngineSettings,
    recorder: Recorder,
  ) {
    this.#components = components
    this.#keys = keys
    this.#settings = settings
    this.#recorder = recorder
  }

  async start(): Promise<void> {
    const components = this.#components
    const recorder = this.#recorder
    const node = components.peerId
    const engine = createIbft({
      chainId: this.#settings.chainId,
      application: new SimApplication(recorder.set, components.rng, () => {}),
      signer: this.#keys,
      scheme: this.#settings.scheme,
      roundTimeoutBaseMs: this.#settings.roundTimeoutBaseMs,
      roundTimeoutMaxMs: this.#settings.roundTimeoutMaxMs,
      blockPeriodMs: this.#settings.blockPeriodMs,
      dissemination: this.#settings.dissemination,
    })({
      clock: components.clock,
      transport: components.transport,
      store: components.store,
      logger: components.logger,
      rng: components.rng,
    })
    this.engine = engine
    engine.on('finalized', ({ block }) => {
      components.trace('ibft-finalized', {
        height: block.height,
        round: block.certificate.round,
        blockId: bytesToHex(block.certificate.blockId),
      })
      record(recorder, components, block)
    })
    engine.on('round-change', ({ height, round }) => {
      components.trace('ibft-round', { height, round })
    })
    engine.on('rejected', ({ from, code, reason }) => {
      components.trace('ibft-rejected', { from, code, reason })
    })
    engine.on('evidence', () => {
      recorder.evidence++
    })
    engine.on('sent', ({ message }) => {
      const { body, bodyBytes } = message.signed
      const slot = `${body.height}/${body.round}/${body.kind}`
      let slots = recorder.signed.get(node)
      if (slots === undefined) {
        slots = new Map()
        recorder.signed.set(node, slots)
      }
      const hex = bytesToHex(bodyBytes)
      const earlier = slots.get(slot)
      if (earlier === undefined) slots.set(slot, hex)
      else if (earlier !== hex) {
        components.violation(`double sign: ${node} signed two different ${slot} messages`, {
          first: earlier,
          second: hex,
        })
      }
    })
    await engine.start()
    // a crash between storing a block and announcing it leaves it only in the store
    for (let height = 1; height < engine.height; height++) {
      if (recorder.records.get(node)?.has(height) === true) continue
      const block = await engine.finalizedBlock(height)
      if (block !== undefined) record(recorder, components, block)
    }
  }

  async stop(): Promise<void> {
    await this.engine?.stop()
  }
}

function certificateVerifies(recorder: Recorder, block: FinalizedBlock, chainId: string): boolean {
  const { certificate } = block
  const key = [
    certificate.height,
    certificate.round,
    bytesToHex(certificate.blockId),
    bytesToHex(certificate.signers),
    bytesToHex(certificate.signature),
  ].join('/')
  let verdict = recorder.verified.get(key)
  if (verdict === undefined) {
    verdict =
      certificate.height === block.height &&
      verifyCommitCertificate(
        certificate,
        blockIdOf(block.payload),
        recorder.set,
        chainId,
        recorder.scheme,
      )
    recorder.verified.set(key, verdict)
  }
  return verdict
}

function record(recorder: Recorder, components: SimNodeComponents, block: FinalizedBlock): void {
  const node = components.peerId
  let records = recorder.records.get(node)
  if (records === undefined) {
    records = new Map()
    recorder.records.set(node, records)
  }
  const blockId = bytesToHex(blockIdOf(block.payload))
  const earlier = records.get(block.height)
  if (earlier !== undefined) {
    if (bytesToHex(blockIdOf(earlier.payload)) !== blockId) {
      components.violation(`agreement: ${node} finalized two blocks at height ${block.height}`)
    }
    return
  }
  records.set(block.height, {
    node,
    height: block.height,
    payload: block.payload,
    certificate: block.certificate,
  })
  const decided = recorder.decided.get(block.height)
  if (decided === undefined) recorder.decided.set(block.height, { node, blockId })
  else if (decided.blockId !== blockId) {
    components.violation(
      `agreement: ${decided.node} and ${node} finalized different blocks at height ${block.height}`,
      { first: decided.blockId, second: blockId },
    )
  }
  if (!certificateVerifies(recorder, block, SIM_CHAIN_ID)) {
    components.violation(
      `certificate: ${node}'s certificate of height ${block.height} does not verify`,
    )
  }
  let through = recorder.through.get(node) ?? 0
  while (records.has(through + 1)) through++
  recorder.through.set(node, through)
  if (recorder.now() >= recorder.gstMs) {
    recorder.afterGst.set(node, (recorder.afterGst.get(node) ?? 0) + 1)
  }
}

function integerOption(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be a safe integer`)
  }
  if (value < min || value > max) throw new RangeError(`${name} must be in [${min}, ${max}]`)
  return value
}

function checkOptions(options: IbftSimulationOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object')
  const n = integerOption(options.validators, 'validators', 1, 100)
  integerOption(options.byzantine ?? 0, 'byzantine', 0, maxFaulty(n))
  integerOption(options.heights ?? 5, 'heights', 1, 1_000_000)
  integerOption(options.crashRestarts ?? 0, 'crashRestarts', 0, 10_000)
  if (options.behaviour !== undefined && !isByzantineBehaviour(options.behaviour)) {
    throw new TypeError(`behaviour must be one of ${BYZANTINE_BEHAVIOURS.join(', ')}`)
  }
  if (!isIbftDissemination(options.dissemination ?? 'gossip')) {
    throw new TypeError(
      `dissemination must be 'gossip' or 'direct', got ${String(options.dissemination)}`,
    )
  }
  const drop = options.dropProbability ?? 0
  if (typeof drop !== 'number' || !(drop >= 0 && drop <= 1)) {
    throw new RangeError('dropProbability must be in [0, 1]')
  }
  for (const name of ['partitionUntilMs', 'faultWindowMs', 'timeLimitMs'] as const) {
    const value = options[name]
    if (value !== undefined) integerOption(value, name, 0, Number.MAX_SAFE_INTEGER)
  }
}

function outputLine(record: FinalizedRecord, set: ValidatorSet): string {
  const { certificate } = record
  const signers: string[] = []
  set.validators.forEach((validator, index) => {
    if (((certificate.signers[index >> 3] ?? 0) >> (index & 7)) & 1) {
      signers.push(bytesToHex(validator.blsPublicKey))
    }
  })
  return JSON.stringify({
    node: record.node,
    height: record.height,
    blockId: bytesToHex(certificate.blockId),
    certificate: { signers, signature: bytesToHex(certificate.signature) },
    signedBytes: bytesToHex(
      commitSealBytes(SIM_CHAIN_ID, certificate.height, certificate.round, certificate.blockId),
    ),
  })
}

/**
 * Runs one seeded QBFT simulation and checks it (see the module description). Never rejects for
 * what happens inside the run: errors there come back as violations. Invalid options reject with
 * `TypeError` or `RangeError`.
 */
export async function runIbftSimulation(
  options: IbftSimulationOptions,
): Promise<IbftSimulationResult> {
  checkOptions(options)
  const n = options.validators
  const byzantineCount = options.byzantine ?? 0
  const behaviour = options.behaviour ?? 'silent'
  const heights = options.heights ?? 5
  const scheme = options.scheme ?? realScheme
  const root = new SeededRng(options.seed)
  const keys = simulationKeys(options.seed, n, scheme)
  const set: ValidatorSet = {
    validators: keys.map((key) => ({
      id: key.id,
      blsPublicKey: key.blsPublicKey,
      votingPower: 1n,
    })),
  }
  const ids = keys.map((_, index) => validatorNodeId(index))
  const byzantineIds = new Set(
    root
      .fork('byzantine-positions')
      .shuffle([...ids])
      .slice(0, byzantineCount),
  )
  const honestIds = ids.filter((id) => !byzantineIds.has(id))
  const settings: SimEngineSettings = {
    chainId: SIM_CHAIN_ID,
    scheme,
    roundTimeoutBaseMs: options.roundTimeoutBaseMs ?? 200,
    roundTimeoutMaxMs: options.roundTimeoutMaxMs ?? 3_200,
    blockPeriodMs: options.blockPeriodMs ?? 0,
    dissemination: options.dissemination ?? 'gossip',
  }

  const faults: FaultSpec[] = []
  const partitionUntilMs = options.partitionUntilMs ?? 0
  if (partitionUntilMs > 0) {
    const half = Math.ceil(honestIds.length / 2)
    // the Byzantine validators, unlisted, form a third side on their own
    faults.push({
      atMs: 0,
      kind: 'partition',
      groups: [honestIds.slice(0, half), honestIds.slice(half)],
      healAtMs: partitionUntilMs,
    })
  }
  const faultWindowMs = options.faultWindowMs ?? partitionUntilMs + 3_000
  const crashes = randomFaultPlan(root.fork('crash-restarts'), {
    nodes: honestIds,
    crashes: options.crashRestarts ?? 0,
    fromMs: Math.min(100, faultWindowMs),
    toMs: faultWindowMs,
    minDowntimeMs: 100,
    maxDowntimeMs: 1_500,
    keepStoreProbability: 1,
    maxConcurrent: 1,
  })
  faults.push(...crashes)
  const dropProbability = options.dropProbability ?? 0
  const lastRestart = crashes.reduce((latest, fault) => Math.max(latest, fault.atMs), 0)
  const gstMs = Math.max(partitionUntilMs, lastRestart, dropProbability > 0 ? faultWindowMs : 0)
  const timeLimitMs = options.timeLimitMs ?? gstMs + 20_000 + 2_000 * heights

  const network: NetworkOptions = {
    ...options.network,
    latency: options.latency ??
      options.network?.latency ?? { kind: 'uniform', minMs: 1, maxMs: 20 },
    dropProbability,
  }

  const recorder: Recorder = {
    records: new Map(),
    through: new Map(),
    afterGst: new Map(),
    signed: new Map(),
    decided: new Map(),
    verified: new Map(),
    evidence: 0,
    gstMs,
    set,
    scheme,
    now: () => 0,
  }
  const byzantineNodes: ByzantineValidator[] = []
  const done = (): boolean =>
    honestIds.every(
      (id) => (recorder.through.get(id) ?? 0) >= heights && (recorder.afterGst.get(id) ?? 0) >= 1,
    )

  const scenario = await runScenario<Startable>({
    seed: options.seed,
    nodes: ids.map((id, index) => ({
      id,
      create: byzantineIds.has(id)
        ? (components: SimNodeComponents) => {
            const node = byzantineValidator({
              behaviour,
              keys: keys[index] as ValidatorKeys,
              validatorSet: set,
              peerIds: ids,
              engine: settings,
            })(components)
            byzantineNodes.push(node)
            return node
          }
        : (components: SimNodeComponents) =>
            new HonestValidator(components, keys[index] as ValidatorKeys, settings, recorder),
    })),
    network,
    faults,
    trace: options.trace ?? 'none',
    setup: (sim) => {
      recorder.now = () => sim.now
      if (dropProbability > 0) {
        sim.schedule(gstMs, () => sim.defaultNetwork.setDefaults({ dropProbability: 0 }))
      }
    },
    until: (sim) => sim.now >= timeLimitMs || done(),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    check: ({ sim }) => {
      const problems: string[] = []
      for (const id of honestIds) {
        const through = recorder.through.get(id) ?? 0
        if (through < heights) {
          problems.push(
            `liveness: ${id} finalized through height ${through} of ${heights} by t=${sim.now}ms (GST ${gstMs}ms)`,
          )
        } else if ((recorder.afterGst.get(id) ?? 0) < 1) {
          problems.push(`liveness: ${id} finalized nothing after GST (${gstMs}ms)`)
        }
      }
      return problems
    },
  })

  const records: FinalizedRecord[] = []
  for (const id of honestIds) {
    const byHeight = recorder.records.get(id)
    if (byHeight === undefined) continue
    records.push(...[...byHeight.values()].sort((a, b) => a.height - b.height))
  }
  const through = Math.min(...honestIds.map((id) => recorder.through.get(id) ?? 0))
  const { stats } = scenario
  const summary: IbftSimulationSummary = {
    seed: options.seed,
    validators: n,
    byzantine: byzantineCount,
    behaviour,
    byzantineNodes: ids.filter((id) => byzantineIds.has(id)),
    heights,
    scheme: scheme.name,
    finalizedThrough: Number.isFinite(through) ? through : 0,
    finalizedBlocks: records.length,
    maxRound: records.reduce((max, item) => Math.max(max, item.certificate.round), 0),
    gstMs,
    virtualMs: stats.nowMs,
    events: stats.events,
    messages: {
      sent: stats.messages.sent,
      dropped: stats.messages.dropped,
      rejected: stats.messages.rejected,
    },
    crashes: stats.crashes,
    byzantineMessages: byzantineNodes.reduce((sum, node) => sum + node.tally.attacks, 0),
    evidence: recorder.evidence,
    violations: scenario.violations.length,
  }
  const lines = records.map((item) => outputLine(item, set))
  lines.push(
    JSON.stringify({
      summary: { ...summary, violationMessages: scenario.violations.map((item) => item.message) },
    }),
  )
  if (options.output !== undefined) {
    for (const line of lines) options.output.write(line)
    await options.output.close?.()
  }
  return { violations: scenario.violations, summary, records, lines, stats, scenario }
}

/** The command that replays a run with `metanode-sim` from the repository root. */
export function reproduceCommand(options: IbftSimulationOptions): string {
  const parts = [
    'pnpm metanode-sim ibft',
    `--validators ${options.validators}`,
    `--byzantine ${options.byzantine ?? 0}`,
    `--behaviour ${options.behaviour ?? 'silent'}`,
    `--heights ${options.heights ?? 5}`,
    `--seed ${typeof options.seed === 'string' ? JSON.stringify(options.seed) : options.seed}`,
  ]
  if ((options.dropProbability ?? 0) > 0) parts.push(`--drop ${options.dropProbability}`)
  if ((options.partitionUntilMs ?? 0) > 0)
    parts.push(`--partition-until ${options.partitionUntilMs}ms`)
  if ((options.crashRestarts ?? 0) > 0) parts.push(`--crash-restart ${options.crashRestarts}`)
  if (options.latency?.kind === 'uniform') {
    parts.push(`--latency ${options.latency.minMs}-${options.latency.maxMs}`)
  } else if (options.latency?.kind === 'fixed') parts.push(`--latency ${options.latency.ms}`)
  if (options.scheme !== undefined && options.scheme !== realScheme)
    parts.push('--scheme insecure-test')
  if (options.dissemination === 'direct') parts.push('--dissemination direct')
  return parts.join(' ')
}
