/**
 * The machinery both consumption styles share: group membership (join when a rebalance is due,
 * then position each assigned partition at its committed offset or the subscription's default),
 * heartbeats, seeks, waking, and commits.
 *
 * Commits are pipelined: a push consumer schedules one after each batch and keeps delivering
 * while it is written (at most one commit in flight; a newer request folds into the next one).
 * Before a rebalance or stop the consumer waits for it and commits what is left, so a partition's
 * next owner starts where this member finished: no loss, and no duplicates in the normal case.
 */
import { GroupErrorCode } from '../groups/types.js'
import { ConsumerAssignment, type PartitionState } from './consumer-assignment.js'
import { KafkaJSProtocolError } from './errors.js'
import { CONSUMER_EVENTS, type Instrumentation } from './instrumentation.js'
import type { Logger } from './logger.js'
import { GroupSession, type SessionConfig } from './group-session.js'
import { PartitionFetcher, type FetchPosition } from './partition-fetcher.js'
import type { Runtime } from './runtime.js'

const EARLIEST_OFFSET = -2
const LATEST_OFFSET = -1

export interface EngineConfig extends SessionConfig {
  heartbeatIntervalMs: number
  maxWaitTimeMs: number
  minBytes: number
  maxBytes: number
  maxBytesPerPartition: number
}

export class ConsumerEngine {
  readonly session: GroupSession
  readonly assignment = new ConsumerAssignment()
  readonly fetcher: PartitionFetcher
  private lastHeartbeatMs = 0
  private wakeResolve: () => void = () => undefined
  private wakePromise: Promise<void>
  private commitInFlight: Promise<void> | null = null
  private commitAgain = false
  /** A failure of a background commit, raised on the consumer's next turn. */
  commitFailure: unknown = null

  constructor(
    private readonly runtime: Runtime,
    readonly config: EngineConfig,
    private readonly subscription: ReadonlyMap<string, { fromBeginning: boolean }>,
    private readonly instrumentation: Instrumentation<typeof CONSUMER_EVENTS>,
    private readonly logger: Logger,
  ) {
    this.wakePromise = this.newWake()
    this.session = new GroupSession(runtime, config, instrumentation, () => this.wake())
    this.fetcher = new PartitionFetcher(runtime.log, (p) => this.defaultOffset(p))
  }

  /** Resolves the current wait early (stop, seek, pause, resume, rebalance). */
  wake(): void {
    const resolve = this.wakeResolve
    this.wakePromise = this.newWake()
    resolve()
  }

  /** Joins if a rebalance is due; true when the assignment changed. */
  async ensureJoined(autoCommit: boolean): Promise<boolean> {
    if (!this.session.rebalanceNeeded) return false
    if (this.session.memberId !== '') {
      if (autoCommit) await this.commitQuietly()
      this.instrumentation.emit(CONSUMER_EVENTS.REBALANCING, {
        groupId: this.config.groupId, memberId: this.session.memberId,
      })
    }
    this.assignment.clear()
    const assigned = await this.session.joinAndSync([...this.subscription.keys()])
    const states: PartitionState[] = []
    for (const [topic, partitions] of assigned) {
      const committed = this.session.committed(topic, partitions)
      for (const partition of partitions) {
        const stored = committed.get(partition) ?? -1
        const offset = stored >= 0 ? stored : this.defaultOffset({ topic, partition, offset: -1 })
        states.push({ topic, partition, offset, committed: offset })
      }
    }
    this.assignment.assign(states)
    this.lastHeartbeatMs = Date.now()
    return true
  }

  /** Applies queued seeks; with autoCommit the new position is committed, as kafkajs does. */
  async applySeeks(autoCommit: boolean): Promise<void> {
    for (const seek of this.assignment.takeSeeks()) {
      const state = this.assignment.get(seek.topic, seek.partition)!
      state.offset = seek.offset === EARLIEST_OFFSET || seek.offset === LATEST_OFFSET
        ? this.boundary(seek.topic, seek.partition, seek.offset === EARLIEST_OFFSET)
        : seek.offset
      if (autoCommit) await this.commitNow()
    }
  }

