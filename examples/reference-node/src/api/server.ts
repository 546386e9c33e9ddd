/**
 * The HTTP and WebSocket API of a node (fastify): status, transaction submission and lookup,
 * blocks with their certificates, accounts, validators, peers, health, Prometheus metrics, and
 * the `/ws` event stream. Every route validates its input and its output with JSON schemas;
 * every error answer is `{ code, message }` with a 4xx status for anything a client sent; each
 * client IP is rate limited.
 *
 * @example
 * ```ts
 * import { startApiServer } from './api/server.js'
 *
 * const api = await startApiServer(node, { host: '127.0.0.1', port: 8080 })
 * const status = await (await fetch(`${api.url}/api/v1/blockchain/status`)).json()
 * await api.close()
 * ```
 *
 * @module
 */
import type { Socket } from 'node:net'
import websocket from '@fastify/websocket'
import { decodeTransaction } from '@metanode/chain'
import { isMetanodeError, MetanodeError } from '@metanode/core'
import { hexToBytes } from '@metanode/crypto/bytes'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  LogController,
} from 'fastify'
import type { WebSocket } from 'ws'
import { createNodeMetrics, type NodeMetrics } from '../metrics.js'
import type { NodeEvents, NodeService } from '../service.js'
import {
  toAccountJson,
  toBlockEventJson,
  toBlockJson,
  toRoundEventJson,
  toStatusJson,
  toSubmitResultJson,
  toTransactionEventJson,
  toTransactionLookupJson,
  toValidatorJson,
  viewSchemas,
} from './views.js'

/** Per-client-IP request limit: at most `max` requests per `windowMs` window. */
export interface RateLimitOptions {
  /** Requests allowed per window. */
  max: number
  /** Window length in ms. */
  windowMs: number
  /** Most client IPs tracked at once (default 10,000); the stalest are forgotten beyond it. */
  maxClients?: number
}

/** Limits of the `/ws` stream. */
export interface WebSocketOptions {
  /** Most simultaneous stream clients (default 256); more are closed with code 1013. */
  maxClients?: number
  /** Bytes queued for one client beyond which it is dropped as too slow (default 4 MiB). */
  maxBufferedBytes?: number
  /** Largest client message in bytes (default 4 KiB); larger closes the connection (1009). */
  maxMessageBytes?: number
}

/** Options of {@link createApiServer} and {@link startApiServer}. */
export interface ApiOptions {
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string
  /** Port to listen on (default 0: any free port). */
  port?: number
  /** Most transactions in one submission (default 1,000). */
  maxBatch?: number
  /** Largest request body in bytes (default 4 MiB). */
  bodyLimitBytes?: number
  /** Per-client-IP limit (default 2,000 requests per second), or `false` for none. */
  rateLimit?: RateLimitOptions | false
  /** A pino logger, or `false` (the default) for no logs. */
  logger?: FastifyBaseLogger | false
  /** Metrics to serve and count rejections in (default: created for the node, closed with the server). */
  metrics?: NodeMetrics
  /** Limits of the `/ws` stream. */
  webSocket?: WebSocketOptions
}

/** Defaults of {@link ApiOptions}. */
export const API_DEFAULTS = {
  /** Listen on loopback only unless told otherwise. */
  host: '127.0.0.1',
  /** Any free port. */
  port: 0,
  /** Transactions per submission. */
  maxBatch: 1_000,
  /** Request body bytes. */
  bodyLimitBytes: 4 * 1024 * 1024,
  /** Requests per client IP per window. */
  rateLimitMax: 2_000,
  /** Rate-limit window, ms. */
  rateLimitWindowMs: 1_000,
  /** Client IPs tracked by the rate limiter. */
  rateLimitMaxClients: 10_000,
  /** Simultaneous `/ws` clients. */
  webSocketMaxClients: 256,
  /** Bytes queued for one `/ws` client before it is dropped. */
  webSocketMaxBufferedBytes: 4 * 1024 * 1024,
  /** Largest `/ws` client message. */
  webSocketMaxMessageBytes: 4 * 1024,
} as const

