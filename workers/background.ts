/**
 * Entry point of the background pool's threads (piscina): recovery scans, index rebuilds and
 * deletions that must not run on a shard's hot path. The tasks live in src/engine/background-tasks.ts.
 */
import { runBackgroundTask, type BackgroundTask } from '../src/engine/background-tasks.js'

export default function run(task: BackgroundTask): Promise<unknown> {
  return runBackgroundTask(task)
}
