/**
 * Entry point of the background pool's threads (piscina): recovery scans, index rebuilds and
 * deletions that must not run on a shard's hot path. The tasks live in src/engine/background-tasks.ts.
 *
 * The tasks are imported lazily, on the first task, on purpose: piscina first loads this file with
 * require(), and on Node 20 require() of an ES module graph with a top-level await (the xxhash
 * initialisation in src/format/sealed-record.ts) fails halfway and leaves that graph in a state
 * where piscina's fallback import() trips an internal Node assertion, killing the thread at
 * random.
 * This file has no top-level await, so require() succeeds, and the graph is loaded by import().
 */
import type { BackgroundTask } from '../src/engine/background-tasks.js'

let tasks: Promise<typeof import('../src/engine/background-tasks.js')> | null = null

export default async function run(task: BackgroundTask): Promise<unknown> {
  tasks ??= import('../src/engine/background-tasks.js')
  return (await tasks).runBackgroundTask(task)
}
