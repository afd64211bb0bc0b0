/**
 * Broker throughput over loopback: `sluice broker` as a child process (what a user runs), fed and
 * drained by real Kafka clients, beside the embedded `Log` doing the same work in the same run.
 *
 *   librdkafka  kcat -P of a file of records (one per line), then kcat -C -e of all of them;
 *               and librdkafka's own rdkafka_performance -P / -C (records from memory)
 *   kafkajs     producer.send of 1000-record batches, 4 in flight; then a group consumer's
 *               eachBatch from the beginning
 *   embedded    Log.appendBatch of the same record size and durability, then readBatches (cold)
 *
 * Every figure names what bounds it. Beside records/s and payload MB/s (record values only) it
 * reports CPU in cores (CPU seconds / wall seconds) for the broker process, for the broker's main
 * thread alone (the protocol and the event loop live there; the shards are worker threads), and
 * for the client, read from /proc/<pid>/task/<tid>/stat for the broker, bash's `times` for kcat
 * and process.cpuUsage() for kafkajs (which runs in this process), plus what every other process
 * on the machine used meanwhile (from /proc/stat), since the cores are shared. The verdict says
 * which side is the bottleneck from CPU cost per MB (see `ceilings`), which stays fair when other
 * work shares the cores, and what was observed (a side saturated, or all cores busy).
 *
 * The issue's target, judged on the librdkafka produce figure: ≥ 300 MB/s of 1 KiB records with
 * durability `os`. The kafkajs target (the client's CPU, not the broker's, is the bottleneck)
 * is judged in the verdict note and the `client is the bottleneck` figure (1 = yes).
 *
 * Run: `npm run bench:broker` (full), or `node dist/bench/scenarios/broker.js --quick`.
 * The cases come from brokerPlan() in bench/plan.ts; results go to bench-results/<time>/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'
import type { Durability } from '../../src/engine/types.js'
import { logLineValues } from '../data/log-lines.js'
import { DISK_LIMIT_NAMES } from '../limits/disk.js'
import { MEMCPY_LIMIT, sizeLabel } from '../limits/cpu.js'
import { findLimit, measureLimits } from '../limits/index.js'
import { MIB, megabytesPerSec, nowMs, perSec } from '../measure.js'
import { brokerPlan, buildPlan } from '../plan.js'
import {
  RESULTS_SCHEMA, figure, type BenchMode, type BenchResults, type Figure, type Limit,
  type ScenarioResult,
} from '../results.js'
import { writeResults } from '../runner.js'
import { withBenchLog } from './engine.js'
import { runAppendCase } from './append.js'
import { runReadCase } from './read.js'

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

export interface BrokerPhase {
  /** records each librdkafka (kcat) case produces and then fetches */
  librdkafkaRecords: number
  /** records each kafkajs case produces and then fetches (kafkajs is far slower) */
  kafkajsRecords: number
  /** bound on any one client run; a run past it fails the bench */
  clientTimeoutMs: number
  /** the embedded baseline's measured phase */
  embeddedMeasureMs: number
  /** bytes the embedded cold-read baseline fills its partition with */
  embeddedReadFillBytes: number
}

const LIBRDKAFKA_TARGET_MBS = 300
const KAFKAJS_BATCH_RECORDS = 1000
const KAFKAJS_IN_FLIGHT = 4
const SATURATED_CORES = 0.85
const CLK_TCK = clockTicks()
/** The compiled CLI, from dist/bench/scenarios/ or (under vitest) from bench/scenarios/. */
const CLI_PATH = fileURLToPath(new URL(import.meta.url.endsWith('.ts')
  ? '../../dist/src/cli/main.js' : '../../src/cli/main.js', import.meta.url))
const RDKAFKA_PERFORMANCE = rdkafkaPerformancePath()

function rdkafkaPerformancePath(): string {
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('node-rdkafka/package.json'))
    return path.join(root, 'deps', 'librdkafka', 'examples', 'rdkafka_performance')
  } catch {
    return 'node_modules/node-rdkafka (not installed)'
  }
}

