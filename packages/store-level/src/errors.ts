/**
 * Errors specific to the LevelDB store. Each wraps the `classic-level` error it came from as
 * `cause`; match them by `name` with `isMetanodeError(error, 'StoreLockedError')`.
 */
import { MetanodeError, StoreClosedError } from '@metanode/core'

/** The database directory is locked by another process, or by another open store in this process. */
export class StoreLockedError extends MetanodeError {
  override name = 'StoreLockedError'
}

/** No database exists at the location and the store was configured with `createIfMissing: false`. */
export class StoreNotFoundError extends MetanodeError {
  override name = 'StoreNotFoundError'
}

/** LevelDB found damaged files (a bad checksum, a truncated table or manifest). */
export class StoreCorruptionError extends MetanodeError {
  override name = 'StoreCorruptionError'
}

/** Any other failure reported by LevelDB or the file system (disk full, permissions, ...). */
export class StoreIOError extends MetanodeError {
  override name = 'StoreIOError'
}

interface LevelErrorShape {
  code?: unknown
  message?: unknown
  cause?: unknown
}

function levelCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as LevelErrorShape).code
  return typeof code === 'string' ? code : undefined
}

function levelMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error)
  const message = (error as LevelErrorShape).message
  return typeof message === 'string' ? message : ''
}

/**
 * Maps a rejection of `ClassicLevel#open` to a named error. abstract-level wraps every open
 * failure in `LEVEL_DATABASE_NOT_OPEN`; the reason is in its `cause`.
 */
export function openError(error: unknown, location: string): MetanodeError {
  const reason =
    typeof error === 'object' && error !== null ? (error as LevelErrorShape).cause : error
  const code = levelCode(reason)
  const details = { location, operation: 'open' }
  if (code === 'LEVEL_LOCKED') {
    return new StoreLockedError(`store at ${location} is locked by another holder`, {
      details,
      cause: error,
    })
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new StoreCorruptionError(`store at ${location} is corrupted`, { details, cause: error })
  }
  // LevelDB reports a missing database as a plain InvalidArgument status without a code
  if (levelMessage(reason).includes('(create_if_missing is false)')) {
    return new StoreNotFoundError(`no store at ${location}`, { details, cause: error })
  }
  return new StoreIOError(`store at ${location} failed to open`, { details, cause: error })
}

/** Maps a rejection of a read, write or iterator call to a named error. */
export function operationError(error: unknown, operation: string, location: string): MetanodeError {
  const details = { location, operation }
  switch (levelCode(error)) {
    case 'LEVEL_DATABASE_NOT_OPEN':
    case 'LEVEL_ITERATOR_NOT_OPEN':
    case 'LEVEL_BATCH_NOT_OPEN':
      return new StoreClosedError(`store closed during ${operation}`, { details, cause: error })
    case 'LEVEL_LOCKED':
      return new StoreLockedError(`store at ${location} is locked by another holder`, {
        details,
        cause: error,
      })
    case 'LEVEL_CORRUPTION':
      return new StoreCorruptionError(`store at ${location} is corrupted`, {
        details,
        cause: error,
      })
    default:
      return new StoreIOError(`${operation} failed on store at ${location}`, {
        details,
        cause: error,
      })
  }
}
