import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { storeSuite } from '@metanode/core/compliance'
import { LevelStore, levelStore } from '../src/index.js'

storeSuite('LevelStore', async () => {
  const location = await mkdtemp(join(tmpdir(), 'metanode-store-level-suite-'))
  return {
    store: levelStore({ location })(),
    // a new instance on the same directory, as a restarted process would create
    reopen: async () => new LevelStore({ location }),
    cleanup: () => rm(location, { recursive: true, force: true }),
  }
})

storeSuite('LevelStore with sync writes', async () => {
  const location = await mkdtemp(join(tmpdir(), 'metanode-store-level-suite-sync-'))
  return {
    store: levelStore({ location, sync: true })(),
    reopen: async () => new LevelStore({ location, sync: true }),
    cleanup: () => rm(location, { recursive: true, force: true }),
  }
})
