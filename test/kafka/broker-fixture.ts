/**
 * A real broker for tests: a Log in a temp directory, a GroupCoordinator on its offsets topic
 * and the TCP listener on a free loopback port, with a logger that keeps its entries so tests
 * can check why a connection was closed.
 */
import { readdirSync } from 'node:fs'
import { Log } from '../../src/engine/log.js'
import { GroupCoordinator } from '../../src/groups/coordinator.js'
import { LogOffsetStore } from '../../src/groups/offset-store.js'
import { startBroker, type BrokerOptions, type KafkaBroker } from '../../src/kafka/index.js'
import type { BrokerLogger } from '../../src/kafka/logger.js'
import { tempDir, until } from '../helpers.js'

export interface LogEntryRecord {
  level: 'info' | 'warn' | 'error'
  message: string
  extra: Record<string, unknown>
}

export interface BrokerFixture {
  broker: KafkaBroker
  log: Log
  coordinator: GroupCoordinator
  port: number
  dir: string
  entries: LogEntryRecord[]
  close(): Promise<void>
}

type FixtureOptions = Partial<Omit<BrokerOptions, 'log' | 'coordinator'>>

export async function openBroker(options: FixtureOptions = {}): Promise<BrokerFixture> {
  const { dir, remove } = tempDir('sluice-kafka-')
  const log = await Log.open({ dataDir: dir, shards: 1, retentionCheckIntervalMs: 0 })
  const coordinator = await GroupCoordinator.open({ store: await LogOffsetStore.open(log) })
  const entries: LogEntryRecord[] = []
  const capture = (level: LogEntryRecord['level']) => (message: string, extra: object = {}) =>
    void entries.push({ level, message, extra: extra as Record<string, unknown> })
  const logger: BrokerLogger = { info: capture('info'), warn: capture('warn'),
    error: capture('error') }
  const broker = await startBroker({ log, coordinator, port: 0, logger, ...options })
  return {
    broker, log, coordinator, port: broker.port, dir, entries,
    async close() {
      await broker.close()
      coordinator.close()
      // Deleted partitions are removed by a background task; let it finish before the pool
      // goes away with the Log.
      await until('deleted partitions removed', () =>
        !readdirSync(dir).some((name) => name.endsWith('-delete')))
      await log.close()
      remove()
    },
  }
}
