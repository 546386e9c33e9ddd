import { createChainApplication, parseGenesis, signTransaction } from '@metanode/chain'
import { LightClient } from '@metanode/chain/light-client'
import { createMemoryNetwork, MemoryStore, systemClock } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import { createIbft, realScheme } from '@metanode/ibft'

export async function runExample(): Promise<{ bobBalance: bigint; lightClientHeight: number }> {
  // Four validators (Ed25519 id + BLS key with its proof of possession) and one funded user.
  const keys = [1, 2, 3, 4].map((n) => realScheme.keygen(new Uint8Array(32).fill(n)))
  const alice = ed25519.keygen(new Uint8Array(32).fill(9))
  const bob = ed25519.keygen(new Uint8Array(32).fill(10))
  const genesis = parseGenesis({
    chainId: 'demo',
    genesisTime: 0,
    accounts: [{ address: bytesToHex(alice.publicKey), balance: '1000000000' }],
    validators: keys.map((k) => ({
      id: bytesToHex(k.id),
      blsPublicKey: bytesToHex(k.blsPublicKey),
      proofOfPossession: bytesToHex(bls.popProve(k.blsSecretKey)),
      stake: '5000',
    })),
    parameters: { epochLength: 10, minValidatorStake: '1000' },
  })

  const network = createMemoryNetwork()
  const nodes = await Promise.all(
    keys.map(async (signer, i) => {
      const chainStore = new MemoryStore()
      const engineStore = new MemoryStore()
      await chainStore.open()
      await engineStore.open()
      const chain = await createChainApplication({ genesis, store: chainStore })
      const transport = network.transport({ peerId: `node-${i}` })
      const engine = createIbft({ chainId: 'demo', application: chain, signer, blockPeriodMs: 10 })(
        {
          clock: systemClock,
          transport,
          store: engineStore,
        },
      )
      return { chain, engine, transport }
    }),
  )

  // A signed transfer; without gossip wired up here, every node's pool gets it directly.
  const transfer = signTransaction(
    {
      chainId: 'demo',
      sender: alice.publicKey,
      nonce: 0,
      maxFee: 10n,
      maxPriorityFee: 1n,
      action: { kind: 'transfer', to: bob.publicKey, amount: 250n },
    },
    alice.secretKey,
  )
  for (const { chain } of nodes) chain.submitTransaction(transfer)

  for (const { transport } of nodes) await transport.start()
  for (const { engine } of nodes) await engine.start()
  const first = nodes[0]?.chain
  if (first === undefined) throw new Error('no node')
  while (first.height < 3) await new Promise((resolve) => setTimeout(resolve, 10))
  for (const { engine, transport } of nodes) {
    await engine.stop()
    await transport.stop()
  }

  // A light client trusting block 1 verifies headers 2 and 3 with one aggregate BLS check each.
  const [one, two, three] = await Promise.all([first.block(1), first.block(2), first.block(3)])
  if (one === undefined || two === undefined || three === undefined)
    throw new Error('missing block')
  const client = new LightClient({
    trustedHeader: one.block.header,
    trustedNextValidatorSet: await first.validatorSet(2),
  })
  client.update(two.block.header, two.certificate)
  client.update(three.block.header, three.certificate)
  return { bobBalance: first.account(bob.publicKey).balance, lightClientHeight: client.height }
}
