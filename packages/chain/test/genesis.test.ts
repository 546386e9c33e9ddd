import { describe, expect, it } from 'vitest'
import {
  DEFAULT_CHAIN_PARAMETERS,
  genesisState,
  parseGenesis,
  readActiveSet,
  StateOverlay,
} from '../src/index.js'
import { genesisJson, userKeys, validatorKeys } from './fixtures.js'

// Tests reach into arbitrary JSON to break one field at a time.
// biome-ignore lint/suspicious/noExplicitAny: untyped JSON on purpose
type AnyJson = Record<string, any>

function fieldOf(mutate: (json: AnyJson) => void): unknown {
  const json = genesisJson() as AnyJson
  mutate(json)
  try {
    parseGenesis(json)
  } catch (error) {
    expect((error as Error).name).toBe('GenesisError')
    return (error as { details: { field: string } }).details.field
  }
  return 'no error'
}

describe('parseGenesis', () => {
  it('reads accounts, validators and parameters, from an object or a JSON string', () => {
    const json = genesisJson()
    const genesis = parseGenesis(JSON.stringify(json))
    expect(genesis).toEqual(parseGenesis(json))
    expect(genesis.chainId).toBe('test-chain')
    expect(genesis.accounts[0]?.address).toEqual(userKeys(1).publicKey)
    expect(genesis.accounts[0]?.balance).toBe(1_000_000_000n)
    expect(genesis.validators[1]?.stake).toBe(10_001n)
    expect(genesis.validators[0]?.blsPublicKey).toEqual(validatorKeys(0).blsPublicKey)
    expect(genesis.parameters.minValidatorStake).toBe(1_000n)
  })

  it('fills omitted parameters with the defaults', () => {
    const json = genesisJson()
    delete json.parameters
    expect(parseGenesis(json).parameters).toEqual(DEFAULT_CHAIN_PARAMETERS)
  })

  it('names the offending field in every error', () => {
    expect(fieldOf((g) => (g.chainId = ''))).toBe('chainId')
    expect(fieldOf((g) => (g.accounts[1].balance = '-5'))).toBe('accounts[1].balance')
    expect(fieldOf((g) => (g.accounts[1].balance = '1e9'))).toBe('accounts[1].balance')
    expect(fieldOf((g) => (g.accounts[1].balance = 100))).toBe('accounts[1].balance')
    expect(fieldOf((g) => (g.accounts[1].balance = '9223372036854775808'))).toBe(
      'accounts[1].balance',
    )
    expect(fieldOf((g) => (g.accounts[0].address = 'zz'))).toBe('accounts[0].address')
    expect(fieldOf((g) => (g.accounts[0].address = 'abcd'))).toBe('accounts[0].address')
    expect(fieldOf((g) => (g.accounts[1].address = g.accounts[0].address))).toBe(
      'accounts[1].address',
    )
    expect(fieldOf((g) => (g.accounts[0].extra = 1))).toBe('accounts[0].extra')
    expect(fieldOf((g) => (g.validators = []))).toBe('validators')
    expect(fieldOf((g) => (g.validators[2].stake = '999'))).toBe('validators[2].stake')
    expect(
      fieldOf((g) => (g.validators[1].proofOfPossession = g.validators[0].proofOfPossession)),
    ).toBe('validators[1].proofOfPossession')
    expect(fieldOf((g) => (g.validators[0].commissionBps = 10_001))).toBe(
      'validators[0].commissionBps',
    )
    expect(fieldOf((g) => (g.parameters.epochLength = 0))).toBe('parameters.epochLength')
    expect(fieldOf((g) => (g.parameters.unknown = 0))).toBe('parameters.unknown')
    expect(fieldOf((g) => (g.surprise = true))).toBe('surprise')
    expect(() => parseGenesis('{not json')).toThrow(
      expect.objectContaining({ name: 'GenesisError' }),
    )
  })

  it('defaults minJailHeights to 100 and evidenceMaxAgeHeights to 1,000, and bounds them', () => {
    const json = genesisJson() as AnyJson
    delete json.parameters.minJailHeights
    delete json.parameters.evidenceMaxAgeHeights
    json.parameters.unbondingHeights = 1_000
    expect(parseGenesis(json).parameters).toMatchObject({
      minJailHeights: 100,
      evidenceMaxAgeHeights: 1_000,
    })
    const withParameters = (parameters: AnyJson) => {
      const changed = genesisJson() as AnyJson
      Object.assign(changed.parameters, parameters)
      return parseGenesis(changed).parameters
    }
    expect(withParameters({ minJailHeights: 0 }).minJailHeights).toBe(0)
    expect(withParameters({ minJailHeights: 10_000_000 }).minJailHeights).toBe(10_000_000)
    expect(
      withParameters({ evidenceMaxAgeHeights: 1, unbondingHeights: 1 }).evidenceMaxAgeHeights,
    ).toBe(1)
    expect(fieldOf((g) => (g.parameters.minJailHeights = -1))).toBe('parameters.minJailHeights')
    expect(fieldOf((g) => (g.parameters.minJailHeights = 10_000_001))).toBe(
      'parameters.minJailHeights',
    )
    expect(fieldOf((g) => (g.parameters.minJailHeights = 1.5))).toBe('parameters.minJailHeights')
    expect(fieldOf((g) => (g.parameters.evidenceMaxAgeHeights = 0))).toBe(
      'parameters.evidenceMaxAgeHeights',
    )
    expect(fieldOf((g) => (g.parameters.evidenceMaxAgeHeights = '10'))).toBe(
      'parameters.evidenceMaxAgeHeights',
    )
  })

  it('requires unbondingHeights to cover evidenceMaxAgeHeights, naming unbondingHeights', () => {
    const json = genesisJson({ unbondingHeights: 9, evidenceMaxAgeHeights: 10 })
    expect(() => parseGenesis(json)).toThrow(
      expect.objectContaining({
        name: 'GenesisError',
        details: { field: 'parameters.unbondingHeights' },
        message: expect.stringContaining('evidenceMaxAgeHeights (10)'),
      }),
    )
    // Equal is enough; an omitted evidenceMaxAgeHeights is its default (1,000).
    expect(
      parseGenesis(genesisJson({ unbondingHeights: 10, evidenceMaxAgeHeights: 10 })),
    ).toBeDefined()
    expect(
      fieldOf((g) => {
        delete g.parameters.evidenceMaxAgeHeights
        g.parameters.unbondingHeights = 999
      }),
    ).toBe('parameters.unbondingHeights')
  })

  it('builds the genesis state with bonded stake and the active set ordered by stake', () => {
    const genesis = parseGenesis(genesisJson({ validators: 4, maxValidators: 3 }))
    const state = new StateOverlay(genesisState(genesis))
    const set = readActiveSet(state)
    expect(set.validators.map((v) => v.votingPower)).toEqual([10_003n, 10_002n, 10_001n])
    expect(state.account(validatorKeys(3).publicKey).stake).toBe(10_003n)
    expect(state.account(userKeys(1).publicKey).balance).toBe(1_000_000_000n)
    expect(genesisState(genesis).root).toEqual(genesisState(genesis).root)
  })
})
