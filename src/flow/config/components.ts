/**
 * The component catalogue: Flume type names (aliases case-insensitive, FQCNs too; reference
 * §1.3) → builders that read typed properties and construct the runtime object. Builders have
 * no side effects (no port bound, no file opened until start()), so `--validate` can build the
 * whole graph and throw it away.
 */
import * as os from 'node:os'
import * as path from 'node:path'
import { buildAvroSink, buildAvroSource } from '../avro/avro-config.js'
import { ChannelProcessor } from '../channel-processor.js'
import { FileChannel } from '../channels/file-channel.js'
import { MemoryChannel } from '../channels/memory-channel.js'
import type { FlowLogger } from '../event.js'
import { buildInterceptors } from '../interceptors.js'
import { buildKafkaSink, buildKafkaSource } from '../kafka/kafka-builders.js'
import { buildSelector } from '../selectors.js'
import { LoggerSink, NullSink } from '../sinks/basic-sinks.js'
import { FileRollSink } from '../sinks/file-roll-sink.js'
import { buildHdfsSink } from '../sinks/hdfs/hdfs-sink-builder.js'
import type { Sink } from '../sinks/sink.js'
import { DEFAULT_EXEC_MAX_LINE_LENGTH_BYTES, ExecSource } from '../sources/exec-source.js'
import { HttpSource } from '../sources/http-source.js'
import { NetcatSource } from '../sources/netcat-source.js'
import { SeqSource } from '../sources/seq-source.js'
import type { AnySource } from '../sources/source.js'
import { buildSpooldirSource } from '../sources/spooldir-config.js'
import { buildSyslogTcpSource, buildSyslogUdpSource } from '../sources/syslog-sources.js'
import { buildTaildirSource } from '../sources/taildir-config.js'
import type { Channel } from '../transaction.js'
import type { Props } from './props.js'

export interface BuildContext {
  logger: FlowLogger
}

const SOURCE_TYPES: Record<string, string> = {
  seq: 'seq', 'org.apache.flume.source.sequencegeneratorsource': 'seq',
  netcat: 'netcat', 'org.apache.flume.source.netcatsource': 'netcat',
  exec: 'exec', 'org.apache.flume.source.execsource': 'exec',
  http: 'http', 'org.apache.flume.source.http.httpsource': 'http',
  spooldir: 'spooldir', 'org.apache.flume.source.spooldirectorysource': 'spooldir',
  taildir: 'taildir', 'org.apache.flume.source.taildir.taildirsource': 'taildir',
  syslogtcp: 'syslogtcp', 'org.apache.flume.source.syslogtcpsource': 'syslogtcp',
  syslogudp: 'syslogudp', 'org.apache.flume.source.syslogudpsource': 'syslogudp',
  avro: 'avro', 'org.apache.flume.source.avrosource': 'avro',
  kafka: 'kafka', 'org.apache.flume.source.kafka.kafkasource': 'kafka',
}
const CHANNEL_TYPES: Record<string, string> = {
  memory: 'memory', 'org.apache.flume.channel.memorychannel': 'memory',
  file: 'file', 'org.apache.flume.channel.file.filechannel': 'file',
}
const SINK_TYPES: Record<string, string> = {
  logger: 'logger', 'org.apache.flume.sink.loggersink': 'logger',
  null: 'null', 'org.apache.flume.sink.nullsink': 'null',
  file_roll: 'file_roll', 'org.apache.flume.sink.rollingfilesink': 'file_roll',
  avro: 'avro', 'org.apache.flume.sink.avrosink': 'avro',
  hdfs: 'hdfs', 'org.apache.flume.sink.hdfs.hdfseventsink': 'hdfs',
  kafka: 'kafka', 'org.apache.flume.sink.kafka.kafkasink': 'kafka',
}
/** Flume types sluice recognises but does not build, for a clearer message than "unknown". */
const FLUME_ONLY = new Set(['netcatudp', 'thrift', 'multiport_syslogtcp',
  'jms', 'jdbc', 'spillablememory', 'irc', 'hbase',
  'hbase2', 'asynchbase', 'morphline_solr', 'hive', 'elasticsearch'])

function resolveType(props: Props, table: Record<string, string>, kind: string): string {
  const written = props.required('type')
  const resolved = table[written.toLowerCase()]
  if (resolved !== undefined) return resolved
  const known = [...new Set(Object.values(table))].join(', ')
  const why = FLUME_ONLY.has(written.toLowerCase())
    ? `is a Flume ${kind} type sluice does not build` : `is not a known ${kind} type`
  throw props.fail('type', `${JSON.stringify(written)} ${why} (supported: ${known})`)
}

function flumeHome(...parts: string[]): string {
  return path.join(os.homedir(), '.flume', 'file-channel', ...parts)
}

