// `pnpm bench` for @metanode/crypto: runs every group and writes BENCHMARKS.md.
// BENCH_ONLY=hash,bls limits the run to some modules; BENCH_TIME_MS sets the time per case.
import { writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import type { BenchGroup } from './harness.js'
import { benchTime, renderGroup, runGroup } from './harness.js'

const modules: Record<string, () => Promise<{ groups: BenchGroup[] }>> = {
  hash: () => import('./hash.js'),
  merkle: () => import('./merkle.js'),
  ed25519: () => import('./ed25519.js'),
  bls: () => import('./bls.js'),
  aead: () => import('./aead.js'),
  kex: () => import('./kex.js'),
}

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
const sections: string[] = []
const allTargets: string[] = []
for (const [name, load] of Object.entries(modules)) {
  if (only !== undefined && !only.includes(name)) continue
  const { groups } = await load()
  for (const group of groups) {
    const { results, targets } = await runGroup(group)
    sections.push(renderGroup(group, results, targets))
    allTargets.push(...targets.map((t) => `${t} (${group.title})`))
  }
}

const cpu = cpus()
const header = [
  '# @metanode/crypto benchmarks',
  '',
  `Written by \`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${benchTime} ms per case. ` +
    'Each table measures our API next to the raw library calls it wraps, in the same process and run.',
  '',
  '## Targets',
  '',
  ...allTargets.map((t) => `- ${t}`),
  '',
]
const out = new URL('../BENCHMARKS.md', import.meta.url)
writeFileSync(out, `${header.join('\n')}\n${sections.join('\n\n')}\n`)
console.log(`\nwrote ${out.pathname}`)
const failed = allTargets.filter((t) => t.startsWith('FAIL'))
if (failed.length > 0) console.log(`${failed.length} target(s) not met:\n${failed.join('\n')}`)
