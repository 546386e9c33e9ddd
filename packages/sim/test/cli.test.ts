import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main, parseDuration } from '../src/cli.js'
import { registerScenario } from '../src/registry.js'
import { runScenario } from '../src/scenario.js'

function capture(): { out: string[]; err: string[]; io: Parameters<typeof main>[1] } {
  const out: string[] = []
  const err: string[] = []
  return { out, err, io: { stdout: (text) => out.push(text), stderr: (text) => err.push(text) } }
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'metanode-sim-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('metanode-sim', () => {
  it('runs the gossip scenario, writes a valid JSONL trace and exits 0', async () => {
    const args = (file: string) => [
      '--seed',
      '7',
      '--nodes',
      '4',
      '--duration',
      '3s',
      '--drop',
      '0.1',
      '--latency',
      '2-20',
      '--crashes',
      '1',
      '--out',
      file,
    ]
    const first = capture()
    expect(await main(args(join(dir, 'a.jsonl')), first.io)).toBe(0)
    const text = await readFile(join(dir, 'a.jsonl'), 'utf8')
    const lines = text.split('\n')
    expect(lines.pop()).toBe('')
    const events = lines.map((line) => JSON.parse(line) as { t: number; kind: string })
    expect(events[0]).toEqual({ t: 0, kind: 'simulation', seed: 7, epochMs: 0 })
    let previous = 0
    for (const event of events) {
      expect(typeof event.kind).toBe('string')
      expect(event.t).toBeGreaterThanOrEqual(previous)
      previous = event.t
    }
    expect(events.some((event) => event.kind === 'deliver')).toBe(true)
    expect(events.some((event) => event.kind === 'crash')).toBe(true)
    const summary = first.out.join('')
    expect(summary).toContain('scenario    gossip')
    expect(summary).toContain('violations  0')
    expect(summary).toContain(`(${events.length} lines)`)
    expect(first.err.join('')).toContain('100.0%')

    const second = capture()
    expect(await main([...args(join(dir, 'b.jsonl')), '--quiet'], second.io)).toBe(0)
    expect(await readFile(join(dir, 'b.jsonl'), 'utf8')).toBe(text)
    expect(second.err).toEqual([])
  })

  it('prints a JSON summary', async () => {
    const { out, io } = capture()
    expect(await main(['--duration', '1s', '--json', '-q', '--param', 'fanout=2'], io)).toBe(0)
    const summary = JSON.parse(out.join(''))
    expect(summary).toMatchObject({ scenario: 'gossip', seed: 1, violations: [], trace: null })
    expect(summary.stats.nodes).toBe(4)
    expect(summary.summary.published).toBeGreaterThan(0)
  })

  it('exits 1 when the scenario finds violations', async () => {
    registerScenario(
      'cli-test-failing',
      async (params) => {
        const result = await runScenario({
          seed: params.seed,
          nodes: [],
          until: params.durationMs,
          trace: params.trace,
          check: () => ['always broken'],
        })
        return result
      },
      { replace: true },
    )
    const { out, io } = capture()
    expect(await main(['-s', 'cli-test-failing', '-q'], io)).toBe(1)
    expect(out.join('')).toContain('always broken')
  })

  it('lists scenarios, shows help and refuses bad arguments with exit code 2', async () => {
    const list = capture()
    expect(await main(['--list'], list.io)).toBe(0)
    expect(list.out.join('')).toMatch(/^gossip /m)
    const help = capture()
    expect(await main(['--help'], help.io)).toBe(0)
    expect(help.out.join('')).toContain('Usage: metanode-sim')
    for (const bad of [
      ['--bogus'],
      ['--drop', '1.5'],
      ['--nodes', 'many'],
      ['--duration', 'soon'],
      ['--latency', '9-3'],
      ['--scenario', 'nope'],
      ['--param', 'novalue'],
      ['--import', './does-not-exist.js'],
      ['--nodes', '0', '-q'],
    ]) {
      const { err, io } = capture()
      expect(await main(bad, io)).toBe(2)
      expect(err.join('')).toContain('metanode-sim:')
    }
  })

  it('parses durations', () => {
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('1500ms')).toBe(1_500)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('1.5')).toBe(1_500)
    expect(() => parseDuration('-1s')).toThrow('--duration')
  })
})
