// Integration tests over real loopback TCP: every node is a full libp2p stack on 127.0.0.1.
import type { InboundMessage, PeerId, TransportEvents } from '@metanode/core'
import { RejectionError } from '@metanode/core'
import { afterEach, describe, expect, it } from 'vitest'
import { libp2pTransport } from '../src/index.js'
import { Network, nextSeed, pause, waitFor, waitForSubscribers } from './helpers.js'

const network = new Network()
afterEach(() => network.stopAll())

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const read = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

function record(messages: InboundMessage[], result: 'accept' | 'ignore' | 'reject' = 'accept') {
  return (message: InboundMessage) => {
    messages.push(message)
    return result
  }
}

function errorNamed(name: string) {
  return expect.objectContaining({ name })
}

describe('libp2pTransport: connections', () => {
  it('connects nodes by multiaddr and reports connect and disconnect events', async () => {
    const [a, b] = [await network.add(), await network.add()]
    const events: string[] = []
    a!.on('peer:connect', ({ peer }) => events.push(`connect:${peer}`))
    a!.on('peer:disconnect', ({ peer }) => events.push(`disconnect:${peer}`))
    const address = a!.multiaddrs()[0]!
    expect(address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3KooW/)
    expect(await b!.dial(address)).toBe(a!.peerId)
    await waitFor(() => a!.peers().includes(b!.peerId), 'a sees b')
    expect(b!.peers()).toEqual([a!.peerId])
    await waitFor(() => events.length === 1, 'connect event')
    await b!.hangUp(a!.peerId)
    await waitFor(() => events.length === 2, 'disconnect event')
    expect(events).toEqual([`connect:${b!.peerId}`, `disconnect:${b!.peerId}`])
    expect(a!.peers()).toEqual([])
  })

  it('discovers and keeps connected to its bootstrap peers', async () => {
    const hub = await network.add()
    const bootstrap = [hub.multiaddrs()[0]!]
    const left = await network.add({ bootstrap })
    const right = await network.add({ bootstrap })
    await waitFor(
      () => hub.peers().length === 2 && left.peers().includes(hub.peerId),
      'both spokes connected to the hub',
    )
    expect(right.peers()).toEqual([hub.peerId])
    // gossip crosses the hub to reach a spoke that has no direct connection to the publisher
    const received: InboundMessage[] = []
    hub.subscribe('relay', () => 'accept')
    right.subscribe('relay', record(received))
    left.subscribe('relay', () => 'accept')
    await waitForSubscribers([left], [hub], 'relay')
    // a relay forwards along its gossipsub mesh, built on the heartbeat after subscribing
    await waitFor(() => hub.meshPeers('relay').includes(right.peerId), 'hub meshed with right')
    await left.publish('relay', text('across the hub'))
    await waitFor(() => received.length === 1, 'relayed message')
    expect(received[0]).toMatchObject({ kind: 'gossip', from: hub.peerId, topic: 'relay' })
    expect(read(received[0]!.data)).toBe('across the hub')
  })

  it('refuses to dial a malformed or unreachable address', async () => {
    const node = await network.add()
    await expect(node.dial('not a multiaddr')).rejects.toThrow(errorNamed('InvalidArgumentError'))
    const closed = await network.add()
    const address = closed.multiaddrs()[0]!
    await closed.stop()
    await expect(node.dial(address)).rejects.toThrow(errorNamed('PeerUnreachableError'))
  })
})

