/**
 * Genesis: the chain id, initial accounts, initial validators and parameters, read from JSON
 * with strict validation. Every error is a {@link GenesisError} whose `details.field` names the
 * offending field (e.g. `accounts[2].balance`).
 */
import type { ValidatorSet } from '@metanode/core'
import { encode } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex, hexToBytes } from '@metanode/crypto/bytes'
import { domainHash } from '@metanode/crypto/hash'
import { GenesisError } from './errors.js'
import { StateOverlay, StateTree } from './state.js'
import { MAX_AMOUNT, TRANSACTION_LIMITS, type ValidatorMetadata } from './transaction.js'
import { readActiveSet, selectActiveSet, writeActiveSet, writeValidator } from './validators.js'

/** Chain parameters fixed at genesis. */
export interface ChainParameters {
  /** Heights per epoch: the active validator set changes only after a height that is a multiple of it. */
  epochLength: number
  /** Most validators in the active set. */
  maxValidators: number
  /**
   * Most registered validators (active, queued or jailed): registering beyond it fails with
   * `too-many-candidates`, so the registry every epoch boundary sorts stays bounded. At least
   * `maxValidators` and the number of genesis validators.
   */
  maxCandidates: number
  /** Smallest stake of a registered validator. */
  minValidatorStake: bigint
  /** Price per unit of cost every transaction pays at least; the whole fee goes to the proposer. */
  baseFee: bigint
  /** Most transactions in a block. */
  maxBlockTxs: number
  /** Most bytes of transactions in a block. */
  maxBlockBytes: number
  /** Largest difference allowed between a block's timestamp and a validator's clock, in ms. */
  maxClockDriftMs: number
  /** New coins minted after each epoch and split among its validators by voting power × commits signed. */
  epochReward: bigint
  /** Fraction of stake burned for equivocation, in basis points; the validator is also jailed. */
  slashFractionBps: number
  /**
   * Heights unstaked or undelegated coins wait (still slashable) before they are spendable. At
   * least `evidenceMaxAgeHeights`, so stake cannot leave before the evidence of its offence expires.
   */
  unbondingHeights: number
  /**
   * Heights a jailed validator sits out: jailed at height h, its `unjail` succeeds from height
   * h + `minJailHeights` on (earlier ones fail with `jail-time-not-served`). 0 to 10,000,000.
   */
  minJailHeights: number
  /**
   * How many heights evidence stays usable: at height H, equivocation at a height below
   * H − `evidenceMaxAgeHeights` is refused (`evidence-expired`). Bounding it lets the chain forget
   * counted slots once they expire instead of remembering every slot forever. At least 1.
   */
  evidenceMaxAgeHeights: number
}

/** An initial account. */
export interface GenesisAccount {
  /** The Ed25519 public key (32 bytes). */
  address: Uint8Array
  /** Spendable balance. */
  balance: bigint
}

/** An initial validator; its stake is bonded from nothing (it adds to the supply). */
export interface GenesisValidator {
  /** The Ed25519 public key (32 bytes): validator id and account. */
  id: Uint8Array
  /** BLS public key (48 bytes). */
  blsPublicKey: Uint8Array
  /** Proof of possession of the BLS key (96 bytes). */
  proofOfPossession: Uint8Array
  /** Bonded stake, at least the minimum. */
  stake: bigint
  /** Commission in basis points. */
  commissionBps: number
  /** Public description. */
  metadata: ValidatorMetadata
}

/** A validated genesis. */
export interface Genesis {
  /** The chain id. */
  chainId: string
  /** Timestamp of genesis in ms since the epoch: block 1 must be later. */
  genesisTime: number
  /** Initial accounts, distinct addresses. */
  accounts: GenesisAccount[]
  /** Initial validators, distinct ids, at least one. */
  validators: GenesisValidator[]
  /** Parameters. */
  parameters: ChainParameters
}

/** Parameters a genesis may omit. */
export const DEFAULT_CHAIN_PARAMETERS: Readonly<ChainParameters> = Object.freeze({
  epochLength: 100,
  maxValidators: 100,
  maxCandidates: 10_000,
  minValidatorStake: 1_000n,
  baseFee: 1n,
  maxBlockTxs: 5_000,
  maxBlockBytes: 512 * 1024,
  maxClockDriftMs: 10_000,
  epochReward: 0n,
  slashFractionBps: 1_000,
  unbondingHeights: 1_000,
  minJailHeights: 100,
  evidenceMaxAgeHeights: 1_000,
})

function fail(field: string, message: string): never {
  throw new GenesisError(`genesis ${field}: ${message}`, { details: { field } })
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, 'must be an object')
  }
  return value as Record<string, unknown>
}

function onlyKeys(value: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(field === '' ? key : `${field}.${key}`, 'unknown field')
  }
}

function string(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== 'string') fail(field, 'must be a string')
  if (value.length < min || value.length > max) {
    fail(field, `must be ${min} to ${max} characters long`)
  }
  return value
}

