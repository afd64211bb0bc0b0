/**
 * The embedded engine as the scenarios use it: one `Log` per scenario group in its own directory
 * under the run's data root, removed afterwards, and unique topic names within it; and the
 * settling pause every case gets before it starts timing.
 */
import { rmSync } from 'node:fs'
import * as path from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
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

/** How long the machine gets between cases to finish the last one's writeback and frees. */
const SETTLE_MS = 300

/**
 * Lets the previous case's garbage and dirty pages go before the next case starts timing: a full
 * collection (the heap a case leaves behind would otherwise be collected on the next case's
 * clock) and a short pause for the kernel's writeback of the files just deleted.
 */
export async function settle(): Promise<void> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (() => void) | undefined
  gc?.()
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
}