/** Longest hex string accepted for an encoded transaction (64 KiB of bytes, optional `0x`). */
export const MAX_RAW_HEX_LENGTH = 2 * 64 * 1024 + 2

/** Longest hex string accepted for a transaction hash (64 bytes, optional `0x`). */
export const MAX_HASH_HEX_LENGTH = 2 * 64 + 2

/** The topics of the `/ws` stream and the node events behind them. */
export const STREAM_TOPICS = {
  /** Finalized blocks. */
  blocks: 'block',
  /** Transaction status changes. */
  transactions: 'transaction',
  /** Consensus rounds. */
  rounds: 'round',
} as const satisfies Record<string, keyof NodeEvents>

/** A topic of the `/ws` stream. */
export type StreamTopic = keyof typeof STREAM_TOPICS

/** A listening API server. */
export interface ApiServer {
  /** The fastify instance. */
  readonly server: FastifyInstance
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string
  /** The bound host. */
  readonly host: string
  /** The bound port. */
  readonly port: number
  /** Closes the stream clients and the server. */
  close(): Promise<void>
}

/** An error answered to the client as `{ code, message }` with `statusCode`. */
class ApiError extends MetanodeError {
  override name = 'ApiError'
  readonly statusCode: number
  readonly code: string

  constructor(statusCode: number, code: string, message: string) {
    super(message)
    this.statusCode = statusCode
    this.code = code
  }
}

interface RawTransactionBody {
  raw: string
}

const rawTransactionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['raw'],
  properties: { raw: { type: 'string', minLength: 2, maxLength: MAX_RAW_HEX_LENGTH } },
} as const

const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const

const errorResponses = { '4xx': viewSchemas.error, '5xx': viewSchemas.error } as const

/**
 * Builds the API of `node` (routes, schemas, error mapping, rate limit, `/ws`) without
 * listening: use `inject` in tests or {@link startApiServer} to serve.
 */
