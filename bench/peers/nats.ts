/**
 * NATS JetStream as a peer: Debian's nats-server with JetStream on, driven by the NATS
 * maintainers' v3 JavaScript client (@nats-io/transport-node + @nats-io/jetstream), one
 * file-storage stream (one subject) standing for one sluice partition.
 *
 *   publish  js.publish(subject, record) per record, each awaiting its PubAck (the stream's
 *            confirmation that the message is stored), with as many acks in flight as sluice has
 *            records in flight
 *   latency  the open-loop producer js.publishes each record (acks not awaited before the next
 *            send); two durable consumers read the same stream at once, ack policy none (sluice's
 *            readers commit nothing either):
 *              push  a push consumer (deliver_subject set): the server sends each message to the
 *                    client's inbox as it is stored; read with PushConsumer.consume({ callback })
 *              pull  a pull consumer read with Consumer.consume({ callback }), which keeps pull
 *                    requests for up to 1000 messages outstanding and refills them as they drain,
 *                    each expiring after max(1000 ms, pullMaxWaitMs) (the client's minimum)
 *
 * Durability: nats-server 2.9.10 cannot sync each write. Its stream store writes each message to
 * the block file in place (AsyncFlush is off) before the PubAck, so the ack survives a crash of
 * the server process, and fsyncs on a fixed 2-minute timer (2.9 sets SyncInterval itself; the
 * `sync_interval` option, whose `always` syncs every write, came in 2.10, and 2.9 rejects the
 * key). So JetStream stands beside sluice `os`, and the peer plan's JetStream case beside sluice
 * `fsync` is skipped with that reason.
 */
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import type { NatsConnection } from '@nats-io/transport-node'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { latencyHistogram, nowMs, percentilesOf } from '../measure.js'
import type { LatencySeries } from '../results.js'
import type { AppendPhase } from '../scenarios/append.js'
import type { LatencyPhase } from '../scenarios/latency.js'
import {
  drain, produceOpenLoop, readStamp, scheduleAt, seriesOf, Tally, undeliveredNote,
  type DeliveryMode,
} from '../scenarios/open-loop.js'
import { withServer, type ServerSpec } from './server-process.js'
import {
  drivePublish, packageVersion, type PeerCase, type PeerLatencyRun, type PeerSetup, type SendLag,
} from './workload.js'

const STREAM = 'BENCH'
const SUBJECT = 'bench.records'
/** The v3 client refuses pull-request expiries under a second. */
const MIN_PULL_EXPIRES_MS = 1000
const PULL_BATCH_MESSAGES = 1000
/**
 * How long a publish waits for its PubAck (the client's default is 5 s). Past the rate the client
 * can publish, acks come late; an open-loop run must record that lateness, not fail on it.
 */
const PUBLISH_ACK_TIMEOUT_MS = 120_000

export const NATS_FSYNC_SKIP = 'nats-server 2.9.10 cannot fsync each write (its file store ' +
  'syncs on a 2-minute timer; sync_interval: always arrived in 2.10), so JetStream has no ' +
  'setting comparable with sluice fsync'

const COMPARISON = 'file storage: each message written to its block file before the ack ' +
  '(survives a crash of the server process, not a power cut), fsynced on a 2-minute timer: ' +
  'like sluice os'

function natsSpec(executable: string) {
  return (dataDir: string): Promise<ServerSpec> => {
    const config = path.join(dataDir, 'nats.conf')
    // -1: the server picks a free port and prints it.
    writeFileSync(config, `listen: "127.0.0.1:-1"\njetstream {\n  store_dir: ` +
      `${JSON.stringify(path.join(dataDir, 'jetstream'))}\n}\n`)
    return Promise.resolve({ label: 'nats-server', executable, args: ['-c', config],
      ready: /client connections on 127\.0\.0\.1:(\d+)[\s\S]*Server is ready/ })
  }
}

interface Session {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  setup: PeerSetup
}