export function buildChannel(props: Props, context: BuildContext): Channel {
  const type = resolveType(props, CHANNEL_TYPES, 'channel')
  const defaults = type === 'memory' ? [100, 100] : [1_000_000, 10_000]
  const capacity = props.int('capacity', defaults[0]!, 1)
  const transactionCapacity = props.int('transactionCapacity', defaults[1]!, 1)
  if (transactionCapacity > capacity) {
    throw props.fail('transactionCapacity', `Transaction Capacity of ${type} channel cannot be ` +
      `higher than the capacity (${transactionCapacity} > ${capacity})`)
  }
  const keepAliveSeconds = props.int('keep-alive', 3, 0)
  if (type === 'memory') {
    const byteCapacity = props.has('byteCapacity') ? props.int('byteCapacity', 0, 0) : undefined
    return new MemoryChannel(props.name, { capacity, transactionCapacity, keepAliveSeconds,
      ...(byteCapacity === undefined ? {} : { byteCapacity }),
      byteCapacityBufferPercentage: props.int('byteCapacityBufferPercentage', 20, 0, 99) })
  }
  if (props.under('encryption').length > 0) {
    throw props.fail('encryption.activeKey', 'file channel encryption is not supported')
  }
  const dataDirs = props.string('dataDirs', flumeHome('data')).split(',')
    .map((dir) => dir.trim()).filter((dir) => dir !== '')
  if (dataDirs.length > 1) {
    context.logger.warn(`channel ${props.name}: sluice keeps its log in the first of dataDirs ` +
      `(${dataDirs[0]}); the others are not used`)
  }
  return new FileChannel(props.name, {
    checkpointDir: props.string('checkpointDir', flumeHome('checkpoint')), dataDirs,
    capacity, transactionCapacity, keepAliveSeconds, logger: context.logger,
    minimumRequiredSpace: props.int('minimumRequiredSpace', 524_288_000, 0),
    maxFileSize: props.int('maxFileSize', 256 * 1024 * 1024, 64 * 1024),
    // sluice's own: events per log generation before puts move to a fresh one.
    rotateAfterEvents: props.int('rotateAfterEvents', 100_000, 1),
  })
}

export function buildSource(props: Props, channels: Channel[], context: BuildContext)
  : AnySource {
  const type = resolveType(props, SOURCE_TYPES, 'source')
  const processor = new ChannelProcessor(buildSelector(props, channels),
    buildInterceptors(props), context.logger)
  const { logger } = context
  switch (type) {
    case 'avro': return buildAvroSource(props, processor, logger)
    case 'kafka': return buildKafkaSource(props, processor, context)
    case 'netcat':
      if (!props.has('port')) throw props.fail('port', 'is required')
      return new NetcatSource(props.name, processor, {
        bind: props.required('bind'), port: props.int('port', 0, 0, 65535),
        maxLineLengthBytes: props.int('max-line-length', 512, 1),
        ackEveryEvent: props.bool('ack-every-event', true), batchSize: props.int('batchSize', 1, 1),
      }, logger)
    case 'http':
      if (!props.has('port')) throw props.fail('port', 'is required')
      if (!/(^|\.)jsonhandler$/i.test(props.string('handler', 'JSONHandler'))) {
        throw props.fail('handler', 'only org.apache.flume.source.http.JSONHandler is supported')
      }
      return new HttpSource(props.name, processor, {
        bind: props.string('bind', '0.0.0.0'), port: props.int('port', 0, 0, 65535),
        maxRequestBytes: props.int('maxRequestBytes', 16 * 1024 * 1024, 1),
        maxConcurrentRequests: props.int('maxConcurrentRequests', 64, 1),
      }, logger)
    case 'exec':
      return new ExecSource(props.name, processor, {
        command: props.required('command'), shell: props.string('shell', ''),
        restart: props.bool('restart', false),
        restartThrottleMs: props.int('restartThrottle', 10_000),
        logStdErr: props.bool('logStdErr', false), batchSize: props.int('batchSize', 20, 1),
        batchTimeoutMs: props.int('batchTimeout', 3000, 1),
        // sluice's bound on one stdout line (Flume's exec has none), named as netcat's key.
        maxLineLengthBytes: props.int('max-line-length', DEFAULT_EXEC_MAX_LINE_LENGTH_BYTES, 1),
      }, logger)
    case 'spooldir': return buildSpooldirSource(props, processor, logger)
    case 'taildir': return buildTaildirSource(props, processor, logger, os.homedir())
    case 'syslogtcp': return buildSyslogTcpSource(props, processor, logger)
    case 'syslogudp': return buildSyslogUdpSource(props, processor, logger)
    default:
      return new SeqSource(props.name, processor, {
        batchSize: props.int('batchSize', 1, 1),
        totalEvents: props.int('totalEvents', Number.MAX_SAFE_INTEGER, 0),
        backoffSleepIncrementMs: props.int('backoffSleepIncrement', 1000, 1),
        maxBackoffSleepMs: props.int('maxBackoffSleep', 5000, 1),
      })
  }
}

export function buildSink(props: Props, channel: Channel, context: BuildContext): Sink {
  const type = resolveType(props, SINK_TYPES, 'sink')
  if (type === 'avro') return buildAvroSink(props, channel, context.logger)
  if (type === 'logger') {
    return new LoggerSink(props.name, channel, props.int('batchSize', 100, 1),
      props.int('maxBytesToLog', 16, 0), context.logger)
  }
  if (type === 'kafka') return buildKafkaSink(props, channel, context)
  if (type === 'null') return new NullSink(props.name, channel, props.int('batchSize', 100, 1))
  if (type === 'hdfs') return buildHdfsSink(props, channel, context)
  const serializer = props.string('sink.serializer', 'TEXT')
  if (serializer.toLowerCase() !== 'text') {
    throw props.fail('sink.serializer', `only the TEXT serializer is supported, got ${serializer}`)
  }
  if (props.string('sink.pathManager', 'DEFAULT').toLowerCase() !== 'default') {
    throw props.fail('sink.pathManager', 'only the DEFAULT path manager is supported')
  }
  return new FileRollSink(props.name, channel, {
    directory: props.required('sink.directory'),
    rollIntervalSeconds: props.int('sink.rollInterval', 30, 0),
    batchSize: props.int('sink.batchSize', 100, 1),
    appendNewline: props.bool('sink.serializer.appendNewline', true),
    prefix: props.string('sink.pathManager.prefix', ''),
    extension: props.string('sink.pathManager.extension', ''),
  })
}
