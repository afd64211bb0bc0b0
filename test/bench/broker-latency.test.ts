// Proves latency over the Kafka protocol runs end to end on a tiny plan (kafkajs → sluice broker
// child → kafkajs consumer.run), records every series with ordered percentiles, and cleans up.
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildPlan, filterPlan } from '../../bench/plan.js'
import { runKafkaLatencyCase } from '../../bench/scenarios/broker-latency.js'
import { tempDir } from '../helpers.js'

const scratch = tempDir('sluice-bench-kafka-latency-')
afterAll(() => scratch.remove())

describe('latency over the Kafka protocol', () => {
  it('measures pull through sluice broker from the intended send time', async () => {
    const root = path.join(scratch.dir, 'data')
    const rates: number[] = []
    const scenario = await runKafkaLatencyCase(
      { recordBytes: 100, durability: 'os', ratesPerSec: [500] },
      { warmupMs: 50, measureMs: 400, pullMaxWaitMs: 100, drainTimeoutMs: 5000,
        maxRecordsPerAppend: 1000 }, root, (rate) => rates.push(rate))
    expect(rates).toEqual([500])
    expect(scenario.name).toBe('latency/kafka/100B/os')
    expect(scenario.notes).toEqual([]) // every record arrived within the drain
    const [series] = scenario.latency!
    expect(series!.mode).toBe('pull')
    expect(series!.records).toBe(200) // 400 ms at 500/s, warm-up excluded
    const p = series!.percentilesUs
    expect(p.p50).toBeGreaterThan(0)
    expect(p.p50).toBeLessThanOrEqual(p.p99)
    expect(p.p99).toBeLessThanOrEqual(p.p999)
    expect(p.p999).toBeLessThanOrEqual(p.max)
    expect(existsSync(root) ? readdirSync(root) : []).toEqual([])
  }, 60_000)

  it('runs in --full and when asked, not in the quick set', () => {
    expect(filterPlan(buildPlan('quick'), null).kafkaLatency.cases).toEqual([])
    expect(filterPlan(buildPlan('full'), null).kafkaLatency.cases.length).toBeGreaterThan(0)
    const asked = filterPlan(buildPlan('quick'), 'latency/kafka')
    expect(asked.kafkaLatency.cases.length).toBe(1)
    expect(asked.latency.cases).toEqual([])
  })
})
