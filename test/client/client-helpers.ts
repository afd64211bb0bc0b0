/** Helpers for client tests: a Sluice over a temp dir, and bounded waits on consumer progress. */
import { Sluice, logLevel, type SluiceConfig } from '../../src/index.js'
import { tempDir } from '../helpers.js'

export interface SluiceScratch {
  dir: string
  sluice: Sluice
  /** Closes the Sluice and opens a fresh one over the same directory: an engine restart. */
  restart(): Promise<Sluice>
  cleanup(): Promise<void>
}

export function sluiceScratch(extra: Partial<SluiceConfig> = {}): SluiceScratch {
  const scratch = tempDir('sluice-client-')
  const make = () => new Sluice({ dataDir: scratch.dir, shards: 2, logLevel: logLevel.NOTHING,
    ...extra })
  const state: SluiceScratch = {
    dir: scratch.dir,
    sluice: make(),
    async restart() {
      await state.sluice.close()
      state.sluice = make()
      return state.sluice
    },
    async cleanup() {
      await state.sluice.close()
      scratch.remove()
    },
  }
  return state
}

/** Resolves once `check` holds, re-checking whenever `poke` is called; rejects after timeoutMs. */
export function waitFor(what: string, check: () => boolean, timeoutMs = 10_000)
  : { done: Promise<void>; poke: () => void } {
  let poke: () => void = () => undefined
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${what}`)),
      timeoutMs)
    poke = () => {
      if (!check()) return
      clearTimeout(timer)
      resolve()
    }
    poke()
  })
  return { done, poke }
}
