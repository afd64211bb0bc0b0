/**
 * Closing a file the sink could not close itself: one a crash left in use (found through the
 * open-files journal at start), or one whose close or rename failed (retried every
 * hdfs.retryInterval seconds, up to hdfs.closeTries times). The cases:
 *
 *   in-use name absent                   renamed before the crash, or never created: nothing
 *   whole (the format reads to the end)  renamed to its final name
 *   torn tail (a batch the crash cut)    the tail is cut off and kept beside the file as
 *                                        `.<final name>.torn` (hidden, so Hive and Hadoop input
 *                                        formats skip it); the readable prefix is renamed
 *   no event in the readable prefix      removed (its bytes, if any, kept as the .torn file)
 *   final name already taken             refused: the in-use file stays for a person to look at
 *
 * Only bytes after the file's last fsync can be torn, and no take committed on them, so the
 * events they held are still in the channel and will be written again: cutting them loses
 * nothing. The .torn file keeps them anyway, because a disk can lie.
 */
import * as path from 'node:path'
import { SluiceError } from '../../../errors.js'
import type { FileSystem } from '../../../io/file-system.js'
import type { FlowLogger } from '../../event.js'
import { formatFromId, repairBytes } from './file-format.js'
import type { OpenFileEntry } from './open-files-journal.js'

export type Finalized = 'absent' | 'renamed' | 'repaired' | 'removed-empty'

export function tornTailPath(entry: OpenFileEntry): string {
  return path.join(path.dirname(entry.final), `.${path.basename(entry.final)}.torn`)
}

export function finalizeInUseFile(fs: FileSystem, entry: OpenFileEntry, logger: FlowLogger)
  : Finalized {
  if (fs.stat(entry.inUse) === null) return 'absent'
  const spec = formatFromId(entry.format)
  if (spec === null) {
    throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `cannot close ${entry.inUse}: the ` +
      `journal names its format ${JSON.stringify(entry.format)}, which this sluice does not know`)
  }
  const bytes = fs.readFile(entry.inUse) ?? Buffer.alloc(0)
  const repair = repairBytes(spec, bytes)
  const directory = path.dirname(entry.inUse)
  if (repair.validBytes < bytes.length) {
    const torn = tornTailPath(entry)
    fs.writeFileAtomic(torn, bytes.subarray(repair.validBytes))
    const handle = fs.open(entry.inUse, 'readwrite')
    try {
      fs.truncate(handle, repair.validBytes)
      fs.fdatasync(handle)
    } finally {
      fs.close(handle)
    }
    logger.warn(`hdfs sink: ${entry.inUse} ended in ${bytes.length - repair.validBytes} ` +
      `unreadable bytes (${repair.stoppedAt}), written after its last flush; cut off and kept ` +
      `in ${torn}`)
  }
  if (!repair.hasEvents) {
    fs.unlink(entry.inUse)
    fs.syncDirectory(directory)
    return 'removed-empty'
  }
  if (entry.inUse !== entry.final) {
    if (fs.stat(entry.final) !== null) {
      throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `cannot close ${entry.inUse}: ` +
        `${entry.final} already exists; the in-use file is left for you to look at`)
    }
    fs.rename(entry.inUse, entry.final)
    fs.syncDirectory(directory)
  }
  return repair.validBytes < bytes.length ? 'repaired' : 'renamed'
}
