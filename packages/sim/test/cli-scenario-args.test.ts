import { describe, expect, it } from 'vitest'
import { main } from '../src/cli.js'
import { registerScenario, type ScenarioParams } from '../src/index.js'
import { runScenario } from '../src/scenario.js'

const seen: ScenarioParams[] = []
registerScenario(
  'echo-args',
  async (params) => {
    seen.push(params)
    return runScenario({ seed: params.seed, nodes: [], until: 1, trace: 'none' })
  },
  { replace: true },
)
const quiet = { stdout: () => {}, stderr: () => {} }

describe('metanode-sim scenario arguments', () => {
  it('takes the scenario as the first positional argument and passes unknown flags to it', async () => {
    seen.length = 0
    const code = await main(
      ['echo-args', '--validators', '7', '--behaviour=forge', '--verbose', '--seed', '5', '-q'],
      quiet,
    )
    expect(code).toBe(0)
    expect(seen[0]?.seed).toBe(5)
    expect(seen[0]?.options).toEqual({ validators: '7', behaviour: 'forge', verbose: 'true' })
  })

  it('still accepts --scenario, and --param wins over a pass-through flag', async () => {
    seen.length = 0
    expect(await main(['echo-args', '--mode', 'a', '-p', 'mode=b', '-q'], quiet)).toBe(0)
    expect(seen[0]?.options).toEqual({ mode: 'b' })
    seen.length = 0
    expect(await main(['--scenario', 'echo-args', '-p', 'mode=c', '-q'], quiet)).toBe(0)
    expect(seen[0]?.options).toEqual({ mode: 'c' })
  })

  it('refuses two different scenario names and extra positional arguments', async () => {
    expect(await main(['echo-args', '--scenario', 'gossip'], quiet)).toBe(2)
    expect(await main(['echo-args', 'extra'], quiet)).toBe(2)
    expect(await main(['nope', '-q'], quiet)).toBe(2)
  })

  it('refuses unknown flags without a positional scenario name', async () => {
    expect(await main(['--scenario', 'echo-args', '--validators', '4', '-q'], quiet)).toBe(2)
  })
})
