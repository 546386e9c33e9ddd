import type { Application, ValidatorSet } from '@metanode/core'
import { createMemoryNetwork, memoryStore, systemClock } from '@metanode/core'
import { blockIdOf, createIbft, insecureTestScheme, verifyCommitCertificate } from '@metanode/ibft'

export async function runExample(): Promise<number[]> {
  // insecureTestScheme keeps the example fast; use realScheme (the default) on a real network
  const keys = [1, 2, 3, 4].map((n) => insecureTestScheme.keygen(new Uint8Array(32).fill(n)))
  const set: ValidatorSet = {
    validators: keys.map((k) => ({ id: k.id, blsPublicKey: k.blsPublicKey, votingPower: 1n })),
  }
  const network = createMemoryNetwork()
  const decided: number[] = []
  const nodes = keys.map((signer, i) => {
    const application: Application = {
      validatorSet: async () => set,
      buildProposal: async ({ height }) => new TextEncoder().encode(`block ${height}`),
      validateProposal: async () => ({ valid: true }),
      finalize: async ({ height, payload, certificate }) => {
        const ok = verifyCommitCertificate(
          certificate,
          blockIdOf(payload),
          set,
          'demo',
          insecureTestScheme,
        )
        if (i === 0 && ok) decided.push(height)
      },
    }
    const transport = network.transport({ peerId: `node-${i}` })
    const engine = createIbft({
      chainId: 'demo',
      application,
      signer,
      scheme: insecureTestScheme,
      blockPeriodMs: 20,
    })({ clock: systemClock, transport, store: memoryStore()() })
    return { engine, transport }
  })
  for (const { transport } of nodes) await transport.start()
  for (const { engine } of nodes) await engine.start()
  while (decided.length < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  for (const { engine, transport } of nodes) {
    await engine.stop()
    await transport.stop()
  }
  return decided.slice(0, 3)
}
