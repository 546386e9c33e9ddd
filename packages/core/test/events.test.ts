import { describe, expect, it } from 'vitest'
import { TypedEventEmitter } from '../src/index.js'

interface Events {
  tick: { count: number }
  tock: { label: string }
}

describe('TypedEventEmitter', () => {
  it('calls listeners of an event in the order they were added, with the payload', () => {
    const emitter = new TypedEventEmitter<Events>()
    const calls: string[] = []
    emitter.on('tick', ({ count }) => calls.push(`first ${count}`))
    emitter.on('tick', ({ count }) => calls.push(`second ${count}`))
    emitter.on('tock', ({ label }) => calls.push(`tock ${label}`))
    expect(emitter.emit('tick', { count: 1 })).toBe(true)
    expect(calls).toEqual(['first 1', 'second 1'])
    expect(emitter.listenerCount('tick')).toBe(2)
  })

  it('removes a listener through the returned function, idempotently', () => {
    const emitter = new TypedEventEmitter<Events>()
    let calls = 0
    const off = emitter.on('tick', () => calls++)
    off()
    off()
    expect(emitter.emit('tick', { count: 1 })).toBe(false)
    expect(calls).toBe(0)
    expect(emitter.listenerCount('tick')).toBe(0)
  })

  it('registers the same function once', () => {
    const emitter = new TypedEventEmitter<Events>()
    let calls = 0
    const listener = () => calls++
    emitter.on('tick', listener)
    emitter.on('tick', listener)
    emitter.emit('tick', { count: 1 })
    expect(calls).toBe(1)
  })

  it('runs a once listener for the next emission only', () => {
    const emitter = new TypedEventEmitter<Events>()
    const counts: number[] = []
    emitter.once('tick', ({ count }) => counts.push(count))
    emitter.emit('tick', { count: 1 })
    emitter.emit('tick', { count: 2 })
    expect(counts).toEqual([1])
  })

  it('keeps calling the other listeners when one throws, and reports the error', () => {
    const reported: [unknown, PropertyKey][] = []
    const emitter = new TypedEventEmitter<Events>({
      onListenerError: (error, event) => reported.push([error, event]),
    })
    const failure = new Error('listener bug')
    let reached = false
    emitter.on('tick', () => {
      throw failure
    })
    emitter.on('tick', () => {
      reached = true
    })
    expect(() => emitter.emit('tick', { count: 1 })).not.toThrow()
    expect(reached).toBe(true)
    expect(reported).toEqual([[failure, 'tick']])
  })

  it('applies listeners added or removed during an emission from the next one', () => {
    const emitter = new TypedEventEmitter<Events>()
    const calls: string[] = []
    const offLate = emitter.on('tick', () => calls.push('late'))
    emitter.on('tick', () => {
      calls.push('adder')
      emitter.on('tick', () => calls.push('added'))
      offLate()
    })
    // 'late' was registered first, so it already ran before the adder removed it
    emitter.emit('tick', { count: 1 })
    expect(calls).toEqual(['late', 'adder'])
    calls.length = 0
    emitter.emit('tick', { count: 2 })
    expect(calls).toEqual(['adder', 'added'])
  })

  it('removes all listeners of one event or of all events', () => {
    const emitter = new TypedEventEmitter<Events>()
    emitter.on('tick', () => {})
    emitter.on('tock', () => {})
    emitter.removeAllListeners('tick')
    expect(emitter.listenerCount('tick')).toBe(0)
    expect(emitter.listenerCount('tock')).toBe(1)
    emitter.removeAllListeners()
    expect(emitter.listenerCount('tock')).toBe(0)
  })

  it('refuses a listener that is not a function with TypeError', () => {
    const emitter = new TypedEventEmitter<Events>()
    expect(() => emitter.on('tick', 'nope' as never)).toThrow(TypeError)
    expect(() => emitter.once('tick', 42 as never)).toThrow(TypeError)
  })
})
