/**
 * The open-loop latency harness every latency case shares (sluice embedded, and the peers):
 * records leave on a fixed schedule whether or not earlier sends are done, each carrying its
 * *intended* send time, and each delivery is charged from that time.
 *
 * Timing from the intended send time corrects for coordinated omission: when anything stalls, the
 * records scheduled during the stall are charged the stall. The intended time travels in the
 * record (first 8 bytes, float64 ms of performance.now(); sender and receivers share this
 * process's clock). Records scheduled during the warm-up are delivered but not recorded; records
 * still undelivered when the drain ends are recorded at their latency at that moment.
 *
 * The producer's send lag (how late each record left) is kept beside the deliveries: it is the
 * floor of any open-loop latency on this thread and machine, stalls included.
 */
import type { Histogram } from 'hdr-histogram-js'
import { SluiceError } from '../../src/errors.js'
import { logLineValues } from '../data/log-lines.js'
import {
  curveOf, latencyHistogram, nowMs, percentilesOf, perSec, recordMicros,
} from '../measure.js'
import { figure, type Figure, type LatencySeries, type Percentiles } from '../results.js'

export type DeliveryMode = LatencySeries['mode']

export const STAMP_BYTES = 8

/** Delay from building the schedule to its first record, so set-up is not charged. */
const START_DELAY_MS = 20

export interface Schedule {
  startMs: number
  intervalMs: number
  total: number
  /** Records meant to be sent before this are warm-up: delivered, not recorded. */
  recordFromMs: number
}

export function scheduleAt(ratePerSec: number, warmupMs: number, measureMs: number): Schedule {
  const startMs = nowMs() + START_DELAY_MS
  return { startMs, intervalMs: 1000 / ratePerSec,
    total: Math.max(1, Math.round(((warmupMs + measureMs) / 1000) * ratePerSec)),
    recordFromMs: startMs + warmupMs }
}

export function stampedValue(template: Buffer, intendedMs: number): Buffer {
  const value = Buffer.allocUnsafe(template.byteLength)
  template.copy(value)
  value.writeDoubleLE(intendedMs, 0)
  return value
}

export function readStamp(value: Uint8Array): number {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).readDoubleLE(0)
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Sends record i at schedule.startMs + i × intervalMs, at most `maxPerTurn` per `send` call;
 * returns once every send has settled, rethrowing the first failure. `send` is not awaited
 * before the next turn (open loop).
 */
export async function produceOpenLoop(schedule: Schedule, recordBytes: number,
  maxPerTurn: number, sendLag: Histogram, send: (values: Buffer[]) => Promise<unknown>)
  : Promise<void> {
  const templates = logLineValues(Math.max(STAMP_BYTES, recordBytes), 256)
  const acks: Promise<unknown>[] = []
  let failure: unknown = null
  let sent = 0
  while (sent < schedule.total && failure === null) {
    const due = Math.min(schedule.total,
      Math.floor((nowMs() - schedule.startMs) / schedule.intervalMs) + 1)
    while (sent < due) {
      const count = Math.min(due - sent, maxPerTurn)
      const values: Buffer[] = []
      const sentMs = nowMs()
      for (let i = sent; i < sent + count; i++) {
        const intended = schedule.startMs + i * schedule.intervalMs
        values.push(stampedValue(templates[i % templates.length]!, intended))
        if (intended >= schedule.recordFromMs) recordMicros(sendLag, (sentMs - intended) * 1000)
      }
      // Open loop: not awaited here. A failure is kept and ends the run after this turn.
      acks.push(send(values).catch((error: unknown) => { failure ??= error }))
      sent += count
    }
    await nextTurn()
  }
  await Promise.all(acks)
  if (failure !== null) throw failure
}

/** Counts and times deliveries for one mode; `done` resolves when every record has arrived. */
export class Tally {
  readonly histogram: Histogram = latencyHistogram()
  delivered = 0
  private finish: () => void = () => undefined
  readonly done = new Promise<void>((resolve) => { this.finish = resolve })

  constructor(readonly schedule: Schedule) {}

  deliver(intendedMs: number, deliveredMs: number): void {
    if (intendedMs >= this.schedule.recordFromMs) {
      recordMicros(this.histogram, (deliveredMs - intendedMs) * 1000)
    }
    if (++this.delivered === this.schedule.total) this.finish()
  }

  /** Charges each record not delivered by now its latency at this moment. */
  chargeUndelivered(): number {
    const { schedule } = this
    for (let i = this.delivered; i < schedule.total; i++) {
      const intended = schedule.startMs + i * schedule.intervalMs
      if (intended < schedule.recordFromMs) continue
      recordMicros(this.histogram, (nowMs() - intended) * 1000)
    }
    return schedule.total - this.delivered
  }
}

/** Waits for every tally to finish, or `timeoutMs`, whichever comes first. */
export async function drain(done: Promise<void>[], timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
  await Promise.race([Promise.all(done), timeout])
  clearTimeout(timer)
}

export function seriesOf(mode: DeliveryMode, rate: number, histogram: Histogram,
  measureMs: number): LatencySeries {
  if (histogram.totalCount === 0) {
    throw new SluiceError('SLUICE_ERR_INVALID_CONFIG',
      `latency at ${rate}/s recorded nothing: measureMs ${measureMs} is too short`)
  }
  return {
    mode,
    offeredRatePerSec: rate,
    achievedRatePerSec: perSec(histogram.totalCount, measureMs),
    records: histogram.totalCount,
    percentilesUs: percentilesOf(histogram),
    curve: curveOf(histogram),
  }
}

/** `<label> p50 | p99 | p99.9 | max @ <rate>/s` in µs: how the open-loop cases name figures. */
export function percentileFigures(label: string, rate: number, p: Percentiles): Figure[] {
  return [figure(`${label} p50 @ ${rate}/s`, p.p50, 'µs'),
    figure(`${label} p99 @ ${rate}/s`, p.p99, 'µs'),
    figure(`${label} p99.9 @ ${rate}/s`, p.p999, 'µs'),
    figure(`${label} max @ ${rate}/s`, p.max, 'µs')]
}

/** The note for records a drain gave up on (chargeUndelivered recorded them). */
export function undeliveredNote(mode: DeliveryMode, rate: number, undelivered: number,
  drainTimeoutMs: number): string {
  return `${mode} at ${rate}/s: ${undelivered} records undelivered after the ` +
    `${drainTimeoutMs} ms drain, recorded at their latency then`
}