describe('libp2pTransport: gossip', () => {
  it('publishes to every subscriber but not back to the publisher', async () => {
    const nodes = await network.mesh(4)
    const inboxes = nodes.map(() => [] as InboundMessage[])
    nodes.forEach((node, index) => {
      node.subscribe('blocks', record(inboxes[index]!))
    })
    await waitForSubscribers(nodes, nodes, 'blocks')
    for (let round = 0; round < 5; round++) {
      await nodes[round % 4]!.publish('blocks', text(`block ${round}`))
    }
    await waitFor(
      () => inboxes.reduce((total, inbox) => total + inbox.length, 0) === 15,
      'every subscriber got every message it did not publish',
    )
    nodes.forEach((node, index) => {
      const inbox = inboxes[index]!
      const expected = [0, 1, 2, 3, 4]
        .filter((round) => round % 4 !== index)
        .map((r) => `block ${r}`)
      expect(inbox.map((message) => read(message.data)).sort()).toEqual(expected.sort())
      for (const message of inbox) {
        expect(message.kind).toBe('gossip')
        expect(message.topic).toBe('blocks')
        expect(message.from).not.toBe(node.peerId)
        expect(Object.getPrototypeOf(message.data)).toBe(Uint8Array.prototype)
      }
    })
  })

  it('delivers a republished payload again, and each relayed copy once', async () => {
    // message ids hash a fresh nonce with the payload: the same bytes published twice are two
    // messages, while the copies mesh peers relay are recognised as one
    const nodes = await network.mesh(3)
    const inboxes = nodes.map(() => [] as InboundMessage[])
    nodes.forEach((node, index) => {
      node.subscribe('votes', record(inboxes[index]!))
    })
    await waitForSubscribers(nodes, nodes, 'votes')
    await nodes[0]!.publish('votes', text('same vote'))
    await nodes[0]!.publish('votes', text('same vote'))
    await waitFor(
      () => inboxes[1]!.length === 2 && inboxes[2]!.length === 2,
      'both publications at both subscribers',
    )
    await pause(200)
    expect(inboxes.map((inbox) => inbox.length)).toEqual([0, 2, 2])
    expect(inboxes[1]!.map((message) => read(message.data))).toEqual(['same vote', 'same vote'])
  })

  it('does not forward a message its first receiver ignores or rejects', async () => {
    // a line a - b - c: c can only hear a through b
    const [a, b, c] = [await network.add(), await network.add(), await network.add()]
    await b!.dial(a!.multiaddrs()[0]!)
    await c!.dial(b!.multiaddrs()[0]!)
    const atB: string[] = []
    const atC: InboundMessage[] = []
    a!.subscribe('votes', () => 'accept')
    b!.subscribe('votes', (message) => {
      const body = read(message.data)
      atB.push(body)
      return body === 'accepted' ? 'accept' : body === 'ignored' ? 'ignore' : 'reject'
    })
    c!.subscribe('votes', record(atC))
    await waitForSubscribers([a!], [b!], 'votes')
    await waitFor(() => b!.meshPeers('votes').includes(c!.peerId), 'b meshed with c')
    await a!.publish('votes', text('ignored'))
    await a!.publish('votes', text('rejected'))
    await a!.publish('votes', text('accepted'))
    await waitFor(() => atC.length === 1, 'accepted message relayed')
    await pause(200)
    expect(atB.sort()).toEqual(['accepted', 'ignored', 'rejected'])
    expect(atC.map((message) => read(message.data))).toEqual(['accepted'])
  })

  it('stops delivering a topic after unsubscribe', async () => {
    const [a, b] = await network.mesh(2)
    const inbox: InboundMessage[] = []
    const unsubscribe = b!.subscribe('news', record(inbox))
    await waitForSubscribers([a!], [b!], 'news')
    await a!.publish('news', text('one'))
    await waitFor(() => inbox.length === 1, 'first message')
    unsubscribe()
    unsubscribe()
    await waitFor(() => a!.subscribers('news').length === 0, 'unsubscription propagated')
    await a!.publish('news', text('two'))
    await a!.send(b!.peerId, 'news', text('three'))
    await pause(200)
    expect(inbox).toHaveLength(1)
  })
})

