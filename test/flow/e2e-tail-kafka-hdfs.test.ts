// Proves the issue's end-to-end promise across three processes: TAILDIR → file channel → kafka
// sink → `sluice broker` → kafka source → file channel → hdfs sink. While a writer appends
// numbered lines (rotating the tailed file by rename), the tail agent is SIGKILLed and restarted,
// then the store agent is; after the writer stops and both agents drain, every line written is
// in the hdfs sink's rolled files at least once. Duplicates (redeliveries after a kill) are
// counted and reported; a loss fails the test. The crash leaves in-use files, which the store
// agent's restart closes, so the final check reads finished files only.
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync }
  from 'node:fs'
import * as path from 'node:path'
import { afterAll, afterEach, expect, it } from 'vitest'
import { repoRoot, seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { getText } from './flow-helpers.js'

const scratch = tempDir('sluice-e2e-')
afterAll(() => scratch.remove())
const LINES_PER_APPEND = 20
const LINES_PER_FILE = 500
const dir = (name: string) => path.join(scratch.dir, name)
const IN_USE_SUFFIX = '.tmp'
const children = new Set<ChildProcess>()
afterEach(() => {
  for (const child of children) child.kill('SIGKILL')
  children.clear()
})

function fileChannel(agent: string, name: string): string {
  return `${agent}.channels.${name}.type = file
${agent}.channels.${name}.checkpointDir = ${dir(`${agent}-channel/checkpoint`)}
${agent}.channels.${name}.dataDirs = ${dir(`${agent}-channel/data`)}
${agent}.channels.${name}.capacity = 200000
${agent}.channels.${name}.transactionCapacity = 1000
${agent}.channels.${name}.minimumRequiredSpace = 1048576
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

interface Running {
  child: ChildProcess
  output: () => string
}

function run(args: string[], ready: RegExp, what: string): Promise<Running> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'dist/src/cli/main.js'), ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  return until(what, () => ready.test(output), 30_000).then(() => ({ child, output: () => output }))
}

function startAgent(name: string, confFile: string): Promise<Running> {
  return run(['agent', '-f', confFile, '-n', name, '--metrics-port', '0', '--no-reload-conf'],
    /metrics on port \d+/, `agent ${name} to start`)
}

function metricsPortOf(agent: Running): number {
  return Number(/metrics on port (\d+)/.exec(agent.output())![1])
}

async function kill(agent: Running, signal: NodeJS.Signals): Promise<void> {
  const { child } = agent
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }
  children.delete(child)
}

/** Appends numbered lines to app.log, rotating it to app.log.<n> every LINES_PER_FILE lines. */
class Writer {
  written = 0
  private rotations = 0

  append(count: number): void {
    for (let done = 0; done < count; done += LINES_PER_APPEND) {
      const lines = Array.from({ length: Math.min(LINES_PER_APPEND, count - done) },
        () => `line-${this.written++}\n`)
      appendFileSync(path.join(dir('input'), 'app.log'), lines.join(''))
      if (this.written >= (this.rotations + 1) * LINES_PER_FILE) {
        renameSync(path.join(dir('input'), 'app.log'),
          path.join(dir('input'), `app.log.${++this.rotations}`))
      }
    }
  }

  async runFor(ms: number): Promise<void> {
    const end = Date.now() + ms
    while (Date.now() < end) {
      this.append(LINES_PER_APPEND)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }
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

async function channelEmpty(agent: Running): Promise<boolean> {
  const metrics = JSON.parse((await getText(metricsPortOf(agent), '/metrics')).body) as
    Record<string, Record<string, string>>
  return metrics['CHANNEL.c']!.ChannelSize === '0'
}

it('delivers every tailed line through the broker to rolled files across a SIGKILL of each ' +
  'agent (duplicates counted, none lost)', async () => {
  const random = seededRandom(seedFromEnv('SLUICE_E2E_SEED'))
  for (const name of ['input', 'output', 'broker']) mkdirSync(dir(name), { recursive: true })
  const broker = await run(['broker', '--data-dir', dir('broker'), '--listen', '127.0.0.1:0',
    '--default-durability', 'fsync'], /listening on [^:]+:\d+/, 'the broker to listen')
  const brokerPort = Number(/listening on [^:\s]+:(\d+)/.exec(broker.output())![1])
  const confFile = dir('agents.conf')
  writeFileSync(confFile, agentsConf(brokerPort))

  const writer = new Writer()
  writer.append(200)
  let tail = await startAgent('tail', confFile)
  let store = await startAgent('store', confFile)
  await writer.runFor(400 + Math.floor(random() * 600))
  await kill(tail, 'SIGKILL')
  writer.append(LINES_PER_FILE) // written while the tail agent is down, across a rotation
  tail = await startAgent('tail', confFile)
  await writer.runFor(400 + Math.floor(random() * 600))
  await kill(store, 'SIGKILL')
  await writer.runFor(300)
  store = await startAgent('store', confFile)
  await writer.runFor(400)

  await until('every line in the rolled files', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200)) // reading every file is not free
    return new Set(deliveredLines()).size >= writer.written
  }, 90_000)
  await until('both channels to drain', async () =>
    await channelEmpty(tail) && await channelEmpty(store), 30_000)
  await kill(tail, 'SIGTERM')
  await kill(store, 'SIGTERM')
  await kill(broker, 'SIGTERM')

  // A clean stop closes every file: nothing is left in use, the crash's leftovers included.
  expect(outputFiles().filter((file) => file.endsWith(IN_USE_SUFFIX))).toEqual([])
  const seen = new Map<string, number>()
  for (const line of deliveredLines()) seen.set(line, (seen.get(line) ?? 0) + 1)
  const expected = Array.from({ length: writer.written }, (_, i) => `line-${i}`)
  const lost = expected.filter((line) => !seen.has(line))
  const duplicates = [...seen.values()].reduce((sum, n) => sum + (n - 1), 0)
  console.log(`e2e: written ${writer.written} lines, delivered ${seen.size} distinct in ` +
    `${outputFiles().length} files, ${duplicates} duplicates, ${lost.length} lost`)
  expect(lost).toEqual([])
  expect([...seen.keys()].filter((line) => !/^line-\d+$/.test(line))).toEqual([])
}, 240_000)