  async heartbeatIfDue(): Promise<void> {
    const nowMs = Date.now()
    if (nowMs - this.lastHeartbeatMs < this.config.heartbeatIntervalMs) return
    this.lastHeartbeatMs = nowMs
    await this.session.heartbeat()
  }

  async heartbeatNow(): Promise<void> {
    this.lastHeartbeatMs = Date.now()
    await this.session.heartbeat()
  }

  /** Waits for data on the active partitions, a wake, or min(maxWait, heartbeat interval). */
  async waitForData(positions: FetchPosition[], maxWaitMs: number): Promise<void> {
    const boundMs = Math.max(0, Math.min(maxWaitMs, this.config.heartbeatIntervalMs))
    await this.fetcher.waitForAny(positions, boundMs, this.wakePromise)
  }

  /** Like waitForData, but for data beyond what the partitions already hold (minBytes). */
  async waitForMore(positions: FetchPosition[], maxWaitMs: number): Promise<void> {
    const log = this.runtime.log
    await this.waitForData(positions.map((p) => ({ ...p,
      offset: Math.max(p.offset, log.offsets(p.topic, p.partition).highWatermark) })), maxWaitMs)
  }

  /** Starts a commit of everything resolved, unless one is running (then it runs after). */
  scheduleCommit(): void {
    if (this.commitInFlight !== null) {
      this.commitAgain = true
      return
    }
    this.commitInFlight = this.commitResolved()
      .catch((error: unknown) => {
        if (!isRebalancing(error)) this.commitFailure = error
      })
      .finally(() => {
        this.commitInFlight = null
        if (this.commitAgain) {
          this.commitAgain = false
          this.scheduleCommit()
        }
      })
  }

  /** Waits for any running commit, then commits what is still uncommitted. */
  async commitNow(): Promise<void> {
    while (this.commitInFlight !== null) await this.commitInFlight
    await this.commitResolved()
  }

  /** commitNow, treating "the group moved on" as nothing to do (the next owner re-reads). */
  async commitQuietly(): Promise<void> {
    try {
      await this.commitNow()
    } catch (error) {
      if (!isRebalancing(error)) throw error
      this.logger.warn('offsets not committed: the group is rebalancing',
        { groupId: this.config.groupId })
    }
  }

  close(): void {
    this.session.close()
    this.assignment.clear()
    this.wake()
  }

  private async commitResolved(): Promise<void> {
    const pending = this.assignment.uncommitted()
    if (pending.length === 0) return
    await this.session.commit(pending.map((p) => ({ ...p, metadata: null })))
    for (const p of pending) this.assignment.markCommitted(p.topic, p.partition, p.offset)
  }

  /** Where a partition without a usable offset starts: kafkajs's fromBeginning rule. */
  private defaultOffset(position: FetchPosition): number {
    const fromBeginning = this.subscription.get(position.topic)?.fromBeginning ?? false
    return this.boundary(position.topic, position.partition, fromBeginning)
  }

  private boundary(topic: string, partition: number, earliest: boolean): number {
    const { logStartOffset, highWatermark } = this.runtime.log.offsets(topic, partition)
    return earliest ? logStartOffset : highWatermark
  }

  private newWake(): Promise<void> {
    return new Promise<void>((resolve) => { this.wakeResolve = resolve })
  }
}

export function isRebalancing(error: unknown): boolean {
  return error instanceof KafkaJSProtocolError && (
    error.code === GroupErrorCode.REBALANCE_IN_PROGRESS
    || error.code === GroupErrorCode.ILLEGAL_GENERATION
    || error.code === GroupErrorCode.UNKNOWN_MEMBER_ID)
}