export function brokerCaseName(c: BrokerCase, direction: 'produce' | 'fetch'): string {
  return `broker/${direction}/${c.client}/${sizeLabel(c.recordBytes)}/${c.durability}`
}

function clockTicks(): number {
  const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const ticks = Number(probe.stdout?.trim())
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
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

// ---- CPU ---------------------------------------------------------------------------------------

interface CpuSample {
  totalSec: number
  mainThreadSec: number
  /** busy CPU of the whole machine, every process (only meaningful as a difference) */
  machineSec: number
}

/** utime + stime of every thread of `pid` (fields 14 and 15 of stat, after the comm field). */
function sampleCpu(pid: number): CpuSample {
  let totalTicks = 0
  let mainTicks = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue // a thread that ended between readdir and read
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    totalTicks += ticks
    if (Number(tid) === pid) mainTicks = ticks
  }
  return { totalSec: totalTicks / CLK_TCK, mainThreadSec: mainTicks / CLK_TCK,
    machineSec: machineBusySec() }
}

/** Busy CPU seconds of the whole machine so far (all cores), from the first line of /proc/stat. */
function machineBusySec(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1)
    .map(Number)
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0)
  return busy / CLK_TCK
}

function cpuBetween(before: CpuSample, after: CpuSample): CpuSample {
  return { totalSec: after.totalSec - before.totalSec,
    mainThreadSec: after.mainThreadSec - before.mainThreadSec,
    machineSec: after.machineSec - before.machineSec }
}

/** Parses bash's `times`: the second line is the children's user and system time. */
function parseTimes(text: string): number {
  const lines = text.trim().split('\n').slice(-2)
  const seconds = (field: string) => {
    const match = /^(\d+)m([\d.]+)s$/.exec(field)
    if (match === null) throw new Error(`bench: cannot read bash times output: ${text}`)
    return Number(match[1]) * 60 + Number(match[2])
  }
  const [user, system] = (lines[1] ?? '').trim().split(/\s+/)
  return seconds(user ?? '') + seconds(system ?? '')
}

// ---- the broker process ------------------------------------------------------------------------

interface BrokerChild {
  child: ChildProcess
  pid: number
  bootstrap: string
  stop(): Promise<void>
}

async function startBrokerChild(dataDir: string, durability: Durability): Promise<BrokerChild> {
  const child = spawn(process.execPath, [CLI_PATH, 'broker', '--data-dir', dataDir,
    '--listen', '127.0.0.1:0', '--default-durability', durability],
  { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const listening = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 20_000)
    const check = () => {
      const match = /sluice broker listening on (\S+:\d+)\n/.exec(output)
      if (match === null && child.exitCode === null) return
      clearTimeout(timer)
      resolve(match?.[1] ?? null)
    }
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); check() })
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8192)
    })
    child.once('exit', check)
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    await exited
    clearTimeout(timer)
  }
  if (listening === null || child.pid === undefined) {
    await stop()
    throw new Error(`bench: sluice broker did not start: ${output}`)
  }
  return { child, pid: child.pid, bootstrap: listening, stop }
}

async function createTopic(bootstrap: string, topic: string, durability: Durability)
  : Promise<void> {
  const admin = new Kafka({ clientId: 'sluice-bench-admin', brokers: [bootstrap],
    logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1,
      configEntries: [{ name: 'sluice.durability', value: durability }] }] })
  } finally {
    await admin.disconnect()
  }
}

// ---- one measured client run -------------------------------------------------------------------

