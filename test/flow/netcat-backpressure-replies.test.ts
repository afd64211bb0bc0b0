// Proves netcat's reply path is honest and bounded: with ack-every-event = false a full channel
// still answers FAILED (only OK is silenced, as in Flume), and a client that never reads its
// replies stops being read, with the replies held for it bounded, until it reads again.
import * as net from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import type { Channel } from '../../src/flow/transaction.js'
import { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import { until } from '../helpers.js'
import { LineClient, capturingLogger, takeAll } from './flow-helpers.js'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

function processorFor(channels: Channel[]): ChannelProcessor {
  return new ChannelProcessor({ type: 'replicating', channels, required: () => channels,
    optional: () => [] }, [], capturingLogger())
}

async function startNetcat(processor: ChannelProcessor, ackEveryEvent: boolean,
  batchSize: number) {
  const logger = capturingLogger()
  const source = new NetcatSource('r1', processor, { bind: '127.0.0.1', port: 0,
    maxLineLengthBytes: 512, ackEveryEvent, batchSize }, logger)
  source.counter.start()
  await source.start()
  cleanups.push(() => source.stop())
  return { source, logger }
}

/** A client that connects and never reads: its replies pile up in the kernel, then in us. */
async function deafClient(port: number): Promise<net.Socket> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const connected = net.connect(port, '127.0.0.1', () => resolve(connected))
    connected.once('error', reject)
  })
  socket.pause()
  cleanups.push(() => { socket.destroy() })
  return socket
}

/** Writes `a\n` lines whenever the client's buffer accepts them, until stop(); counts them. */
function pumpLines(socket: net.Socket, maxLines: number)
  : { sentLines: () => number; stop: () => void } {
  const linesPerChunk = 64 * 1024
  const chunk = Buffer.from('a\n'.repeat(linesPerChunk))
  let sent = 0
  let done = false
  const pump = (): void => {
    for (;;) {
      if (done || sent >= maxLines) return
      sent += linesPerChunk
      if (!socket.write(chunk)) {
        socket.once('drain', pump)
        return
      }
    }
  }
  pump()
  return { sentLines: () => sent, stop: () => { done = true } }
}

it('answers FAILED for a full channel even with ack-every-event = false', async () => {
  const channel = new MemoryChannel('c1', { capacity: 2, transactionCapacity: 2,
    keepAliveSeconds: 0 })
  await channel.start()
  cleanups.push(() => channel.stop())
  const { source, logger } = await startNetcat(processorFor([channel]), false, 1)
  const client = await LineClient.connect(source.port)
  cleanups.push(() => client.close())
  client.send('one\ntwo\nthree\nfour\n')
  // The two accepted lines get no OK; the two refused ones must each get their FAILED.
  const replies = await client.replyLines(2)
  expect(replies).toHaveLength(2)
  for (const reply of replies) {
    expect(reply).toMatch(/^FAILED: Space for commit to queue couldn't be acquired on channel c1/)
  }
  expect(source.counter.get('EventAcceptedCount')).toBe(2)
  expect(source.counter.get('ChannelWriteFail')).toBe(2)
  expect(logger.warnings.filter((line) => line.includes('Error processing'))).toHaveLength(2)
  expect(await takeAll(channel, 2)).toEqual(['one', 'two'])
})

it('stops reading a client that never reads its OKs, then resumes losslessly', async () => {
  const batchSize = 100
  // No channel at all: commits are instant, so only the unread replies can hold the source.
  const { source } = await startNetcat(processorFor([]), true, batchSize)
  const client = await deafClient(source.port)
  const blocked = (): boolean => source.replyBacklog().blockedConnections === 1
  const pump = pumpLines(client, 32 * 1024 * 1024)
  await until('the source to stop reading the deaf client', blocked, 30_000)
  pump.stop()

  // Held replies: the socket's write buffer (a high-water mark) plus one batch of `OK\n`.
  const held = source.replyBacklog().bufferedReplyBytes
  const received = source.counter.get('EventReceivedCount')
  console.log(`blocked after ${received} of ${pump.sentLines()} lines, ${held} reply bytes held`)
  expect(held).toBeLessThanOrEqual(64 * 1024 + batchSize * 3)
  expect(received).toBeLessThan(pump.sentLines())

  // The client reads again: every line it sent is answered, none was dropped.
  let replyBytes = 0
  let failed = false
  client.on('data', (chunk: Buffer) => {
    replyBytes += chunk.byteLength
    failed ||= chunk.includes('F')
  })
  client.resume()
  const expectedBytes = pump.sentLines() * 3
  await until('every line answered', () => replyBytes >= expectedBytes, 30_000)
  expect(replyBytes).toBe(expectedBytes)
  expect(failed).toBe(false)
  expect(source.counter.get('EventAcceptedCount')).toBe(pump.sentLines())
  expect(source.replyBacklog().blockedConnections).toBe(0)
})

it('stops while a client that never reads holds the source on its replies', async () => {
  const { source } = await startNetcat(processorFor([]), true, 100)
  const client = await deafClient(source.port)
  const blocked = (): boolean => source.replyBacklog().blockedConnections === 1
  const pump = pumpLines(client, 32 * 1024 * 1024)
  await until('the source to stop reading the deaf client', blocked, 30_000)
  pump.stop()
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
  let stopped = false
  void source.stop().then(() => { stopped = true })
  await until('stop() to finish', () => stopped, 10_000)
  await closed
})
