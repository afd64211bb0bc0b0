// Proves the monitoring endpoint: /metrics serves Flume's JSON (TYPE.name keys, string values,
// the reference §5 counter names, ChannelFillPercentage), /metrics/prometheus and an Accept
// header serve the same counters as Prometheus text, and the counters add up — accepted by the
// source = put into the channel = taken + still in the channel, taken = drained by the sink.
import { afterAll, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import { flumeJson } from '../../src/flow/metrics/report.js'
import { seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { capturingLogger, getText } from './flow-helpers.js'

const scratch = tempDir('sluice-metrics-')
afterAll(() => scratch.remove())

const CONF = (dir: string) => `a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = seq
a1.sources.r1.batchSize = 25
a1.sources.r1.channels = c1 c2
a1.channels.c1.type = memory
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 100
a1.channels.c2.type = file
a1.channels.c2.capacity = 100000
a1.channels.c2.transactionCapacity = 100
a1.channels.c2.checkpointDir = ${dir}/cp
a1.channels.c2.dataDirs = ${dir}/data
a1.channels.c2.minimumRequiredSpace = 1048576
a1.sinks.k1.type = null
a1.sinks.k1.batchSize = 7
a1.sinks.k1.channel = c1
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${dir}/out
a1.sinks.k2.sink.batchSize = 50
`

type Report = Record<string, Record<string, string>>

it('serves Flume JSON and Prometheus text whose counters add up', async () => {
  const random = seededRandom(seedFromEnv('SLUICE_METRICS_SEED'))
  const agent = Agent.fromText(CONF(scratch.dir), 'metrics.conf', { agentName: 'a1',
    logger: capturingLogger(), metricsPort: 0, metricsBind: '127.0.0.1' })
  await agent.start()
  const stopAfterEvents = 500 + Math.floor(random() * 3000)
  await until(`${stopAfterEvents} events accepted`, () =>
    agent.graph.sources.get('r1')!.counter.get('EventAcceptedCount') >= stopAfterEvents)
  const live = JSON.parse((await getText(agent.metricsPort, '/metrics')).body) as Report
  expect(Object.keys(live).sort()).toEqual(['CHANNEL.c1', 'CHANNEL.c2', 'SINK.k1', 'SINK.k2',
    'SOURCE.r1'])
  expect(Object.keys(live['SOURCE.r1']!)).toEqual(expect.arrayContaining(['Type', 'StartTime',
    'StopTime', 'EventReceivedCount', 'EventAcceptedCount', 'AppendBatchReceivedCount',
    'AppendBatchAcceptedCount', 'OpenConnectionCount', 'EventReadFail', 'ChannelWriteFail',
    'GenericProcessingFail']))
  expect(Object.keys(live['CHANNEL.c1']!)).toEqual(expect.arrayContaining(['ChannelSize',
    'ChannelCapacity', 'ChannelFillPercentage', 'EventPutAttemptCount', 'EventPutSuccessCount',
    'EventTakeAttemptCount', 'EventTakeSuccessCount']))
  expect(live['CHANNEL.c2']!.Open).toBe('true')
  expect(Object.keys(live['SINK.k1']!)).toEqual(expect.arrayContaining(['BatchEmptyCount',
    'BatchUnderflowCount', 'BatchCompleteCount', 'EventDrainAttemptCount',
    'EventDrainSuccessCount', 'ConnectionCreatedCount', 'EventWriteFail', 'ChannelReadFail']))
  for (const entry of Object.values(live)) {
    for (const value of Object.values(entry)) expect(typeof value).toBe('string')
  }
  expect(live['SOURCE.r1']!.StopTime).toBe('0')

  const prometheus = await getText(agent.metricsPort, '/metrics/prometheus')
  expect(prometheus.type).toMatch(/^text\/plain; version=0\.0\.4/)
  expect(prometheus.body).toMatch(/# TYPE sluice_source_event_accepted_total counter\n/)
  expect(prometheus.body).toMatch(/sluice_channel_size\{agent="a1",component="c1"\} \d+/)
  // Open connections go down as well as up: a gauge, not a _total counter.
  expect(prometheus.body).toMatch(/# TYPE sluice_source_open_connection gauge\n/)
  expect(prometheus.body).not.toMatch(/open_connection_total/)
  const negotiated = await getText(agent.metricsPort, '/metrics',
    { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' })
  expect(negotiated.body).toMatch(/^# TYPE sluice_/)
  expect((await getText(agent.metricsPort, '/nothing')).status).toBe(404)

  await agent.stop()
  // Stopped mid-stream: every transaction has committed or rolled back, so the books balance.
  const report = flumeJson(agent.metrics()) as Report
  const n = (key: string, counter: string): number => Number(report[key]![counter])
  const accepted = n('SOURCE.r1', 'EventAcceptedCount')
  console.log(`stopped after ${accepted} accepted events: ${JSON.stringify(report)}`)
  expect(accepted).toBeGreaterThanOrEqual(stopAfterEvents)
  for (const [channel, sink] of [['c1', 'k1'], ['c2', 'k2']] as const) {
    const key = `CHANNEL.${channel}`
    expect(n(key, 'EventPutSuccessCount')).toBe(accepted)
    expect(n(key, 'EventTakeSuccessCount') + n(key, 'ChannelSize')).toBe(accepted)
    expect(n(`SINK.${sink}`, 'EventDrainSuccessCount')).toBe(n(key, 'EventTakeSuccessCount'))
    expect(n(key, 'ChannelFillPercentage')).toBeCloseTo(n(key, 'ChannelSize') / 1000, 6)
  }
  expect(report['SOURCE.r1']!.StopTime).not.toBe('0')
})
