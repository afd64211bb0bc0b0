// Proves the edges of sources and sinks a user meets: the HTTP source's 400 / 405 / 413 answers,
// netcat refusing an over-long line with Flume's FAILED message, the memory channel's
// byteCapacity, exec restarting its command, a failover group moving past a file_roll sink that
// cannot write (no event lost), and an agent that cannot start stopping what it started.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { isSluiceError } from '../../src/errors.js'
import { Agent } from '../../src/flow/agent.js'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { ExecSource } from '../../src/flow/sources/exec-source.js'
import { HttpSource } from '../../src/flow/sources/http-source.js'
import { NetcatSource } from '../../src/flow/sources/netcat-source.js'
import type { Channel } from '../../src/flow/transaction.js'
import { tempDir, until } from '../helpers.js'
import { LineClient, capturingLogger, putAll, takeAll } from './flow-helpers.js'

const scratch = tempDir('sluice-sources-sinks-')
afterAll(() => scratch.remove())

function processorFor(channel: Channel): ChannelProcessor {
  return new ChannelProcessor({ type: 'replicating', channels: [channel],
    required: () => [channel], optional: () => [] }, [], capturingLogger())
}

function request(port: number, method: string, body: string)
  : Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/' }, (response) => {
      let text = ''
      response.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

it('http answers 400 for bad JSON, 405 for GET, 413 past maxRequestBytes', async () => {
  const channel = new MemoryChannel('c')
  const source = new HttpSource('r', processorFor(channel), { bind: '127.0.0.1', port: 0,
    maxRequestBytes: 1000, maxConcurrentRequests: 4 }, capturingLogger())
  source.counter.start()
  await source.start()
  try {
    expect(await request(source.port, 'POST', '[{"body": "ok", "headers": {"h": "v"}}]'))
      .toEqual({ status: 200, text: '' })
    const bad = await request(source.port, 'POST', '{"body": "not an array"}')
    expect(bad).toEqual({ status: 400, text: 'the JSON handler expects an array of events' })
    expect((await request(source.port, 'POST', '[{"body": 5}]')).status).toBe(400)
    expect((await request(source.port, 'GET', '')).status).toBe(405)
    expect((await request(source.port, 'POST', `[{"body": "${'x'.repeat(2000)}"}]`)).status)
      .toBe(413)
    expect(source.counter.get('EventReadFail')).toBe(2)
    expect(await takeAll(channel, 10)).toEqual(['ok'])
  } finally {
    await source.stop()
  }
})

it('netcat answers FAILED for a line over max-line-length and keeps the connection', async () => {
  const channel = new MemoryChannel('c')
  const source = new NetcatSource('r', processorFor(channel), { bind: '127.0.0.1', port: 0,
    maxLineLengthBytes: 16, ackEveryEvent: true, batchSize: 1 }, capturingLogger())
  source.counter.start()
  await source.start()
  try {
    const client = await LineClient.connect(source.port)
    client.send(`short\n${'z'.repeat(40)}\nafter\n`)
    expect(await client.replyLines(3)).toEqual(['OK',
      'FAILED: Event exceeds the maximum length (16 chars, including newline)', 'OK'])
    client.close()
    expect(await takeAll(channel, 10)).toEqual(['short', 'after'])
  } finally {
    await source.stop()
  }
})

it('the memory channel refuses a commit past byteCapacity (body bytes, 100-byte slots)',
  async () => {
    const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100,
      byteCapacity: 1000, byteCapacityBufferPercentage: 20, keepAliveSeconds: 0 })
    await putAll(channel, Array.from({ length: 8 }, () => 'b'.repeat(100)))
    const error = await putAll(channel, ['one more byte']).catch((e: unknown) => e)
    expect(isSluiceError(error, 'SLUICE_ERR_CHANNEL_FULL')).toBe(true)
    expect((error as Error).message).toMatch(/Byte capacity allocated to store event body 800/)
    await takeAll(channel, 1)
    await putAll(channel, ['fits again'])
  })

it('exec restarts its command after restartThrottle when restart is set', async () => {
  const channel = new MemoryChannel('c', { capacity: 1000, transactionCapacity: 100 })
  const source = new ExecSource('r', processorFor(channel), { command: 'echo tick',
    shell: '/bin/sh -c', restart: true, restartThrottleMs: 20, logStdErr: false, batchSize: 5,
    batchTimeoutMs: 10 }, capturingLogger())
  source.counter.start()
  await source.start()
  await until('three runs of the command', () => channel.size() >= 3)
  await source.stop()
  expect((await takeAll(channel, 3))).toEqual(['tick', 'tick', 'tick'])
})

it('a failover group moves past a file_roll sink that cannot write, losing nothing', async () => {
  const notADirectory = path.join(scratch.dir, 'plain-file')
  writeFileSync(notADirectory, 'x')
  const good = path.join(scratch.dir, 'good')
  const agent = Agent.fromText([
    'a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1 k2', 'a1.sinkgroups = g1',
    'a1.sources.r1.type = seq', 'a1.sources.r1.totalEvents = 50', 'a1.sources.r1.batchSize = 10',
    'a1.sources.r1.channels = c1', 'a1.channels.c1.type = memory',
    'a1.sinks.k1.type = file_roll', `a1.sinks.k1.sink.directory = ${notADirectory}/out`,
    'a1.sinks.k1.channel = c1', 'a1.sinks.k2.type = file_roll',
    `a1.sinks.k2.sink.directory = ${good}`, 'a1.sinks.k2.channel = c1',
    'a1.sinkgroups.g1.sinks = k1 k2', 'a1.sinkgroups.g1.processor.type = failover',
    'a1.sinkgroups.g1.processor.priority.k1 = 10', 'a1.sinkgroups.g1.processor.priority.k2 = 5',
  ].join('\n'), 'failover.conf', { agentName: 'a1', logger: capturingLogger() })
  await agent.start()
  const k2 = agent.graph.sinks.get('k2')!
  await until('all 50 events in k2', () => k2.counter.get('EventDrainSuccessCount') === 50)
  await agent.stop()
  expect(agent.graph.sinks.get('k1')!.counter.get('EventWriteFail')).toBeGreaterThanOrEqual(1)
  const lines = readdirSync(good).flatMap((f) => readFileSync(path.join(good, f), 'utf8')
    .split('\n').filter((l) => l !== ''))
  expect(lines.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i))
})

it('an agent whose source cannot bind fails to start and stops what it started', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()))
  const port = (blocker.address() as net.AddressInfo).port
  const agent = Agent.fromText(['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
    'a1.sources.r1.type = netcat', 'a1.sources.r1.bind = 127.0.0.1',
    `a1.sources.r1.port = ${port}`, 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory', 'a1.sinks.k1.type = null', 'a1.sinks.k1.channel = c1',
  ].join('\n'), 'busy.conf', { agentName: 'a1', logger: capturingLogger() })
  await expect(agent.start()).rejects.toThrow(/EADDRINUSE/)
  expect(agent.graph.sinks.get('k1')!.counter.stopTimeMs).toBeGreaterThan(0)
  blocker.close()
})