export function createApiServer(node: NodeService, options: ApiOptions = {}): FastifyInstance {
  const maxBatch = positiveInteger(options.maxBatch ?? API_DEFAULTS.maxBatch, 'maxBatch')
  const bodyLimit = positiveInteger(
    options.bodyLimitBytes ?? API_DEFAULTS.bodyLimitBytes,
    'bodyLimitBytes',
  )
  const ws = options.webSocket ?? {}
  const streamLimits: StreamLimits = {
    maxClients: positiveInteger(
      ws.maxClients ?? API_DEFAULTS.webSocketMaxClients,
      'webSocket.maxClients',
    ),
    maxBufferedBytes: positiveInteger(
      ws.maxBufferedBytes ?? API_DEFAULTS.webSocketMaxBufferedBytes,
      'webSocket.maxBufferedBytes',
    ),
  }
  const maxPayload = positiveInteger(
    ws.maxMessageBytes ?? API_DEFAULTS.webSocketMaxMessageBytes,
    'webSocket.maxMessageBytes',
  )
  const limiter =
    options.rateLimit === false
      ? undefined
      : new FixedWindowLimiter(
          options.rateLimit ?? {
            max: API_DEFAULTS.rateLimitMax,
            windowMs: API_DEFAULTS.rateLimitWindowMs,
          },
        )
  // Created after every option is checked, so a bad option leaves no listener on the node.
  const metrics = options.metrics ?? createNodeMetrics(node)
  const ownsMetrics = options.metrics === undefined

  const app: FastifyInstance = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit,
    // A client that trickles its request in would otherwise hold a connection indefinitely.
    requestTimeout: 30_000,
    // Per-request lines would dominate the log under load; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Longer path parameters are refused by the router itself (as `invalid-request`).
    routerOptions: { maxParamLength: MAX_HASH_HEX_LENGTH },
    // Bodies are checked exactly as sent: coercion would turn `{"raw": 12}` into a string and
    // removeAdditional would hide unknown fields instead of refusing them.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    // Malformed HTTP and timed-out requests never reach a route: answer them in the API's
    // error shape too, then close the connection.
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return
      const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      const status = timeout ? '408 Request Timeout' : '400 Bad Request'
      const body = JSON.stringify(
        timeout
          ? { code: 'request-timeout', message: 'the request was not received in time' }
          : { code: 'malformed-request', message: 'malformed HTTP request' },
      )
      metrics.rejected(timeout ? 'request-timeout' : 'malformed-request')
      socket.end(
        `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      )
    },
    frameworkErrors: (error, _request, reply) => {
      metrics.rejected('invalid-request')
      // Typed for the route generics fastify could not resolve (e.g. a malformed URL).
      void (reply as FastifyReply)
        .code(400)
        .send({ code: 'invalid-request', message: truncate(error.message, 200) })
    },
  })

  // JSON only: fastify's default text/plain parser would let a string body reach the schema.
  app.removeContentTypeParser('text/plain')

  if (limiter !== undefined) {
    app.addHook('onRequest', (request, reply, done) => {
      const retryAfterMs = limiter.take(request.ip, Date.now())
      if (retryAfterMs === 0) {
        done()
        return
      }
      metrics.rejected('rate-limited')
      void reply
        .code(429)
        .header('retry-after', String(Math.max(1, Math.ceil(retryAfterMs / 1_000))))
        .send({ code: 'rate-limited', message: 'too many requests from this client' })
    })
  }

  // A body announced larger than the limit is refused from its headers: waiting for it would
  // hold the connection (and the client's upload) until the request timeout.
  app.addHook('onRequest', (request, reply, done) => {
    const announced = Number(request.headers['content-length'] ?? 0)
    if (!(announced > bodyLimit)) {
      done()
      return
    }
    metrics.rejected('body-too-large')
    void reply
      .code(413)
      .header('connection', 'close')
      .send({ code: 'body-too-large', message: `request body larger than ${bodyLimit} bytes` })
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { statusCode, code, message } = classifyError(error)
    if (statusCode >= 500) {
      request.log.error({ err: error, url: request.url }, 'request failed')
    } else {
      request.log.debug({ code, url: request.url }, 'request rejected')
    }
    metrics.rejected(code)
    void reply.code(statusCode).send({ code, message })
  })

  app.setNotFoundHandler((request, reply) => {
    metrics.rejected('not-found')
    void reply.code(404).send({
      code: 'not-found',
      message: `no route ${request.method} ${truncate(request.url, 200)}`,
    })
  })

  const hub = new StreamHub(node, streamLimits, app.log)
  app.addHook('onClose', (_instance, done) => {
    hub.close()
    if (ownsMetrics) metrics.close()
    done()
  })

  void app.register(websocket, {
    options: { maxPayload },
    errorHandler: (error, socket) => {
      app.log.debug({ err: error }, 'websocket client error')
      socket.terminate()
    },
  })
  void app.register(async (api) => {
    registerRoutes(api, node, metrics, hub, maxBatch)
  })
  return app
}

/**
 * Creates the API of `node` and listens on `options.host`:`options.port`; resolves once bound.
 */
export async function startApiServer(
  node: NodeService,
  options: ApiOptions = {},
): Promise<ApiServer> {
  const server = createApiServer(node, options)
  const host = options.host ?? API_DEFAULTS.host
  try {
    await server.listen({ host, port: options.port ?? API_DEFAULTS.port })
  } catch (error) {
    await server.close()
    throw error
  }
  const address = server.server.address()
  if (address === null || typeof address === 'string') {
    await server.close()
    throw new Error(`unexpected listening address ${String(address)}`)
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    server,
    url: `http://${urlHost}:${address.port}`,
    host: address.address,
    port: address.port,
    close: () => server.close(),
  }
}

