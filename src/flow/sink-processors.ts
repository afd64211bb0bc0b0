/**
 * Sink processors (reference §2.6): how a sink group turns one process() call into a sink's.
 *
 *   default       one sink.
 *   failover      highest `priority.<sink>` first. Only an error fails a sink over (BACKOFF does
 *                 not); a failed sink cools down min(maxpenalty, 2^n × 1 s) after its n-th
 *                 consecutive failure, is retried first once cooled, and restored when it
 *                 returns READY (a BACKOFF proves nothing: it stays failed, unpenalized).
 *                 All sinks failed ⇒ SLUICE_ERR_EVENT_DELIVERY.
 *   load_balance  sinks tried in round_robin or random order until one does not throw; with
 *                 `backoff`, a failed sink is skipped for min(selector.maxTimeOut, 2^n × 1 s).
 *
 * One runner drives a group, so a group adds failover or spreading, not parallelism (as Flume).
 * The clock is injectable so tests can step through penalties without waiting.
 */
import type { Sink, Status } from './sinks/sink.js'
import { deliveryError } from './sinks/sink.js'

export interface SinkProcessor {
  readonly type: string
  readonly sinks: Sink[]
  process(): Promise<Status>
}

export type Clock = () => number
const FAILURE_PENALTY_MS = 1000

export class DefaultSinkProcessor implements SinkProcessor {
  readonly type = 'default'
  readonly sinks: Sink[]

  constructor(sink: Sink) {
    this.sinks = [sink]
  }

  process(): Promise<Status> {
    return this.sinks[0]!.process()
  }
}

interface Ranked {
  sink: Sink
  priority: number
  failures: number
  refreshAtMs: number
}

export class FailoverSinkProcessor implements SinkProcessor {
  readonly type = 'failover'
  private readonly live: Ranked[]
  private readonly failed: Ranked[] = []

  constructor(readonly sinks: Sink[], priorities: Map<Sink, number>,
    private readonly maxPenaltyMs: number, private readonly nowMs: Clock = Date.now) {
    this.live = sinks.map((sink) => ({ sink, priority: priorities.get(sink) ?? 0, failures: 0,
      refreshAtMs: 0 }))
    this.sortLive()
  }

  /** Names of the sinks currently considered healthy, best first (for tests and metrics). */
  liveSinks(): string[] {
    return this.live.map((r) => r.sink.name)
  }

  async process(): Promise<Status> {
    this.failed.sort((a, b) => a.refreshAtMs - b.refreshAtMs)
    while (this.failed.length > 0 && this.failed[0]!.refreshAtMs <= this.nowMs()) {
      const cooled = this.failed.shift()!
      try {
        const status = await cooled.sink.process()
        // As Flume: only READY proves the sink healthy. BACKOFF (nothing to deliver) puts it
        // back among the failed, neither restored nor penalized, to be retried first again.
        if (status === 'READY') {
          cooled.failures = 0
          this.live.push(cooled)
          this.sortLive()
        } else {
          this.failed.push(cooled)
        }
        return status
      } catch {
        this.penalize(cooled)
      }
    }
    while (this.live.length > 0) {
      const active = this.live[0]!
      try {
        return await active.sink.process()
      } catch {
        this.live.shift()
        this.penalize(active)
      }
    }
    throw deliveryError('All sinks failed to process, nothing left to failover to')
  }

  private penalize(ranked: Ranked): void {
    ranked.failures++
    ranked.refreshAtMs = this.nowMs()
      + Math.min(this.maxPenaltyMs, 2 ** ranked.failures * FAILURE_PENALTY_MS)
    this.failed.push(ranked)
  }

  private sortLive(): void {
    this.live.sort((a, b) => b.priority - a.priority)
  }
}

export class LoadBalancingSinkProcessor implements SinkProcessor {
  readonly type = 'load_balance'
  private next = 0
  private readonly failures = new Map<Sink, { count: number; restoreAtMs: number }>()

  constructor(readonly sinks: Sink[], private readonly selector: 'round_robin' | 'random',
    private readonly backoff: boolean, private readonly maxTimeOutMs: number,
    private readonly random: () => number = Math.random,
    private readonly nowMs: Clock = Date.now) {}

  async process(): Promise<Status> {
    for (const sink of this.order()) {
      try {
        const status = await sink.process()
        this.failures.delete(sink)
        return status
      } catch {
        this.fail(sink)
      }
    }
    throw deliveryError('Unable to deliver event. Exception follows: all sinks in the ' +
      'load_balance group failed')
  }

  private order(): Sink[] {
    const now = this.nowMs()
    const active = this.sinks.filter((s) => (this.failures.get(s)?.restoreAtMs ?? 0) <= now)
    const candidates = active.length > 0 ? active : this.sinks
    if (this.selector === 'random') {
      const shuffled = [...candidates]
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1))
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      return shuffled
    }
    const start = this.next++ % candidates.length
    return [...candidates.slice(start), ...candidates.slice(0, start)]
  }

  private fail(sink: Sink): void {
    if (!this.backoff) return
    const count = (this.failures.get(sink)?.count ?? 0) + 1
    this.failures.set(sink, { count,
      restoreAtMs: this.nowMs() + Math.min(this.maxTimeOutMs, 2 ** count * FAILURE_PENALTY_MS) })
  }
}
