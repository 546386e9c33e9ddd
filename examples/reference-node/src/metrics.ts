/**
 * Prometheus metrics of a node with prom-client: heights, round, mempool, peers and validators
 * read from `node.status()` at scrape time; finality latency and finalized counts fed by the
 * node's `block` events; API rejections by code; and prom-client's process metrics. Every name
 * starts with `metanode_`.
 *
 * @example
 * ```ts
 * import { createNodeMetrics } from './metrics.js'
 *
 * const metrics = createNodeMetrics(node)
 * metrics.rejected('rate-limited')
 * const text = await metrics.registry.metrics() // Prometheus exposition format
 * metrics.close()
 * ```
 *
 * @module
 */

import type { MetricOptions, Metrics } from '@metanode/core'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { NodeService, NodeStatus } from './service.js'

/** The prefix of every metric name. */
export const METRIC_PREFIX = 'metanode_'

/** Histogram buckets of finality latency, in seconds: 10 ms to 10 s. */
export const FINALITY_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/** Distinct `code` label values kept; later codes are counted as `other` (bounds cardinality). */
export const MAX_REJECTION_CODES = 64

/** A node's metrics. */
export interface NodeMetrics {
  /** The registry holding them; serve `registry.metrics()` on `/metrics`. */
  readonly registry: Registry
  /** Counts one API request rejected with `code`. */
  rejected(code: string): void
  /**
   * Stops listening to the node and removes the node's metrics from the registry (prom-client
   * keeps its process metrics registered and running).
   */
  close(): void
}

/**
 * Registers the node's metrics in `registry` (a new one by default) and starts feeding them.
 * The process metrics are added once per registry.
 *
 * @throws Error when `registry` already holds this module's metrics (one node per registry).
 */
export function createNodeMetrics(
  node: NodeService,
  registry: Registry = new Registry(),
): NodeMetrics {
  // One status() per scrape: prom-client calls every collect() in the same tick, so caching
  // until the next microtask keeps the gauges of one scrape mutually consistent.
  let snapshot: NodeStatus | undefined
  const status = (): NodeStatus => {
    if (snapshot === undefined) {
      snapshot = node.status()
      queueMicrotask(() => {
        snapshot = undefined
      })
    }
    return snapshot
  }

  const registers = [registry]
  const names: string[] = []
  const named = (name: string): string => {
    names.push(METRIC_PREFIX + name)
    return METRIC_PREFIX + name
  }
  const gauges: [name: string, help: string, read: (status: NodeStatus) => number][] = [
    ['block_height', 'Last applied block height.', (s) => s.height],
    ['finalized_block_height', 'Last finalized block height.', (s) => s.finalizedHeight],
    ['consensus_round', 'Consensus round of the height being decided.', (s) => s.consensusRound],
    [
      'mempool_pending_transactions',
      'Executable transactions in the pool.',
      (s) => s.mempool.pending,
    ],
    [
      'mempool_queued_transactions',
      'Transactions waiting on a nonce gap.',
      (s) => s.mempool.queued,
    ],
    ['mempool_bytes', 'Bytes of transactions in the pool.', (s) => s.mempool.bytes],
    ['network_peers', 'Connected peers.', (s) => s.networkPeers],
    ['active_validators', 'Validators deciding the next height.', (s) => s.activeValidators],
  ]
  for (const [name, help, read] of gauges) {
    new Gauge({
      name: named(name),
      help,
      registers,
      collect() {
        this.set(read(status()))
      },
    })
  }
  const finality = new Histogram({
    name: named('finality_latency_seconds'),
    help: 'Proposal-to-finality latency of finalized blocks.',
    buckets: [...FINALITY_BUCKETS_SECONDS],
    registers,
  })
  const finalizedBlocks = new Counter({
    name: named('finalized_blocks_total'),
    help: 'Blocks finalized since the node started.',
    registers,
  })
  const finalizedTransactions = new Counter({
    name: named('finalized_transactions_total'),
    help: 'Transactions finalized since the node started.',
    registers,
  })
  const rejectedRequests = new Counter({
    name: named('api_rejected_requests_total'),
    help: 'API requests answered with an error, by error code.',
    labelNames: ['code'],
    registers,
  })
  if (registry.getSingleMetric(`${METRIC_PREFIX}process_cpu_seconds_total`) === undefined) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
  }

  const unsubscribe = node.on('block', ({ stored, latencyMs }) => {
    finality.observe(latencyMs / 1_000)
    finalizedBlocks.inc()
    finalizedTransactions.inc(stored.block.txs.length)
  })

  const codes = new Set<string>()
  let closed = false
  return {
    registry,
    rejected(code) {
      if (!codes.has(code) && codes.size >= MAX_REJECTION_CODES) {
        rejectedRequests.inc({ code: 'other' })
        return
      }
      codes.add(code)
      rejectedRequests.inc({ code })
    },
    close() {
      if (closed) return
      closed = true
      unsubscribe()
      for (const name of names) registry.removeSingleMetric(name)
    },
  }
}

/**
 * The `Metrics` component of `@metanode/core` over a prom-client registry, so plug-ins (the
 * consensus engine's rounds, rejections and latency) appear on the same `/metrics` page. Label
 * values are taken as given: plug-ins use bounded label sets.
 */
export function promMetrics(registry: Registry): Metrics {
  const registers = [registry]
  const labelNames = (options: MetricOptions) => [...(options.labelNames ?? [])]
  return {
    counter(options) {
      const counter = new Counter({ ...options, labelNames: labelNames(options), registers })
      return { inc: (labels = {}, value = 1) => counter.inc(labels, value) }
    },
    gauge(options) {
      const gauge = new Gauge({ ...options, labelNames: labelNames(options), registers })
      return { set: (value, labels = {}) => gauge.set(labels, value) }
    },
    histogram(options) {
      const histogram = new Histogram({
        name: options.name,
        help: options.help,
        labelNames: labelNames(options),
        ...(options.buckets === undefined ? {} : { buckets: [...options.buckets] }),
        registers,
      })
      return { observe: (value, labels = {}) => histogram.observe(labels, value) }
    },
  }
}
