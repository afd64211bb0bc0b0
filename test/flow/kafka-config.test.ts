// Proves the Kafka source and sink read Flume 1.11's keys: both type names (alias and FQCN)
// build, each bad value prunes the component with a message naming the key and what would be
// right (and --strict refuses on it), the keys Flume 1.11 no longer reads are named with their
// replacement, and kafka.consumer.* / kafka.producer.* settings with no client equivalent are
// warned about by name; and that an AvroFlumeEvent decoder refuses values that are not one.
import { describe, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { describeProblem, FlowConfigError } from '../../src/flow/config/errors.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import type { AgentGraph } from '../../src/flow/config/validate.js'
import { decodeFlumeEvent, encodeFlumeEvent } from '../../src/flow/kafka/flume-event-format.js'
import { capturingLogger, type CapturingLogger } from './flow-helpers.js'

const SOURCE = ['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
  'a1.channels.c1.type = memory', 'a1.channels.c1.capacity = 1000',
  'a1.channels.c1.transactionCapacity = 1000',
  'a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource',
  'a1.sources.r1.channels = c1', 'a1.sources.r1.kafka.bootstrap.servers = localhost:9092',
  'a1.sources.r1.kafka.topics = logs', 'a1.sinks.k1.type = null', 'a1.sinks.k1.channel = c1']
const SINK = ['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
  'a1.channels.c1.type = memory', 'a1.sources.r1.type = seq', 'a1.sources.r1.channels = c1',
  'a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink', 'a1.sinks.k1.channel = c1',
  'a1.sinks.k1.kafka.bootstrap.servers = localhost:9092']

function load(lines: string[], strict = false, logger: CapturingLogger = capturingLogger())
  : AgentGraph {
  return loadAgentText(lines.join('\n'), 'kafka.conf', { agentName: 'a1', strict, logger })
}

/** `base` with `changes` (`r1.key = value` / `k1.key = value`, or `-r1.key` to remove). */
function edit(base: string[], changes: string[]): string[] {
  const lines = base.filter((line) => !changes.some((change) => change.startsWith('-') &&
    line.startsWith(`a1.${change.startsWith('-r1') ? 'sources' : 'sinks'}.${change.slice(1)} `)))
  for (const change of changes.filter((c) => !c.startsWith('-'))) {
    const list = change.startsWith('r1.') ? 'sources' : 'sinks'
    lines.push(`a1.${list}.${change}`)
  }
  return lines
}

function expectPruned(lines: string[], key: string, message: string): void {
  const graph = load(lines)
  const problem = graph.problems.find((p) => p.key === `a1.${key}`)
  expect(problem, graph.problems.map(describeProblem).join('\n')).toBeDefined()
  expect(problem!.message).toContain(message)
  expect(() => load(lines, true)).toThrow(FlowConfigError)
}

describe('building', () => {
  it('builds the source and the sink by alias and by Flume class name', () => {
    const graph = load(SOURCE, true)
    expect(graph.sources.get('r1')!.type).toBe('kafka')
    expect(graph.sources.get('r1')!.batchSize).toBe(1000)
    const sink = load(SINK, true).sinks.get('k1')!
    expect([sink.type, sink.batchSize]).toEqual(['kafka', 100])
    const aliases = load(edit(SINK, ['k1.type = kafka']), true)
    expect(aliases.sinks.get('k1')!.type).toBe('kafka')
    expect(load(edit(SOURCE, ['r1.type = KAFKA']), true).sources.get('r1')!.type).toBe('kafka')
  })

  it('accepts every documented key with a good value', () => {
    const source = edit(SOURCE, ['r1.kafka.topics.regex = logs-.*', 'r1.batchSize = 500',
      'r1.batchDurationMillis = 200', 'r1.backoffSleepIncrement = 10', 'r1.maxBackoffSleep = 50',
      'r1.useFlumeEventFormat = true', 'r1.setTopicHeader = false', 'r1.topicHeader = t',
      'r1.kafka.consumer.group.id = g', 'r1.header.trace = x-trace',
      'r1.kafka.consumer.auto.offset.reset = earliest',
      'r1.kafka.consumer.session.timeout.ms = 10000',
      'r1.kafka.consumer.heartbeat.interval.ms = 1000', 'r1.kafka.consumer.fetch.max.wait.ms = 50',
      'r1.kafka.consumer.enable.auto.commit = false'])
    expect(load(source, true).problems).toEqual([])
    const sink = edit(SINK, ['k1.kafka.topic = logs-%{app}', 'k1.flumeBatchSize = 50',
      'k1.kafka.producer.acks = all', 'k1.kafka.producer.compression.type = lz4',
      'k1.useFlumeEventFormat = true', 'k1.defaultPartitionId = 0', 'k1.partitionIdHeader = p',
      'k1.allowTopicOverride = false', 'k1.topicHeader = t', 'k1.timestampHeader = ts',
      'k1.header.trace = x-trace', 'k1.kafka.producer.linger.ms = 5'])
    expect(load(sink, true).problems).toEqual([])
    expect(load(edit(SINK, ['k1.kafka.bootstrap.servers = embedded:/var/lib/sluice']), true)
      .problems).toEqual([])
  })
})

describe('bad values prune the component, naming the key', () => {
  it.each([
    ['-r1.kafka.bootstrap.servers', 'sources.r1.kafka.bootstrap.servers',
      'Bootstrap Servers must be specified'],
    ['r1.kafka.bootstrap.servers = localhost', 'sources.r1.kafka.bootstrap.servers',
      '"localhost" is not host:port'],
    ['r1.kafka.bootstrap.servers = embedded:', 'sources.r1.kafka.bootstrap.servers',
      'embedded: needs a data directory'],
    ['-r1.kafka.topics', 'sources.r1.kafka.topics', 'At least one Kafka topic must be specified'],
    ['r1.kafka.topics = logs, bad topic', 'sources.r1.kafka.topics',
      '"bad topic" is not a valid Kafka topic name'],
    ['r1.kafka.topics.regex = (', 'sources.r1.kafka.topics.regex',
      'is not a valid regular expression'],
    ['r1.batchSize = lots', 'sources.r1.batchSize', 'expected an integer, got "lots"'],
    ['r1.batchSize = 0', 'sources.r1.batchSize', 'must be between 1 and'],
    ['r1.useFlumeEventFormat = yes', 'sources.r1.useFlumeEventFormat',
      'expected true or false, got "yes"'],
    ['r1.kafka.consumer.auto.offset.reset = none', 'sources.r1.kafka.consumer.auto.offset.reset',
      'expected earliest or latest, got "none"'],
    ['r1.kafka.consumer.heartbeat.interval.ms = 40000',
      'sources.r1.kafka.consumer.heartbeat.interval.ms', 'must be lower than session.timeout.ms'],
    ['r1.kafka.consumer.security.protocol = SASL_SSL',
      'sources.r1.kafka.consumer.security.protocol', 'SASL_SSL is not supported'],
  ])('source %s', (change, key, message) => {
    expectPruned(edit(SOURCE, [change]), key, message)
  })

  it.each([
    ['-k1.kafka.bootstrap.servers', 'sinks.k1.kafka.bootstrap.servers',
      'Bootstrap Servers must be specified'],
    ['k1.kafka.producer.acks = 2', 'sinks.k1.kafka.producer.acks',
      'expected 0, 1, -1 or all, got "2"'],
    ['k1.kafka.producer.compression.type = snappy', 'sinks.k1.kafka.producer.compression.type',
      'expected none, gzip or lz4, got "snappy" (sluice cannot decode it)'],
    ['k1.kafka.topic = logs/%Y', 'sinks.k1.kafka.topic', 'is not a valid Kafka topic name'],
    ['k1.defaultPartitionId = -1', 'sinks.k1.defaultPartitionId', 'must be between 0 and'],
    ['k1.flumeBatchSize = 1.5', 'sinks.k1.flumeBatchSize', 'expected an integer, got "1.5"'],
    ['k1.allowTopicOverride = maybe', 'sinks.k1.allowTopicOverride', 'expected true or false'],
    ['k1.kafka.producer.transactional.id = t', 'sinks.k1.kafka.producer.transactional.id',
      'Kafka transactions are not supported'],
    ['k1.kafka.producer.ssl.truststore.location = /x',
      'sinks.k1.kafka.producer.ssl.truststore.location', 'TLS and SASL settings are not'],
  ])('sink %s', (change, key, message) => {
    expectPruned(edit(SINK, [change]), key, message)
  })

  it('names the key that replaced one Flume 1.11 no longer reads', () => {
    expectPruned(edit(SINK, ['-k1.kafka.bootstrap.servers', 'k1.brokerList = h:1']),
      'sinks.k1.kafka.bootstrap.servers',
      'a1.sinks.k1.brokerList is no longer read by Flume 1.11; use kafka.bootstrap.servers')
    expectPruned(edit(SOURCE, ['-r1.kafka.topics', 'r1.topic = logs']), 'sources.r1.kafka.topics',
      'a1.sources.r1.topic is no longer read by Flume 1.11; use kafka.topics')
    const logger = capturingLogger()
    load(edit(SINK, ['k1.topic = old']), false, logger)
    expect(logger.warnings).toContain(
      'a1.sinks.k1.topic: no longer read by Flume 1.11 (use kafka.topic); ignored')
  })
})

it('warns by name about client settings sluice has no equivalent for, and keeps going', () => {
  const logger = capturingLogger()
  const graph = load(edit(SOURCE, ['r1.kafka.consumer.max.poll.records = 10',
    'r1.kafka.consumer.enable.auto.commit = true']), true, logger)
  expect(graph.sources.has('r1')).toBe(true)
  expect(logger.warnings).toEqual(['a1.sources.r1.kafka.consumer.max.poll.records: sluice\'s ' +
    'Kafka client has no such setting; ignored'])
  expect(logger.lines.join('\n')).toContain('a1.sources.r1.kafka.consumer.enable.auto.commit: ' +
    'the source commits offsets after each channel commit')
})

/** An Avro long's varint bytes for an already zig-zagged (non-negative) value. */
function varint(zigzag: number): Buffer {
  const bytes: number[] = []
  let rest = zigzag
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}

describe('AvroFlumeEvent values', () => {
  const event = { headers: { a: 'b', empty: '' }, body: Buffer.from('body') }

  it('round-trips an event', () => {
    expect(decodeFlumeEvent(encodeFlumeEvent(event))).toEqual(event)
  })

  it.each([
    ['empty', Buffer.alloc(0), 'header block count is cut short'],
    ['a huge header count', varint(2 ** 41), 'a header block of 1099511627776 entries cannot'],
    ['a count past 2^53', Buffer.from('ffffffffffffffff7f', 'hex'), 'is out of range'],
    ['an overlong varint', Buffer.alloc(11, 0xff), 'longer than 10 bytes'],
    ['a cut body', encodeFlumeEvent(event).subarray(0, -1), 'does not fit'],
    ['trailing bytes', Buffer.concat([encodeFlumeEvent(event), Buffer.from([0])]),
      '1 bytes after the body'],
    ['a negative length', Buffer.from([2, 1, 0]), 'header name length -1 does not fit'],
  ])('refuses %s', (_, value, message) => {
    let thrown: unknown = null
    try {
      decodeFlumeEvent(value)
    } catch (error) {
      thrown = error
    }
    expect(isSluiceError(thrown, 'SLUICE_ERR_CORRUPT_BATCH')).toBe(true)
    expect((thrown as Error).message).toContain(message)
  })
})
