/**
 * The compliance suite every {@link Transport} implementation runs in its own tests.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { InboundMessage, Transport, TransportEvents, ValidationResult } from '../transport.js'

/** What the setup of {@link transportSuite} hands to each test. */
export interface TransportSuiteSetup {
  /** `count` started transports, each connected to every other. */
  transports: Transport[]
  /**
   * Stops the transports and releases what setup acquired. Without it the suite stops the
   * transports itself.
   */
  cleanup?: () => Promise<void>
  /**
   * Resolves when messages sent so far have had time to arrive (the memory network drains its
   * queue; a real network may wait for its gossip heartbeat). Called before the suite checks
   * that something was *not* delivered.
   */
  settle?: () => Promise<void>
}

/** Tuning of {@link transportSuite} for slower transports. */
export interface TransportSuiteOptions {
  /** Longest wait for an expected delivery, event or connection, in milliseconds. Default 10,000. */
  waitTimeoutMs?: number
  /** Interval between two polls (and two warm-up messages) while waiting. Default 20. */
  pollIntervalMs?: number
}

// First payload byte: what a message is for, so warm-up traffic never counts as a delivery.
const PROBE = 0
const REAL = 1
const MARKER = 2

const isPlainBytes = (value: unknown): boolean =>
  value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype

interface Inbox {
  readonly messages: InboundMessage[]
  readonly tagged: (tag: number) => InboundMessage[]
}

function inbox(): Inbox {
  const messages: InboundMessage[] = []
  return { messages, tagged: (tag) => messages.filter((message) => message.data[0] === tag) }
}

async function expectNamedRejection(action: () => Promise<unknown>, name: string): Promise<void> {
  await expect(action()).rejects.toMatchObject({ name })
}

