/**
 * Peers (Redis Streams XADD / XREAD BLOCK, NATS JetStream) run beside sluice only when both their
 * Debian server and their well-kept Node client are present; otherwise each is skipped with a
 * printed reason. This module decides which, from the PATH and the installed packages, without
 * installing anything: the machine has no network, and adding a client is a dependency decision.
 */
import { accessSync, constants } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import type { Skipped } from '../results.js'

interface PeerSpec {
  name: string
  server: string
  clients: string[]
  debianPackage: string
}

const PEERS: PeerSpec[] = [
  { name: 'peers/redis-streams', server: 'redis-server', clients: ['redis', 'ioredis'],
    debianPackage: 'redis-server' },
  { name: 'peers/nats-jetstream', server: 'nats-server',
    clients: ['nats', '@nats-io/transport-node'],
    debianPackage: 'nats-server' },
]

export function findExecutable(name: string, searchPath = process.env['PATH'] ?? '')
  : string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return null
}

function resolvable(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg)
    return true
  } catch {
    return false
  }
}

/**
 * Why each peer cannot run here. A peer with both pieces present would be run by a peer driver;
 * none is built yet, and saying so beats pretending.
 */
export function peerSkips(): Skipped[] {
  return PEERS.map((peer) => {
    const missing: string[] = []
    if (findExecutable(peer.server) === null) {
      missing.push(`${peer.server} is not installed (Debian package ${peer.debianPackage})`)
    }
    if (!peer.clients.some(resolvable)) {
      missing.push(`no Node client (${peer.clients.join(' or ')}) in node_modules`)
    }
    if (missing.length === 0) missing.push('server and client are present, but no peer driver ' +
      'is built for it yet')
    return { name: peer.name, reason: missing.join('; ') }
  })
}