function registerRoutes(
  api: FastifyInstance,
  node: NodeService,
  metrics: NodeMetrics,
  hub: StreamHub,
  maxBatch: number,
): void {
  api.get(
    '/api/v1/blockchain/status',
    { schema: { querystring: noQuery, response: { 200: viewSchemas.status, ...errorResponses } } },
    async () => toStatusJson(node.status()),
  )

  const submit = async (body: RawTransactionBody | RawTransactionBody[]) => {
    const single = !Array.isArray(body)
    const items = single ? [body] : body
    const encoded = items.map((item, index) =>
      parseHex(item.raw, single ? 'body/raw' : `body/${index}/raw`),
    )
    const outcomes = await node.submitTransactions(encoded)
    const first = outcomes[0]
    if (single && first?.status === 'rejected') throw new ApiError(400, first.code, first.message)
    return { results: outcomes.map(toSubmitResultJson) }
  }

  api.post<{ Body: RawTransactionBody | RawTransactionBody[] }>(
    '/api/v1/blockchain/transactions/submit',
    {
      schema: {
        querystring: noQuery,
        body: {
          // Branching on the type names the offending field of the branch taken.
          if: { type: 'array' },
          // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword
          then: { type: 'array', minItems: 1, maxItems: maxBatch, items: rawTransactionSchema },
          else: rawTransactionSchema,
        },
        response: { 200: viewSchemas.submitResults, ...errorResponses },
      },
    },
    async (request) => submit(request.body),
  )

  api.get<{ Params: { hash: string } }>(
    '/api/v1/blockchain/transactions/:hash',
    {
      schema: {
        querystring: noQuery,
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['hash'],
          properties: { hash: { type: 'string', minLength: 2, maxLength: MAX_HASH_HEX_LENGTH } },
        },
        response: { 200: viewSchemas.transactionLookup, ...errorResponses },
      },
    },
    async (request) => {
      const id = parseHex(request.params.hash, 'params/hash')
      const lookup = await node.transaction(id)
      if (lookup.status === 'unknown') {
        throw new ApiError(404, 'not-found', `transaction ${request.params.hash} is unknown`)
      }
      return toTransactionLookupJson(id, lookup)
    },
  )

  api.get<{ Params: { height: string } }>(
    '/api/v1/blockchain/blocks/:height',
    {
      schema: {
        querystring: noQuery,
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['height'],
          // At most 15 digits: always a safe integer.
          properties: { height: { type: 'string', pattern: '^(0|[1-9][0-9]{0,14})$' } },
        },
        response: { 200: viewSchemas.block, ...errorResponses },
      },
    },
    async (request) => {
      const height = Number(request.params.height)
      const stored = await node.block(height)
      if (stored === undefined) throw new ApiError(404, 'not-found', `no block at height ${height}`)
      return toBlockJson(stored)
    },
  )

  api.get<{ Params: { address: string } }>(
    '/api/v1/accounts/:address',
    {
      schema: {
        querystring: noQuery,
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['address'],
          properties: { address: { type: 'string', pattern: '^(0x)?[0-9a-fA-F]{64}$' } },
        },
        response: { 200: viewSchemas.account, ...errorResponses },
      },
    },
    async (request) => {
      const address = parseHex(request.params.address, 'params/address')
      return toAccountJson(address, node.chain.account(address))
    },
  )

  api.post<{ Body: RawTransactionBody }>(
    '/api/v1/validators/register',
    {
      schema: {
        querystring: noQuery,
        body: rawTransactionSchema,
        response: { 200: viewSchemas.submitResults, ...errorResponses },
      },
    },
    async (request) => {
      const kind = decodeTransaction(parseHex(request.body.raw, 'body/raw')).body.action.kind
      if (kind !== 'register-validator') {
        throw new ApiError(
          400,
          'wrong-kind',
          `expected a register-validator transaction, got ${kind}`,
        )
      }
      return submit(request.body)
    },
  )

  api.get(
    '/api/v1/validators',
    {
      schema: {
        querystring: noQuery,
        response: { 200: viewSchemas.validators, ...errorResponses },
      },
    },
    async () => ({ validators: (await node.validators()).map(toValidatorJson) }),
  )

  api.get(
    '/api/v1/network/peers',
    {
      schema: { querystring: noQuery, response: { 200: viewSchemas.peers, ...errorResponses } },
    },
    async () => ({ peers: node.peers() }),
  )

  api.get(
    '/health',
    {
      schema: {
        querystring: noQuery,
        response: { 200: viewSchemas.health, 503: viewSchemas.health, ...errorResponses },
      },
    },
    async (_request, reply) => {
      if (node.healthy()) return { status: 'ok' }
      return reply.code(503).send({ status: 'unhealthy' })
    },
  )

  api.get(
    '/metrics',
    { schema: { querystring: noQuery, response: { 200: { type: 'string' }, ...errorResponses } } },
    async (_request, reply) => {
      const text = await metrics.registry.metrics()
      return reply.type(metrics.registry.contentType).send(text)
    },
  )

  api.route({
    method: 'GET',
    url: '/ws',
    schema: { querystring: noQuery, response: errorResponses },
    handler: async () => {
      throw new ApiError(426, 'upgrade-required', 'connect with a WebSocket client')
    },
    wsHandler: (socket: WebSocket, request) => hub.connect(socket, request.raw.socket),
  })
}