describe('libp2pTransport: direct messages', () => {
  it('delivers sends in order to the subscriber of the topic, as direct', async () => {
    const [a, b, c] = await network.mesh(3)
    const inbox: InboundMessage[] = []
    b!.subscribe('sync', record(inbox))
    const otherInbox: InboundMessage[] = []
    c!.subscribe('sync', record(otherInbox))
    const sends = Array.from({ length: 50 }, (_, index) =>
      a!.send(b!.peerId, 'sync', text(`${index}`)),
    )
    await Promise.all(sends)
    await waitFor(() => inbox.length === 50, 'all direct messages')
    expect(inbox.map((message) => read(message.data))).toEqual(
      Array.from({ length: 50 }, (_, index) => `${index}`),
    )
    expect(inbox[0]).toMatchObject({ kind: 'direct', from: a!.peerId, topic: 'sync' })
    expect(otherInbox).toEqual([])
  })

  it('refuses peers that are not connected', async () => {
    const [a] = await network.mesh(1)
    const stranger = libp2pTransport({ privateKey: nextSeed() })().peerId
    await expect(a!.send(stranger, 'sync', text('x'))).rejects.toThrow(
      errorNamed('PeerUnreachableError'),
    )
    await expect(a!.send('garbage', 'sync', text('x'))).rejects.toThrow(
      errorNamed('PeerUnreachableError'),
    )
    await expect(a!.request(stranger, 'rpc', text('x'))).rejects.toThrow(
      errorNamed('PeerUnreachableError'),
    )
  })
})

describe('libp2pTransport: requests', () => {
  it('answers requests with the handler result and tells who asked', async () => {
    const [a, b] = await network.mesh(2)
    const askers: PeerId[] = []
    b!.handle('status/1', async ({ from, data }) => {
      askers.push(from)
      return text(`height ${read(data)}`)
    })
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => a!.request(b!.peerId, 'status/1', text(`${index}`))),
    )
    expect(answers.map(read)).toEqual(Array.from({ length: 20 }, (_, index) => `height ${index}`))
    expect(new Set(askers)).toEqual(new Set([a!.peerId]))
    expect(Object.getPrototypeOf(answers[0])).toBe(Uint8Array.prototype)
  })

  it('reports unknown protocols, handler failures and rejections to the requester', async () => {
    const [a, b] = await network.mesh(2, { rejectThreshold: 100 })
    b!.handle('fails', async () => {
      throw new Error('database exploded at /var/secret')
    })
    b!.handle('refuses', async () => {
      throw new RejectionError('bad-height', 'reject', 'height is in the future')
    })
    await expect(a!.request(b!.peerId, 'missing', text('?'))).rejects.toThrow(
      errorNamed('UnknownTopicError'),
    )
    const failure = await a!.request(b!.peerId, 'fails', text('?')).catch((error) => error)
    expect(failure.name).toBe('MetanodeError')
    expect(JSON.stringify(failure.details)).not.toContain('secret')
    const rejection = await a!.request(b!.peerId, 'refuses', text('?')).catch((error) => error)
    expect(rejection).toMatchObject({
      name: 'RejectionError',
      code: 'bad-height',
      action: 'reject',
    })
  })

  it('stops serving after the handler is removed', async () => {
    const [a, b] = await network.mesh(2)
    const stop = b!.handle('ping', async () => text('pong'))
    expect(read(await a!.request(b!.peerId, 'ping', new Uint8Array()))).toBe('pong')
    stop()
    await expect(a!.request(b!.peerId, 'ping', new Uint8Array())).rejects.toThrow(
      errorNamed('UnknownTopicError'),
    )
  })

  it('times out when the handler does not answer in time', async () => {
    const [a, b] = await network.mesh(2)
    let release: () => void = () => {}
    b!.handle(
      'slow',
      () =>
        new Promise((resolve) => {
          release = () => resolve(text('late'))
        }),
    )
    await expect(a!.request(b!.peerId, 'slow', text('?'), { timeoutMs: 100 })).rejects.toThrow(
      errorNamed('TimeoutError'),
    )
    release()
    // the late answer lands on a reset stream; the connection stays usable
    b!.handle('fast', async () => text('ok'))
    expect(read(await a!.request(b!.peerId, 'fast', text('?')))).toBe('ok')
  })
})

