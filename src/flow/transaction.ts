/**
 * Flume's Transaction API and the Channel interface every channel implements.
 *
 * A transaction is an explicit object (Node has no threads to hang Flume's thread-local one on),
 * and BasicTransaction enforces Flume's BasicTransactionSemantics state machine:
 *
 *   NEW --begin--> OPEN --commit|rollback--> COMPLETED --close--> CLOSED
 *
 * put/take only while OPEN; close only from NEW or COMPLETED ("you must either commit or
 * rollback first"). Invariants kept for every channel:
 *   - a transaction either puts or takes, never both (the file channel's rule, kept for all);
 *   - it never holds more than the channel's transactionCapacity events;
 *   - a failed commit leaves the transaction OPEN, so the caller's rollback still applies;
 *   - rolled-back takes return to the head of the channel in their original order.
 */
import { SluiceError } from '../errors.js'
import type { FlowEvent } from './event.js'
import type { ChannelCounter } from './metrics/counters.js'
import type { Wakeable } from './signal.js'

export interface Transaction {
  begin(): void
  /** Stages an event; throws SLUICE_ERR_CHANNEL past transactionCapacity. */
  put(event: FlowEvent): void
  /** The next event, or null when the channel has none ready now. */
  take(): Promise<FlowEvent | null>
  /** Makes puts visible (durably, for the file channel) or takes final. */
  commit(): Promise<void>
  rollback(): Promise<void>
  close(): void
}

export interface Channel {
  readonly name: string
  readonly type: string
  readonly capacity: number
  readonly transactionCapacity: number
  readonly counter: ChannelCounter
  /** Notified whenever committed events become available to take. */
  readonly dataAvailable: Wakeable
  start(): Promise<void>
  stop(): Promise<void>
  getTransaction(): Transaction
  /** Committed events not yet taken (Flume's ChannelSize). */
  size(): number
}

type State = 'NEW' | 'OPEN' | 'COMMITTING' | 'COMPLETED' | 'CLOSED'

export function channelError(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CHANNEL', message)
}

export function channelFull(message: string): SluiceError {
  return new SluiceError('SLUICE_ERR_CHANNEL_FULL', message)
}

/** The state machine and per-transaction limits; channels supply the do* steps. */
export abstract class BasicTransaction implements Transaction {
  private state: State = 'NEW'
  protected putCount = 0
  protected takeCount = 0

  constructor(protected readonly transactionCapacity: number,
    protected readonly counter: ChannelCounter, private readonly channelName: string) {}

  protected abstract doPut(event: FlowEvent): void
  protected abstract doTake(): Promise<FlowEvent | null>
  protected abstract doCommit(): Promise<void>
  protected abstract doRollback(): Promise<void>

  begin(): void {
    this.expect('NEW', 'begin')
    this.state = 'OPEN'
  }

  put(event: FlowEvent): void {
    this.expect('OPEN', 'put')
    this.counter.add('EventPutAttemptCount')
    if (this.takeCount > 0) throw this.notBoth()
    if (this.putCount >= this.transactionCapacity) {
      throw channelError(`Put queue for transaction of capacity ${this.transactionCapacity} ` +
        `full on ${this.where()}, consider committing more frequently, increasing capacity ` +
        'or increasing thread count')
    }
    this.doPut(event)
    this.putCount++
  }

  async take(): Promise<FlowEvent | null> {
    this.expect('OPEN', 'take')
    this.counter.add('EventTakeAttemptCount')
    if (this.putCount > 0) throw this.notBoth()
    if (this.takeCount >= this.transactionCapacity) {
      throw channelError(`Take list for transaction of capacity ${this.transactionCapacity} ` +
        `full on ${this.where()}, consider committing more frequently`)
    }
    const event = await this.doTake()
    if (event !== null) this.takeCount++
    return event
  }

  async commit(): Promise<void> {
    this.expect('OPEN', 'commit')
    this.state = 'COMMITTING'
    try {
      await this.doCommit()
    } catch (error) {
      this.state = 'OPEN'
      throw error
    }
    this.state = 'COMPLETED'
    if (this.putCount > 0) this.counter.add('EventPutSuccessCount', this.putCount)
    if (this.takeCount > 0) this.counter.add('EventTakeSuccessCount', this.takeCount)
  }

  async rollback(): Promise<void> {
    this.expect('OPEN', 'rollback')
    this.state = 'COMMITTING'
    try {
      await this.doRollback()
    } finally {
      this.state = 'COMPLETED'
    }
  }

  close(): void {
    if (this.state !== 'NEW' && this.state !== 'COMPLETED') {
      throw channelError(`${this.where()}: close() needs commit() or rollback() first ` +
        `(state ${this.state})`)
    }
    this.state = 'CLOSED'
  }

  private expect(state: State, call: string): void {
    if (this.state !== state) {
      throw channelError(`${this.where()}: ${call}() in state ${this.state}, needs ${state}`)
    }
  }

  private notBoth(): Error {
    return channelError(`${this.where()}: a transaction puts or takes, not both`)
  }

  private where(): string {
    return `channel ${this.channelName}`
  }
}

/** Flume's canonical usage: begin, body, commit; rollback on any error; always close. */
export async function inTransaction<T>(channel: Channel,
  body: (tx: Transaction) => T | Promise<T>): Promise<T> {
  const tx = channel.getTransaction()
  tx.begin()
  try {
    const result = await body(tx)
    await tx.commit()
    return result
  } catch (error) {
    await tx.rollback()
    throw error
  } finally {
    tx.close()
  }
}

/**
 * What a channel lends a StagedTransaction: where takes come from and how a transaction's puts
 * and takes are made final or given back. `Take` is the channel's record of a taken event (the
 * event itself for the memory channel; the event and its log offset for the file channel).
 */
export interface StagingChannel<Take> {
  readonly name: string
  readonly transactionCapacity: number
  readonly counter: ChannelCounter
  /** The next event, taken provisionally, or null when none is ready. */
  takeOne(): Promise<Take | null> | Take | null
  eventOf(take: Take): FlowEvent
  commitPuts(puts: FlowEvent[]): Promise<void>
  commitTakes(takes: Take[]): Promise<void> | void
  /** Returns takes to the head of the channel, in their original order. */
  rollbackTakes(takes: Take[]): void
}

/** The transaction both channels use: puts and takes staged here until commit or rollback. */
export class StagedTransaction<Take> extends BasicTransaction {
  private readonly puts: FlowEvent[] = []
  private readonly takes: Take[] = []

  constructor(private readonly channel: StagingChannel<Take>) {
    super(channel.transactionCapacity, channel.counter, channel.name)
  }

  protected doPut(event: FlowEvent): void {
    this.puts.push(event)
  }

  protected async doTake(): Promise<FlowEvent | null> {
    const taken = await this.channel.takeOne()
    if (taken === null) return null
    this.takes.push(taken)
    return this.channel.eventOf(taken)
  }

  protected async doCommit(): Promise<void> {
    if (this.puts.length > 0) await this.channel.commitPuts(this.puts)
    if (this.takes.length > 0) await this.channel.commitTakes(this.takes)
  }

  protected async doRollback(): Promise<void> {
    this.channel.rollbackTakes(this.takes)
    this.takes.length = 0
    this.puts.length = 0
  }
}
