import { describe, expect, it } from 'vitest'
import { transportSuite } from '../src/compliance/index.js'
import {
  type Clock,
  createMemoryNetwork,
  type InboundMessage,
  RejectionError,
  type TimerHandle,
  type Transport,
} from '../src/index.js'

transportSuite('memory transport', async (count) => {
  const network = createMemoryNetwork()
  const transports = Array.from({ length: count }, () => network.transport())
  for (const transport of transports) await transport.start()
  return { transports, settle: () => network.settle() }
})

transportSuite('memory transport with small limits', async (count) => {
  const network = createMemoryNetwork({ maxMessageBytes: 1024, rejectThreshold: 2 })
  const transports = Array.from({ length: count }, (_, i) =>
    network.transport({ peerId: `node-${i}` }),
  )
  for (const transport of transports) await transport.start()
  return {
    transports,
    settle: () => network.settle(),
    cleanup: async () => {
      for (const transport of transports) await transport.stop()
    },
  }
})

/** A clock that only moves when told to, for ban periods and request deadlines. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0
  let nextId = 1
  const timers = new Map<number, { at: number; callback: () => void }>()
  return {
    now: () => now,
    setTimeout(callback, delayMs) {
      const id = nextId++
      timers.set(id, { at: now + delayMs, callback })
      return id
    },
    clearTimeout(handle: TimerHandle) {
      timers.delete(handle as number)
    },
    advance(ms) {
      now += ms
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(id)
          timer.callback()
        }
      }
    },
  }
}

async function startAll(...transports: Transport[]): Promise<void> {
  for (const transport of transports) await transport.start()
}

function record(transport: Transport, topic: string, verdict: 'accept' | 'reject' = 'accept') {
  const messages: InboundMessage[] = []
  transport.subscribe(topic, (message) => {
    messages.push(message)
    return verdict
  })
  return messages
}

describe('memory network', () => {
  it('delivers asynchronously, never inside publish or send', async () => {
    const network = createMemoryNetwork()
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    const messages = record(b, 'topic')
    const publishing = a.publish('topic', Uint8Array.of(1))
    const sending = a.send(b.peerId, 'topic', Uint8Array.of(2))
    expect(messages).toEqual([])
    await Promise.all([publishing, sending])
    expect(messages).toEqual([])
    await network.settle()
    expect(messages.map((message) => message.data[0])).toEqual([1, 2])
  })

  it('keeps FIFO order per link across publish and send', async () => {
    const network = createMemoryNetwork()
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    const messages = record(b, 'topic')
    for (let i = 0; i < 100; i++) {
      if (i % 3 === 0) await a.send(b.peerId, 'topic', Uint8Array.of(i))
      else await a.publish('topic', Uint8Array.of(i))
    }
    await network.settle()
    expect(messages.map((message) => message.data[0])).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    )
  })

  it('delivers a payload of exactly the limit', async () => {
    const network = createMemoryNetwork({ maxMessageBytes: 64 })
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    const messages = record(b, 'topic')
    await a.publish('topic', new Uint8Array(64))
    await network.settle()
    expect(messages).toHaveLength(1)
  })

  it('penalises a sender whose messages exceed the receiver limit', async () => {
    const network = createMemoryNetwork({ rejectThreshold: 2 })
    const a = network.transport({ maxMessageBytes: 100 })
    const b = network.transport({ maxMessageBytes: 10 })
    await startAll(a, b)
    const messages = record(b, 'topic')
    await a.send(b.peerId, 'topic', new Uint8Array(50))
    await a.send(b.peerId, 'topic', new Uint8Array(50))
    await network.settle()
    expect(messages).toEqual([])
    expect(b.peers()).toEqual([])
    expect(network.isBanned(b.peerId, a.peerId)).toBe(true)
  })

  it('bans a penalised sender for banMs, then lets it reconnect', async () => {
    const clock = manualClock()
    const network = createMemoryNetwork({ clock, rejectThreshold: 3, banMs: 1000 })
    const a = network.transport({ peerId: 'a' })
    const b = network.transport({ peerId: 'b' })
    await startAll(a, b)
    record(b, 'topic', 'reject')
    const reasons: (string | undefined)[] = []
    a.on('peer:disconnect', ({ reason }) => reasons.push(reason))
    for (let i = 0; i < 2; i++) await a.publish('topic', Uint8Array.of(i))
    await network.settle()
    expect(b.peers()).toEqual(['a'])
    await a.publish('topic', Uint8Array.of(2))
    await network.settle()
    expect(b.peers()).toEqual([])
    expect(a.peers()).toEqual([])
    expect(reasons).toEqual(['penalised'])
    expect(() => network.connect('a', 'b')).toThrow(
      expect.objectContaining({ name: 'PeerUnreachableError' }),
    )
    // restarting does not lift the ban either
    await a.stop()
    await a.start()
    expect(a.peers()).toEqual([])
    clock.advance(999)
    expect(network.isBanned('b', 'a')).toBe(true)
    clock.advance(1)
    expect(network.isBanned('b', 'a')).toBe(false)
    network.connect('a', 'b')
    expect(a.peers()).toEqual(['b'])
  })

  it('penalises a requester whose request handler rejects with action reject', async () => {
    const network = createMemoryNetwork({ rejectThreshold: 2 })
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    b.handle('proto', async () => {
      throw new RejectionError('bad-request', 'reject', 'malformed request')
    })
    const failure = a.request(b.peerId, 'proto', Uint8Array.of(1))
    await expect(failure).rejects.toMatchObject({
      name: 'RejectionError',
      code: 'bad-request',
      action: 'reject',
    })
    expect(b.peers()).toEqual([a.peerId])
    await expect(a.request(b.peerId, 'proto', Uint8Array.of(1))).rejects.toMatchObject({
      name: 'RejectionError',
    })
    await network.settle()
    expect(b.peers()).toEqual([])
  })

  it('does not pass a handler error message on to the requester', async () => {
    const network = createMemoryNetwork()
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    b.handle('proto', async () => {
      throw new Error('secret internal detail')
    })
    const error = await a.request(b.peerId, 'proto', Uint8Array.of(1)).catch((e: unknown) => e)
    expect(error).toMatchObject({
      name: 'RejectionError',
      code: 'request-failed',
      action: 'ignore',
    })
    expect(String((error as Error).message)).not.toContain('secret')
  })

  it('times requests out on the network clock', async () => {
    const clock = manualClock()
    const network = createMemoryNetwork({ clock, requestTimeoutMs: 500 })
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    let release = () => {}
    b.handle('slow', () => new Promise((resolve) => (release = () => resolve(Uint8Array.of(1)))))
    const pending = a.request(b.peerId, 'slow', Uint8Array.of(1))
    const outcome = pending.catch((error: unknown) => error)
    await network.settle()
    clock.advance(499)
    await network.settle()
    clock.advance(1)
    expect(await outcome).toMatchObject({ name: 'TimeoutError' })
    // a late answer after the deadline is dropped without effect
    release()
    await network.settle()
  })

  it('rejects pending requests when either side goes away', async () => {
    const network = createMemoryNetwork()
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    b.handle('slow', () => new Promise<Uint8Array>(() => {}))
    const first = a.request(b.peerId, 'slow', Uint8Array.of(1)).catch((e: unknown) => e)
    await network.settle()
    await b.stop()
    expect(await first).toMatchObject({ name: 'PeerUnreachableError' })
    await b.start()
    const second = a.request(b.peerId, 'slow', Uint8Array.of(1)).catch((e: unknown) => e)
    await network.settle()
    await a.stop()
    expect(await second).toMatchObject({ name: 'NotStartedError' })
  })

  it('connects only on request when autoConnect is off', async () => {
    const network = createMemoryNetwork({ autoConnect: false })
    const a = network.transport({ peerId: 'a' })
    const b = network.transport({ peerId: 'b' })
    const c = network.transport({ peerId: 'c' })
    await startAll(a, b, c)
    expect(a.peers()).toEqual([])
    const connected: string[] = []
    a.on('peer:connect', ({ peer }) => connected.push(peer))
    network.connect('a', 'b')
    network.connect('a', 'b')
    expect(a.peers()).toEqual(['b'])
    expect(c.peers()).toEqual([])
    await network.settle()
    expect(connected).toEqual(['b'])
    const disconnected: (string | undefined)[] = []
    b.on('peer:disconnect', ({ peer, reason }) => disconnected.push(`${peer}:${reason}`))
    network.disconnect('a', 'b')
    await network.settle()
    expect(disconnected).toEqual(['a:disconnected'])
    expect(() => network.connect('a', 'nobody')).toThrow(
      expect.objectContaining({ name: 'PeerUnreachableError' }),
    )
    await c.stop()
    expect(() => network.connect('a', 'c')).toThrow(
      expect.objectContaining({ name: 'PeerUnreachableError' }),
    )
  })

  it('drops messages queued on a link that was cut before delivery', async () => {
    const network = createMemoryNetwork()
    const a = network.transport({ peerId: 'a' })
    const b = network.transport({ peerId: 'b' })
    await startAll(a, b)
    const messages = record(b, 'topic')
    await a.publish('topic', Uint8Array.of(1))
    network.disconnect('a', 'b')
    network.connect('a', 'b')
    await network.settle()
    expect(messages).toEqual([])
  })

  it('refuses a second handler for a topic or protocol, and duplicate peer ids', async () => {
    const network = createMemoryNetwork()
    const a = network.transport({ peerId: 'a' })
    a.subscribe('topic', () => 'accept')
    expect(() => a.subscribe('topic', () => 'accept')).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    )
    a.handle('proto', async () => Uint8Array.of(1))
    expect(() => a.handle('proto', async () => Uint8Array.of(1))).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    )
    expect(() => network.transport({ peerId: 'a' })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    )
    expect(network.peerIds()).toEqual(['a'])
  })

  it('validates its options', () => {
    expect(() => createMemoryNetwork({ maxMessageBytes: 0 })).toThrow(RangeError)
    expect(() => createMemoryNetwork({ rejectThreshold: 1.5 })).toThrow(TypeError)
    expect(() => createMemoryNetwork({ banMs: -1 })).toThrow(RangeError)
    expect(() => createMemoryNetwork({ requestTimeoutMs: 0 })).toThrow(RangeError)
    expect(() => createMemoryNetwork().transport({ peerId: '' })).toThrow(TypeError)
    expect(() => createMemoryNetwork().transport({ maxMessageBytes: -5 })).toThrow(RangeError)
  })

  it('ignores verdicts of handlers that answer with something else', async () => {
    const network = createMemoryNetwork({ rejectThreshold: 1 })
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    b.subscribe('topic', () => 'maybe' as never)
    await a.publish('topic', Uint8Array.of(1))
    await network.settle()
    expect(b.peers()).toEqual([a.peerId])
  })

  it('rejects through an async handler verdict and through RejectionError', async () => {
    const network = createMemoryNetwork({ rejectThreshold: 2 })
    const a = network.transport()
    const b = network.transport()
    await startAll(a, b)
    b.subscribe('async', async () => 'reject' as const)
    b.subscribe('throws', () => {
      throw new RejectionError('invalid-signature', 'reject', 'bad signature')
    })
    await a.send(b.peerId, 'async', Uint8Array.of(1))
    await a.send(b.peerId, 'throws', Uint8Array.of(1))
    await network.settle()
    expect(b.peers()).toEqual([])
  })
})
