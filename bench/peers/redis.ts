/**
 * Redis Streams as a peer: Debian's redis-server, driven by node-redis (`redis` on npm, the
 * client Redis maintains), one stream standing for one sluice partition.
 *
 *   publish  XADD <stream> * v <record>, pipelined: node-redis writes every command issued in
 *            the same turn in one go; the records in flight are spread over as many
 *            connections as sluice's case has appends in flight (4)
 *   latency  the open-loop producer XADDs each record on its own connection; a reader on a
 *            second connection loops XREAD BLOCK <pullMaxWaitMs> COUNT 1000 from the last id it
 *            saw. That is Redis Streams' only delivery path (XREADGROUP is the same long poll
 *            with a group's bookkeeping), so it stands beside sluice's pull; Redis has no push
 *            delivery for streams (Pub/Sub pushes, but stores nothing).
 *
 * Durability, set on the command line and read back with CONFIG GET:
 *   sluice fsync ≈ appendonly yes, appendfsync always: Redis writes the AOF and fdatasyncs it
 *                  before it sends the replies of one event-loop pass (a group commit, as
 *                  sluice's shard does)
 *   sluice os    ≈ appendonly yes, appendfsync everysec: the AOF is written before the replies
 *                  (survives a crash of redis-server, not a power cut) and fsynced once a second
 * RDB snapshots are off (`save ""`) so a background save cannot land inside a measured phase.
 */
import type { RedisClientType } from 'redis'
import { latencyHistogram, nowMs, percentilesOf } from '../measure.js'
import type { LatencySeries, ScenarioResult } from '../results.js'
import type { AppendPhase } from '../scenarios/append.js'
import type { LatencyPhase } from '../scenarios/latency.js'
import {
  drain, produceOpenLoop, readStamp, scheduleAt, seriesOf, Tally, undeliveredNote,
} from '../scenarios/open-loop.js'
import { freePort, withServer, type ServerSpec } from './server-process.js'
import {
  drivePublish, packageVersion, type ComparedDurability, type PeerCase,
  type PeerLatencyRun, type PeerSetup, type SendLag,
} from './workload.js'

const STREAM_KEY = 'bench'
const READ_COUNT = 1000

const APPENDFSYNC: Record<ComparedDurability, string> = { fsync: 'always', os: 'everysec' }
const COMPARISON: Record<ComparedDurability, string> = {
  fsync: 'AOF fdatasync before the replies of each event-loop pass (group commit), as sluice ' +
    'fsync acks after one fdatasync covering every append meanwhile',
  os: 'AOF written before the reply, fsynced once a second: like sluice os (survives a crash ' +
    'of the server process, not a power cut), plus a periodic sync sluice os does not promise',
}

type RedisModule = typeof import('redis')

function redisSpec(executable: string, durability: ComparedDurability) {
  return async (dataDir: string): Promise<ServerSpec> => {
    const port = await freePort()
    return { label: 'redis-server', executable,
      args: ['--bind', '127.0.0.1', '--port', String(port), '--dir', dataDir,
        '--appendonly', 'yes', '--appendfsync', APPENDFSYNC[durability], '--save', '',
        '--daemonize', 'no', '--logfile', ''],
      ready: /Ready to accept connections/, port }
  }
}

async function connect(redis: RedisModule, port: number): Promise<RedisClientType> {
  const client = redis.createClient({ socket: { host: '127.0.0.1', port,
    reconnectStrategy: false } }) as RedisClientType
  client.on('error', () => undefined) // a failed command rejects its own promise
  await client.connect()
  return client
}

/** Versions and the durability as the server reports it (so a config typo cannot hide). */
async function setupOf(client: RedisClientType, durability: ComparedDurability,
  connections: number): Promise<PeerSetup> {
  const info = await client.info('server')
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  const config = await client.configGet('append*')
  if (config['appendonly'] !== 'yes' || config['appendfsync'] !== APPENDFSYNC[durability]) {
    throw new Error(`bench: redis-server reports appendonly=${String(config['appendonly'])} ` +
      `appendfsync=${String(config['appendfsync'])}, not yes/${APPENDFSYNC[durability]}`)
  }
  return { server: `redis-server ${version}`,
    client: `redis (node-redis) ${packageVersion('redis')}`,
    durabilitySetting: `appendonly yes, appendfsync ${config['appendfsync']}, save ""`,
    durabilityLabel: `AOF appendfsync ${config['appendfsync']}`,
    durabilityComparison: COMPARISON[durability], connections }
}

