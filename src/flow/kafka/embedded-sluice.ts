/**
 * One embedded Sluice per data directory per process. The agents' Kafka source and sink accept
 * `kafka.bootstrap.servers = embedded:<dataDir>` to reach an in-process log with no TCP hop, and
 * `sluice pipeline` serves that same log over the Kafka protocol; a log directory can be opened
 * only once, so every user in the process shares the instance, counted, and the last release
 * closes it.
 */
import * as path from 'node:path'
import { Sluice } from '../../client/sluice.js'

/** The `kafka.bootstrap.servers` prefix that selects an in-process log. */
export const EMBEDDED_PREFIX = 'embedded:'

export interface EmbeddedSluiceLease {
  readonly sluice: Sluice
  readonly dataDir: string
  /** Gives the lease back; the last one closes the Sluice (and its Log). */
  release(): Promise<void>
}

interface Entry {
  sluice: Sluice
  leases: number
}

const open = new Map<string, Entry>()

/** `embedded:/var/lib/x` → `/var/lib/x`; null when the address is a network one. */
export function embeddedDataDir(bootstrapServers: string): string | null {
  const trimmed = bootstrapServers.trim()
  if (!trimmed.startsWith(EMBEDDED_PREFIX)) return null
  return trimmed.slice(EMBEDDED_PREFIX.length).trim()
}

export function acquireEmbeddedSluice(dataDir: string): EmbeddedSluiceLease {
  const key = path.resolve(dataDir)
  let entry = open.get(key)
  if (entry === undefined) {
    entry = { sluice: new Sluice({ dataDir: key, clientId: 'sluice-embedded' }), leases: 0 }
    open.set(key, entry)
  }
  entry.leases++
  const held = entry
  let released = false
  return {
    sluice: held.sluice, dataDir: key,
    async release(): Promise<void> {
      if (released) return
      released = true
      held.leases--
      if (held.leases > 0) return
      if (open.get(key) === held) open.delete(key)
      await held.sluice.close()
    },
  }
}
