/**
 * Flume's counter groups (SourceCounter, ChannelCounter, SinkCounter) with the exact attribute
 * names of their MBeans (reference §5.2), so `/metrics` serves what Flume's JSON reporter serves.
 * All counters reset to 0 when the component starts, as Flume's MonitoredCounterGroup.start()
 * does. A few sluice additions are named apart (EventLostCount: events a lossy source dropped).
 */

export type ComponentType = 'SOURCE' | 'CHANNEL' | 'SINK'

export const SOURCE_COUNTERS = [
  'EventReceivedCount', 'EventAcceptedCount', 'AppendReceivedCount', 'AppendAcceptedCount',
  'AppendBatchReceivedCount', 'AppendBatchAcceptedCount', 'OpenConnectionCount', 'EventReadFail',
  'ChannelWriteFail', 'GenericProcessingFail', 'EventLostCount',
] as const
export const CHANNEL_COUNTERS = [
  'EventPutAttemptCount', 'EventPutSuccessCount', 'EventTakeAttemptCount',
  'EventTakeSuccessCount', 'EventPutErrorCount', 'EventTakeErrorCount',
  'CheckpointWriteErrorCount',
] as const
export const SINK_COUNTERS = [
  'ConnectionCreatedCount', 'ConnectionClosedCount', 'ConnectionFailedCount', 'BatchEmptyCount',
  'BatchUnderflowCount', 'BatchCompleteCount', 'EventDrainAttemptCount', 'EventDrainSuccessCount',
  'EventWriteFail', 'ChannelReadFail',
] as const

export type SourceCounterName = (typeof SOURCE_COUNTERS)[number]
export type ChannelCounterName = (typeof CHANNEL_COUNTERS)[number]
export type SinkCounterName = (typeof SINK_COUNTERS)[number]

/** One component's counters: monotonically increasing integers plus start/stop times. */
export class CounterGroup<Name extends string> {
  private readonly values = new Map<Name, number>()
  startTimeMs = 0
  stopTimeMs = 0

  constructor(readonly type: ComponentType, readonly name: string,
    private readonly names: readonly Name[]) {
    for (const counter of names) this.values.set(counter, 0)
  }

  start(): void {
    for (const counter of this.names) this.values.set(counter, 0)
    this.startTimeMs = Date.now()
    this.stopTimeMs = 0
  }

  stop(): void {
    this.stopTimeMs = Date.now()
  }

  add(counter: Name, delta = 1): void {
    this.values.set(counter, (this.values.get(counter) ?? 0) + delta)
  }

  set(counter: Name, value: number): void {
    this.values.set(counter, value)
  }

  get(counter: Name): number {
    return this.values.get(counter) ?? 0
  }

  entries(): [Name, number][] {
    return [...this.values.entries()]
  }
}

export type SourceCounter = CounterGroup<SourceCounterName>
export type SinkCounter = CounterGroup<SinkCounterName>
export type ChannelCounter = CounterGroup<ChannelCounterName>

export const sourceCounter = (name: string): SourceCounter =>
  new CounterGroup('SOURCE', name, SOURCE_COUNTERS)
export const sinkCounter = (name: string): SinkCounter =>
  new CounterGroup('SINK', name, SINK_COUNTERS)
export const channelCounter = (name: string): ChannelCounter =>
  new CounterGroup('CHANNEL', name, CHANNEL_COUNTERS)
