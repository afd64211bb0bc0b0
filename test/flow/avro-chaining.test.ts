// Proves agent chaining over Avro (reference §3.5): A (http → memory → avro sink) feeds B
// (avro source → channel → sink). A's take commits only after B committed: when B's sink is
// paused, B fills and answers FAILED, A rolls back and backs off, A fills and its http source
// answers 503; on resume every accepted event arrives, once, in order. And when B is stopped
// and restarted mid-stream, A reconnects by itself and every event arrives (duplicates
// counted, none lost).
import { afterEach, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { DEFAULT_MAX_BUFFERS_PER_FRAME } from '../../src/flow/avro/frame-codec.js'
import type { FlowEvent } from '../../src/flow/event.js'
import type { ChannelSelector } from '../../src/flow/selectors.js'
import { DefaultSinkProcessor } from '../../src/flow/sink-processors.js'
import { SinkRunner } from '../../src/flow/sink-runner.js'
import { AvroSink } from '../../src/flow/sinks/avro-sink.js'
import { BatchSink } from '../../src/flow/sinks/sink.js'
import { AvroSource } from '../../src/flow/sources/avro-source.js'
import type { HttpSource } from '../../src/flow/sources/http-source.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger, fileMaker, postEvents } from './flow-helpers.js'

const TIMINGS = { backoffSleepIncrementMs: 10, maxBackoffSleepMs: 50, errorSleepMs: 100 }
const LIMITS = { maxFrameBytes: 1024 * 1024, maxBuffersPerFrame: DEFAULT_MAX_BUFFERS_PER_FRAME }
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** B's sink: records what it delivers; while paused it refuses, so B's channel fills. */
class CollectingSink extends BatchSink {
  readonly type = 'collecting'
  readonly delivered: string[] = []
  paused = false

  protected async deliver(events: FlowEvent[]): Promise<void> {
    if (this.paused) throw new Error('paused by the test')
    this.delivered.push(...events.map((e) => e.body.toString()))
  }
}

function only(channel: Channel): ChannelSelector {
  return { type: 'replicating', channels: [channel], required: () => [channel],
    optional: () => [] }
}

/** Agent B, built from parts so the test can pause its sink or restart it on the same port. */
async function startB(channel: Channel, sink: CollectingSink, port: number) {
  const logger = capturingLogger()
  await channel.start()
  const runner = new SinkRunner('k1', new DefaultSinkProcessor(sink), logger, TIMINGS)
  await runner.start()
  const source = new AvroSource('r1', new ChannelProcessor(only(channel), [], logger), {
    bind: '127.0.0.1', port, compression: false, tls: null, ipFilterRules: null,
    limits: LIMITS }, logger)
  source.counter.start()
  await source.start()
  const stop = async (): Promise<void> => {
    await source.stop()
    await runner.stop()
    await channel.stop()
  }
  return { source, stop }
}

function duplicatesIn(delivered: string[]): number {
  return delivered.length - new Set(delivered).size
}

it('backpressure reaches A\'s http source while B is paused; resume delivers all', async () => {
  const bSink = new CollectingSink('k1', new MemoryChannel('c1', { capacity: 20,
    transactionCapacity: 20, keepAliveSeconds: 0 }), 10)
  bSink.paused = true
  const b = await startB(bSink.channel, bSink, 0)
  cleanups.push(() => b.stop())
  const a = Agent.fromText(['a.sources = r1', 'a.channels = c1', 'a.sinks = k1',
    'a.sources.r1.type = http', 'a.sources.r1.bind = 127.0.0.1', 'a.sources.r1.port = 0',
    'a.sources.r1.channels = c1', 'a.channels.c1.type = memory', 'a.channels.c1.capacity = 30',
    'a.channels.c1.transactionCapacity = 30', 'a.channels.c1.keep-alive = 0',
    'a.sinks.k1.type = avro', 'a.sinks.k1.channel = c1', 'a.sinks.k1.hostname = 127.0.0.1',
    `a.sinks.k1.port = ${b.source.port}`, 'a.sinks.k1.batch-size = 10'].join('\n'), 'a.conf',
  { agentName: 'a', logger: capturingLogger(), runnerTimings: TIMINGS, strict: true })
  await a.start()
  cleanups.push(() => a.stop())
  const http = a.graph.sources.get('r1') as HttpSource
  const aSink = a.graph.sinks.get('k1')!

  const accepted: string[] = []
  let refused = 0
  for (let request = 0; request < 200 && refused === 0; request++) {
    const bodies = Array.from({ length: 5 }, (_, i) => `e-${request}-${i}`)
    const status = await postEvents(http.port, bodies.map((body) => ({ body })))
    if (status === 200) accepted.push(...bodies)
    else if (status === 503) refused++
    else throw new Error(`unexpected status ${status}`)
  }
  expect(refused).toBe(1)
  expect(http.counter.get('ChannelWriteFail')).toBe(1)
  await until('B to answer FAILED', () => b.source.counter.get('ChannelWriteFail') >= 1)
  await until('A to roll back a refused batch', () => aSink.counter.get('EventWriteFail') >= 1)
  expect(bSink.channel.size()).toBe(20)
  expect(a.graph.channels.get('c1')!.size() + 20).toBe(accepted.length)
  expect(bSink.delivered).toEqual([])

  bSink.paused = false
  await until('every accepted event at B\'s sink', () =>
    bSink.delivered.length >= accepted.length, 30_000)
  expect(bSink.delivered).toEqual(accepted)
  expect(duplicatesIn(bSink.delivered)).toBe(0)
  await until('A drained', () => a.graph.channels.get('c1')!.size() === 0)
  console.log(`accepted ${accepted.length}, refused requests ${refused}, B FAILED answers ` +
    `${b.source.counter.get('ChannelWriteFail')}, A rollbacks ` +
    `${aSink.counter.get('EventWriteFail')}, A connections ` +
    `${aSink.counter.get('ConnectionCreatedCount')}`)
})

it('A reconnects to a restarted B by itself and delivers everything', async () => {
  const root = tempDir('sluice-avro-chain-')
  cleanups.push(() => root.remove())
  const makeChannel = (): Channel => fileMaker(root.dir)('c1', { capacity: 10_000,
    transactionCapacity: 100, keepAliveSeconds: 1 })
  const bSink = new CollectingSink('k1', makeChannel(), 50)
  let b = await startB(bSink.channel, bSink, 0)
  const port = b.source.port
  cleanups.push(() => b.stop())

  const logger = capturingLogger()
  const aChannel = new MemoryChannel('c1', { capacity: 5000, transactionCapacity: 100,
    keepAliveSeconds: 0 })
  await aChannel.start()
  const aSink = new AvroSink('k1', aChannel, { hostname: '127.0.0.1', port, batchSize: 50,
    connectTimeoutMs: 5000, requestTimeoutMs: 5000, resetConnectionIntervalMs: 0,
    compressionLevel: null, tls: null, limits: LIMITS }, logger)
  const aRunner = new SinkRunner('k1', new DefaultSinkProcessor(aSink), logger, TIMINGS)
  await aRunner.start()
  cleanups.push(async () => { await aRunner.stop(); await aChannel.stop() })

  const total = 3000
  const producing = (async () => {
    for (let start = 0; start < total; start += 100) {
      await inTransaction(aChannel, (tx) => {
        for (let n = start; n < start + 100; n++) tx.put({ headers: {}, body: Buffer.from(`${n}`) })
      })
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()

  await until('B to have received a part', () => bSink.delivered.length >= 500, 30_000)
  await b.stop()
  const failuresBefore = aSink.counter.get('ConnectionFailedCount')
  await until('A to notice B is gone', () =>
    aSink.counter.get('ConnectionFailedCount') > failuresBefore, 30_000)
  const duringOutage = bSink.delivered.length
  const restartedSink = new CollectingSink('k1', makeChannel(), 50)
  b = await startB(restartedSink.channel, restartedSink, port)
  await producing
  const all = (): string[] => [...bSink.delivered, ...restartedSink.delivered]
  await until('every event delivered', () => new Set(all()).size === total, 60_000)
  const missing = Array.from({ length: total }, (_, n) => `${n}`)
    .filter((body) => !all().includes(body))
  expect(missing).toEqual([])
  expect(aSink.counter.get('ConnectionCreatedCount')).toBeGreaterThanOrEqual(2)
  console.log(`delivered ${all().length} for ${total} events: ${duplicatesIn(all())} ` +
    `duplicates; ${duringOutage} before the restart, A connections ` +
    `${aSink.counter.get('ConnectionCreatedCount')}, failed connects ` +
    `${aSink.counter.get('ConnectionFailedCount')}`)
})
