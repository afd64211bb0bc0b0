// Proves the issue's end-to-end promise across three processes: TAILDIR → file channel → kafka
// sink → `sluice broker` → kafka source → file channel → hdfs sink. While a writer appends
// numbered lines (rotating the tailed file by rename), the tail agent is SIGKILLed and restarted,
// then the store agent is; after the writer stops and both agents drain, every line written is
// in the hdfs sink's rolled files at least once. Duplicates (redeliveries after a kill) are
// counted and reported; a loss fails the test. The crash leaves in-use files, which the store
// agent's restart closes, so the final check reads finished files only.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { channelEmpty, killLeftoverProcesses, runCli, startAgent, type AgentProcess }
  from './cli-process.js'
import { RotatingLineWriter, tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties } from './flow-helpers.js'

const scratch = tempDir('sluice-e2e-')
afterAll(() => scratch.remove())
const LINES_PER_APPEND = 20
const LINES_PER_FILE = 500
const dir = (name: string) => path.join(scratch.dir, name)
const IN_USE_SUFFIX = '.tmp'
afterEach(killLeftoverProcesses)

function fileChannel(agent: string, name: string): string {
  return `${fileChannelProperties(`${agent}.channels.${name}`, dir(`${agent}-channel`), 200_000)}
`
}

function agentsConf(brokerPort: number): string {
  return `tail.sources = files
tail.channels = c
tail.sinks = log
tail.sources.files.type = TAILDIR
tail.sources.files.channels = c
tail.sources.files.filegroups = f1
tail.sources.files.filegroups.f1 = ${dir('input')}/app\\.log.*
tail.sources.files.positionFile = ${dir('taildir_position.json')}
tail.sources.files.writePosInterval = 200
tail.sources.files.batchSize = 200
tail.sources.files.backoffSleepIncrement = 20
tail.sources.files.maxBackoffSleep = 100
${fileChannel('tail', 'c')}
tail.sinks.log.type = org.apache.flume.sink.kafka.KafkaSink
tail.sinks.log.channel = c
tail.sinks.log.kafka.bootstrap.servers = 127.0.0.1:${brokerPort}
tail.sinks.log.kafka.topic = lines
tail.sinks.log.kafka.producer.acks = -1
tail.sinks.log.flumeBatchSize = 200

store.sources = log
store.channels = c
store.sinks = files
store.sources.log.type = org.apache.flume.source.kafka.KafkaSource
store.sources.log.channels = c
store.sources.log.kafka.bootstrap.servers = 127.0.0.1:${brokerPort}
store.sources.log.kafka.topics = lines
store.sources.log.kafka.consumer.group.id = store
store.sources.log.kafka.consumer.auto.offset.reset = earliest
store.sources.log.batchSize = 200
store.sources.log.batchDurationMillis = 100
${fileChannel('store', 'c')}
store.sinks.files.type = hdfs
store.sinks.files.channel = c
store.sinks.files.hdfs.path = ${dir('output')}/%Y%m%d
store.sinks.files.hdfs.useLocalTimeStamp = true
store.sinks.files.hdfs.fileType = DataStream
store.sinks.files.hdfs.filePrefix = lines
store.sinks.files.hdfs.inUseSuffix = ${IN_USE_SUFFIX}
store.sinks.files.hdfs.rollInterval = 1
store.sinks.files.hdfs.rollSize = 0
store.sinks.files.hdfs.rollCount = 2000
store.sinks.files.hdfs.batchSize = 200
`
}

/** A `sluice agent` of agents.conf, not reloading it: the test rewrites nothing under it. */
function startNamedAgent(name: string, confFile: string): Promise<AgentProcess> {
  return startAgent(confFile, name, ['--no-reload-conf'], 30_000)
}

function outputFiles(): string[] {
  const root = dir('output')
  return readdirSync(root, { recursive: true, withFileTypes: true })
    // Hidden files are the sink's own: its open-files journal and any torn tail it cut off.
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => path.join(entry.parentPath, entry.name))
}

function deliveredLines(): string[] {
  return outputFiles().flatMap((file) =>
    readFileSync(file, 'utf8').split('\n').filter((line) => line !== ''))
}

async function drained(agent: AgentProcess): Promise<boolean> {
  return channelEmpty(agent.metricsPort, 'c')
}

it('delivers every tailed line through the broker to rolled files across a SIGKILL of each ' +
  'agent (duplicates counted, none lost)', async () => {
  const random = seededRandom(seedFromEnv('SLUICE_E2E_SEED'))
  for (const name of ['input', 'output', 'broker']) mkdirSync(dir(name), { recursive: true })
  const broker = runCli(['broker', '--data-dir', dir('broker'), '--listen', '127.0.0.1:0',
    '--default-durability', 'fsync'])
  await broker.waitFor(/listening on [^:]+:\d+/, 'the broker to listen', 30_000)
  const brokerPort = Number(/listening on [^:\s]+:(\d+)/.exec(broker.output())![1])
  const confFile = dir('agents.conf')
  writeFileSync(confFile, agentsConf(brokerPort))

  const writer = new RotatingLineWriter(dir('input'), LINES_PER_FILE, LINES_PER_APPEND)
  const writeFor = (ms: number): Promise<void> => {
    const end = Date.now() + ms
    return writer.appendWhile(() => Date.now() < end, 5)
  }
  writer.append(200)
  let tail = await startNamedAgent('tail', confFile)
  let store = await startNamedAgent('store', confFile)
  await writeFor(400 + Math.floor(random() * 600))
  await tail.stop('SIGKILL')
  writer.append(LINES_PER_FILE) // written while the tail agent is down, across a rotation
  tail = await startNamedAgent('tail', confFile)
  await writeFor(400 + Math.floor(random() * 600))
  await store.stop('SIGKILL')
  await writeFor(300)
  store = await startNamedAgent('store', confFile)
  await writeFor(400)

  await until('every line in the rolled files', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200)) // reading every file is not free
    return new Set(deliveredLines()).size >= writer.written
  }, 90_000)
  await until('both channels to drain', async () => await drained(tail) && await drained(store),
    30_000)
  await tail.stop('SIGTERM')
  await store.stop('SIGTERM')
  await broker.stop('SIGTERM')

  // A clean stop closes every file: nothing is left in use, the crash's leftovers included.
  expect(outputFiles().filter((file) => file.endsWith(IN_USE_SUFFIX))).toEqual([])
  const expected = Array.from({ length: writer.written }, (_, i) => `line-${i}`)
  const { seen, lost, duplicates, unexpected } = tallyDelivery(expected, deliveredLines())
  console.log(`e2e: written ${writer.written} lines, delivered ${seen.size} distinct in ` +
    `${outputFiles().length} files, ${duplicates} duplicates, ${lost.length} lost`)
  expect(lost).toEqual([])
  expect(unexpected).toEqual([])
}, 240_000)
