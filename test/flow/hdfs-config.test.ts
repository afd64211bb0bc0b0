// Proves an hdfs sink is configured from Flume's keys with Flume's defaults (type `hdfs` or the
// FQCN), that a Flume configuration's cluster-only keys pass --strict, and that each bad value
// is refused naming the key and what would be right: hdfs:// paths, relative paths, unknown
// file types, codecs, rounding units and values, time zones, serializers and escapes, and the
// fileType/codeC combinations Flume refuses.
import { describe, expect, it } from 'vitest'
import { loadAgentText } from '../../src/flow/config/load.js'
import { HdfsSink } from '../../src/flow/sinks/hdfs/hdfs-sink.js'
import { capturingLogger } from './flow-helpers.js'

function load(sinkLines: string[], strict = true) {
  const logger = capturingLogger()
  const graph = loadAgentText(['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
    'a1.sources.r1.type = seq', 'a1.sources.r1.channels = c1', 'a1.channels.c1.type = memory',
    'a1.sinks.k1.channel = c1', ...sinkLines.map((line) => `a1.sinks.k1.${line}`)].join('\n'),
  'agent.conf', { agentName: 'a1', logger, strict })
  return { graph, logger }
}

/** What a sink's options came out as (they are private to the sink, read for the test). */
function optionsOf(sink: unknown) {
  return (sink as { options: Record<string, unknown> }).options as Record<string, any>
}