export interface RedisRun {
  setup: PeerSetup
  outcome: Awaited<ReturnType<typeof drivePublish>>
}

export async function redisPublish(executable: string, c: PeerCase, phase: AppendPhase,
  root: string): Promise<RedisRun> {
  const redis = await import('redis')
  return withServer(root, redisSpec(executable, c.durability), async (server) => {
    // One connection per sluice append slot: redis-server reads at most 16 KiB from a
    // connection per event-loop pass, so one connection would cap it below what it can do.
    const clients = await Promise.all(Array.from({ length: phase.inFlightPerPartition },
      () => connect(redis, server.port)))
    try {
      const setup = await setupOf(clients[0]!, c.durability, clients.length)
      const outcome = await drivePublish((v, slot) =>
        clients[slot % clients.length]!.xAdd(STREAM_KEY, '*', { v }), c, phase, server.pid)
      return { setup, outcome }
    } finally {
      for (const client of clients) client.destroy()
    }
  })
}

interface StreamReply { messages: { id: Buffer | string; message: Record<string, Buffer> }[] }

async function readLoop(redis: RedisModule, reader: RedisClientType, tally: Tally,
  blockMs: number, stop: { requested: boolean }): Promise<void> {
  const buffers = reader.withTypeMapping({ [redis.RESP_TYPES.BLOB_STRING]: Buffer })
  let lastId = '0-0'
  while (!stop.requested && tally.delivered < tally.schedule.total) {
    const reply = await buffers.xRead({ key: STREAM_KEY, id: lastId },
      { BLOCK: blockMs, COUNT: READ_COUNT }) as unknown as StreamReply[] | null
    const deliveredMs = nowMs()
    for (const stream of reply ?? []) {
      for (const entry of stream.messages) {
        tally.deliver(readStamp(entry.message['v']!), deliveredMs)
      }
      const last = stream.messages.at(-1)
      if (last !== undefined) lastId = last.id.toString()
    }
  }
}

export async function redisLatency(executable: string, c: PeerCase, phase: LatencyPhase,
  root: string): Promise<PeerLatencyRun> {
  const redis = await import('redis')
  const series: LatencySeries[] = []
  const sendLags: SendLag[] = []
  const notes: string[] = []
  let setup: PeerSetup | null = null
  for (const rate of c.ratesPerSec) {
    await withServer(root, redisSpec(executable, c.durability), async (server) => {
      const producer = await connect(redis, server.port)
      const reader = await connect(redis, server.port)
      try {
        setup = await setupOf(producer, c.durability, 2)
        const schedule = scheduleAt(rate, phase.warmupMs, phase.measureMs)
        const sendLag = latencyHistogram()
        const tally = new Tally(schedule)
        const stop = { requested: false }
        const reading = readLoop(redis, reader, tally, phase.pullMaxWaitMs, stop)
        // If producing fails, the reader dies with its connection: its rejection is not news.
        reading.catch(() => undefined)
        await produceOpenLoop(schedule, c.recordBytes, phase.maxRecordsPerAppend,
          sendLag, (values) =>
            Promise.all(values.map((v) => producer.xAdd(STREAM_KEY, '*', { v }))))
        await drain([tally.done], phase.drainTimeoutMs)
        stop.requested = true
        const undelivered = tally.chargeUndelivered()
        await reading
        if (undelivered > 0) {
          notes.push(undeliveredNote('pull', rate, undelivered, phase.drainTimeoutMs))
        }
        series.push(seriesOf('pull', rate, tally.histogram, phase.measureMs))
        sendLags.push({ rate, percentilesUs: percentilesOf(sendLag) })
      } finally {
        producer.destroy()
        reader.destroy()
      }
    })
  }
  return { setup: setup!, series, sendLag: sendLags, notes }
}