describe('libp2pTransport: size limits and misbehaviour', () => {
  it('refuses outbound payloads over maxMessageBytes', async () => {
    const [a, b] = await network.mesh(2, { maxMessageBytes: 1024 })
    const tooBig = new Uint8Array(1025)
    await expect(a!.publish('t', tooBig)).rejects.toThrow(errorNamed('MessageTooLargeError'))
    await expect(a!.send(b!.peerId, 't', tooBig)).rejects.toThrow(
      errorNamed('MessageTooLargeError'),
    )
    await expect(a!.request(b!.peerId, 'p', tooBig)).rejects.toThrow(
      errorNamed('MessageTooLargeError'),
    )
    b!.handle('big-answer', async () => new Uint8Array(2048))
    await expect(a!.request(b!.peerId, 'big-answer', new Uint8Array(1))).rejects.toThrow(
      errorNamed('MessageTooLargeError'),
    )
    const inbox: InboundMessage[] = []
    b!.subscribe('t', record(inbox))
    await a!.send(b!.peerId, 't', new Uint8Array(1024))
    await waitFor(() => inbox.length === 1, 'a message of exactly the limit')
  })

  it('drops oversized inbound messages and disconnects a sender that keeps sending them', async () => {
    // the receiver's limit is lower than what the sender allows itself
    const strict = await network.add({ maxMessageBytes: 1024, rejectThreshold: 2 })
    const lax = await network.add({ maxMessageBytes: 64 * 1024 })
    await lax.dial(strict.multiaddrs()[0]!)
    const inbox: InboundMessage[] = []
    strict.subscribe('t', record(inbox))
    lax.subscribe('t', () => 'accept')
    await waitForSubscribers([lax], [strict], 't')
    const disconnected: TransportEvents['peer:disconnect'][] = []
    strict.on('peer:disconnect', (event) => disconnected.push(event))
    await lax.publish('t', new Uint8Array(2048))
    await lax.send(strict.peerId, 't', new Uint8Array(2048)).catch(() => {})
    await waitFor(() => disconnected.length === 1, 'oversized sender disconnected')
    expect(disconnected[0]).toEqual({ peer: lax.peerId, reason: 'rejected' })
    expect(inbox).toEqual([])
  })

  it('disconnects and denies a peer whose messages are rejected repeatedly', async () => {
    const judge = await network.add({ rejectThreshold: 3 })
    const [spammer, bystander] = [await network.add(), await network.add()]
    await spammer!.dial(judge.multiaddrs()[0]!)
    await bystander!.dial(judge.multiaddrs()[0]!)
    const judged: InboundMessage[] = []
    judge.subscribe('tx', (message) => {
      judged.push(message)
      return read(message.data) === 'valid' ? 'accept' : 'reject'
    })
    const disconnected: TransportEvents['peer:disconnect'][] = []
    judge.on('peer:disconnect', (event) => disconnected.push(event))
    await waitForSubscribers([spammer!, bystander!], [judge], 'tx')
    await bystander!.publish('tx', text('valid'))
    await spammer!.send(judge.peerId, 'tx', text('invalid direct'))
    await spammer!.publish('tx', text('invalid gossip'))
    await waitFor(() => judged.length === 3, 'three messages judged')
    expect(judge.peers()).toContain(spammer!.peerId)
    await spammer!.publish('tx', text('invalid again'))
    await waitFor(() => disconnected.length === 1, 'spammer disconnected')
    expect(disconnected[0]).toEqual({ peer: spammer!.peerId, reason: 'rejected' })
    expect(judge.peers()).toEqual([bystander!.peerId])
    // denied both ways: the judge will not dial it, and its dials are refused
    await expect(judge.dial(spammer!.multiaddrs()[0]!)).rejects.toThrow(
      errorNamed('PeerUnreachableError'),
    )
    await spammer!.dial(judge.multiaddrs()[0]!).catch(() => {})
    await pause(200)
    expect(judge.peers()).toEqual([bystander!.peerId])
    // the honest peer is unaffected
    await bystander!.publish('tx', text('valid'))
    await waitFor(() => judged.length === 5, 'honest message still delivered')
  })

  it('penalises a requester whose request the handler rejects', async () => {
    const server = await network.add({ rejectThreshold: 2 })
    const client = await network.add()
    await client.dial(server.multiaddrs()[0]!)
    server.handle('submit', async ({ data }) => {
      if (read(data) === 'bad') throw new RejectionError('invalid-tx', 'reject', 'bad tx')
      return text('ok')
    })
    const disconnected: PeerId[] = []
    server.on('peer:disconnect', ({ peer }) => disconnected.push(peer))
    expect(read(await client.request(server.peerId, 'submit', text('good')))).toBe('ok')
    await expect(client.request(server.peerId, 'submit', text('bad'))).rejects.toThrow(
      errorNamed('RejectionError'),
    )
    await expect(client.request(server.peerId, 'submit', text('bad'))).rejects.toThrow(
      errorNamed('RejectionError'),
    )
    await waitFor(() => disconnected.length === 1, 'client disconnected')
    expect(disconnected).toEqual([client.peerId])
  })
})

