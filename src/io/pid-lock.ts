/**
 * A directory owned by one process at a time, held as a pid file: `<dir>/<name>` holds the
 * holder's pid in decimal, then "\n". A log directory (`.lock`, as Kafka names it) and a file
 * channel's directories (Flume's `in_use.lock`) each have one, because two writers on one log
 * each acknowledge appends and then lose them to each other.
 *
 * An OS file lock dies with its process; a pid file does not, so a lock whose pid is not
 * running (a process that was SIGKILLed or lost power) is taken over, and the caller is told.
 *
 * Cases on taking it:
 *   no lock file                          create it exclusively, hold it
 *   lock names a live process, not us     refuse (refusal(pid, false))
 *   lock names us, held by this process   refuse (refusal(pid, true)): two owners in-process
 *   lock names us, held by no owner       stale (an earlier stop that failed): take it over
 *   lock names a dead pid, or no pid      stale: take it over
 * Two processes taking over the same stale lock in the same instant can both win (unlink, then
 * create); the window is one unlink-to-open, and only after a crash.
 *
 * This is node:fs rather than the FileSystem interface because that has no exclusive create, and
 * widening it (and its fault and memory doubles) for one call is the larger change. The lock is
 * not fsynced: after a power loss no process holds it anyway.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import * as path from 'node:path'

export interface PidLock {
  readonly file: string
  release(): void
}

export interface PidLockPolicy {
  /** The error to throw when `holderPid` holds the lock (`inThisProcess`: an owner of ours). */
  refusal(holderPid: number, inThisProcess: boolean): Error
  /** Told before a stale lock (its holder not running, or unreadable) is taken over. */
  onTakeover(holderPid: number | null): void
}

/** Lock files held in this process: a lock naming our own pid may be a sibling owner's. */
const heldInProcess = new Set<string>()

export function takePidLock(dir: string, name: string, policy: PidLockPolicy): PidLock {
  const file = path.join(path.resolve(dir), name)
  if (heldInProcess.has(file)) throw policy.refusal(process.pid, true)
  if (!createExclusive(file, `${process.pid}\n`)) {
    const holderPid = readHolderPid(file)
    if (holderPid !== null && holderPid !== process.pid && isRunning(holderPid)) {
      throw policy.refusal(holderPid, false)
    }
    policy.onTakeover(holderPid)
    unlinkIfThere(file)
    if (!createExclusive(file, `${process.pid}\n`)) {
      // Someone else took it over between our unlink and our create.
      throw policy.refusal(readHolderPid(file) ?? 0, false)
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
      unlinkIfThere(file)
    },
  }
}

/** Creates `file` holding `text` only if it does not exist (O_CREAT|O_EXCL); false if it does. */
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

function unlinkIfThere(file: string): void {
  try {
    unlinkSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/** The pid a lock file names, or null when it is gone, empty or not a pid (a torn write). */
function readHolderPid(file: string): number | null {
  let text = ''
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch {
    return null
  }
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