/** Turns any error of a request into its status, code and message. */
function classifyError(error: FastifyError): { statusCode: number; code: string; message: string } {
  if (error instanceof ApiError) {
    return { statusCode: error.statusCode, code: error.code, message: error.message }
  }
  if (error.validation !== undefined) {
    return {
      statusCode: 400,
      code: 'invalid-request',
      message: describeValidation(error.validationContext ?? 'request', error.validation),
    }
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { statusCode: 400, code: 'malformed-json', message: error.message }
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { statusCode: 413, code: 'body-too-large', message: error.message }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { statusCode: 415, code: 'unsupported-media-type', message: error.message }
    default:
      break
  }
  if (isMetanodeError(error)) {
    const { code } = error as { code?: unknown }
    if (typeof code === 'string') return { statusCode: 400, code, message: error.message }
    if (error.name === 'StoreClosedError' || error.name === 'NotStartedError') {
      return { statusCode: 503, code: 'unavailable', message: 'the node is not running' }
    }
  }
  const { statusCode } = error
  if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
    return { statusCode, code: 'invalid-request', message: error.message }
  }
  return { statusCode: 500, code: 'internal', message: 'internal error' }
}

/** Names the first offending field of a schema violation, e.g. `body/0/raw must be string`. */
function describeValidation(
  context: string,
  errors: NonNullable<FastifyError['validation']>,
): string {
  // An if/then/else schema reports its branch's error first, then "must match then schema".
  const first = errors.find((entry) => entry.keyword !== 'if') ?? errors[0]
  if (first === undefined) return `${context} is invalid`
  const path = `${context}${first.instancePath}`
  const extra = (first.params as { additionalProperty?: unknown }).additionalProperty
  const detail = typeof extra === 'string' ? ` ('${truncate(extra, 64)}')` : ''
  return `${path} ${first.message ?? 'is invalid'}${detail}`
}