describe('hdfs sink configuration', () => {
  it('builds from type hdfs or the FQCN with Flume\'s defaults', () => {
    for (const type of ['hdfs', 'org.apache.flume.sink.hdfs.HDFSEventSink']) {
      const { graph } = load([`type = ${type}`, 'hdfs.path = /data/flume/%Y-%m-%d'])
      const sink = graph.sinks.get('k1')!
      expect(sink).toBeInstanceOf(HdfsSink)
      const options = optionsOf(sink)
      expect(options.spec).toEqual({ fileType: 'SequenceFile', codec: null,
        appendNewline: true, writeFormat: 'Writable' })
      expect(options.names).toEqual({ suffix: '', inUsePrefix: '', inUseSuffix: '.tmp' })
      expect(options.roll).toEqual({ rollIntervalMs: 30_000, rollSizeBytes: 1024,
        rollCount: 10, idleTimeoutMs: 0, callTimeoutMs: 30_000 })
      expect(options).toMatchObject({ batchSize: 100, maxOpenFiles: 5000,
        retryIntervalMs: 180_000, closeTries: 0, rootDirectory: '/data/flume',
        journalPath: '/data/flume/.sluice-hdfs-a1-k1.journal' })
      expect(options.escape.round).toBeNull()
      expect(options.escape.localClockMs).toBeNull()
      expect(optionsOf(sink).prefixTemplate.source).toBe('FlumeData')
    }
  })

  it('reads every key; file: URLs, codec extension, emptyInUseSuffix, rounding, local time', () => {
    const { graph, logger } = load(['type = hdfs', 'hdfs.path = file:///srv/out/%{dc}',
      'hdfs.filePrefix = events-', 'hdfs.inUsePrefix = _', 'hdfs.inUseSuffix = .open',
      'hdfs.emptyInUseSuffix = true', 'hdfs.fileType = CompressedStream',
      'hdfs.codeC = org.apache.hadoop.io.compress.Lz4Codec', 'hdfs.rollInterval = 0',
      'hdfs.rollSize = 0', 'hdfs.rollCount = 1000', 'hdfs.idleTimeout = 60',
      'hdfs.batchSize = 50', 'hdfs.maxOpenFiles = 10', 'hdfs.callTimeout = 0',
      'hdfs.round = true', 'hdfs.roundValue = 15', 'hdfs.roundUnit = Minute',
      'hdfs.timeZone = America/Los_Angeles', 'hdfs.useLocalTimeStamp = true',
      'hdfs.retryInterval = 0', 'hdfs.closeTries = 5', 'serializer = text',
      'serializer.appendNewline = false', 'hdfs.threadsPoolSize = 20',
      'hdfs.kerberosPrincipal = flume@EXAMPLE', 'hdfs.journalDir = /var/lib/sluice'])
    const options = optionsOf(graph.sinks.get('k1'))
    expect(options.spec).toEqual({ fileType: 'CompressedStream', codec: 'lz4',
      appendNewline: false, writeFormat: 'Writable' })
    expect(options.names).toEqual({ suffix: '.lz4', inUsePrefix: '_', inUseSuffix: '' })
    expect(options.roll).toEqual({ rollIntervalMs: 0, rollSizeBytes: 0, rollCount: 1000,
      idleTimeoutMs: 60_000, callTimeoutMs: 0 })
    expect(options).toMatchObject({ batchSize: 50, maxOpenFiles: 10, retryIntervalMs: 0,
      closeTries: 1, rootDirectory: '/srv/out',
      journalPath: '/var/lib/sluice/.sluice-hdfs-a1-k1.journal' })
    expect(options.escape.round).toEqual({ unit: 'minute', value: 15 })
    expect(options.escape.zone.id).toBe('America/Los_Angeles')
    expect(typeof options.escape.localClockMs).toBe('function')
    expect(logger.warnings.join('\n')).toMatch(/hdfs.inUseSuffix: ignored, since .*emptyInUse/)
    expect(logger.lines.join('\n')).toMatch(/hdfs.threadsPoolSize: a Hadoop cluster setting/)
    const gzip = optionsOf(load(['type = hdfs', 'hdfs.path = /x', 'hdfs.fileType = ' +
      'compressedstream', 'hdfs.codeC = GzipCodec', 'hdfs.fileSuffix = .txt.gz']).graph
      .sinks.get('k1'))
    expect(gzip.names.suffix).toBe('.txt.gz')
    expect(gzip.rootDirectory).toBe('/x')
  })

  it.each([
    [['hdfs.fileType = DataStream'], 'hdfs.path',
      /is required/],
    [['hdfs.path = hdfs://namenode/flume/events'], 'hdfs.path',
      /hdfs:\/\/namenode.*local or mounted directories only.*file:\/\/\/path/],
    [['hdfs.path = file://otherhost/x'], 'hdfs.path',
      /must name this host/],
    [['hdfs.path = flume/events'], 'hdfs.path',
      /"flume\/events" must be an absolute path/],
    [['hdfs.path = /x', 'hdfs.fileType = Parquet'], 'hdfs.fileType',
      /"Parquet" is not a file type \(supported: SequenceFile, DataStream, CompressedStream\)/],
    [['hdfs.path = /x', 'hdfs.fileType = CompressedStream', 'hdfs.codeC = snappy'], 'hdfs.codeC',
      /Unsupported compression codec snappy: sluice writes gzip .* and lz4/],
    [['hdfs.path = /x', 'hdfs.fileType = CompressedStream'], 'hdfs.codeC',
      /It's essential to set compress codec/],
    [['hdfs.path = /x', 'hdfs.fileType = DataStream', 'hdfs.codeC = gzip'], 'hdfs.codeC',
      /DataStream which does NOT support compressed output/],
    [['hdfs.path = /x', 'hdfs.codeC = gzip'], 'hdfs.codeC',
      /block-compressed SequenceFiles are not supported; use fileType = CompressedStream/],
    [['hdfs.path = /x', 'hdfs.writeFormat = Avro'], 'hdfs.writeFormat',
      /"Avro" is not a SequenceFile record format \(supported: Writable, Text\)/],
    [['hdfs.path = /x', 'hdfs.fileType = DataStream', 'serializer = avro_event'], 'serializer',
      /only the TEXT serializer is supported, got avro_event/],
    [['hdfs.path = /x', 'hdfs.round = true', 'hdfs.roundUnit = day'], 'hdfs.roundUnit',
      /"day" is not a rounding unit \(second, minute or hour\)/],
    [['hdfs.path = /x', 'hdfs.round = true', 'hdfs.roundUnit = hour', 'hdfs.roundValue = 25'],
      'hdfs.roundValue',
      /Round value must be > 0 and <= 24/],
    [['hdfs.path = /x', 'hdfs.round = true', 'hdfs.roundValue = 0'], 'hdfs.roundValue',
      /Round value must be > 0 and <= 60/],
    [['hdfs.path = /x', 'hdfs.timeZone = Europe/Atlantis'], 'hdfs.timeZone',
      /"Europe\/Atlantis" is not a time zone/],
    [['hdfs.path = /x/%[hostname]'], 'hdfs.path',
      /the escape %\[hostname\] is none of/],
    [['hdfs.path = /x', 'hdfs.batchSize = 0'], 'hdfs.batchSize',
      /must be between 1 and/],
    [['hdfs.path = /x', 'hdfs.rollCount = -1'], 'hdfs.rollCount',
      /must be between 0 and/],
    [['hdfs.path = /x', 'hdfs.rollInterval = 1.5'], 'hdfs.rollInterval',
      /expected an integer/],
    [['hdfs.path = /x', 'hdfs.useLocalTimeStamp = yes'], 'hdfs.useLocalTimeStamp',
      /expected true or false/],
    [['hdfs.path = /x', 'hdfs.journalDir = relative'], 'hdfs.journalDir',
      /"relative" must be an absolute path/],
  ])('refuses %j', (lines, key, message) => {
    const error = (() => { try { load(['type = hdfs', ...lines]) } catch (e) { return e } })()
    expect((error as Error).message).toContain(`a1.sinks.k1.${key}:`)
    expect((error as Error).message).toMatch(message)
    // Leniently, Flume's pruning drops the sink with a warning naming the key.
    const lenient = load(['type = hdfs', ...lines], false)
    expect(lenient.graph.sinks.has('k1')).toBe(false)
    expect(lenient.logger.warnings.join('\n')).toContain(`a1.sinks.k1.${key}:`)
  })
})