async function openSession(port: number): Promise<Session> {
  const { connect } = await import('@nats-io/transport-node')
  const { jetstream, jetstreamManager, StorageType } = await import('@nats-io/jetstream')
  const nc = await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: 0 })
  const jsm = await jetstreamManager(nc)
  const stream = await jsm.streams.add({ name: STREAM, subjects: [SUBJECT],
    storage: StorageType.File, num_replicas: 1 })
  if (stream.config.storage !== StorageType.File) {
    throw new Error(`bench: JetStream stream storage is ${stream.config.storage}, not file`)
  }
  const setup: PeerSetup = { server: `nats-server ${nc.info?.version ?? 'unknown'}`,
    client: `@nats-io/transport-node ${packageVersion('@nats-io/transport-node')} + ` +
      `@nats-io/jetstream ${packageVersion('@nats-io/jetstream')}`,
    durabilitySetting: 'JetStream file storage, 1 replica, sync every 2 min (fixed in 2.9)',
    durabilityLabel: 'file storage, 2-min sync',
    durabilityComparison: COMPARISON, connections: 1 }
  return { nc, js: jetstream(nc), jsm, setup }
}

export async function natsPublish(executable: string, c: PeerCase, phase: AppendPhase,
  root: string): Promise<{ setup: PeerSetup; outcome: Awaited<ReturnType<typeof drivePublish>> }> {
  return withServer(root, natsSpec(executable), async (server) => {
    const session = await openSession(server.port)
    try {
      const outcome = await drivePublish((value) => session.js.publish(SUBJECT, value,
        { timeout: PUBLISH_ACK_TIMEOUT_MS }), c,
        phase, server.pid)
      return { setup: session.setup, outcome }
    } finally {
      await session.nc.close()
    }
  })
}

/** Starts both consumers; resolves once each is subscribed and delivering into its tally. */
async function startConsumers(session: Session, tallies: Partial<Record<DeliveryMode, Tally>>,
  phase: LatencyPhase): Promise<{ stop: () => void }> {
  const { AckPolicy, DeliverPolicy } = await import('@nats-io/jetstream')
  const { createInbox } = await import('@nats-io/transport-node')
  const common = { ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All }
  await session.jsm.consumers.add(STREAM, { ...common, durable_name: 'push',
    deliver_subject: createInbox() })
  await session.jsm.consumers.add(STREAM, { ...common, durable_name: 'pull' })
  const push = await session.js.consumers.getPushConsumer(STREAM, 'push')
  const pull = await session.js.consumers.get(STREAM, 'pull')
  const pushMessages = await push.consume({ callback: (m) => {
    tallies.push?.deliver(readStamp(m.data), nowMs())
  } })
  const pullMessages = await pull.consume({ max_messages: PULL_BATCH_MESSAGES,
    expires: Math.max(MIN_PULL_EXPIRES_MS, phase.pullMaxWaitMs), callback: (m) => {
      tallies.pull?.deliver(readStamp(m.data), nowMs())
    } })
  return { stop: () => { pushMessages.stop(); pullMessages.stop() } }
}

export async function natsLatency(executable: string, c: PeerCase, phase: LatencyPhase,
  root: string): Promise<PeerLatencyRun> {
  const series: LatencySeries[] = []
  const sendLags: SendLag[] = []
  const notes: string[] = []
  let setup: PeerSetup | null = null
  for (const rate of c.ratesPerSec) {
    await withServer(root, natsSpec(executable), async (server) => {
      const session = await openSession(server.port)
      setup = session.setup
      try {
        // The consumers read the tallies at delivery time; none arrives before the first send.
        const pending: Partial<Record<DeliveryMode, Tally>> = {}
        const consumers = await startConsumers(session, pending, phase)
        const schedule = scheduleAt(rate, phase.warmupMs, phase.measureMs)
        const sendLag = latencyHistogram()
        const tallies = { push: new Tally(schedule), pull: new Tally(schedule) }
        Object.assign(pending, tallies)
        await produceOpenLoop(schedule, c.recordBytes, phase.maxRecordsPerAppend,
          sendLag, (values) =>
            Promise.all(values.map((value) => session.js.publish(SUBJECT, value,
              { timeout: PUBLISH_ACK_TIMEOUT_MS }))))
        await drain([tallies.push.done, tallies.pull.done], phase.drainTimeoutMs)
        consumers.stop()
        for (const mode of ['push', 'pull'] as const) {
          const undelivered = tallies[mode].chargeUndelivered()
          if (undelivered > 0) {
            notes.push(undeliveredNote(mode, rate, undelivered, phase.drainTimeoutMs))
          }
          series.push(seriesOf(mode, rate, tallies[mode].histogram, phase.measureMs))
        }
        sendLags.push({ rate, percentilesUs: percentilesOf(sendLag) })
      } finally {
        await session.nc.close()
      }
    })
  }
  return { setup: setup!, series, sendLag: sendLags, notes }
}
