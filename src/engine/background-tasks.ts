/**
 * Work that is not pinned to a partition's owner, run in the background pool (piscina): recovery
 * scans before a partition is handed to its shard, and deletions of files the log has already
 * unlinked from its state (retired segments, deleted topics). Each task is a plain object so it
 * crosses threads by structured clone.
 */
import { NodeFileSystem } from '../io/node-file-system.js'
import { scanPartitionForRecovery, type PartitionLogConfig } from '../log/index.js'

export type BackgroundTask =
  | { kind: 'recover'; dir: string; config: PartitionLogConfig }
  | { kind: 'deletePaths'; paths: string[] }
  | { kind: 'removeTree'; path: string }

const fileSystem = new NodeFileSystem()

export async function runBackgroundTask(task: BackgroundTask): Promise<unknown> {
  switch (task.kind) {
    case 'recover':
      return scanPartitionForRecovery({ fs: fileSystem, dir: task.dir, config: task.config })
    case 'deletePaths':
      for (const path of task.paths) fileSystem.unlink(path)
      return task.paths.length
    case 'removeTree':
      fileSystem.removeTree(task.path)
      return 1
  }
}
