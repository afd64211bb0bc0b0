/**
 * The Kafka clients the broker benchmark drives, how each is configured, and one measured run of
 * each direction per client. Every driver samples the broker's CPU before and after and returns a
 * ClientRun (bench/scenarios/broker-cpu.ts), with the client's own CPU and its configuration.
 *
 *   kcat                 child process under bash (so `times` reports its CPU): -P of a file of
 *                        records, one per line; then -C -e from the beginning, checked by the
 *                        last offset it prints
 *   rdkafka_performance  child process under bash: -P of `-s` bytes of pattern payload from
 *                        memory; then -C of the same count, checked by its delivery summary
 *   kafkajs              in this process: producer.send of 1000-record batches, 4 in flight;
 *                        then a group consumer's eachBatch from the beginning
 *
 * A child run past its timeout is killed with SIGKILL and fails the bench.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import type { Durability } from '../../src/engine/types.js'
import { logLineValues } from '../data/log-lines.js'
import { MIB, nowMs } from '../measure.js'
import {
  cpuBetween, cpuSeconds, parseTimes, sampleCpu, type ClientRun,
} from './broker-cpu.js'
import type { BrokerChild } from './broker-process.js'

/**
 * kcat: Debian's librdkafka 2.0.2 CLI, reading records from a file (its line parsing costs it
 * CPU); rdkafka_performance: librdkafka 2.12's own benchmark, built with node-rdkafka from its
 * bundled source, producing from memory (the cheapest librdkafka client there is); kafkajs.
 */
export type BrokerClient = 'kcat' | 'rdkafka_performance' | 'kafkajs'

export interface BrokerCase {
  client: BrokerClient
  recordBytes: number
  durability: Durability
}

const KAFKAJS_BATCH_RECORDS = 1000
const KAFKAJS_IN_FLIGHT = 4
const RDKAFKA_PERFORMANCE = rdkafkaPerformancePath()

function rdkafkaPerformancePath(): string {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('node-rdkafka/package.json'))
    return path.join(root, 'deps', 'librdkafka', 'examples', 'rdkafka_performance')
  } catch {
    return 'node_modules/node-rdkafka (not installed)'
  }
}

/** Why a client cannot run here, or null. */
export function clientMissing(client: BrokerClient): string | null {
  if (client === 'kafkajs') return null
  if (client === 'rdkafka_performance') {
    return existsSync(RDKAFKA_PERFORMANCE) ? null : `${RDKAFKA_PERFORMANCE} is missing ` +
      '(node-rdkafka builds it with its bundled librdkafka during npm ci)'
  }
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' })
  return probe.error === undefined && probe.status === 0 ? null
    : 'kcat is not installed (apt-get install -y kcat; .ci/run does)'
}

function runBash(script: string, args: string[], timeoutMs: number)
  : Promise<{ stdout: string; elapsedMs: number }> {
  const started = nowMs()
  const child = spawn('bash', ['-c', script, 'bash', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-8192) })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      const elapsedMs = nowMs() - started
      if (code === 0) resolve({ stdout, elapsedMs })
      else reject(new Error(`bench: ${args.join(' ')} failed (${code ?? signal}): ${stderr}`))
    })
  })
}

/** One line per record, values without newlines, so kcat -P -l splits them back exactly. */
export async function writeRecordFile(file: string, recordBytes: number, records: number)
  : Promise<void> {
  const lines = logLineValues(recordBytes, 1024).map((value) =>
    Buffer.concat([Buffer.from(value.toString('latin1').replace(/\n/g, ' '), 'latin1'),
      Buffer.from('\n')]))
  const out = createWriteStream(file)
  for (let i = 0; i < records; i++) {
    if (!out.write(lines[i % lines.length]!)) {
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
    }
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) =>
    error ? reject(error) : resolve()))
}

/**
 * One measured child run under bash (its script ends with `times`): the broker's CPU and this
 * process's sampled around it, `check` given the output to refuse a short run.
 */
async function measureChild(broker: BrokerChild, script: string, args: string[],
  timeoutMs: number, run: { records: number; recordBytes: number; config: string },
  check: (stdout: string) => void): Promise<ClientRun> {
  const benchBefore = process.cpuUsage()
  const before = sampleCpu(broker.pid)
  const { stdout, elapsedMs } = await runBash(script, args, timeoutMs)
  const after = sampleCpu(broker.pid)
  check(stdout)
  return { records: run.records, payloadBytes: run.records * run.recordBytes, elapsedMs,
    clientCpuSec: parseTimes(stdout), broker: cpuBetween(before, after),
    benchCpuSec: cpuSeconds(process.cpuUsage(benchBefore)), config: run.config }
}

/** librdkafka's defaults (about 1 MB batches, pipelined requests) but acks=1, spelled out. */
const KCAT_PRODUCE_CONFIG = ['-X', 'acks=1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000',
  '-X', 'compression.codec=none', '-X', 'queue.buffering.max.kbytes=1048576']
const KCAT_FETCH_CONFIG = ['-X', 'fetch.max.bytes=52428800',
  '-X', 'max.partition.fetch.bytes=8388608', '-X', 'fetch.wait.max.ms=100']

export function kcatProduce(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number, file: string, timeoutMs: number): Promise<ClientRun> {
  const args = ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-l', file,
    ...KCAT_PRODUCE_CONFIG]
  return measureChild(broker, 'kcat "$@" || exit $?; times', args, timeoutMs,
    { records, recordBytes: c.recordBytes, config: `kcat ${KCAT_PRODUCE_CONFIG.join(' ')}` },
    () => {})
}

