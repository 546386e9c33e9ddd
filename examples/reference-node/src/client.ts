/**
 * A small typed client of the node's HTTP API over the global `fetch`, with a timeout on every
 * request. Answers are the JSON views of `./api/views.ts`; a 4xx/5xx answer or a failed request
 * becomes an {@link ApiError} carrying the HTTP status and the API's machine-readable `code`.
 *
 * @example
 * ```ts
 * import { ApiClient } from './client.js'
 *
 * const client = new ApiClient('http://127.0.0.1:8080', { timeoutMs: 5_000 })
 * const { blockchain_state } = await client.status()
 * console.log(blockchain_state.current_block_height)
 * const [result] = await client.submit([rawTransactionHex])
 * console.log(result?.transaction_hash, result?.status)
 * ```
 *
 * @module
 */
import { MetanodeError } from '@metanode/core'
import { WebSocket } from 'ws'
import type {
  AccountJson,
  BlockEventJson,
  BlockJson,
  RoundEventJson,
  StatusJson,
  SubmitResultJson,
  TransactionEventJson,
  TransactionLookupJson,
  ValidatorJson,
} from './api/views.js'

/** The default API base URL of `bpci` commands. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080'

/** Default timeout of one request, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/**
 * A request that failed: an error answer of the API (`status` is its HTTP status, `code` its
 * machine-readable code), or no answer at all (`status` 0, `code` `unreachable` or `timeout`).
 */
export class ApiError extends MetanodeError {
  override readonly name = 'ApiError'
  /** The HTTP status, or 0 when no answer arrived. */
  readonly status: number
  /** The API's error code (`not-found`, `rate-limited`, ...), or `unreachable` / `timeout`. */
  readonly code: string

  constructor(status: number, code: string, message: string, options: { cause?: unknown } = {}) {
    super(message, { details: { status, code }, ...options })
    this.status = status
    this.code = code
  }
}

/** A topic of the `WS /ws` event stream. */
export type StreamTopic = 'blocks' | 'transactions' | 'rounds'

/** A frame of the `WS /ws` event stream. */
export type StreamEvent = BlockEventJson | TransactionEventJson | RoundEventJson

/** An open subscription to the event stream; see {@link ApiClient.subscribe}. */
export interface EventStream {
  /** Resolves when the connection ends, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>
  /** Closes the connection; resolves once closed. */
  close(): Promise<void>
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** Timeout of each request in ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  timeoutMs?: number
  /** The fetch implementation (default the global `fetch`). */
  fetch?: typeof fetch
}

function normalizeBaseUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`not a URL: ${url}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`API URL must be http(s): ${url}`)
  }
  return parsed.href.replace(/\/+$/, '')
}

/** A typed client of one node's HTTP API. */
export class ApiClient {
  /** The base URL without a trailing slash, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string
  readonly #timeoutMs: number
  readonly #fetch: typeof fetch

  constructor(baseUrl: string, options: ApiClientOptions = {}) {
    this.baseUrl = normalizeBaseUrl(baseUrl)
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.#fetch = options.fetch ?? fetch
  }

  /** The WebSocket URL of the event stream (`ws://host:port/ws`). */
  get wsUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws`
  }

  /**
   * Sends one request and returns the parsed JSON body (or the text when `text` is set).
   *
   * @throws ApiError on an error answer, a timeout, or no connection.
   */
  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: { text?: boolean; timeoutMs?: number } = {},
  ): Promise<T> {
    const url = `${this.baseUrl}${path}`
    let response: Response
    try {
      response = await this.#fetch(url, {
        method,
        signal: AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs),
        ...(body === undefined
          ? {}
          : {
              headers: { 'content-type': 'application/json' },
              body: typeof body === 'string' ? body : JSON.stringify(body),
            }),
      })
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError'
      throw new ApiError(
        0,
        timedOut ? 'timeout' : 'unreachable',
        timedOut
          ? `${method} ${url}: no answer within ${options.timeoutMs ?? this.#timeoutMs} ms`
          : `${method} ${url}: ${describeFetchError(error)}`,
        { cause: error },
      )
    }
    const text = await response.text().catch((error: unknown) => {
      throw new ApiError(response.status, 'unreachable', `${method} ${url}: body lost`, {
        cause: error,
      })
    })
    if (!response.ok) {
      let code = `http-${response.status}`
      let message = text.slice(0, 200)
      try {
        const parsed = JSON.parse(text) as { code?: unknown; message?: unknown; status?: unknown }
        if (typeof parsed.code === 'string') code = parsed.code
        if (typeof parsed.message === 'string') message = parsed.message
        else if (typeof parsed.status === 'string') message = parsed.status
      } catch {
        // A non-JSON error body (a proxy, a crash page) keeps its text as the message.
      }
      throw new ApiError(response.status, code, `${method} ${path}: ${response.status} ${message}`)
    }
    if (options.text === true) return text as T
    try {
      return JSON.parse(text) as T
    } catch (error) {
      throw new ApiError(response.status, 'invalid-response', `${method} ${path}: not JSON`, {
        cause: error,
      })
    }
  }

  /** `GET /api/v1/blockchain/status`. */
  status(): Promise<StatusJson> {
    return this.request('GET', '/api/v1/blockchain/status')
  }

  /**
   * `POST /api/v1/blockchain/transactions/submit` with an array of encoded signed transactions
   * (hex), so every outcome, including rejections, comes back as a result.
   */
  async submit(rawHex: readonly string[]): Promise<SubmitResultJson[]> {
    const body = `[${rawHex.map((raw) => `{"raw":"${raw}"}`).join(',')}]`
    const answer = await this.request<{ results: SubmitResultJson[] }>(
      'POST',
      '/api/v1/blockchain/transactions/submit',
      body,
    )
    return answer.results
  }

  /** `GET /api/v1/blockchain/transactions/:hash`; an unknown transaction gives status `unknown`. */
  async transaction(hash: string): Promise<TransactionLookupJson> {
    try {
      return await this.request('GET', `/api/v1/blockchain/transactions/${hash}`)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'not-found') {
        return { transaction_hash: hash, status: 'unknown' }
      }
      throw error
    }
  }

  /** `GET /api/v1/blockchain/blocks/:height`, or `undefined` when there is no such block yet. */
  async block(height: number): Promise<BlockJson | undefined> {
    try {
      return await this.request('GET', `/api/v1/blockchain/blocks/${height}`)
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined
      throw error
    }
  }

  /** `GET /api/v1/accounts/:address`: balance and next nonce of an account. */
  account(address: string): Promise<AccountJson> {
    return this.request('GET', `/api/v1/accounts/${address}`)
  }

  /** `POST /api/v1/validators/register` with an encoded signed `register-validator` transaction. */
  async registerValidator(rawHex: string): Promise<SubmitResultJson> {
    const answer = await this.request<{ results?: SubmitResultJson[] } & Partial<SubmitResultJson>>(
      'POST',
      '/api/v1/validators/register',
      { raw: rawHex },
    )
    const result = answer.results?.[0] ?? answer
    if (typeof result.status !== 'string') {
      throw new ApiError(200, 'invalid-response', 'validator registration: no status in answer')
    }
    return result as SubmitResultJson
  }

  /** `GET /api/v1/validators`. */
  async validators(): Promise<ValidatorJson[]> {
    const answer = await this.request<{ validators: ValidatorJson[] }>('GET', '/api/v1/validators')
    return answer.validators
  }

  /** `GET /api/v1/network/peers`: the transport peer ids this node is connected to. */
  async peers(): Promise<string[]> {
    const answer = await this.request<{ peers: string[] }>('GET', '/api/v1/network/peers')
    return answer.peers
  }

  /** Whether `GET /health` answers 200; false on any other answer or no answer. */
  async healthy(timeoutMs = this.#timeoutMs): Promise<boolean> {
    try {
      await this.request('GET', '/health', undefined, { timeoutMs })
      return true
    } catch (error) {
      if (error instanceof ApiError) return false
      throw error
    }
  }

  /**
   * Opens `WS /ws`, subscribes to `topics` and resolves once the node confirmed the
   * subscription, so no event after that moment is missed. `onEvent` receives every event frame.
   *
   * @throws ApiError when the connection or the subscription fails (or takes longer than the
   *   request timeout).
   */
  subscribe(
    topics: readonly StreamTopic[],
    onEvent: (event: StreamEvent) => void,
  ): Promise<EventStream> {
    const url = this.wsUrl
    const socket = new WebSocket(url)
    let confirmed = false
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))
    })
    return new Promise<EventStream>((resolve, reject) => {
      const fail = (error: ApiError) => {
        clearTimeout(timer)
        socket.terminate()
        reject(error)
      }
      const timer = setTimeout(
        () =>
          fail(new ApiError(0, 'timeout', `${url}: no subscription within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      socket.once('error', (error) => {
        if (!confirmed)
          fail(new ApiError(0, 'unreachable', `${url}: ${error.message}`, { cause: error }))
      })
      socket.once('open', () => socket.send(JSON.stringify({ subscribe: topics })))
      socket.once('close', (code, reason) => {
        if (!confirmed)
          fail(new ApiError(0, 'unreachable', `${url}: closed (${code} ${reason.toString()})`))
      })
      socket.on('message', (data, isBinary) => {
        if (isBinary) return
        let frame: { type?: unknown; code?: unknown; message?: unknown }
        try {
          frame = JSON.parse(data.toString()) as typeof frame
        } catch {
          return
        }
        if (frame.type === 'subscribed' && !confirmed) {
          confirmed = true
          clearTimeout(timer)
          resolve({
            closed,
            close: async () => {
              if (socket.readyState !== WebSocket.CLOSED) socket.close(1000)
              await closed
            },
          })
        } else if (frame.type === 'error' && !confirmed) {
          fail(new ApiError(0, String(frame.code), `${url}: ${String(frame.message)}`))
        } else if (
          frame.type === 'block' ||
          frame.type === 'transaction' ||
          frame.type === 'round'
        ) {
          onEvent(frame as StreamEvent)
        }
      })
    })
  }

  /** `GET /metrics`: Prometheus text. */
  metrics(): Promise<string> {
    return this.request('GET', '/metrics', undefined, { text: true })
  }
}

function describeFetchError(error: unknown): string {
  // undici hides the socket error (ECONNREFUSED, ...) in `cause`.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}
