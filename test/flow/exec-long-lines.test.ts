// Proves the exec source bounds a stdout line: a command printing megabytes without a newline
// costs at most maxLineLengthBytes of memory, the over-long line is dropped and counted
// (EventReadFail), and the lines after it are read as usual; the splitter scans each byte once.
import { expect, it } from 'vitest'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { BoundedLineSplitter } from '../../src/flow/sources/bounded-lines.js'
import { ExecSource } from '../../src/flow/sources/exec-source.js'
import type { Channel } from '../../src/flow/transaction.js'
import { until } from '../helpers.js'
import { capturingLogger, takeAll } from './flow-helpers.js'

function processorFor(channel: Channel): ChannelProcessor {
  return new ChannelProcessor({ type: 'replicating', channels: [channel],
    required: () => [channel], optional: () => [] }, [], capturingLogger())
}

function execSource(channel: Channel, command: string, maxLineLengthBytes?: number) {
  const logger = capturingLogger()
  const source = new ExecSource('r', processorFor(channel), { command, shell: '/bin/sh -c',
    restart: false, restartThrottleMs: 10_000, logStdErr: false, batchSize: 5,
    batchTimeoutMs: 10, maxLineLengthBytes }, logger)
  source.counter.start()
  return { source, logger }
}

it('drops a 20 MB line without newline, counts it, and reads the next line', async () => {
  const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100 })
  const { source, logger } = execSource(channel,
    'echo before; head -c 20000000 /dev/zero; echo; echo after')
  await source.start()
  await until('the line after the long one', () => channel.size() === 2, 20_000)
  await source.stop()
  expect(await takeAll(channel, 10)).toEqual(['before', 'after'])
  expect(source.counter.get('EventReadFail')).toBe(1)
  expect(source.counter.get('EventReceivedCount')).toBe(2)
  expect(logger.warnings.join('\n')).toMatch(/dropped a line longer than 524288 bytes/)
})

it('keeps memory bounded while a command prints 200 MB without a newline', async () => {
  const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100 })
  const { source } = execSource(channel, 'head -c 200000000 /dev/zero; echo; echo done',
    1024 * 1024)
  const rssBeforeBytes = process.memoryUsage().rss
  await source.start()
  await until('the line after the 200 MB one', () => channel.size() === 1, 30_000)
  await source.stop()
  expect(source.counter.get('EventReadFail')).toBe(1)
  const rssGrowthMb = (process.memoryUsage().rss - rssBeforeBytes) / 1024 / 1024
  console.log(`rss growth ${rssGrowthMb.toFixed(1)} MB for a 200 MB line`)
  expect(rssGrowthMb).toBeLessThan(100)
  expect(await takeAll(channel, 10)).toEqual(['done'])
})

it('the splitter never holds more than maxLineLengthBytes, whatever the chunks', () => {
  const lines: string[] = []
  let overLong = 0
  const splitter = new BoundedLineSplitter(1000, {
    onLine: (line) => lines.push(line.toString()),
    onOverLong: () => { overLong++ },
  })
  let maxBufferedBytes = 0
  const push = (text: string): void => {
    splitter.push(Buffer.from(text))
    maxBufferedBytes = Math.max(maxBufferedBytes, splitter.bufferedBytes)
  }
  push('first\nsec')
  push('ond\n')
  for (let i = 0; i < 300; i++) push('z'.repeat(64 * 1024))
  push('zzz\n' + 'y'.repeat(1000) + '\n' + 'x'.repeat(1001) + '\ntail')
  splitter.end()
  expect(lines).toEqual(['first', 'second', 'y'.repeat(1000), 'tail'])
  expect(overLong).toBe(2)
  expect(maxBufferedBytes).toBeLessThanOrEqual(1000)
})
