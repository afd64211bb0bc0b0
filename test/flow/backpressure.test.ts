// Proves backpressure instead of silent loss: with a sink slower than the source the channel
// fills, then the HTTP source answers 503 and netcat answers FAILED; with a keep-alive wait the
// netcat socket stops being read (nothing piles up in the agent) and resumes losslessly; and
// the agent's memory stays bounded while clients offer far more than the channel holds.
import { afterEach, expect, it } from 'vitest'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import type { FlowEvent } from '../../src/flow/event.js'
import type { ChannelSelector } from '../../src/flow/selectors.js'
import { DefaultSinkProcessor } from '../../src/flow/sink-processors.js'
import { SinkRunner } from '../../src/flow/sink-runner.js'
import { BatchSink } from '../../src/flow/sinks/sink.js'
import { HttpSource } from '../../src/flow/sources/http-source.js'
import { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import type { Channel } from '../../src/flow/transaction.js'
import { until } from '../helpers.js'
import { LineClient, capturingLogger, postEvents } from './flow-helpers.js'

/** A sink that delivers only while its gate is open: slower than any source when closed. */
class GatedSink extends BatchSink {
  readonly type = 'gated'
  readonly delivered: string[] = []
  private open: Promise<void>
  private release: () => void = () => undefined

  constructor(channel: Channel, batchSize: number) {
    super('k1', channel, batchSize)
    this.open = new Promise((resolve) => { this.release = resolve })
  }

  openGate(): void {
    this.release()
  }

  protected async deliver(events: FlowEvent[]): Promise<void> {
    await this.open
    this.delivered.push(...events.map((e) => e.body.toString()))
  }
}

function only(channel: Channel): ChannelSelector {
  return { type: 'replicating', channels: [channel], required: () => [channel],
    optional: () => [] }
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function pipeline(capacity: number, keepAliveSeconds: number) {
  const logger = capturingLogger()
  const channel = new MemoryChannel('c1', { capacity, transactionCapacity: capacity,
    keepAliveSeconds })
  await channel.start()
  const sink = new GatedSink(channel, 5)
  const runner = new SinkRunner('k1', new DefaultSinkProcessor(sink), logger,
    { backoffSleepIncrementMs: 10, maxBackoffSleepMs: 50, errorSleepMs: 50 })
  await runner.start()
  cleanups.push(async () => {
    sink.openGate()
    await runner.stop()
    await channel.stop()
  })
  return { channel, sink, logger, processor: new ChannelProcessor(only(channel), [], logger) }
}

it('http answers 503 once the channel is full, and memory stays bounded', async () => {
  const { channel, sink, logger, processor } = await pipeline(200, 0)
  const source = new HttpSource('r1', processor, { bind: '127.0.0.1', port: 0,
    maxRequestBytes: 1024 * 1024, maxConcurrentRequests: 16 }, logger)
  source.counter.start()
  await source.start()
  cleanups.push(() => source.stop())
  const heapBefore = process.memoryUsage().heapUsed
  const statuses = new Map<number, number>()
  let maxSize = 0
  const body = 'x'.repeat(1000)
  // 4 clients × 500 requests × 50 events × 1 KB: 100 MB offered to a 200-event channel.
  await Promise.all(Array.from({ length: 4 }, async () => {
    for (let i = 0; i < 500; i++) {
      const status = await postEvents(source.port, Array.from({ length: 50 }, () => ({ body })))
      statuses.set(status, (statuses.get(status) ?? 0) + 1)
      maxSize = Math.max(maxSize, channel.size())
    }
  }))
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024
  console.log(`statuses ${JSON.stringify([...statuses])}, max channel size ${maxSize}, ` +
    `heap growth ${heapGrowthMb.toFixed(1)} MB`)
  expect(statuses.get(503)).toBeGreaterThan(1900)
  expect(statuses.get(200)).toBe(4)
  expect(maxSize).toBeLessThanOrEqual(200)
  expect(heapGrowthMb).toBeLessThan(60)
  expect(source.counter.get('ChannelWriteFail')).toBe(statuses.get(503))
  sink.openGate()
  await until('the sink to drain', () => sink.delivered.length === 200)
  expect(channel.size()).toBe(0)
})

it('netcat answers FAILED with the channel\'s reason once it is full', async () => {
  const { processor, logger } = await pipeline(5, 0)
  const source = new NetcatSource('r1', processor, { bind: '127.0.0.1', port: 0,
    maxLineLengthBytes: 512, ackEveryEvent: true, batchSize: 1 }, logger)
  await source.start()
  cleanups.push(() => source.stop())
  const client = await LineClient.connect(source.port)
  client.send(Array.from({ length: 8 }, (_, i) => `line ${i}\n`).join(''))
  const replies = await client.replyLines(8)
  client.close()
  expect(replies.slice(0, 5)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK'])
  for (const reply of replies.slice(5)) {
    expect(reply).toMatch(/^FAILED: Space for commit to queue couldn't be acquired on channel c1/)
  }
})

it('netcat stops reading a socket while the channel is full, then resumes losslessly', async () => {
  const { channel, sink, processor, logger } = await pipeline(10, 5)
  const source = new NetcatSource('r1', processor, { bind: '127.0.0.1', port: 0,
    maxLineLengthBytes: 512, ackEveryEvent: true, batchSize: 1 }, logger)
  source.counter.start()
  await source.start()
  cleanups.push(() => source.stop())
  const client = await LineClient.connect(source.port)
  const lines = Array.from({ length: 2000 }, (_, i) => `event-${i}-${'y'.repeat(100)}`)
  client.send(lines.map((line) => `${line}\n`).join(''))
  // Full: 10 events committed (some held by the sink's open take), one line waiting on
  // keep-alive; the rest stay in the socket, not in the agent.
  await until('the blocked put', () => source.counter.get('EventReceivedCount') === 11)
  expect(channel.size()).toBeLessThanOrEqual(10)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(source.counter.get('EventReceivedCount')).toBe(11)
  sink.openGate()
  const replies = await client.replyLines(2000, 20_000)
  client.close()
  expect(replies.every((reply) => reply === 'OK')).toBe(true)
  await until('all delivered', () => sink.delivered.length === 2000)
  expect(sink.delivered).toEqual(lines)
})
