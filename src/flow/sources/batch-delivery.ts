/**
 * One batch from a reading source into its channels, counted as Flume's sources count it:
 * EventReceivedCount and AppendBatchReceivedCount before the put, EventAcceptedCount and
 * AppendBatchAcceptedCount once every required channel committed it, ChannelWriteFail when a
 * channel refused it (full, or failing). What a refusal means for the source's position is the
 * caller's: seq offers the same numbers again, taildir reads the file again from its last
 * committed position, spooldir rewinds its reader to the last committed mark.
 */
import { isSluiceError, type SluiceError } from '../../errors.js'
import type { FlowEvent } from '../event.js'
import type { Source } from './source.js'

/** Resolves with null once committed, or with the channel's refusal. */
export async function deliverBatch(source: Source, events: FlowEvent[])
  : Promise<SluiceError | null> {
  source.counter.add('EventReceivedCount', events.length)
  source.counter.add('AppendBatchReceivedCount')
  try {
    await source.processor.processEventBatch(events)
  } catch (error) {
    // Anything but a SluiceError is a bug, not a refusal: the runner logs it and backs off.
    if (!isSluiceError(error)) throw error
    source.counter.add('ChannelWriteFail')
    return error
  }
  source.counter.add('EventAcceptedCount', events.length)
  source.counter.add('AppendBatchAcceptedCount')
  return null
}
