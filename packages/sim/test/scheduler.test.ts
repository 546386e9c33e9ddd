import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { VirtualClock } from '../src/clock.js'
import { Scheduler } from '../src/scheduler.js'

function runAll(scheduler: Scheduler): void {
  while (scheduler.runNext()) {}
}

describe('Scheduler', () => {
  it('runs events by time, ties in scheduling order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }), (times) => {
        const scheduler = new Scheduler()
        const ran: number[] = []
        times.forEach((time, index) => {
          scheduler.schedule(time, (i) => ran.push(i), index)
        })
        runAll(scheduler)
        const expected = times
          .map((time, index) => ({ time, index }))
          .sort((a, b) => a.time - b.time || a.index - b.index)
          .map((entry) => entry.index)
        expect(ran).toEqual(expected)
        expect(scheduler.size).toBe(0)
        expect(scheduler.executed).toBe(times.length)
      }),
      { numRuns: 200 },
    )
  })

  it('cancels any subset of pending events and runs the rest in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 150 }),
        (plan) => {
          const scheduler = new Scheduler()
          const ran: number[] = []
          const handles = plan.map(([time], index) =>
            scheduler.schedule(time, (i) => ran.push(i), index),
          )
          plan.forEach(([, cancel], index) => {
            if (cancel) expect(scheduler.cancel(handles[index])).toBe(true)
          })
          runAll(scheduler)
          const expected = plan
            .map(([time, cancel], index) => ({ time, cancel, index }))
            .filter((entry) => !entry.cancel)
            .sort((a, b) => a.time - b.time || a.index - b.index)
            .map((entry) => entry.index)
          expect(ran).toEqual(expected)
        },
      ),
      { numRuns: 200 },
    )
  })

  it('lets events schedule more events, including at the current time', () => {
    const scheduler = new Scheduler()
    const ran: string[] = []
    scheduler.schedule(
      5,
      () => {
        ran.push('a')
        scheduler.schedule(5, () => ran.push('c'), undefined)
      },
      undefined,
    )
    scheduler.schedule(5, () => ran.push('b'), undefined)
    scheduler.schedule(6, () => ran.push('d'), undefined)
    runAll(scheduler)
    expect(ran).toEqual(['a', 'b', 'c', 'd'])
    expect(scheduler.now).toBe(6)
  })

  it('refuses cancelling what already ran, was cancelled, or is foreign', () => {
    const scheduler = new Scheduler()
    const other = new Scheduler()
    const ran = scheduler.schedule(1, () => {}, undefined)
    const cancelled = scheduler.schedule(2, () => {}, undefined)
    const foreign = other.schedule(1, () => {}, undefined)
    expect(scheduler.cancel(cancelled)).toBe(true)
    expect(scheduler.cancel(cancelled)).toBe(false)
    expect(cancelled.pending).toBe(false)
    runAll(scheduler)
    expect(ran.pending).toBe(false)
    expect(scheduler.cancel(ran)).toBe(false)
    expect(scheduler.cancel(foreign)).toBe(false)
    expect(scheduler.cancel({})).toBe(false)
    expect(foreign.pending).toBe(true)
  })

  it('discards the events of a dead owner', () => {
    const scheduler = new Scheduler()
    const owner = { alive: true }
    const ran: string[] = []
    scheduler.schedule(1, () => ran.push('owned'), undefined, owner)
    scheduler.schedule(2, () => ran.push('free'), undefined)
    owner.alive = false
    runAll(scheduler)
    expect(ran).toEqual(['free'])
    expect(scheduler.discarded).toBe(1)
    expect(scheduler.executed).toBe(1)
  })

  it('refuses times in the past and non-numbers', () => {
    const scheduler = new Scheduler()
    scheduler.schedule(10, () => {}, undefined)
    runAll(scheduler)
    expect(() => scheduler.schedule(9, () => {}, undefined)).toThrow(RangeError)
    expect(() => scheduler.schedule(Number.NaN, () => {}, undefined)).toThrow(TypeError)
    expect(() => scheduler.schedule(Number.POSITIVE_INFINITY, () => {}, undefined)).toThrow(
      RangeError,
    )
    expect(() => scheduler.advanceTo(5)).toThrow(RangeError)
    scheduler.schedule(20, () => {}, undefined)
    expect(() => scheduler.advanceTo(25)).toThrow(RangeError)
    scheduler.advanceTo(15)
    expect(scheduler.now).toBe(15)
  })
})

describe('VirtualClock', () => {
  it('fires timers at virtual time, offset by the epoch, and cancels them', () => {
    const scheduler = new Scheduler()
    const clock = new VirtualClock(scheduler, { epochMs: 1_000_000 })
    const fired: number[] = []
    clock.setTimeout(() => fired.push(clock.now()), 300)
    const cancelled = clock.setTimeout(() => fired.push(-1), 200)
    clock.setTimeout(() => fired.push(clock.now()), -5)
    clock.clearTimeout(cancelled)
    clock.clearTimeout(cancelled)
    clock.clearTimeout(42)
    runAll(scheduler)
    expect(fired).toEqual([1_000_000, 1_000_300])
    expect(clock.now()).toBe(1_000_300)
  })

  it('arms nothing for a dead owner and checks its arguments', () => {
    const scheduler = new Scheduler()
    const owner = { alive: false }
    const clock = new VirtualClock(scheduler, { owner })
    clock.setTimeout(() => {}, 10)
    expect(scheduler.size).toBe(0)
    expect(() => clock.setTimeout('x' as unknown as () => void, 1)).toThrow(TypeError)
    expect(() => clock.setTimeout(() => {}, Number.NaN)).toThrow(TypeError)
    expect(() => clock.setTimeout(() => {}, Number.POSITIVE_INFINITY)).toThrow(RangeError)
  })
})
