/**
 * `sluice pipeline`'s file and lifecycle: the pipeline keys and their errors, agents picked and
 * ordered, and a running pipeline whose broker serves the shared log to a Kafka client while
 * its agents run.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { Log } from '../../src/engine/log.js'
import type { RecoveryReport } from '../../src/log/types.js'
import { readPipelineConfig } from '../../src/flow/pipeline/pipeline-config.js'
import { Agent } from '../../src/flow/agent.js'
import { Pipeline } from '../../src/flow/pipeline/pipeline.js'
import { tempDir } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'

const AGENTS = `
a.sources = s
a.channels = c
a.sinks = k
a.sources.s.type = seq
a.sources.s.totalEvents = 10
a.sources.s.channels = c
a.channels.c.type = memory
a.sinks.k.type = null
a.sinks.k.channel = c
b.sources = s
b.channels = c
b.sinks = k
b.sources.s.type = seq
b.sources.s.totalEvents = 0
b.sources.s.channels = c
b.channels.c.type = memory
b.sinks.k.type = null
b.sinks.k.channel = c
`

describe('pipeline file', () => {
  it('runs every agent of the file in the order it first names them, with no log by default',
    () => {
      const config = readPipelineConfig(AGENTS, 'p.conf', {})
      expect(config).toEqual({ file: 'p.conf', dataDir: null, broker: null, agents: ['a', 'b'],
        defaults: [] })
    })

  it('reads the log, the broker and the agent order from pipeline.* keys', () => {
    const config = readPipelineConfig(`${AGENTS}
pipeline.dataDir = /tmp/x
pipeline.agents = b a
pipeline.broker.listen = 127.0.0.1:0
pipeline.broker.advertisedListener = example.org:9093
pipeline.broker.defaultPartitions = 3
pipeline.broker.defaultDurability = os
pipeline.broker.autoCreateTopics = false
`, 'p.conf', {})
    expect(config.agents).toEqual(['b', 'a'])
    expect(config.dataDir).toBe(path.resolve('/tmp/x'))
    expect(config.broker).toEqual({ host: '127.0.0.1', port: 0, advertisedHost: 'example.org',
      advertisedPort: 9093, defaultPartitions: 3, defaultDurability: 'os',
      autoCreateTopics: false })
  })

  it('substitutes ${pipeline.dataDir} into agent values', () => {
    const text = `${AGENTS}\npipeline.dataDir = /srv/log\nz.sources.s.topic = ` +
      'embedded:${pipeline.dataDir}\n'
    expect(readPipelineConfig(text, 'p.conf', {}).agents).toEqual(['a', 'b', 'z'])
  })

  it('keeps the data of file channels and TAILDIR sources that name no storage under ' +
    'pipeline.dataDir; written keys win', () => {
    const config = readPipelineConfig(`${AGENTS}
pipeline.dataDir = /srv/p
a.channels = c f g
a.channels.f.type = file
a.channels.g.type = org.apache.flume.channel.file.FileChannel
a.channels.g.dataDirs = /elsewhere/data
a.sources = s t
a.sources.t.type = TAILDIR
`, 'p.conf', {})
    expect(config.defaults).toEqual([
      `a.channels.f.checkpointDir = ${path.resolve('/srv/p/agents/a/channel-f/checkpoint')}`,
      `a.channels.f.dataDirs = ${path.resolve('/srv/p/agents/a/channel-f/data')}`,
      `a.channels.g.checkpointDir = ${path.resolve('/srv/p/agents/a/channel-g/checkpoint')}`,
      `a.sources.t.positionFile = ${path.resolve('/srv/p/agents/a/source-t/taildir_position.json')}`,
    ])
    expect(readPipelineConfig(AGENTS.replace('type = memory', 'type = file'), 'p.conf', {})
      .defaults).toEqual([])
  })

  const bad: [string, RegExp][] = [
    ['pipeline.agents = a nope', /p\.conf:\d+: pipeline\.agents: no agent named nope .*a, b/],
    ['pipeline.agents = a a', /listed twice/],
    ['pipeline.broker.listen = 127.0.0.1:9092', /set pipeline\.dataDir/],
    ['pipeline.dataDir = /tmp/x\npipeline.broker.listen = localhost', /must be host:port/],
    ['pipeline.dataDir = /tmp/x\npipeline.broker.listen = h:70000', /port in 0\.\.65535/],
    ['pipeline.dataDir = /tmp/x\npipeline.broker.listen = h:1\n' +
      'pipeline.broker.defaultPartitions = 0', /integer in 1\.\.10000, got 0/],
    ['pipeline.dataDir = /tmp/x\npipeline.broker.listen = h:1\n' +
      'pipeline.broker.defaultDurability = disk', /fsync, os or memory, got disk/],
    ['pipeline.dataDir = /tmp/x\npipeline.broker.listen = h:1\n' +
      'pipeline.broker.autoCreateTopics = yes', /true or false, got yes/],
    ['pipeline.broker.defaultPartitions = 2', /no effect without pipeline\.broker\.listen/],
    ['pipeline.datadir = /tmp/x', /pipeline\.datadir: unknown pipeline key; known: .*dataDir/],
  ]
  for (const [extra, message] of bad) {
    it(`refuses ${extra.split('\n').pop()}`, () => {
      expect(() => readPipelineConfig(`${AGENTS}\n${extra}\n`, 'p.conf', {})).toThrow(message)
    })
  }

  it('refuses a file with no agent', () => {
    expect(() => readPipelineConfig('pipeline.dataDir = /tmp/x\n', 'p.conf', {}))
      .toThrow(/names no agent/)
  })

  it('names a configuration file it cannot read, and why', () => {
    expect(() => Pipeline.fromFile('/nonexistent/p.conf'))
      .toThrow('/nonexistent/p.conf:0: --conf-file: no such file')
    expect(() => Agent.fromFile('/', { agentName: 'a1', logger: capturingLogger() }))
      .toThrow('/:0: --conf-file: cannot read it: EISDIR')
  })

  it('validates every agent before anything opens', () => {
    const broken = `${AGENTS}\nb.sinks.k.type = nosuchsink\npipeline.dataDir = /nonexistent/x\n`
    expect(() => Pipeline.fromText(broken, 'p.conf', { logger: capturingLogger(), strict: true,
      env: {} })).toThrow(/nosuchsink/)
    expect(fs.existsSync('/nonexistent/x')).toBe(false)
  })
})

describe('running pipeline', () => {
  let scratch: ReturnType<typeof tempDir> | null = null
  let pipeline: Pipeline | null = null
  afterEach(async () => {
    await pipeline?.stop()
    pipeline = null
    scratch?.remove()
    scratch = null
  })

  it('serves the shared log over the Kafka protocol while its agents run, and closes it ' +
    'cleanly on stop', async () => {
    scratch = tempDir('sluice-pipeline-')
    const logDir = path.join(scratch.dir, 'log')
    pipeline = Pipeline.fromText(`${AGENTS}\npipeline.dataDir = ${logDir}\n` +
      'pipeline.broker.listen = 127.0.0.1:0\npipeline.broker.defaultDurability = os\n',
    'p.conf', { logger: capturingLogger(), env: {} })
    await pipeline.start()
    const port = pipeline.broker!.port
    const kafka = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING })
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: 'through', messages: [{ value: 'one' }, { value: 'two' }] })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    const offsets = await admin.fetchTopicOffsets('through')
    await admin.disconnect()
    expect(offsets).toEqual([expect.objectContaining({ partition: 0, high: '2' })])
    await pipeline.stop()
    pipeline = null
    // The log was closed cleanly (the partition's clean-shutdown marker is there) and kept
    // both records.
    const log = await Log.open({ dataDir: logDir })
    try {
      expect(log.offsets('through', 0).highWatermark).toBe(2)
      const reports = [...log.recoveryReports.values()] as RecoveryReport[]
      expect(reports.length).toBeGreaterThan(0)
      for (const report of reports) expect(report.clean).toBe(true)
    } finally {
      await log.close()
    }
  })
})
