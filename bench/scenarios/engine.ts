/**
 * The embedded engine as the scenarios use it: one `Log` per scenario group in its own directory
 * under the run's data root, removed afterwards, and unique topic names within it.
 */
import { rmSync } from 'node:fs'
import * as path from 'node:path'
import { Log } from '../../src/index.js'
import type { TopicConfig } from '../../src/engine/types.js'

export interface BenchLog {
  log: Log
  dir: string
  /** Creates a topic with a fresh name; returns the name. */
  createTopic(prefix: string, config: TopicConfig): Promise<string>
  close(): Promise<void>
}

export async function openBenchLog(dataRoot: string, name: string): Promise<BenchLog> {
  const dir = path.join(dataRoot, name)
  rmSync(dir, { recursive: true, force: true })
  const log = await Log.open({ dataDir: dir, retentionCheckIntervalMs: 0 })
  let topics = 0
  return {
    log,
    dir,
    async createTopic(prefix: string, config: TopicConfig): Promise<string> {
      const topic = `${prefix}-${topics++}`
      await log.createTopic(topic, config)
      return topic
    },
    async close(): Promise<void> {
      await log.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Runs `body` on a fresh log and always closes it, even when `body` throws. */
export async function withBenchLog<T>(
  dataRoot: string, name: string, body: (bench: BenchLog) => Promise<T>,
): Promise<T> {
  const bench = await openBenchLog(dataRoot, name)
  try {
    return await body(bench)
  } finally {
    await bench.close()
  }
}