describe('libp2pTransport: lifecycle', () => {
  it('refuses operations before start and after stop; start and stop are idempotent', async () => {
    const transport = libp2pTransport({ privateKey: nextSeed() })()
    network.transports.push(transport)
    await expect(transport.publish('t', text('x'))).rejects.toThrow(errorNamed('NotStartedError'))
    await expect(transport.send(transport.peerId, 't', text('x'))).rejects.toThrow(
      errorNamed('NotStartedError'),
    )
    await expect(transport.request(transport.peerId, 'p', text('x'))).rejects.toThrow(
      errorNamed('NotStartedError'),
    )
    await expect(transport.dial('/ip4/127.0.0.1/tcp/1')).rejects.toThrow(
      errorNamed('NotStartedError'),
    )
    expect(transport.multiaddrs()).toEqual([])
    expect(transport.peers()).toEqual([])
    await Promise.all([transport.start(), transport.start()])
    expect(transport.multiaddrs()).toHaveLength(1)
    await transport.stop()
    await transport.stop()
    await expect(transport.publish('t', text('x'))).rejects.toThrow(errorNamed('NotStartedError'))
  })

  it('keeps subscriptions and handlers across a restart', async () => {
    const [a, b] = await network.mesh(2)
    const inbox: InboundMessage[] = []
    b!.subscribe('blocks', record(inbox))
    b!.handle('ping', async () => text('pong'))
    await b!.stop()
    await b!.start()
    await b!.dial(a!.multiaddrs()[0]!)
    await waitForSubscribers([a!], [b!], 'blocks')
    // gossip is best-effort while the old connection is torn down: a publish racing it may go to
    // the dead stream and be dropped (never thrown), so publish until one arrives
    for (let attempt = 0; inbox.length === 0 && attempt < 50; attempt++) {
      await a!.publish('blocks', text('after restart'))
      await pause(100)
    }
    await waitFor(() => inbox.length >= 1, 'message after restart')
    expect(read(inbox[0]!.data)).toBe('after restart')
    expect(read(await a!.request(b!.peerId, 'ping', new Uint8Array()))).toBe('pong')
  })

  it('validates arguments with TypeError, RangeError and named errors', async () => {
    const [a] = await network.mesh(1)
    expect(() => a!.subscribe('Bad Topic', () => 'accept')).toThrow(errorNamed('UnknownTopicError'))
    expect(() => a!.subscribe(7 as unknown as string, () => 'accept')).toThrow(TypeError)
    expect(() => a!.subscribe('ok', 'handler' as never)).toThrow(TypeError)
    a!.subscribe('once', () => 'accept')
    expect(() => a!.subscribe('once', () => 'accept')).toThrow(errorNamed('InvalidArgumentError'))
    await expect(a!.publish('t', 'data' as unknown as Uint8Array)).rejects.toThrow(TypeError)
    await expect(a!.publish('', text('x'))).rejects.toThrow(errorNamed('UnknownTopicError'))
    expect(() => libp2pTransport({ privateKey: new Uint8Array(16) })).toThrow(RangeError)
    expect(() => libp2pTransport({ privateKey: 'key' as unknown as Uint8Array })).toThrow(TypeError)
    expect(() => libp2pTransport({ privateKey: nextSeed(), maxMessageBytes: 0 })).toThrow(
      RangeError,
    )
    expect(() => libp2pTransport({ privateKey: nextSeed(), rejectThreshold: 1.5 })).toThrow(
      TypeError,
    )
    expect(() => libp2pTransport({ privateKey: nextSeed(), listen: ['nope'] })).toThrow(
      errorNamed('InvalidArgumentError'),
    )
    expect(() =>
      libp2pTransport({ privateKey: nextSeed(), bootstrap: ['/ip4/127.0.0.1/tcp/4001'] }),
    ).toThrow(errorNamed('InvalidArgumentError'))
  })
})