function expectNamedThrow(action: () => unknown, name: string): void {
  let thrown: unknown
  try {
    action()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toMatchObject({ name })
}

/**
 * Registers the transport compliance tests under `describe(name)`. `setup(count)` runs before
 * every test and must return `count` (always 3) started transports that are all connected to
 * each other; see {@link TransportSuiteSetup}. Gossip tests first publish probe messages until
 * every subscriber has seen one, so meshes that form over time (gossipsub) pass too.
 *
 * @example
 * ```ts
 * import { createMemoryNetwork } from '@metanode/core'
 * import { transportSuite } from '@metanode/core/compliance'
 *
 * transportSuite('memory transport', async (count) => {
 *   const network = createMemoryNetwork()
 *   const transports = Array.from({ length: count }, () => network.transport())
 *   for (const transport of transports) await transport.start()
 *   return { transports, settle: () => network.settle() }
 * })
 * ```
 */
export function transportSuite(
  name: string,
  setup: (count: number) => Promise<TransportSuiteSetup>,
  options: TransportSuiteOptions = {},
): void {
  const waitOptions = {
    timeout: options.waitTimeoutMs ?? 10_000,
    interval: options.pollIntervalMs ?? 20,
  }
  const waitFor = <T>(check: () => T | Promise<T>): Promise<T> => vi.waitFor(check, waitOptions)

  describe(name, () => {
    let context: TransportSuiteSetup
    let a: Transport
    let b: Transport
    let c: Transport
    // resolved after each test, so a handler kept waiting by a test does not outlive it
    let releases: (() => void)[] = []

    beforeEach(async () => {
      context = await setup(3)
      expect(context.transports).toHaveLength(3)
      ;[a, b, c] = context.transports as [Transport, Transport, Transport]
      await waitFor(() => {
        for (const transport of context.transports) {
          const others = context.transports.filter((other) => other !== transport)
          expect(transport.peers()).toEqual(
            expect.arrayContaining(others.map((other) => other.peerId)),
          )
        }
      })
    })

    afterEach(async () => {
      for (const release of releases) release()
      releases = []
      if (context.cleanup !== undefined) await context.cleanup()
      else await Promise.all(context.transports.map((transport) => transport.stop()))
    })

    const settle = async (): Promise<void> => {
      await context.settle?.()
    }

    function subscribeInbox(
      transport: Transport,
      topic: string,
      verdict: ValidationResult = 'accept',
    ): Inbox {
      const box = inbox()
      transport.subscribe(topic, (message) => {
        box.messages.push(message)
        return verdict
      })
      return box
    }

    /** Publishes probes from `publisher` until every inbox has seen one. */
    async function warmUp(publisher: Transport, topic: string, boxes: Inbox[]): Promise<void> {
      let probe = 0
      await waitFor(async () => {
        if (boxes.every((box) => box.tagged(PROBE).length > 0)) return
        // a gossip transport may refuse to publish before it knows a subscriber
        await publisher.publish(topic, Uint8Array.of(PROBE, probe++ & 0xff)).catch(() => {})
        throw new Error(`subscribers of ${topic} have not all seen a probe yet`)
      })
    }

    describe('identity', () => {
      it('gives each transport a distinct peer id and a positive message limit', () => {
        const ids = context.transports.map((transport) => transport.peerId)
        for (const id of ids) expect(typeof id === 'string' && id.length > 0).toBe(true)
        expect(new Set(ids).size).toBe(ids.length)
        for (const transport of context.transports) {
          expect(Number.isSafeInteger(transport.maxMessageBytes)).toBe(true)
          expect(transport.maxMessageBytes).toBeGreaterThan(0)
        }
      })
    })

    describe('publish', () => {
      const topic = 'compliance/gossip'

      it('reaches every subscriber exactly once and not the publisher', async () => {
        const [boxA, boxB, boxC] = [a, b, c].map((t) => subscribeInbox(t, topic)) as [
          Inbox,
          Inbox,
          Inbox,
        ]
        await warmUp(a, topic, [boxB, boxC])
        await a.publish(topic, Uint8Array.of(REAL, 1, 2, 3))
        await waitFor(() => {
          expect(boxB.tagged(REAL)).toHaveLength(1)
          expect(boxC.tagged(REAL)).toHaveLength(1)
        })
        // a later message that has arrived everywhere bounds when a duplicate could still come
        await a.publish(topic, Uint8Array.of(MARKER))
        await waitFor(() => {
          expect(boxB.tagged(MARKER)).toHaveLength(1)
          expect(boxC.tagged(MARKER)).toHaveLength(1)
        })
        await settle()
        for (const box of [boxB, boxC]) {
          expect(box.tagged(REAL)).toHaveLength(1)
          const [message] = box.tagged(REAL)
          expect(message).toMatchObject({ topic, from: a.peerId, kind: 'gossip' })
          expect(message?.data).toEqual(Uint8Array.of(REAL, 1, 2, 3))
          expect(isPlainBytes(message?.data)).toBe(true)
        }
        expect(boxA.messages).toEqual([])
      })

      it('delivers from any peer', async () => {
        const boxA = subscribeInbox(a, topic)
        const boxB = subscribeInbox(b, topic)
        await warmUp(c, topic, [boxA, boxB])
        await c.publish(topic, Uint8Array.of(REAL, 9))
        await waitFor(() => {
          expect(boxA.tagged(REAL)).toHaveLength(1)
          expect(boxB.tagged(REAL)).toHaveLength(1)
        })
        expect(boxA.tagged(REAL)[0]?.from).toBe(c.peerId)
        expect(boxB.tagged(REAL)[0]?.from).toBe(c.peerId)
      })

      it('is unaffected by the publisher reusing its buffer', async () => {
        const boxB = subscribeInbox(b, topic)
        await warmUp(a, topic, [boxB])
        const data = Uint8Array.of(REAL, 5, 5, 5)
        await a.publish(topic, data)
        data.fill(0)
        await waitFor(() => expect(boxB.tagged(REAL)).toHaveLength(1))
        expect(boxB.tagged(REAL)[0]?.data).toEqual(Uint8Array.of(REAL, 5, 5, 5))
      })

      it('stops delivering to a handler once unsubscribed', async () => {
        const boxB = inbox()
        const unsubscribe = b.subscribe(topic, (message) => {
          boxB.messages.push(message)
          return 'accept'
        })
        unsubscribe()
        unsubscribe()
        const boxC = subscribeInbox(c, topic)
        await warmUp(a, topic, [boxC])
        await a.publish(topic, Uint8Array.of(REAL))
        await waitFor(() => expect(boxC.tagged(REAL)).toHaveLength(1))
        await settle()
        expect(boxB.messages).toEqual([])
      })
    })

    describe('send', () => {
      const topic = 'compliance/direct'

      it('reaches the addressed peer only, as a direct message', async () => {
        const [boxA, boxB, boxC] = [a, b, c].map((t) => subscribeInbox(t, topic)) as [
          Inbox,
          Inbox,
          Inbox,
        ]
        await a.send(b.peerId, topic, Uint8Array.of(REAL, 7))
        await waitFor(() => expect(boxB.tagged(REAL)).toHaveLength(1))
        await a.send(c.peerId, topic, Uint8Array.of(MARKER))
        await waitFor(() => expect(boxC.tagged(MARKER)).toHaveLength(1))
        await settle()
        expect(boxB.tagged(REAL)).toHaveLength(1)
        const [message] = boxB.tagged(REAL)
        expect(message).toMatchObject({ topic, from: a.peerId, kind: 'direct' })
        expect(message?.data).toEqual(Uint8Array.of(REAL, 7))
        expect(isPlainBytes(message?.data)).toBe(true)
        expect(boxC.tagged(REAL)).toEqual([])
        expect(boxA.messages).toEqual([])
      })

      it('delivers every one of many concurrent messages', async () => {
        const boxB = subscribeInbox(b, topic)
        const count = 30
        await Promise.all(
          Array.from({ length: count }, (_, i) => a.send(b.peerId, topic, Uint8Array.of(REAL, i))),
        )
        await waitFor(() => expect(boxB.messages).toHaveLength(count))
        const received = boxB.messages.map((message) => message.data[1]).sort((x, y) => x! - y!)
        expect(received).toEqual(Array.from({ length: count }, (_, i) => i))
      })

      it('refuses a peer that is not connected with PeerUnreachableError', async () => {
        await c.stop()
        await waitFor(() => expect(a.peers()).not.toContain(c.peerId))
        await expectNamedRejection(
          () => a.send(c.peerId, topic, Uint8Array.of(REAL)),
          'PeerUnreachableError',
        )
        await expectNamedRejection(
          () => a.request(c.peerId, 'compliance/echo', Uint8Array.of(REAL)),
          'PeerUnreachableError',
        )
      })
    })

    describe('request', () => {
      const protocol = 'compliance/echo/1.0.0'

      it('round-trips a request to the handler and its answer back', async () => {
        const requesters: string[] = []
        b.handle(protocol, async ({ from, data }) => {
          requesters.push(from)
          return Uint8Array.from(data).reverse()
        })
        const response = await a.request(b.peerId, protocol, Uint8Array.of(1, 2, 3))
        expect(response).toEqual(Uint8Array.of(3, 2, 1))
        expect(isPlainBytes(response)).toBe(true)
        expect(requesters).toEqual([a.peerId])
      })

      it('matches each of many concurrent requests with its own answer', async () => {
        b.handle(protocol, async ({ data }) => Uint8Array.of(data[0]! * 2))
        const responses = await Promise.all(
          Array.from({ length: 20 }, (_, i) => a.request(b.peerId, protocol, Uint8Array.of(i))),
        )
        expect(responses.map((response) => response[0])).toEqual(
          Array.from({ length: 20 }, (_, i) => i * 2),
        )
      })

      it('times out with TimeoutError when no answer comes', async () => {
        b.handle(
          'compliance/slow',
          () =>
            new Promise<Uint8Array>((resolve) => releases.push(() => resolve(new Uint8Array(0)))),
        )
        await expectNamedRejection(
          () => a.request(b.peerId, 'compliance/slow', Uint8Array.of(1), { timeoutMs: 200 }),
          'TimeoutError',
        )
      })

      it('refuses a protocol the peer does not serve with UnknownTopicError', async () => {
        await expectNamedRejection(
          () => a.request(b.peerId, 'compliance/unserved', Uint8Array.of(1)),
          'UnknownTopicError',
        )
        const unhandle = b.handle('compliance/withdrawn', async () => Uint8Array.of(1))
        expect(await a.request(b.peerId, 'compliance/withdrawn', Uint8Array.of(1))).toEqual(
          Uint8Array.of(1),
        )
        unhandle()
        await expectNamedRejection(
          () => a.request(b.peerId, 'compliance/withdrawn', Uint8Array.of(1)),
          'UnknownTopicError',
        )
      })

      it('rejects a request whose handler fails, and keeps serving', async () => {
        b.handle(protocol, async ({ data }) => {
          if (data[0] === 0) throw new Error('handler failure')
          return Uint8Array.of(data[0]!)
        })
        await expect(a.request(b.peerId, protocol, Uint8Array.of(0))).rejects.toBeInstanceOf(Error)
        expect(await a.request(b.peerId, protocol, Uint8Array.of(4))).toEqual(Uint8Array.of(4))
      })
    })

    describe('limits', () => {
      it('refuses payloads above maxMessageBytes with MessageTooLargeError', async () => {
        const boxB = subscribeInbox(b, 'compliance/size')
        b.handle('compliance/size', async () => Uint8Array.of(1))
        const oversized = new Uint8Array(a.maxMessageBytes + 1)
        await expectNamedRejection(
          () => a.publish('compliance/size', oversized),
          'MessageTooLargeError',
        )
        await expectNamedRejection(
          () => a.send(b.peerId, 'compliance/size', oversized),
          'MessageTooLargeError',
        )
        await expectNamedRejection(
          () => a.request(b.peerId, 'compliance/size', oversized),
          'MessageTooLargeError',
        )
        await a.send(b.peerId, 'compliance/size', Uint8Array.of(MARKER))
        await waitFor(() => expect(boxB.messages).toHaveLength(1))
        expect(boxB.messages[0]?.data).toEqual(Uint8Array.of(MARKER))
      })
    })

    describe('penalties', () => {
      function watchDisconnects(transport: Transport): TransportEvents['peer:disconnect'][] {
        const events: TransportEvents['peer:disconnect'][] = []
        transport.on('peer:disconnect', (event) => events.push(event))
        return events
      }

      it('disconnects a sender whose direct messages keep being rejected', async () => {
        b.subscribe('compliance/bad', () => 'reject')
        const disconnects = watchDisconnects(b)
        let sent = 0
        await waitFor(async () => {
          if (!disconnects.some((event) => event.peer === a.peerId)) {
            await a
              .send(b.peerId, 'compliance/bad', Uint8Array.of(REAL, sent++ & 0xff))
              .catch(() => {})
          }
          expect(disconnects.map((event) => event.peer)).toContain(a.peerId)
        })
        await waitFor(() => {
          expect(b.peers()).not.toContain(a.peerId)
          expect(a.peers()).not.toContain(b.peerId)
        })
        expect(a.peers()).toContain(c.peerId)
        expect(b.peers()).toContain(c.peerId)
      })

      it('disconnects a publisher whose gossip keeps being rejected', async () => {
        const topic = 'compliance/bad-gossip'
        b.subscribe(topic, () => 'reject')
        const boxC = subscribeInbox(c, topic)
        const disconnects = watchDisconnects(b)
        let published = 0
        await waitFor(async () => {
          if (!disconnects.some((event) => event.peer === a.peerId)) {
            await a.publish(topic, Uint8Array.of(REAL, published++ & 0xff)).catch(() => {})
          }
          expect(disconnects.map((event) => event.peer)).toContain(a.peerId)
        })
        await waitFor(() => expect(b.peers()).not.toContain(a.peerId))
        expect(boxC.messages.length).toBeGreaterThan(0)
        expect(a.peers()).toContain(c.peerId)
      })

      it('keeps a sender whose messages are only ignored', async () => {
        const ignored = subscribeInbox(b, 'compliance/ignored', 'ignore')
        for (let i = 0; i < 20; i++) {
          await a.send(b.peerId, 'compliance/ignored', Uint8Array.of(REAL, i))
        }
        await waitFor(() => expect(ignored.messages).toHaveLength(20))
        await settle()
        expect(b.peers()).toContain(a.peerId)
        expect(a.peers()).toContain(b.peerId)
      })

      it('survives handlers that throw or reject', async () => {
        let calls = 0
        b.subscribe('compliance/throws', (message) => {
          calls++
          if (message.data[0] === 0) throw new Error('synchronous handler failure')
          if (message.data[0] === 1) return Promise.reject(new Error('async handler failure'))
          return 'accept'
        })
        await a.send(b.peerId, 'compliance/throws', Uint8Array.of(0))
        await a.send(b.peerId, 'compliance/throws', Uint8Array.of(1))
        await a.send(b.peerId, 'compliance/throws', Uint8Array.of(2))
        await waitFor(() => expect(calls).toBe(3))
        expect(b.peers()).toContain(a.peerId)
      })
    })

    describe('lifecycle', () => {
      it('reports a peer leaving and rejoining, and talks to it again', async () => {
        const disconnects: string[] = []
        const connects: string[] = []
        a.on('peer:disconnect', ({ peer }) => disconnects.push(peer))
        a.on('peer:connect', ({ peer }) => connects.push(peer))
        const ownDisconnects: string[] = []
        const off = c.on('peer:disconnect', ({ peer }) => ownDisconnects.push(peer))
        await c.stop()
        await waitFor(() => {
          expect(disconnects).toContain(c.peerId)
          expect(a.peers()).not.toContain(c.peerId)
          expect(b.peers()).not.toContain(c.peerId)
        })
        expect(c.peers()).toEqual([])
        off()
        await c.start()
        await waitFor(() => {
          expect(connects).toContain(c.peerId)
          expect(a.peers()).toContain(c.peerId)
          expect(c.peers()).toEqual(expect.arrayContaining([a.peerId, b.peerId]))
        })
        const boxA = subscribeInbox(a, 'compliance/rejoin')
        const boxC = subscribeInbox(c, 'compliance/rejoin')
        await c.send(a.peerId, 'compliance/rejoin', Uint8Array.of(REAL))
        await a.send(c.peerId, 'compliance/rejoin', Uint8Array.of(REAL))
        await waitFor(() => {
          expect(boxA.messages).toHaveLength(1)
          expect(boxC.messages).toHaveLength(1)
        })
      })

      it('rejects operations after stop with NotStartedError', async () => {
        b.handle('compliance/echo', async ({ data }) => data)
        await a.stop()
        await a.stop()
        await expectNamedRejection(
          () => a.publish('compliance/t', Uint8Array.of(1)),
          'NotStartedError',
        )
        await expectNamedRejection(
          () => a.send(b.peerId, 'compliance/t', Uint8Array.of(1)),
          'NotStartedError',
        )
        await expectNamedRejection(
          () => a.request(b.peerId, 'compliance/echo', Uint8Array.of(1)),
          'NotStartedError',
        )
        expect(a.peers()).toEqual([])
      })

      it('ignores a second start', async () => {
        await a.start()
        expect(a.peers()).toEqual(expect.arrayContaining([b.peerId, c.peerId]))
      })
    })

    describe('input errors', () => {
      const malformed = ['', 'Upper/case', 'has space', 'x'.repeat(129), 'ünicode', 'tab\t']

      for (const topic of malformed) {
        it(`refuses the topic ${JSON.stringify(topic.slice(0, 12))} with UnknownTopicError`, async () => {
          const data = Uint8Array.of(1)
          await expectNamedRejection(() => a.publish(topic, data), 'UnknownTopicError')
          await expectNamedRejection(() => a.send(b.peerId, topic, data), 'UnknownTopicError')
          await expectNamedRejection(() => a.request(b.peerId, topic, data), 'UnknownTopicError')
          expectNamedThrow(() => a.subscribe(topic, () => 'accept'), 'UnknownTopicError')
          expectNamedThrow(() => a.handle(topic, async () => data), 'UnknownTopicError')
        })
      }

      it('accepts the longest and most varied valid topic names', () => {
        for (const topic of ['x'.repeat(128), 'metanode/ibft/1.0.0', 'a_b-c.d/0']) {
          const unsubscribe = a.subscribe(topic, () => 'accept')
          expect(typeof unsubscribe).toBe('function')
          unsubscribe()
        }
      })

      it('refuses a topic that is not a string with TypeError', async () => {
        const topic = 42 as unknown as string
        await expect(a.publish(topic, Uint8Array.of(1))).rejects.toThrow(TypeError)
        expect(() => a.subscribe(topic, () => 'accept')).toThrow(TypeError)
      })

      it('refuses a payload that is not a Uint8Array with TypeError', async () => {
        const data = 'text' as unknown as Uint8Array
        b.handle('compliance/echo', async () => Uint8Array.of(1))
        await expect(a.publish('compliance/t', data)).rejects.toThrow(TypeError)
        await expect(a.send(b.peerId, 'compliance/t', data)).rejects.toThrow(TypeError)
        await expect(a.request(b.peerId, 'compliance/echo', data)).rejects.toThrow(TypeError)
      })
    })
  })
}
