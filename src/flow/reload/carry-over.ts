/**
 * What happens to the events of a channel a reload stops for good or rebuilds.
 *
 *   memory → rebuilt   the old queue (still takeable: stopping a memory channel only stops its
 *                      counters) is moved into the new channel in transactions of
 *                      min(old, new) transactionCapacity, each new-side commit before the
 *                      old-side take commits, so an event is never in neither. What the new
 *                      channel refuses (smaller capacity, full past keep-alive) is lost and
 *                      counted. Flume keeps a memory channel's events across a reload by
 *                      re-using the object (FLUME-889); moving them keeps that promise.
 *   file → rebuilt     nothing to move: the new channel replays its directories. If they moved,
 *                      the old directories keep their events on disk (counted in a warning).
 *   removed            a memory channel's events are lost; a file channel's stay on disk.
 */
import { FileChannel } from '../channels/file-channel.js'
import type { FlowEvent, FlowLogger } from '../event.js'
import { inTransaction, type Channel } from '../transaction.js'

export interface CarryResult {
  moved: number
  lost: number
  error: Error | null
}

export async function carryOver(from: Channel, to: Channel): Promise<CarryResult> {
  const batchSize = Math.min(from.transactionCapacity, to.transactionCapacity)
  let moved = 0
  while (from.size() > 0) {
    const take = from.getTransaction()
    take.begin()
    try {
      const events: FlowEvent[] = []
      while (events.length < batchSize) {
        const event = await take.take()
        if (event === null) break
        events.push(event)
      }
      if (events.length === 0) {
        await take.commit()
        break
      }
      await inTransaction(to, (put) => events.forEach((event) => put.put(event)))
      await take.commit()
      moved += events.length
    } catch (error) {
      await take.rollback()
      return { moved, lost: from.size(), error: error as Error }
    } finally {
      take.close()
    }
  }
  return { moved, lost: 0, error: null }
}

const dirsOf = (channel: Channel): string =>
  channel instanceof FileChannel ? channel.directories.join(', ') : ''

/** Logs what became of a stopped channel's `held` events; returns how many were lost. */
export async function settleEvents(old: Channel, held: number, replacement: Channel | null,
  logger: FlowLogger): Promise<number> {
  if (old.type === 'file') {
    if (held > 0 && (replacement === null || dirsOf(replacement) !== dirsOf(old))) {
      logger.warn(`channel ${old.name}: ${held} events stay on disk in ${dirsOf(old)}, which ` +
        'no channel reads any more')
    }
    return 0
  }
  if (replacement === null) {
    if (held > 0) logger.warn(`channel ${old.name} removed: ${held} events it held are lost`)
    return held
  }
  const { moved, lost, error } = await carryOver(old, replacement)
  if (moved > 0) logger.info(`channel ${old.name}: ${moved} events moved to the rebuilt channel`)
  if (lost > 0) {
    logger.warn(`channel ${old.name}: ${lost} events lost on rebuild: the new channel ` +
      `refused them (${error?.message ?? 'no room'})`)
  }
  return lost
}
