// Proves at-least-once through SIGKILL, with `sluice agent` in a child process talking to a
// sluice broker in this one: a kafka source → file channel → file_roll agent killed mid-stream
// over several rounds still writes every record of the topic (its offsets never passed the
// channel), and an http → file channel → kafka sink agent killed mid-stream leaves every event
// it answered 200 for in the topic (its takes never passed the produce). Duplicates are
// allowed and counted; a loss fails the test.
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { seedFromEnv, seededRandom, tempDir, until } from '../helpers.js'
import { runCli, type CliProcess } from './cli-process.js'
import { linesOfFiles, tallyDelivery } from './delivery-tally.js'
import { fileChannelProperties, postUntilStopped } from './flow-helpers.js'
import { createTopic, openTestLog, range, type TestLog } from './kafka-helpers.js'

const ROUNDS = 3
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function fileChannel(dir: string): string[] {
  return ['a1.channels = c1', fileChannelProperties('a1.channels.c1', dir)]
}

async function startChild(dir: string, conf: string[], ready: RegExp): Promise<CliProcess> {
  const confFile = path.join(dir, 'agent.conf')
  writeFileSync(confFile, `${conf.join('\n')}\n`)
  const child = runCli(['agent', '-f', confFile, '-n', 'a1'])
  cleanups.push(async () => { await child.stop('SIGKILL') })
  await child.waitFor(ready, `the agent to start (${ready.source})`, 30_000)
  return child
}

async function openLog(): Promise<TestLog> {
  const log = await openTestLog('tcp')
  cleanups.push(() => log.close())
  return log
}

it(`kafka source: every record reaches the files across ${ROUNDS} SIGKILLs`, async () => {
  const random = seededRandom(seedFromEnv('SLUICE_KAFKA_SOURCE_CRASH_SEED'))
  const log = await openLog()
  const { dir, remove } = tempDir('sluice-kafka-source-crash-')
  cleanups.push(remove)
  const records = 20_000
  const expected = range(0, records, 'rec-')
  await createTopic(log.sluice, 'crash')
  const producer = log.sluice.producer()
  await producer.connect()
  for (let start = 0; start < records; start += 1000) {
    await producer.send({ topic: 'crash', messages: expected.slice(start, start + 1000)
      .map((value) => ({ value })) })
  }
  await producer.disconnect()

  const out = path.join(dir, 'out')
  const conf = ['a1.sources = r1', 'a1.sinks = k1', ...fileChannel(dir),
    'a1.sources.r1.type = org.apache.flume.source.kafka.KafkaSource',
    'a1.sources.r1.channels = c1', `a1.sources.r1.kafka.bootstrap.servers = ${log.servers}`,
    'a1.sources.r1.kafka.topics = crash', 'a1.sources.r1.kafka.consumer.group.id = crash',
    'a1.sources.r1.kafka.consumer.auto.offset.reset = earliest', 'a1.sources.r1.batchSize = 200',
    // A killed member holds its partition until its session expires: keep that short.
    'a1.sources.r1.kafka.consumer.session.timeout.ms = 6000',
    'a1.sources.r1.kafka.consumer.heartbeat.interval.ms = 1000',
    'a1.sinks.k1.type = file_roll', 'a1.sinks.k1.channel = c1',
    `a1.sinks.k1.sink.directory = ${out}`, 'a1.sinks.k1.sink.rollInterval = 1']
  const lines = (): string[] => linesOfFiles(out)

  for (let round = 1; round <= ROUNDS; round++) {
    const child = await startChild(dir, conf, /agent a1 started/)
    // Kill somewhere inside this round's share of the stream, at a seeded point.
    const killAt = Math.floor((round - 1 + random()) * records / (ROUNDS + 1))
    await until(`${killAt} lines written`, () => new Set(lines()).size >= killAt, 60_000)
    await child.stop('SIGKILL')
  }
  const last = await startChild(dir, conf, /agent a1 started/)
  await until('every record written', () => new Set(lines()).size >= records, 60_000)
  await last.stop('SIGTERM')

  const { seen, duplicates, lost } = tallyDelivery(expected, lines())
  console.log(`kafka source: ${records} records, ${seen.size} distinct written, ` +
    `${duplicates} duplicates, ${lost.length} lost`)
  expect(lost).toEqual([])
  expect(seen.size).toBe(records)
}, 180_000)

it(`kafka sink: every acknowledged event reaches the topic across ${ROUNDS} SIGKILLs`,
  async () => {
    const random = seededRandom(seedFromEnv('SLUICE_KAFKA_SINK_CRASH_SEED'))
    const log = await openLog()
    const { dir, remove } = tempDir('sluice-kafka-sink-crash-')
    cleanups.push(remove)
    const conf = ['a1.sources = r1', 'a1.sinks = k1', ...fileChannel(dir),
      'a1.sources.r1.type = http', 'a1.sources.r1.bind = 127.0.0.1', 'a1.sources.r1.port = 0',
      'a1.sources.r1.channels = c1', 'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.type = org.apache.flume.sink.kafka.KafkaSink',
      `a1.sinks.k1.kafka.bootstrap.servers = ${log.servers}`, 'a1.sinks.k1.kafka.topic = sunk',
      'a1.sinks.k1.kafka.producer.acks = all', 'a1.sinks.k1.flumeBatchSize = 100']
    const ready = /http listening on 127\.0\.0\.1:(\d+)/
    const acked: string[] = []
    for (let round = 0; round < ROUNDS; round++) {
      const child = await startChild(dir, conf, ready)
      const port = Number(ready.exec(child.output())![1])
      const stop = { dead: false }
      const clients = [0, 1].map((c) => postUntilStopped(port, `r${round}-c${c}`, stop, 20))
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.floor(random() * 700)))
      await child.stop('SIGKILL')
      stop.dead = true
      for (const list of await Promise.all(clients)) acked.push(...list)
    }
    const last = await startChild(dir, conf, ready)

    const consumer = log.sluice.consumer({ groupId: 'check-sunk', maxWaitTimeInMs: 100 })
    const values: string[] = []
    await consumer.connect()
    await consumer.subscribe({ topic: 'sunk', fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message }) => {
      values.push(message.value!.toString())
    } })
    const wanted = new Set(acked)
    await until('every acknowledged event in the topic', () =>
      new Set(values.filter((v) => wanted.has(v))).size === wanted.size, 60_000)
    await consumer.disconnect()
    await last.stop('SIGTERM')

    const { seen, duplicates, lost } = tallyDelivery(acked, values)
    console.log(`kafka sink: ${acked.length} acknowledged, ${seen.size} distinct in the topic, ` +
      `${duplicates} duplicates, ${lost.length} lost`)
    expect(acked.length).toBeGreaterThan(ROUNDS * 20)
    expect(lost).toEqual([])
  }, 180_000)