function integer(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) fail(field, 'must be an integer')
  if (value < min || value > max) fail(field, `must be between ${min} and ${max}`)
  return value
}

function amount(value: unknown, field: string, min: bigint): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,18})$/.test(value)) {
    fail(field, 'must be a decimal string without sign, leading zeros or exponent')
  }
  const parsed = BigInt(value)
  if (parsed > MAX_AMOUNT) fail(field, `must be at most ${MAX_AMOUNT}`)
  if (parsed < min) fail(field, `must be at least ${min}`)
  return parsed
}

function hex(value: unknown, field: string, length: number): Uint8Array {
  if (typeof value !== 'string' || !/^(0x)?[0-9a-fA-F]*$/.test(value)) {
    fail(field, 'must be a hex string')
  }
  const bytes = hexToBytes(value.startsWith('0x') ? value.slice(2) : value)
  if (bytes.length !== length) fail(field, `must be ${length} bytes long`)
  return bytes
}

function parameters(value: unknown): ChainParameters {
  if (value === undefined) return { ...DEFAULT_CHAIN_PARAMETERS }
  const raw = object(value, 'parameters')
  onlyKeys(raw, 'parameters', Object.keys(DEFAULT_CHAIN_PARAMETERS))
  const d = DEFAULT_CHAIN_PARAMETERS
  const pick = <T>(key: keyof ChainParameters, read: (v: unknown, f: string) => T, def: T): T =>
    raw[key] === undefined ? def : read(raw[key], `parameters.${key}`)
  return {
    epochLength: pick('epochLength', (v, f) => integer(v, f, 1, 1_000_000), d.epochLength),
    maxValidators: pick('maxValidators', (v, f) => integer(v, f, 1, 1024), d.maxValidators),
    maxCandidates: pick('maxCandidates', (v, f) => integer(v, f, 1, 100_000), d.maxCandidates),
    minValidatorStake: pick('minValidatorStake', (v, f) => amount(v, f, 1n), d.minValidatorStake),
    baseFee: pick('baseFee', (v, f) => amount(v, f, 0n), d.baseFee),
    maxBlockTxs: pick('maxBlockTxs', (v, f) => integer(v, f, 1, 10_000), d.maxBlockTxs),
    maxBlockBytes: pick(
      'maxBlockBytes',
      (v, f) => integer(v, f, 1024, 700 * 1024),
      d.maxBlockBytes,
    ),
    maxClockDriftMs: pick(
      'maxClockDriftMs',
      (v, f) => integer(v, f, 0, 3_600_000),
      d.maxClockDriftMs,
    ),
    epochReward: pick('epochReward', (v, f) => amount(v, f, 0n), d.epochReward),
    slashFractionBps: pick(
      'slashFractionBps',
      (v, f) => integer(v, f, 0, 10_000),
      d.slashFractionBps,
    ),
    unbondingHeights: pick(
      'unbondingHeights',
      (v, f) => integer(v, f, 0, 100_000),
      d.unbondingHeights,
    ),
    minJailHeights: pick(
      'minJailHeights',
      (v, f) => integer(v, f, 0, 10_000_000),
      d.minJailHeights,
    ),
    evidenceMaxAgeHeights: pick(
      'evidenceMaxAgeHeights',
      (v, f) => integer(v, f, 1, 100_000),
      d.evidenceMaxAgeHeights,
    ),
  }
}

/**
 * Reads and validates a genesis document (a JSON string or its parsed value). Amounts are
 * decimal strings; keys are hex. Each validator's proof of possession is checked.
 *
 * @throws GenesisError naming the first invalid field.
 */
