/**
 * Validator and account keys on disk: a validator's Ed25519 seed and BLS secret key in one
 * encrypted keystore (`@metanode/crypto/keystore`), and the password read from a file or an
 * environment variable.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { MetanodeError } from '@metanode/core'
import { bls } from '@metanode/crypto/bls'
import { bytesToHex } from '@metanode/crypto/bytes'
import { ed25519 } from '@metanode/crypto/ed25519'
import {
  decryptKeystore,
  type EncryptKeystoreOptions,
  encryptKeystore,
  KeystoreError,
  serializeKeystore,
} from '@metanode/crypto/keystore'
import { realScheme, type ValidatorKeys } from '@metanode/ibft'

/** A key file or password that cannot be used. */
export class KeyFileError extends MetanodeError {
  override name = 'KeyFileError'
}

const SEED_BYTES = 32
const VALIDATOR_SECRET_BYTES = 2 * SEED_BYTES

/** Derives a validator's keys from 32 random (or, in tests, fixed) bytes. */
export function validatorKeysFromSeed(seed: Uint8Array): ValidatorKeys {
  return realScheme.keygen(seed)
}

/** Creates a validator's keys from the operating system's random source. */
export function generateValidatorKeys(): ValidatorKeys {
  return validatorKeysFromSeed(crypto.getRandomValues(new Uint8Array(SEED_BYTES)))
}

/** The public facts a genesis or a `register-validator` transaction needs, as hex. */
export function validatorPublicInfo(keys: ValidatorKeys): {
  id: string
  blsPublicKey: string
  proofOfPossession: string
} {
  return {
    id: bytesToHex(keys.id),
    blsPublicKey: bytesToHex(keys.blsPublicKey),
    proofOfPossession: bytesToHex(bls.popProve(keys.blsSecretKey)),
  }
}

/**
 * Encrypts a validator's two secret keys into a new keystore file (mode 0600).
 *
 * @throws KeyFileError when `file` already exists (it is never overwritten).
 *
 * @param options keystore options; `{ insecureTestParams: true }` only for throwaway devnets and tests.
 */
export async function writeValidatorKeystore(
  file: string,
  keys: ValidatorKeys,
  password: string,
  options: EncryptKeystoreOptions = {},
): Promise<void> {
  const secret = new Uint8Array(VALIDATOR_SECRET_BYTES)
  secret.set(keys.ed25519SecretKey, 0)
  secret.set(keys.blsSecretKey, SEED_BYTES)
  const keystore = await encryptKeystore(secret, password, {
    description: 'metanode validator (ed25519 seed || bls secret key)',
    pubkey: keys.id,
    ...options,
  })
  secret.fill(0)
  // Never replaces an existing keystore: that would destroy a validator's keys.
  await writeFile(file, serializeKeystore(keystore), { mode: 0o600, flag: 'wx' }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') throw new KeyFileError(`${file} exists; not overwritten`)
      throw error
    },
  )
}

/**
 * Decrypts a validator keystore written by {@link writeValidatorKeystore}.
 *
 * @throws KeyFileError when the file is missing, malformed, the password is wrong, or it holds
 *   something other than a validator's keys.
 */
export async function readValidatorKeystore(
  file: string,
  password: string,
): Promise<ValidatorKeys> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new KeyFileError(`${file}: cannot read (${(error as Error).message})`, { cause: error })
  }
  let secret: Uint8Array
  try {
    secret = await decryptKeystore(text, password)
  } catch (error) {
    if (error instanceof KeystoreError) {
      throw new KeyFileError(`${file}: ${error.message}`, { cause: error })
    }
    throw error
  }
  if (secret.length !== VALIDATOR_SECRET_BYTES) {
    throw new KeyFileError(`${file}: not a validator keystore (${secret.length}-byte secret)`)
  }
  const ed25519SecretKey = secret.slice(0, SEED_BYTES)
  const blsSecretKey = secret.slice(SEED_BYTES)
  secret.fill(0)
  try {
    return {
      ed25519SecretKey,
      blsSecretKey,
      id: ed25519.getPublicKey(ed25519SecretKey),
      blsPublicKey: bls.getPublicKey(blsSecretKey),
    }
  } catch (error) {
    throw new KeyFileError(`${file}: holds an invalid key`, { cause: error })
  }
}

/** Largest password file read. */
const MAX_PASSWORD_FILE_BYTES = 4_096

/**
 * Reads a password from the first line of `file` or from environment variable `env`.
 *
 * @throws KeyFileError when neither is usable or the password is empty.
 */
export async function readPassword(source: {
  file?: string | undefined
  env?: string | undefined
}): Promise<string> {
  let password: string | undefined
  if (source.file !== undefined) {
    let bytes: Uint8Array
    try {
      bytes = await readFile(source.file)
    } catch (error) {
      throw new KeyFileError(`password file ${source.file}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    if (bytes.length > MAX_PASSWORD_FILE_BYTES) {
      throw new KeyFileError(
        `password file ${source.file}: larger than ${MAX_PASSWORD_FILE_BYTES} bytes`,
      )
    }
    password = new TextDecoder().decode(bytes).split(/\r?\n/, 1)[0]
  } else if (source.env !== undefined) {
    password = process.env[source.env]
    if (password === undefined) {
      throw new KeyFileError(
        `environment variable ${source.env} (the keystore password) is not set`,
      )
    }
  }
  if (password === undefined || password.length === 0) {
    throw new KeyFileError('the keystore password is empty')
  }
  return password
}
