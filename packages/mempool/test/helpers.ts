import type { AccountState, MempoolInit, MempoolLimits, TransactionAdapter } from '../src/index.js'
import { Mempool } from '../src/index.js'

export interface TestTx {
  id: Uint8Array
  from: Uint8Array
  nonce: number
  maxFee: bigint
  tip: bigint
  size: number
  cost: bigint
  value: bigint
}

export const adapter: TransactionAdapter<TestTx> = {
  id: (tx) => tx.id,
  sender: (tx) => tx.from,
  nonce: (tx) => tx.nonce,
  maxFee: (tx) => tx.maxFee,
  maxPriorityFee: (tx) => tx.tip,
  size: (tx) => tx.size,
  cost: (tx) => tx.cost,
  value: (tx) => tx.value,
}

export function account(n: number): Uint8Array {
  const out = new Uint8Array(20)
  new DataView(out.buffer).setUint32(16, n)
  return out
}

let serial = 0

/** A transaction from account `from`; `fee` sets both caps unless `tip` is given. */
export function tx(
  from: number,
  nonce: number,
  fee: bigint | number,
  options: Partial<Omit<TestTx, 'from' | 'nonce'>> = {},
): TestTx {
  const id = new Uint8Array(32)
  const view = new DataView(id.buffer)
  view.setUint32(0, from)
  view.setUint32(4, nonce)
  view.setUint32(8, ++serial)
  const maxFee = BigInt(fee)
  return {
    id,
    from: account(from),
    nonce,
    maxFee,
    tip: maxFee,
    size: 100,
    cost: 21_000n,
    value: 0n,
    ...options,
  }
}

export class TestState implements AccountState {
  readonly nonces = new Map<string, number>()
  readonly balances = new Map<string, bigint>()
  defaultBalance = 10n ** 30n

  nonce(sender: Uint8Array): number {
    return this.nonces.get(sender.join()) ?? 0
  }
  balance(sender: Uint8Array): bigint {
    return this.balances.get(sender.join()) ?? this.defaultBalance
  }
  setNonce(from: number, nonce: number): void {
    this.nonces.set(account(from).join(), nonce)
  }
  setBalance(from: number, balance: bigint): void {
    this.balances.set(account(from).join(), balance)
  }
}

export function newPool(
  options: Partial<Omit<MempoolInit<TestTx>, 'limits'>> & { limits?: Partial<MempoolLimits> } = {},
  clock?: { now: () => number },
): { pool: Mempool<TestTx>; state: TestState } {
  const state = (options.state as TestState | undefined) ?? new TestState()
  const components =
    clock === undefined
      ? {}
      : {
          clock: { now: clock.now, setTimeout: () => 0, clearTimeout: () => {} },
        }
  const pool = new Mempool<TestTx>({ adapter, ...options, state }, components)
  return { pool, state }
}

/** Pending nonces per account number, for compact assertions. */
export function nonces(
  pool: Mempool<TestTx>,
  from: number,
): { pending: number[]; queued: number[] } {
  const content = pool.content(account(from))
  return {
    pending: content.pending.map((t) => t.nonce),
    queued: content.queued.map((t) => t.nonce),
  }
}

export const BLOCK = { maxBytes: 10_000_000, maxCost: 10n ** 12n }