export function parseGenesis(input: unknown): Genesis {
  let raw: unknown = input
  if (typeof input === 'string') {
    try {
      raw = JSON.parse(input)
    } catch (cause) {
      throw new GenesisError('genesis is not valid JSON', { details: { field: '' }, cause })
    }
  }
  const top = object(raw, '$')
  onlyKeys(top, '', ['chainId', 'genesisTime', 'accounts', 'validators', 'parameters'])
  const chainId = string(top.chainId, 'chainId', 1, TRANSACTION_LIMITS.maxChainIdLength)
  const genesisTime = integer(top.genesisTime ?? 0, 'genesisTime', 0, Number.MAX_SAFE_INTEGER)
  const params = parameters(top.parameters)
  if (params.maxCandidates < params.maxValidators) {
    fail('parameters.maxCandidates', 'must be at least maxValidators')
  }
  // Stake that finished unbonding can no longer be slashed: evidence still usable then would
  // find the offender's coins gone.
  if (params.unbondingHeights < params.evidenceMaxAgeHeights) {
    fail(
      'parameters.unbondingHeights',
      `must be at least parameters.evidenceMaxAgeHeights (${params.evidenceMaxAgeHeights})`,
    )
  }
  if (!Array.isArray(top.accounts)) fail('accounts', 'must be an array')
  const seen = new Set<string>()
  let supply = 0n
  const accounts = top.accounts.map((entry, index): GenesisAccount => {
    const field = `accounts[${index}]`
    const account = object(entry, field)
    onlyKeys(account, field, ['address', 'balance'])
    const address = hex(account.address, `${field}.address`, 32)
    const key = bytesToHex(address)
    if (seen.has(key)) fail(`${field}.address`, 'duplicate address')
    seen.add(key)
    const balance = amount(account.balance, `${field}.balance`, 0n)
    supply += balance
    if (supply > MAX_AMOUNT) fail(`${field}.balance`, 'total supply exceeds 2^63 - 1')
    return { address, balance }
  })
  if (!Array.isArray(top.validators)) fail('validators', 'must be an array')
  if (top.validators.length === 0) fail('validators', 'must not be empty')
  if (top.validators.length > params.maxCandidates) {
    fail('validators', `more than parameters.maxCandidates (${params.maxCandidates})`)
  }
  const validatorIds = new Set<string>()
  const validators = top.validators.map((entry, index): GenesisValidator => {
    const field = `validators[${index}]`
    const validator = object(entry, field)
    onlyKeys(validator, field, [
      'id',
      'blsPublicKey',
      'proofOfPossession',
      'stake',
      'commissionBps',
      'metadata',
    ])
    const id = hex(validator.id, `${field}.id`, 32)
    const key = bytesToHex(id)
    if (validatorIds.has(key)) fail(`${field}.id`, 'duplicate validator id')
    validatorIds.add(key)
    const blsPublicKey = hex(validator.blsPublicKey, `${field}.blsPublicKey`, 48)
    const proofOfPossession = hex(validator.proofOfPossession, `${field}.proofOfPossession`, 96)
    if (!bls.popVerify(proofOfPossession, blsPublicKey)) {
      fail(`${field}.proofOfPossession`, 'does not prove possession of blsPublicKey')
    }
    const stake = amount(validator.stake, `${field}.stake`, params.minValidatorStake)
    supply += stake
    if (supply > MAX_AMOUNT) fail(`${field}.stake`, 'total supply exceeds 2^63 - 1')
    const commissionBps = integer(
      validator.commissionBps ?? 0,
      `${field}.commissionBps`,
      0,
      TRANSACTION_LIMITS.maxCommissionBps,
    )
    const meta = object(
      validator.metadata ?? { moniker: `validator-${index}` },
      `${field}.metadata`,
    )
    onlyKeys(meta, `${field}.metadata`, ['moniker', 'website', 'details'])
    const metadata: ValidatorMetadata = {
      moniker: string(
        meta.moniker,
        `${field}.metadata.moniker`,
        1,
        TRANSACTION_LIMITS.maxMonikerLength,
      ),
      website: string(
        meta.website ?? '',
        `${field}.metadata.website`,
        0,
        TRANSACTION_LIMITS.maxWebsiteLength,
      ),
      details: string(
        meta.details ?? '',
        `${field}.metadata.details`,
        0,
        TRANSACTION_LIMITS.maxDetailsLength,
      ),
    }
    return { id, blsPublicKey, proofOfPossession, stake, commissionBps, metadata }
  })
  return { chainId, genesisTime, accounts, validators, parameters: params }
}

/** The id that block 1's `parentId` must carry: a domain hash of the genesis's canonical encoding. */
export function genesisId(genesis: Genesis): Uint8Array {
  return domainHash('metanode/chain/genesis/v1', encode(genesis))
}

/**
 * The state at height 0: the accounts, the validators' bonded stake and records, and the active
 * set selected from them.
 */
export function genesisState(genesis: Genesis): StateTree {
  const tree = new StateTree()
  const state = new StateOverlay(tree)
  for (const { address, balance } of genesis.accounts) {
    state.setAccount(address, { ...state.account(address), balance })
  }
  for (const validator of genesis.validators) {
    const account = state.account(validator.id)
    state.setAccount(validator.id, { ...account, stake: account.stake + validator.stake })
    writeValidator(state, validator.id, {
      blsPublicKey: validator.blsPublicKey,
      commissionBps: validator.commissionBps,
      metadata: validator.metadata,
      jailed: false,
    })
  }
  writeActiveSet(state, selectActiveSet(state, genesis.parameters))
  tree.apply(state.writes())
  return tree
}

/** What a light client needs to start from genesis (`new LightClient({ genesis: genesisAnchor(g) })`). */
export function genesisAnchor(genesis: Genesis): {
  chainId: string
  genesisId: Uint8Array
  validatorSet: ValidatorSet
} {
  return {
    chainId: genesis.chainId,
    genesisId: genesisId(genesis),
    validatorSet: readActiveSet(new StateOverlay(genesisState(genesis))),
  }
}
