/**
 * Flume's `in_use.lock`: a file channel owns its checkpoint and data directories, and a second
 * channel on the same directories (another agent process, or another channel in this one) must
 * refuse to start. Two writers on one log each acknowledge events and then lose them on replay.
 *
 *   <dir>/in_use.lock    the holder's pid in decimal, then "\n"
 *
 * Flume holds an OS file lock, which dies with the JVM; a pid file does not, so a lock whose pid
 * is not running (an agent that was SIGKILLed or lost power) is taken over, with a log line.
 *
 * Cases on start:
 *   no lock file                         create it exclusively, hold it
 *   lock names a live process, not us    refuse: SLUICE_ERR_CHANNEL naming the dir and the pid
 *   lock names us, held by a channel     refuse: two channels of this process share the dir
 *   lock names us, held by no channel    stale (an earlier stop that failed): take it over
 *   lock names a dead pid, or no pid     stale: take it over
 * Two agents taking over the same stale lock in the same instant can both win (unlink, then
 * create); the window is one unlink-to-open, and only after a crash.
 */
import { openSync, writeSync, closeSync } from 'node:fs'
import * as path from 'node:path'
import type { FileSystem } from '../../io/file-system.js'
import type { FlowLogger } from '../event.js'
import { channelError } from '../transaction.js'

export const LOCK_FILE = 'in_use.lock'

/** Lock files held by channels of this process: a lock naming our own pid may be a sibling's. */
const heldInProcess = new Set<string>()

export interface DirectoryLock {
  readonly file: string
  release(): void
}

/** Takes `<dir>/in_use.lock` for channel `owner`, or throws SLUICE_ERR_CHANNEL if it is held. */
export function lockDirectory(fs: FileSystem, dir: string, owner: string, logger: FlowLogger)
  : DirectoryLock {
  const file = path.join(path.resolve(dir), LOCK_FILE)
  if (heldInProcess.has(file)) throw lockedBy(owner, dir, process.pid, 'another channel in it')
  if (!createExclusive(file, `${process.pid}\n`)) {
    const holderPid = readHolderPid(fs, file)
    if (holderPid !== null && holderPid !== process.pid && isRunning(holderPid)) {
      throw lockedBy(owner, dir, holderPid, 'another agent')
    }
    logger.warn(`channel ${owner}: taking over ${file} from ` +
      `${holderPid === null ? 'an unreadable lock' : `pid ${holderPid}`}, which is not ` +
      'running (an agent that crashed)')
    fs.unlink(file)
    if (!createExclusive(file, `${process.pid}\n`)) {
      // Someone else took it over between our unlink and our create.
      throw lockedBy(owner, dir, readHolderPid(fs, file) ?? 0, 'another agent')
    }
  }
  heldInProcess.add(file)
  let held = true
  return {
    file,
    release: () => {
      if (!held) return
      held = false
      heldInProcess.delete(file)
      fs.unlink(file)
    },
  }
}

function lockedBy(owner: string, dir: string, pid: number, who: string): Error {
  return channelError(`channel ${owner}: directory ${dir} is in use by ${who} ` +
    `(pid ${pid} holds ${path.join(dir, LOCK_FILE)}); each file channel needs its own ` +
    'checkpointDir and dataDirs')
}

/**
 * Creates `file` holding `text` only if it does not exist (O_CREAT|O_EXCL); false if it does.
 * This is node:fs rather than src/io because FileSystem has no exclusive create, and the lock is
 * the channel's, not the storage engine's: widening the engine's interface (and its fault and
 * memory doubles) for one call is the larger change. Not fsynced: after a power loss no process
 * holds the lock anyway.
 */
function createExclusive(file: string, text: string): boolean {
  let handle: number
  try {
    handle = openSync(file, 'wx')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
  try {
    writeSync(handle, text)
  } finally {
    closeSync(handle)
  }
  return true
}

/** The pid a lock file names, or null when it is empty or not a pid (a torn write). */
function readHolderPid(fs: FileSystem, file: string): number | null {
  const text = fs.readFile(file)?.toString('utf8').trim() ?? ''
  return /^[1-9]\d*$/.test(text) ? Number(text) : null
}

/** Signal 0 checks for existence only; EPERM means it exists under another user. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