interface Run {
  /** this process's CPU during the run when the client is not this process (kcat) */
  benchCpuSec?: number
  records: number
  payloadBytes: number
  elapsedMs: number
  clientCpuSec: number
  broker: CpuSample
  config: string
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
async function writeRecordFile(file: string, recordBytes: number, records: number)
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

/** librdkafka's defaults (about 1 MB batches, pipelined requests) but acks=1, spelled out. */
const KCAT_PRODUCE_CONFIG = ['-X', 'acks=1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000',
  '-X', 'compression.codec=none', '-X', 'queue.buffering.max.kbytes=1048576']
const KCAT_FETCH_CONFIG = ['-X', 'fetch.max.bytes=52428800',
  '-X', 'max.partition.fetch.bytes=8388608', '-X', 'fetch.wait.max.ms=100']

async function kcatProduce(broker: BrokerChild, topic: string, c: BrokerCase, records: number,
  file: string, timeoutMs: number): Promise<Run> {
  const args = ['-P', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-l', file,
    ...KCAT_PRODUCE_CONFIG]
  const benchBefore = process.cpuUsage()
  const before = sampleCpu(broker.pid)
  const { stdout, elapsedMs } = await runBash('kcat "$@" || exit $?; times', args, timeoutMs)
  const after = sampleCpu(broker.pid)
  return { records, payloadBytes: records * c.recordBytes, elapsedMs,
    clientCpuSec: parseTimes(stdout), broker: cpuBetween(before, after),
    benchCpuSec: cpuSeconds(process.cpuUsage(benchBefore)),
    config: `kcat ${KCAT_PRODUCE_CONFIG.join(' ')}` }
}

async function kcatFetch(broker: BrokerChild, topic: string, c: BrokerCase, records: number,
  timeoutMs: number): Promise<Run> {
  const args = ['-C', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-e',
    '-q', '-f', '%o\\n', ...KCAT_FETCH_CONFIG]
  const benchBefore = process.cpuUsage()
  const before = sampleCpu(broker.pid)
  const script = 'kcat "$@" | tail -n 1; [ "${PIPESTATUS[0]}" = 0 ] || exit 1; times'
  const { stdout, elapsedMs } = await runBash(script, args, timeoutMs)
  const after = sampleCpu(broker.pid)
  const lastOffset = Number(stdout.trim().split('\n')[0])
  if (lastOffset !== records - 1) {
    throw new Error(`bench: kcat -C ended at offset ${lastOffset}, expected ${records - 1}`)
  }
  return { records, payloadBytes: records * c.recordBytes, elapsedMs,
    clientCpuSec: parseTimes(stdout), broker: cpuBetween(before, after),
    benchCpuSec: cpuSeconds(process.cpuUsage(benchBefore)),
    config: `kcat ${KCAT_FETCH_CONFIG.join(' ')}` }
}

const PERF_SCRIPT = `"${RDKAFKA_PERFORMANCE}" "$@" 2>&1 || exit $?; times`
const PERF_PRODUCE_CONFIG = ['-a', '1', '-X', 'linger.ms=5', '-X', 'batch.size=1000000']

/** librdkafka's benchmark: `-s` bytes of pattern payload per record, from memory, no key. */
async function perfProduce(broker: BrokerChild, topic: string, c: BrokerCase, records: number,
  timeoutMs: number): Promise<Run> {
  const args = ['-P', '-t', topic, '-p', '0', '-b', broker.bootstrap, '-s', String(c.recordBytes),
    '-c', String(records), '-q', ...PERF_PRODUCE_CONFIG]
  const benchBefore = process.cpuUsage()
  const before = sampleCpu(broker.pid)
  const { stdout, elapsedMs } = await runBash(PERF_SCRIPT, args, timeoutMs)
  const after = sampleCpu(broker.pid)
  if (!stdout.includes(`${records} delivered`) || !stdout.includes(' 0 failed)')) {
    throw new Error(`bench: rdkafka_performance did not deliver all ${records}: ${stdout}`)
  }
  return { records, payloadBytes: records * c.recordBytes, elapsedMs,
    clientCpuSec: parseTimes(stdout), broker: cpuBetween(before, after),
    benchCpuSec: cpuSeconds(process.cpuUsage(benchBefore)),
    config: `rdkafka_performance ${PERF_PRODUCE_CONFIG.join(' ')}` }
}

async function perfFetch(broker: BrokerChild, topic: string, c: BrokerCase, records: number,
  timeoutMs: number): Promise<Run> {
  const args = ['-C', '-t', topic, '-p', '0', '-b', broker.bootstrap, '-c', String(records),
    '-o', 'beginning', '-q']
  const benchBefore = process.cpuUsage()
  const before = sampleCpu(broker.pid)
  const { stdout, elapsedMs } = await runBash(PERF_SCRIPT, args, timeoutMs)
  const after = sampleCpu(broker.pid)
  if (!stdout.includes(`% ${records} messages`)) {
    throw new Error(`bench: rdkafka_performance did not consume all ${records}: ${stdout}`)
  }
  return { records, payloadBytes: records * c.recordBytes, elapsedMs,
    clientCpuSec: parseTimes(stdout), broker: cpuBetween(before, after),
    benchCpuSec: cpuSeconds(process.cpuUsage(benchBefore)), config: 'rdkafka_performance -C' }
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6
}

async function kafkajsProduce(broker: BrokerChild, topic: string, c: BrokerCase,
  records: number): Promise<Run> {
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
async function kafkajsFetch(broker: BrokerChild, topic: string, c: BrokerCase, records: number,
  timeoutMs: number): Promise<Run> {
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

// ---- figures -----------------------------------------------------------------------------------

function payloadLimit(durability: Durability, direction: 'produce' | 'fetch',
  limits: readonly Limit[]): Limit {
  if (direction === 'fetch') return findLimit(limits, DISK_LIMIT_NAMES.read)
  if (durability === 'fsync') return findLimit(limits, DISK_LIMIT_NAMES.writeSync)
  if (durability === 'os') return findLimit(limits, DISK_LIMIT_NAMES.writeOs)
  return findLimit(limits, MEMCPY_LIMIT)
}

/**
 * CPU cost per MB does not depend on who else shares the cores, so the ceilings it implies are
 * the fair answer to "who is the bottleneck" on a busy machine: the client can go no faster
 * than one core / its ms per MB (kafkajs is one thread; kcat does its work on about one), the
 * broker no faster than its main thread allows (the protocol runs there) nor than all cores
 * allow its total, and the pair no faster than all cores / their summed cost.
 */
interface Ceilings {
  clientMBs: number
  brokerMBs: number
  machineMBs: number
}

function ceilings(run: Run): Ceilings {
  const mb = run.payloadBytes / 1e6
  const cores = os.availableParallelism()
  const perMb = (seconds: number) => Math.max(seconds, 1e-9) / mb
  return {
    clientMBs: 1 / perMb(run.clientCpuSec),
    brokerMBs: Math.min(1 / perMb(run.broker.mainThreadSec), cores / perMb(run.broker.totalSec)),
    machineMBs: cores / perMb(run.clientCpuSec + run.broker.totalSec),
  }
}

interface Verdict {
  clientBound: boolean
  text: string
}

function verdict(run: Run): Verdict {
  const seconds = run.elapsedMs / 1000
  const clientCores = run.clientCpuSec / seconds
  const brokerCores = run.broker.totalSec / seconds
  const brokerMain = run.broker.mainThreadSec / seconds
  const cores = os.availableParallelism()
  const otherCores = otherProcessesCores(run)
  const shares = `client ${clientCores.toFixed(2)} cores, broker ${brokerCores.toFixed(2)} ` +
    `(main thread ${brokerMain.toFixed(2)}), other processes ${otherCores.toFixed(2)}, of ${cores}`
  const limit = ceilings(run)
  const clientBound = limit.clientMBs <= limit.brokerMBs
  const observed = clientCores + brokerCores + otherCores >= SATURATED_CORES * cores
    ? `all cores were busy${otherCores >= 0.25 ? ', other processes among them (contended)' : ''}`
    : Math.max(clientCores, brokerMain) >= SATURATED_CORES ? 'one side saturated a core'
      : 'no side saturated a core (waiting or round trips bound it)'
  return { clientBound, text: `${clientBound ? 'client' : 'broker'}-bound by CPU cost: client ` +
    `ceiling ${limit.clientMBs.toFixed(0)} MB/s, broker ${limit.brokerMBs.toFixed(0)} MB/s, both ` +
    `on ${cores} cores ${limit.machineMBs.toFixed(0)} MB/s; measured ${shares}; ${observed}` }
}

/** What the rest of the machine (not this bench, not the broker, not kcat) used meanwhile. */
function otherProcessesCores(run: Run): number {
  const seconds = run.elapsedMs / 1000
  const bench = run.benchCpuSec ?? 0
  return Math.max(0, (run.broker.machineSec - run.broker.totalSec - run.clientCpuSec - bench)
    / seconds)
}

function runFigures(run: Run, c: BrokerCase, direction: 'produce' | 'fetch',
  limits: readonly Limit[], embedded: Figure | undefined): Figure[] {
  const seconds = run.elapsedMs / 1000
  const mbs = megabytesPerSec(run.payloadBytes, run.elapsedMs)
  const judged = direction === 'produce' && c.client !== 'kafkajs' && c.durability === 'os'
    && c.recordBytes === 1024
  const figures = [
    figure(direction === 'fetch' ? 'decoded records/s' : 'records/s',
      perSec(run.records, run.elapsedMs), 'records/s'),
    figure('payload MB/s', mbs, 'MB/s', payloadLimit(c.durability, direction, limits), judged
      ? { description: `librdkafka produce of 1 KiB records, durability os, ≥ ` +
        `${LIBRDKAFKA_TARGET_MBS} MB/s`, value: LIBRDKAFKA_TARGET_MBS, appliesTo: 'value' }
      : undefined),
    figure('broker CPU', run.broker.totalSec / seconds, 'cores'),
    figure('broker main-thread CPU', run.broker.mainThreadSec / seconds, 'cores'),
    figure('client CPU', run.clientCpuSec / seconds, 'cores'),
    figure('other processes CPU', otherProcessesCores(run), 'cores'),
    figure('broker CPU per MB', run.broker.totalSec * 1000 / (run.payloadBytes / 1e6), 'ms/MB'),
    figure('client CPU per MB', run.clientCpuSec * 1000 / (run.payloadBytes / 1e6), 'ms/MB'),
  ]
  const bound = verdict(run)
  const limit = ceilings(run)
  figures.push(figure('client CPU ceiling', limit.clientMBs, 'MB/s'),
    figure('broker CPU ceiling', limit.brokerMBs, 'MB/s'),
    figure('client + broker CPU ceiling on this machine', limit.machineMBs, 'MB/s'))
  figures.push(figure('client is the bottleneck', bound.clientBound ? 1 : 0, 'boolean',
    undefined, c.client === 'kafkajs'
      ? { description: 'with kafkajs the client CPU, not the broker, is the bottleneck',
        value: 1, appliesTo: 'value' }
      : undefined))
  if (embedded !== undefined) {
    figures.push(figure(`payload MB/s vs embedded`, mbs, 'MB/s',
      { name: `embedded ${embedded.name}`, value: embedded.value, unit: embedded.unit }))
  }
  return figures
}

function scenarioOf(run: Run, c: BrokerCase, direction: 'produce' | 'fetch',
  limits: readonly Limit[], embedded: Figure | undefined): ScenarioResult {
  const figures = runFigures(run, c, direction, limits, embedded)
  const mbs = figures.find((f) => f.name === 'payload MB/s')!
  return {
    name: brokerCaseName(c, direction),
    kind: direction === 'produce' ? 'append' : 'read',
    params: { ...c, direction, records: run.records, partitions: 1, transport: 'loopback TCP',
      clientConfig: run.config },
    figures,
    notes: [`${mbs.value.toFixed(0)} MB/s, ${run.records} records in ` +
      `${run.elapsedMs.toFixed(0)} ms; ${verdict(run).text}`],
  }
}

// ---- the scenario ------------------------------------------------------------------------------

interface Embedded {
  scenarios: ScenarioResult[]
  produce: Figure | undefined
  fetch: Figure | undefined
}

/** The embedded Log doing the broker's work: appendBatch of stored batches, cold readBatches. */
async function runEmbedded(recordBytes: number, durability: Durability, phase: BrokerPhase,
  dataRoot: string, limits: readonly Limit[]): Promise<Embedded> {
  const label = `${sizeLabel(recordBytes)}/${durability}`
  const append = await withBenchLog(dataRoot, `broker-embedded-append-${label.replace('/', '-')}`,
    (bench) => runAppendCase(bench, { recordBytes, partitions: 1, durability,
      compression: 'none', api: 'appendBatch' }, { warmupMs: 300,
      measureMs: phase.embeddedMeasureMs, inFlightPerPartition: 4 }, limits))
  const read = await withBenchLog(dataRoot, `broker-embedded-read-${label.replace('/', '-')}`,
    (bench) => runReadCase(bench, { recordBytes, where: 'cold', compression: 'none' },
      { hotFillBytes: MIB, coldFillBytes: phase.embeddedReadFillBytes, coldSegmentBytes: 4 * MIB,
        measureMs: phase.embeddedMeasureMs, maxBytes: MIB }, limits))
  const produce = append.figures.find((f) => f.name === 'payload MB/s')
  const fetch = read.figures.find((f) => f.name === 'stored batches MB/s')
  return {
    scenarios: [{ ...append, name: `broker/embedded/append/${label}` },
      { ...read, name: `broker/embedded/read-cold/${sizeLabel(recordBytes)}` }],
    produce: produce && { ...produce, name: 'append payload MB/s' },
    fetch: fetch && { ...fetch, name: 'cold readBatches MB/s' },
  }
}

async function runClientCase(c: BrokerCase, phase: BrokerPhase, dataRoot: string,
  limits: readonly Limit[], embedded: Embedded): Promise<ScenarioResult[]> {
  const caseDir = path.join(dataRoot, `broker-${c.client}-${sizeLabel(c.recordBytes)}`)
  rmSync(caseDir, { recursive: true, force: true })
  mkdirSync(caseDir, { recursive: true })
  const broker = await startBrokerChild(path.join(caseDir, 'data'), c.durability)
  try {
    const topic = `bench-${c.client}`
    await createTopic(broker.bootstrap, topic, c.durability)
    let produced: Run
    let fetched: Run
    if (c.client === 'kcat') {
      const file = path.join(caseDir, 'records.txt')
      await writeRecordFile(file, c.recordBytes, phase.librdkafkaRecords)
      produced = await kcatProduce(broker, topic, c, phase.librdkafkaRecords, file,
        phase.clientTimeoutMs)
      rmSync(file, { force: true })
      fetched = await kcatFetch(broker, topic, c, phase.librdkafkaRecords, phase.clientTimeoutMs)
    } else if (c.client === 'rdkafka_performance') {
      produced = await perfProduce(broker, topic, c, phase.librdkafkaRecords,
        phase.clientTimeoutMs)
      fetched = await perfFetch(broker, topic, c, phase.librdkafkaRecords, phase.clientTimeoutMs)
    } else {
      produced = await kafkajsProduce(broker, topic, c, phase.kafkajsRecords)
      fetched = await kafkajsFetch(broker, topic, c, produced.records, phase.clientTimeoutMs)
    }
    return [scenarioOf(produced, c, 'produce', limits, embedded.produce),
      scenarioOf(fetched, c, 'fetch', limits, embedded.fetch)]
  } finally {
    await broker.stop()
    rmSync(caseDir, { recursive: true, force: true })
  }
}

export interface BrokerRun {
  scenarios: ScenarioResult[]
  skipped: { name: string; reason: string }[]
}

/** Runs the embedded baseline once per (size, durability), then every client case. */
export async function runBrokerScenarios(cases: readonly BrokerCase[], phase: BrokerPhase,
  dataRoot: string, limits: readonly Limit[], step: (label: string) => void = () => undefined)
  : Promise<BrokerRun> {
  const run: BrokerRun = { scenarios: [], skipped: [] }
  const baselines = new Map<string, Embedded>()
  for (const c of cases) {
    const missing = clientMissing(c.client)
    if (missing !== null) {
      run.skipped.push({ name: brokerCaseName(c, 'produce'), reason: missing })
      continue
    }
    const key = `${c.recordBytes}/${c.durability}`
    let embedded = baselines.get(key)
    if (embedded === undefined) {
      step(`broker/embedded/${sizeLabel(c.recordBytes)}/${c.durability}`)
      embedded = await runEmbedded(c.recordBytes, c.durability, phase, dataRoot, limits)
      baselines.set(key, embedded)
      run.scenarios.push(...embedded.scenarios)
    }
    step(brokerCaseName(c, 'produce'))
    run.scenarios.push(...await runClientCase(c, phase, dataRoot, limits, embedded))
  }
  return run
}

// ---- standalone entry: node dist/bench/scenarios/broker.js [--quick|--full|--tiny] [--out D] --

function printSummary(results: BenchResults): void {
  const value = (s: ScenarioResult, name: string) => s.figures.find((f) => f.name === name)
  for (const s of results.scenarios) {
    const mbs = value(s, 'payload MB/s') ?? value(s, 'stored batches MB/s')
    const target = mbs?.target === undefined ? '' : mbs.target.met ? ' [target met]'
      : ` [target MISSED: ≥ ${mbs.target.value} MB/s]`
    const cpu = ['broker CPU', 'broker main-thread CPU', 'client CPU']
      .map((n) => value(s, n)).filter((f) => f !== undefined)
      .map((f) => `${f.name} ${f.value.toFixed(2)}`).join(', ')
    const vs = value(s, 'payload MB/s vs embedded')
    process.stdout.write(`${s.name}: ${(mbs?.value ?? 0).toFixed(0)} MB/s${target}` +
      `${cpu === '' ? '' : `; ${cpu} cores`}` +
      `${vs === undefined ? '' : `; ${((vs.ratio ?? 0) * 100).toFixed(0)}% of embedded`}\n`)
    for (const note of s.kind === 'append' || s.kind === 'read' ? s.notes ?? [] : []) {
      if (s.name.startsWith('broker/produce') || s.name.startsWith('broker/fetch')) {
        process.stdout.write(`  ${note}\n`)
      }
    }
  }
  for (const skip of results.skipped) process.stdout.write(`skipped ${skip.name}: ${skip.reason}\n`)
}

async function main(argv: string[]): Promise<void> {
  const mode: BenchMode = argv.includes('--quick') ? 'quick' : argv.includes('--tiny') ? 'tiny'
    : 'full'
  const outAt = argv.indexOf('--out')
  const outRoot = outAt >= 0 ? argv[outAt + 1] ?? 'bench-results' : 'bench-results'
  const startedAt = new Date()
  const dataRoot = path.join(os.tmpdir(), `sluice-bench-broker-${process.pid}`)
  mkdirSync(dataRoot, { recursive: true })
  try {
    const plan = brokerPlan(mode)
    const limits = measureLimits(buildPlan(mode).limits, path.join(dataRoot, 'limits'),
      [...new Set(plan.cases.map((c) => c.recordBytes))])
    const run = await runBrokerScenarios(plan.cases, plan.phase, dataRoot, limits,
      (label) => process.stderr.write(`${label}\n`))
    const results: BenchResults = { schema: RESULTS_SCHEMA, startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(), mode, scenarioFilter: 'broker',
      machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model.trim() ?? '',
        totalMemoryBytes: os.totalmem(), node: process.version,
        platform: `${os.platform()} ${os.release()}`, dataDir: dataRoot },
      limits, scenarios: run.scenarios, skipped: run.skipped }
    const written = writeResults(results, outRoot, startedAt)
    printSummary(results)
    process.stdout.write(`\nresults: ${written.jsonPath}\nreport:  ${written.htmlPath}\n`)
  } finally {
    rmSync(dataRoot, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  })
}
