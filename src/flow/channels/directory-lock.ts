/**
 * Flume's `in_use.lock`: a file channel owns its checkpoint and data directories, and a second
 * channel on the same directories (another agent process, or another channel in this one) must
 * refuse to start. Two writers on one log each acknowledge events and then lose them on replay.
 * The pid-file mechanics (stale locks of dead processes taken over) are src/io/pid-lock.ts's.
 */
import * as path from 'node:path'
import { takePidLock, type PidLock } from '../../io/pid-lock.js'
import type { FlowLogger } from '../event.js'
import { channelError } from '../transaction.js'

export const LOCK_FILE = 'in_use.lock'

export type DirectoryLock = PidLock

/** Takes `<dir>/in_use.lock` for channel `owner`, or throws SLUICE_ERR_CHANNEL if it is held. */
export function lockDirectory(dir: string, owner: string, logger: FlowLogger): DirectoryLock {
  return takePidLock(dir, LOCK_FILE, {
    refusal: (pid, inThisProcess) => channelError(`channel ${owner}: directory ${dir} is in use ` +
      `by ${inThisProcess ? 'another channel in it' : 'another agent'} (pid ${pid} holds ` +
      `${path.join(dir, LOCK_FILE)}); each file channel needs its own checkpointDir and dataDirs`),
    onTakeover: (holderPid) => logger.warn(`channel ${owner}: taking over ` +
      `${path.join(path.resolve(dir), LOCK_FILE)} from ${holderPid === null
        ? 'an unreadable lock' : `pid ${holderPid}`}, which is not running (an agent that ` +
      'crashed)'),
  })
}
