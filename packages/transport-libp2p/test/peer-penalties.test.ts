import type { Clock } from '@metanode/core'
import { describe, expect, it } from 'vitest'
import { PeerPenalties } from '../src/peer-penalties.js'

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000
  return {
    now: () => now,
    setTimeout: () => 0,
    clearTimeout: () => {},
    advance: (ms) => {
      now += ms
    },
  }
}

function penalties(clock: Clock, rejectThreshold = 3): PeerPenalties {
  return new PeerPenalties({
    rejectThreshold,
    rejectWindowMs: 1_000,
    denyDurationMs: 10_000,
    clock,
  })
}

describe('PeerPenalties', () => {
  it('denies a peer when its rejects reach the threshold, and only then', () => {
    const clock = manualClock()
    const book = penalties(clock)
    expect(book.recordReject('a')).toBe(false)
    expect(book.recordReject('a')).toBe(false)
    expect(book.isDenied('a')).toBe(false)
    expect(book.recordReject('a')).toBe(true)
    expect(book.isDenied('a')).toBe(true)
    expect(book.isDenied('b')).toBe(false)
    // further rejects while denied do not re-trigger the disconnection
    expect(book.recordReject('a')).toBe(false)
  })

  it('lifts the denial after its duration and starts the peer afresh', () => {
    const clock = manualClock()
    const book = penalties(clock, 1)
    expect(book.recordReject('a')).toBe(true)
    clock.advance(9_999)
    expect(book.isDenied('a')).toBe(true)
    expect(book.rejects('a')).toBe(1)
    clock.advance(2)
    expect(book.isDenied('a')).toBe(false)
    expect(book.rejects('a')).toBe(0)
  })

  it('counts only the rejects within the window', () => {
    const clock = manualClock()
    const book = penalties(clock, 3)
    book.recordReject('a')
    clock.advance(600)
    book.recordReject('a')
    expect(book.rejects('a')).toBe(2)
    clock.advance(500)
    // the first reject has left the window
    expect(book.rejects('a')).toBe(1)
    expect(book.recordReject('a')).toBe(false)
    // a slow trickle of rejects never reaches the threshold
    for (let i = 0; i < 20; i++) {
      clock.advance(600)
      expect(book.recordReject('a')).toBe(false)
    }
    clock.advance(1_000)
    book.prune()
    expect(book.rejects('a')).toBe(0)
    // while a burst does
    book.recordReject('a')
    book.recordReject('a')
    expect(book.recordReject('a')).toBe(true)
  })
})
