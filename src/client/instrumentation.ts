/**
 * kafkajs's instrumentation events: `client.on(client.events.X, listener)` returns a function
 * that removes the listener; each event is `{ id, type, timestamp, payload }`. A listener that
 * throws or rejects is reported to the logger and never breaks the emitter, as in kafkajs.
 * An event is built only when someone listens, so unobserved events cost a Map lookup.
 */
import { EventEmitter } from 'node:events'
import { KafkaJSNonRetriableError } from './errors.js'
import type { Logger } from './logger.js'

export interface InstrumentationEvent<T> {
  id: string
  type: string
  timestamp: number
  payload: T
}

export type RemoveInstrumentationEventListener<T> = () => void

export const CONSUMER_EVENTS = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH_START: 'consumer.fetch_start',
  FETCH: 'consumer.fetch',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const

export const PRODUCER_EVENTS = {
  CONNECT: 'producer.connect',
  DISCONNECT: 'producer.disconnect',
  REQUEST: 'producer.network.request',
  REQUEST_TIMEOUT: 'producer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'producer.network.request_queue_size',
} as const

export const ADMIN_EVENTS = {
  CONNECT: 'admin.connect',
  DISCONNECT: 'admin.disconnect',
  REQUEST: 'admin.network.request',
  REQUEST_TIMEOUT: 'admin.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'admin.network.request_queue_size',
} as const

let nextEventId = 0

export class Instrumentation<Names extends Record<string, string>> {
  private readonly emitter = new EventEmitter()
  private readonly known: Set<string>

  constructor(readonly events: Names, private readonly logger: Logger) {
    this.known = new Set(Object.values(events))
  }

  /** Whether anyone listens: callers skip building costly payloads when no one does. */
  observed(type: Names[keyof Names]): boolean {
    return this.emitter.listenerCount(type) > 0
  }

  emit(type: Names[keyof Names], payload: unknown): void {
    if (this.emitter.listenerCount(type) === 0) return
    const event: InstrumentationEvent<unknown> = {
      id: String(nextEventId++), type, timestamp: Date.now(), payload,
    }
    this.emitter.emit(type, event)
  }

  on(eventName: string, listener: (event: InstrumentationEvent<any>) => unknown)
    : RemoveInstrumentationEventListener<string> {
    if (!this.known.has(eventName)) {
      throw new KafkaJSNonRetriableError(
        `Event name should be one of ${[...this.known].join(', ')}, got ${String(eventName)}`)
    }
    const wrapped = (event: InstrumentationEvent<unknown>) => {
      try {
        Promise.resolve(listener(event))
          .catch((error: unknown) => this.reportFailure(eventName, error))
      } catch (error) {
        this.reportFailure(eventName, error)
      }
    }
    this.emitter.addListener(eventName, wrapped)
    return () => this.emitter.removeListener(eventName, wrapped)
  }

  private reportFailure(eventName: string, error: unknown): void {
    this.logger.error(`Failed to execute listener: ${(error as Error)?.message ?? String(error)}`,
      { eventName })
  }
}
