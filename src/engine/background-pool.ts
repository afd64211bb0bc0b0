/**
 * The calling thread's side of the background pool (background-tasks.ts is the worker's side):
 * a piscina pool of at most two threads that runs recovery scans before a partition opens and
 * deletes files the log no longer uses, so neither blocks the event loop or a shard.
 *
 * Deletions are fire-and-forget for the caller but not for close(): a pool destroyed under a
 * running task rejects it, so close() lets them finish first. A deletion that fails leaves only
 * names no reader uses (`*-delete`, `*.deleted`), which the next open retries.
 */
import * as os from 'node:os'
import { Piscina } from 'piscina'
import type { BackgroundTask } from './background-tasks.js'
import { workerScriptPath } from './worker-path.js'

/** A pool thread with nothing to do exits after this long; the next task starts one again. */
const IDLE_THREAD_TIMEOUT_MS = 1000

export type DeletionTask = BackgroundTask & { kind: 'removeTree' | 'deletePaths' }

export class BackgroundPool {
  private readonly pool = new Piscina({
    filename: workerScriptPath('background'),
    minThreads: 0,
    maxThreads: Math.max(1, Math.min(2, os.availableParallelism())),
    idleTimeout: IDLE_THREAD_TIMEOUT_MS,
  })
  private readonly deletions = new Set<Promise<unknown>>()

  // async: a pool that refuses a task synchronously still answers with a rejected promise.
  async run(task: BackgroundTask): Promise<unknown> {
    return this.pool.run(task)
  }

  /** Starts a deletion without waiting for it; its failure is left for the next open. */
  deleteInBackground(task: DeletionTask): void {
    const done = this.run(task).catch(() => undefined)
    this.deletions.add(done)
    void done.finally(() => this.deletions.delete(done))
  }

  /** Waits for the deletions still running, then stops the threads. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.deletions])
    await this.pool.destroy()
  }
}