export function kcatFetch(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number, timeoutMs: number): Promise<ClientRun> {
  const args = ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e',
    '-q', '-f', '%o\\n', ...KCAT_FETCH_CONFIG]
  const script = 'kcat "$@" | tail -n 1; [ "${PIPESTATUS[0]}" = 0 ] || exit 1; times'
  return measureChild(broker, script, args, timeoutMs,
    { records, recordBytes: c.recordBytes, config: `kcat ${KCAT_FETCH_CONFIG.join(' ')}` },
    (stdout) => {
      const lastOffset = Number(stdout.trim().split('\n')[0])
      if (lastOffset !== records - 1) {
        throw new Error(`bench: kcat -C ended at offset ${lastOffset}, expected ${records - 1}`)
      }
    })
}

const PERF_SCRIPT = `"${RDKAFKA_PERFORMANCE}" "$@" 2>&1 || exit $?; times`
const PERF_PRODUCE_CONFIG = ['-a', '1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000']

/** librdkafka's benchmark: `-s` bytes of pattern payload per record, from memory, no key. */
export function perfProduce(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number, timeoutMs: number): Promise<ClientRun> {
  const args = ['-P', '-t', topic, '-p', '0', '-b', broker.bootstrap, '-s', String(c.recordBytes),
    '-c', String(records), '-q', ...PERF_PRODUCE_CONFIG]
  return measureChild(broker, PERF_SCRIPT, args, timeoutMs, { records,
    recordBytes: c.recordBytes, config: `rdkafka_performance ${PERF_PRODUCE_CONFIG.join(' ')}` },
  (stdout) => {
    if (!stdout.includes(`${records} delivered`) || !stdout.includes(' 0 failed)')) {
      throw new Error(`bench: rdkafka_performance did not deliver all ${records}: ${stdout}`)
    }
  })
}

export function perfFetch(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number, timeoutMs: number): Promise<ClientRun> {
  const args = ['-C', '-t', topic, '-p', '0', '-b', broker.bootstrap, '-c', String(records),
    '-o', 'beginning', '-q']
  return measureChild(broker, PERF_SCRIPT, args, timeoutMs,
    { records, recordBytes: c.recordBytes, config: 'rdkafka_performance -C' }, (stdout) => {
      if (!stdout.includes(`% ${records} messages`)) {
        throw new Error(`bench: rdkafka_performance did not consume all ${records}: ${stdout}`)
      }
    })
}

export async function kafkajsProduce(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number): Promise<ClientRun> {
  const values = logLineValues(c.recordBytes, 1024)
  const batches = Array.from({ length: 16 }, (_, b) => Array.from(
    { length: KAFKAJS_BATCH_RECORDS },
    (_, i) => ({ value: values[(b * 61 + i) % values.length]! })))
  const producer = new Kafka({ clientId: 'sluice-bench', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING }).producer()
  await producer.connect()
  try {
    const sends = Math.ceil(records / KAFKAJS_BATCH_RECORDS)
    let next = 0
    const before = sampleCpu(broker.pid)
    const cpuBefore = process.cpuUsage()
    const started = nowMs()
    await Promise.all(Array.from({ length: KAFKAJS_IN_FLIGHT }, async () => {
      while (next < sends) {
        const batch = batches[next++ % batches.length]!
        await producer.send({ topic, acks: 1, messages: batch })
      }
    }))
    const elapsedMs = nowMs() - started
    const clientCpuSec = cpuSeconds(process.cpuUsage(cpuBefore))
    const sent = sends * KAFKAJS_BATCH_RECORDS
    return { records: sent, payloadBytes: sent * c.recordBytes, elapsedMs, clientCpuSec,
      broker: cpuBetween(before, sampleCpu(broker.pid)),
      config: `kafkajs send of ${KAFKAJS_BATCH_RECORDS} records, ${KAFKAJS_IN_FLIGHT} in ` +
        'flight, acks 1' }
  } finally {
    await producer.disconnect()
  }
}

/**
 * Measured from the first batch to the last, so the group join is not counted as fetching; when
 * one batch held everything (tiny runs), from consumer.run() to it, join included.
 */
export async function kafkajsFetch(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number, timeoutMs: number): Promise<ClientRun> {
  const consumer = new Kafka({ clientId: 'sluice-bench', brokers: [broker.bootstrap],
    logLevel: logLevel.NOTHING }).consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 100,
    maxBytes: 64 * MIB, maxBytesPerPartition: 8 * MIB })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const mark = () => ({ at: nowMs(), broker: sampleCpu(broker.pid), cpu: process.cpuUsage() })
    const runStart = { ...mark(), count: 0 }
    const marks: { first: typeof runStart | null } = { first: null }
    let seen = 0
    const last = await new Promise<ReturnType<typeof mark>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `bench: kafkajs read ${seen} of ${records} records in ${timeoutMs} ms`)), timeoutMs)
      void consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => {
        marks.first ??= { ...mark(), count: batch.messages.length }
        seen += batch.messages.length
        if (seen < records) return
        clearTimeout(timer)
        resolve(mark())
      } }).catch(reject)
    })
    const from = marks.first !== null && marks.first.count < records ? marks.first : runStart
    const counted = records - from.count
    const cpu = { user: last.cpu.user - from.cpu.user, system: last.cpu.system - from.cpu.system }
    return { records: counted, payloadBytes: counted * c.recordBytes, elapsedMs: last.at - from.at,
      clientCpuSec: cpuSeconds(cpu), broker: cpuBetween(from.broker, last.broker),
      config: 'kafkajs consumer eachBatch, maxBytes 64 MiB, maxBytesPerPartition 8 MiB' +
        (from.count === 0 ? ', timed from consumer.run (group join included)' : '') }
  } finally {
    await consumer.disconnect()
  }
}
