// Benchmarks of @metanode/chain; writes packages/chain/BENCHMARKS.md.
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import {
  accountKey,
  type ExecutionContext,
  encodeAccount,
  executeBlock,
  genesisState,
  type PreparedTransaction,
  parseGenesis,
  prepareSignedTransaction,
  StateOverlay,
  StateTree,
  signTransaction,
} from '../src/index.js'

const ACCOUNTS = 1_000_000
const BLOCK_TXS = 5_000
const SENDERS = 1_000

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

function pseudoKey(index: number): Uint8Array {
  const key = new Uint8Array(32)
  new DataView(key.buffer).setUint32(0, index)
  new DataView(key.buffer).setUint32(28, Math.imul(index, 2654435761) >>> 0)
  return key
}

function stateRootBench(): { buildSeconds: number; updateMs: number[] } {
  const tree = new StateTree()
  const started = performance.now()
  for (let offset = 0; offset < ACCOUNTS; offset += 100_000) {
    const writes = []
    for (let i = offset; i < offset + 100_000; i++) {
      writes.push({
        key: accountKey(pseudoKey(i)),
        value: encodeAccount({ balance: 1_000_000n, nonce: 0, stake: 0n }),
      })
    }
    tree.apply(writes)
  }
  const buildSeconds = (performance.now() - started) / 1000
  const updateMs: number[] = []
  for (let run = 0; run < 7; run++) {
    // A block of transfers touches sender and recipient: 2 accounts per transfer.
    const writes = []
    for (let i = 0; i < BLOCK_TXS * 2; i++) {
      const index = (run * 7919 + i * 104_729) % ACCOUNTS
      writes.push({
        key: accountKey(pseudoKey(index)),
        value: encodeAccount({ balance: BigInt(1_000_000 - run - 1), nonce: run + 1, stake: 0n }),
      })
    }
    const t0 = performance.now()
    tree.apply(writes)
    updateMs.push(performance.now() - t0)
  }
  return { buildSeconds, updateMs }
}

function executionBench(): { preverifiedTps: number; verifiedTps: number } {
  const validator = {
    ed: ed25519.keygen(new Uint8Array(32).fill(1)),
    bls: bls.keygen(new Uint8Array(32).fill(2)),
  }
  const senders = Array.from({ length: SENDERS }, (_, i) => {
    const seed = new Uint8Array(32)
    new DataView(seed.buffer).setUint32(0, i + 1)
    return ed25519.keygen(seed)
  })
  const genesis = parseGenesis({
    chainId: 'bench',
    accounts: senders.map((s) => ({ address: bytesToHex(s.publicKey), balance: '1000000000000' })),
    validators: [
      {
        id: bytesToHex(validator.ed.publicKey),
        blsPublicKey: bytesToHex(validator.bls.publicKey),
        proofOfPossession: bytesToHex(bls.popProve(validator.bls.secretKey)),
        stake: '1000',
      },
    ],
  })
  const base = genesisState(genesis)
  const txs: PreparedTransaction[] = []
  for (let i = 0; i < BLOCK_TXS; i++) {
    const sender = senders[i % SENDERS] as (typeof senders)[number]
    const to = senders[(i * 7 + 1) % SENDERS] as (typeof senders)[number]
    txs.push(
      prepareSignedTransaction(
        signTransaction(
          {
            chainId: 'bench',
            sender: sender.publicKey,
            nonce: Math.floor(i / SENDERS),
            maxFee: 10n,
            maxPriorityFee: 1n,
            action: { kind: 'transfer', to: to.publicKey, amount: 1n },
          },
          sender.secretKey,
        ),
      ),
    )
  }
  const context: ExecutionContext = {
    chainId: 'bench',
    parameters: genesis.parameters,
    height: 1,
    proposer: validator.ed.publicKey,
  }
  const run = (verify: boolean): number => {
    const times: number[] = []
    for (let round = 0; round < 3; round++) {
      const state = new StateOverlay(base)
      const t0 = performance.now()
      executeBlock(state, txs, verify ? context : { ...context, verifySignature: () => true })
      base.prepare(state.writes())
      times.push(performance.now() - t0)
    }
    return BLOCK_TXS / (median(times) / 1000)
  }
  return { preverifiedTps: run(false), verifiedTps: run(true) }
}

const execution = executionBench()
const stateRoot = stateRootBench()
const updateMedian = median(stateRoot.updateMs)
const cpus = os.cpus()
const lines = [
  '# @metanode/chain benchmarks',
  '',
  `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${os.platform()} ${os.arch()}. Written by \`pnpm bench\` (bench/index.ts).`,
  '',
  '| measure | result |',
  '| --- | --- |',
  `| transactions applied per second, signatures pre-verified (block of ${BLOCK_TXS} transfers from ${SENDERS} senders, state root included) | ${Math.round(execution.preverifiedTps).toLocaleString('en-US')} |`,
  `| transactions applied per second, with Ed25519 verification | ${Math.round(execution.verifiedTps).toLocaleString('en-US')} |`,
  `| building a state of ${ACCOUNTS.toLocaleString('en-US')} accounts | ${stateRoot.buildSeconds.toFixed(1)} s |`,
  `| state-root update for a block of ${BLOCK_TXS} transfers (${BLOCK_TXS * 2} accounts written) over ${ACCOUNTS.toLocaleString('en-US')} accounts, median of 7 | ${updateMedian.toFixed(0)} ms (min ${Math.min(...stateRoot.updateMs).toFixed(0)}, max ${Math.max(...stateRoot.updateMs).toFixed(0)}) |`,
  '',
  `- ${updateMedian < 1000 ? 'PASS' : 'FAIL'}: state-root update for 5,000 transfers over 1,000,000 accounts well under a second (target < 1,000 ms): ${updateMedian.toFixed(0)} ms`,
  '',
]
await writeFile(new URL('../BENCHMARKS.md', import.meta.url), lines.join('\n'))
console.log(lines.join('\n'))
