/**
 * Names of the files in one partition directory (Kafka's layout, plus two files of our own):
 *
 *   <dir>/00000000000000000000.log        record batches, exactly as Fetch serves them
 *   <dir>/00000000000000000000.index      sparse offset index (offset-index.ts)
 *   <dir>/00000000000000000000.timeindex  time index (offset-index.ts)
 *   <dir>/recovery-point.checkpoint       recovery point + log start offset (checkpoint.ts)
 *   <dir>/clean-shutdown                  present only between a clean close and the next open
 *   <dir>/*.deleted, *.tmp                leftovers of retention or of an atomic write, removed
 *                                         by recovery
 *
 * A segment is named by its base offset, zero-padded to 20 digits; the `.log` file defines the
 * segment, index files without one are orphans.
 */
import * as path from 'node:path'
import type { FileSystem } from '../io/file-system.js'

export const CHECKPOINT_FILE = 'recovery-point.checkpoint'
export const CLEAN_SHUTDOWN_FILE = 'clean-shutdown'
export const DELETED_SUFFIX = '.deleted'
export const TEMP_SUFFIX = '.tmp'

export type SegmentFileKind = 'log' | 'index' | 'timeindex'
export const SEGMENT_FILE_KINDS: readonly SegmentFileKind[] = ['log', 'index', 'timeindex']

const OFFSET_DIGITS = 20
const SEGMENT_FILE_PATTERN = /^(\d{20})\.(log|index|timeindex)$/

export function segmentFileName(baseOffset: number, kind: SegmentFileKind): string {
  return `${String(baseOffset).padStart(OFFSET_DIGITS, '0')}.${kind}`
}

export function segmentPath(dir: string, baseOffset: number, kind: SegmentFileKind): string {
  return path.join(dir, segmentFileName(baseOffset, kind))
}

export interface DirectoryListing {
  /** Base offsets of every `.log` file, ascending. */
  segmentBases: number[]
  /** Files recovery removes: `*.deleted`, `*.tmp`, index files without a `.log`. */
  leftovers: string[]
}

export function listPartitionDirectory(fs: FileSystem, dir: string): DirectoryListing {
  const names = fs.readdir(dir)
  const bases = new Set<number>()
  const indexFiles: { name: string; base: number }[] = []
  const leftovers: string[] = []
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith(TEMP_SUFFIX)) {
      leftovers.push(name)
      continue
    }
    const match = SEGMENT_FILE_PATTERN.exec(name)
    if (match === null) continue
    const base = Number(match[1])
    if (match[2] === 'log') bases.add(base)
    else indexFiles.push({ name, base })
  }
  for (const file of indexFiles) if (!bases.has(file.base)) leftovers.push(file.name)
  return { segmentBases: [...bases].sort((a, b) => a - b), leftovers: leftovers.sort() }
}
