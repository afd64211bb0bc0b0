/**
 * Flume's ChannelProcessor (reference §3.3): what a source calls to hand events to its channels.
 *
 *   1. the interceptor chain runs over the batch (it may drop or alter events);
 *   2. the selector names each event's required and optional channels;
 *   3. each required channel, in turn, gets its own transaction (begin, put*, commit); any
 *      failure rolls that channel back and is thrown to the source, and channels already
 *      committed stay committed (so a source retry may duplicate into them);
 *   4. then each optional channel in its own transaction; failures are logged and ignored.
 *
 * So a batch is atomic per channel, not across channels. A batch larger than a channel's
 * transactionCapacity fails with SLUICE_ERR_CHANNEL: sources size their batches to fit.
 */
import type { FlowEvent, FlowLogger } from './event.js'
import type { Interceptor } from './interceptors.js'
import type { ChannelSelector } from './selectors.js'
import { inTransaction, type Channel } from './transaction.js'

export class ChannelProcessor {
  constructor(readonly selector: ChannelSelector, readonly interceptors: Interceptor[],
    private readonly logger: FlowLogger) {}

  get channels(): Channel[] {
    return this.selector.channels
  }

  async processEvent(event: FlowEvent): Promise<void> {
    await this.processEventBatch([event])
  }

  async processEventBatch(batch: FlowEvent[]): Promise<void> {
    let events = batch
    for (const interceptor of this.interceptors) events = interceptor.intercept(events)
    if (events.length === 0) return
    const required = new Map<Channel, FlowEvent[]>()
    const optional = new Map<Channel, FlowEvent[]>()
    for (const event of events) {
      for (const channel of this.selector.required(event)) listFor(required, channel).push(event)
      for (const channel of this.selector.optional(event)) listFor(optional, channel).push(event)
    }
    for (const [channel, puts] of required) await putAll(channel, puts)
    for (const [channel, puts] of optional) {
      try {
        await putAll(channel, puts)
      } catch (error) {
        this.logger.warn(`optional channel ${channel.name} refused ${puts.length} events: ` +
          `${(error as Error).message}`)
      }
    }
  }
}

function listFor(lists: Map<Channel, FlowEvent[]>, channel: Channel): FlowEvent[] {
  let list = lists.get(channel)
  if (list === undefined) lists.set(channel, list = [])
  return list
}

async function putAll(channel: Channel, events: FlowEvent[]): Promise<void> {
  await inTransaction(channel, (tx) => {
    for (const event of events) tx.put(event)
  })
}