function parseHex(hex: string, field: string): Uint8Array {
  try {
    return hexToBytes(hex)
  } catch (error) {
    throw new ApiError(400, 'invalid-hex', `${field}: ${(error as Error).message}`)
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${name} must be a safe integer`)
  if (value < 1) throw new RangeError(`${name} must be positive, got ${value}`)
  return value
}

/**
 * Fixed-window request counts per client. Windows restart in place, and entries are kept in
 * window-start order (re-inserted on restart), so expired ones are found at the front.
 */
class FixedWindowLimiter {
  readonly #max: number
  readonly #windowMs: number
  readonly #maxClients: number
  readonly #windows = new Map<string, { start: number; count: number }>()

  constructor(options: RateLimitOptions) {
    this.#max = positiveInteger(options.max, 'rateLimit.max')
    this.#windowMs = positiveInteger(options.windowMs, 'rateLimit.windowMs')
    this.#maxClients = positiveInteger(
      options.maxClients ?? API_DEFAULTS.rateLimitMaxClients,
      'rateLimit.maxClients',
    )
  }

  /** Counts a request of `client` at `now`; returns 0 when allowed, else ms until allowed. */
  take(client: string, now: number): number {
    let window = this.#windows.get(client)
    if (window === undefined || now - window.start >= this.#windowMs) {
      this.#windows.delete(client)
      this.#evict(now)
      window = { start: now, count: 0 }
      this.#windows.set(client, window)
    }
    if (window.count >= this.#max) return Math.max(1, window.start + this.#windowMs - now)
    window.count++
    return 0
  }

  #evict(now: number): void {
    for (const [client, window] of this.#windows) {
      if (this.#windows.size < this.#maxClients && now - window.start < this.#windowMs) return
      this.#windows.delete(client)
    }
  }
}

type StreamFrame = string

interface StreamLimits {
  maxClients: number
  maxBufferedBytes: number
}

/**
 * Fans node events out to `/ws` clients: one node listener per topic while anyone listens, each
 * event serialized once, and clients whose send queue exceeds the bound dropped.
 */
class StreamHub {
  readonly #node: NodeService
  readonly #log: FastifyBaseLogger
  readonly #maxClients: number
  readonly #maxBufferedBytes: number
  readonly #clients = new Map<WebSocket, Set<StreamTopic>>()
  readonly #subscribers = new Map<StreamTopic, Set<WebSocket>>()
  readonly #detach = new Map<StreamTopic, () => void>()
  // The TCP connection under each client: events of one tick go out in one write (a block
  // finalizes thousands of transactions; a write per event would cost a system call each).
  readonly #connections = new Map<WebSocket, Socket>()
  readonly #corked = new Set<Socket>()

  constructor(node: NodeService, limits: StreamLimits, log: FastifyBaseLogger) {
    this.#node = node
    this.#log = log
    this.#maxClients = limits.maxClients
    this.#maxBufferedBytes = limits.maxBufferedBytes
  }

  connect(socket: WebSocket, connection?: Socket): void {
    if (this.#clients.size >= this.#maxClients) {
      socket.close(1013, 'too many stream clients')
      return
    }
    this.#clients.set(socket, new Set())
    if (connection !== undefined) this.#connections.set(socket, connection)
    socket.on('message', (data, isBinary) => {
      this.#onMessage(socket, isBinary ? undefined : data.toString())
    })
    socket.on('close', () => this.#disconnect(socket))
  }

  close(): void {
    for (const detach of this.#detach.values()) detach()
    this.#detach.clear()
    this.#subscribers.clear()
    this.#clients.clear()
  }

  #onMessage(socket: WebSocket, text: string | undefined): void {
    const request = parseStreamRequest(text)
    if ('error' in request) {
      this.#send(socket, JSON.stringify({ type: 'error', ...request.error }))
      return
    }
    const topics = this.#clients.get(socket)
    if (topics === undefined) return
    for (const topic of request.unsubscribe) {
      topics.delete(topic)
      this.#removeSubscriber(topic, socket)
    }
    for (const topic of request.subscribe) {
      topics.add(topic)
      this.#addSubscriber(topic, socket)
    }
    this.#send(socket, JSON.stringify({ type: 'subscribed', topics: [...topics] }))
  }

  #addSubscriber(topic: StreamTopic, socket: WebSocket): void {
    let sockets = this.#subscribers.get(topic)
    if (sockets === undefined) {
      sockets = new Set()
      this.#subscribers.set(topic, sockets)
      this.#detach.set(topic, this.#listen(topic))
    }
    sockets.add(socket)
  }

  #removeSubscriber(topic: StreamTopic, socket: WebSocket): void {
    const sockets = this.#subscribers.get(topic)
    if (sockets === undefined) return
    sockets.delete(socket)
    if (sockets.size > 0) return
    this.#subscribers.delete(topic)
    this.#detach.get(topic)?.()
    this.#detach.delete(topic)
  }

  #listen(topic: StreamTopic): () => void {
    const broadcast = (frame: StreamFrame) => {
      for (const socket of [...(this.#subscribers.get(topic) ?? [])]) this.#send(socket, frame)
    }
    switch (topic) {
      case 'blocks':
        return this.#node.on('block', (event) => broadcast(JSON.stringify(toBlockEventJson(event))))
      case 'transactions':
        return this.#node.on('transaction', (event) => {
          broadcast(JSON.stringify(toTransactionEventJson(event)))
        })
      case 'rounds':
        return this.#node.on('round', (event) => broadcast(JSON.stringify(toRoundEventJson(event))))
    }
  }

  #send(socket: WebSocket, frame: StreamFrame): void {
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > this.#maxBufferedBytes) {
      // A client that does not read would make the server buffer every event for it.
      this.#log.debug({ bufferedBytes: socket.bufferedAmount }, 'dropping slow stream client')
      this.#disconnect(socket)
      socket.terminate()
      return
    }
    const connection = this.#connections.get(socket)
    if (connection !== undefined && !this.#corked.has(connection)) {
      if (this.#corked.size === 0) setImmediate(() => this.#uncork())
      connection.cork()
      this.#corked.add(connection)
    }
    socket.send(frame)
  }

  #uncork(): void {
    for (const connection of this.#corked) connection.uncork()
    this.#corked.clear()
  }

  #disconnect(socket: WebSocket): void {
    const topics = this.#clients.get(socket)
    if (topics === undefined) return
    this.#clients.delete(socket)
    this.#connections.delete(socket)
    for (const topic of topics) this.#removeSubscriber(topic, socket)
  }
}

type StreamRequest =
  | { subscribe: StreamTopic[]; unsubscribe: StreamTopic[] }
  | { error: { code: string; message: string } }

/** Validates a client message `{ subscribe?: [...], unsubscribe?: [...] }`. */
function parseStreamRequest(text: string | undefined): StreamRequest {
  const fail = (code: string, message: string): StreamRequest => ({ error: { code, message } })
  if (text === undefined) return fail('invalid-request', 'send JSON text frames')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail('malformed-json', 'message is not valid JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('invalid-request', 'message must be an object')
  }
  const fields = value as Record<string, unknown>
  for (const key of Object.keys(fields)) {
    if (key !== 'subscribe' && key !== 'unsubscribe') {
      return fail('invalid-request', `unknown field '${truncate(key, 64)}'`)
    }
  }
  if (fields.subscribe === undefined && fields.unsubscribe === undefined) {
    return fail('invalid-request', 'message needs subscribe or unsubscribe')
  }
  const topics = (field: 'subscribe' | 'unsubscribe'): StreamTopic[] | StreamRequest => {
    const list = fields[field]
    if (list === undefined) return []
    const known = Object.keys(STREAM_TOPICS)
    if (!Array.isArray(list) || list.length > known.length) {
      return fail('invalid-request', `${field} must be an array of at most ${known.length} topics`)
    }
    for (const topic of list) {
      if (typeof topic !== 'string' || !known.includes(topic)) {
        return fail('unknown-topic', `${field}: topics are ${known.join(', ')}`)
      }
    }
    return list as StreamTopic[]
  }
  const subscribe = topics('subscribe')
  if (!Array.isArray(subscribe)) return subscribe
  const unsubscribe = topics('unsubscribe')
  if (!Array.isArray(unsubscribe)) return unsubscribe
  return { subscribe, unsubscribe }
}
