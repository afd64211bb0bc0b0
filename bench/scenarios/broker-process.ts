/**
 * The broker under test: `sluice broker` started as a child process of the compiled CLI (what a
 * user runs), on a fresh data directory and an ephemeral loopback port, and the one-partition
 * topic a case produces to and fetches from.
 *
 * The child is run as the peers' servers are (bench/peers/server-process.ts): ready once it
 * prints `sluice broker listening on <host:port>` (bounded), stop() sends SIGTERM and, after a
 * grace period, SIGKILL, and resolves once it has exited.
 */
import { mkdirSync } from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import type { Durability } from '../../src/engine/types.js'
import { startServer } from '../peers/server-process.js'

/** The compiled CLI, from dist/bench/scenarios/ or (under vitest) from bench/scenarios/. */
const CLI_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts')
  ? '../../dist/src/cli/main.js' : '../../src/cli/main.js', import.meta.url))

export interface BrokerChild {
  pid: number
  bootstrap: string
  stop(): Promise<void>
}

export async function startBrokerChild(dataDir: string, durability: Durability)
  : Promise<BrokerChild> {
  // Absolute: the child runs in its data directory.
  const dir = path.resolve(dataDir)
  mkdirSync(dir, { recursive: true })
  const server = await startServer({ label: 'sluice broker', executable: process.execPath,
    args: [CLI_PATH, 'broker', '--data-dir', dir, '--listen', '127.0.0.1:0',
      '--default-durability', durability],
    ready: /sluice broker listening on 127\.0\.0\.1:(\d+)\n/ }, dir)
  return { pid: server.pid, bootstrap: server.address, stop: () => server.stop() }
}

export async function createTopic(bootstrap: string, topic: string, durability: Durability)
  : Promise<void> {
  const admin = new Kafka({ clientId: 'sluice-bench-admin', brokers: [bootstrap],
    logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1,
      configEntries: [{ name: 'sluice.durability', value: durability }] }] })
  } finally {
    await admin.disconnect()
  }
}
