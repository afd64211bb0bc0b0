// Proves the avro source's and sink's Flume keys: their defaults, the errors that name a bad
// key and what would be right, Flume's rule that timeouts under 1000 ms become the default,
// that building checks a keystore/truststore file exists without parsing it (--validate),
// that ipFilterRules accept and refuse connections first-match-wins, that request-timeout rolls
// a batch back and reset-connection-interval replaces the connection.
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ChannelProcessor } from '../../src/flow/channel-processor.js'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { DEFAULT_MAX_BUFFERS_PER_FRAME } from '../../src/flow/avro/frame-codec.js'
import { ipFilterAccepts, parseIpFilterRules } from '../../src/flow/avro/ip-filter.js'
import { AvroRpcClient } from '../../src/flow/avro/rpc-client.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import type { ChannelSelector } from '../../src/flow/selectors.js'
import { AvroSink } from '../../src/flow/sinks/avro-sink.js'
import { AvroSource } from '../../src/flow/sources/avro-source.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'
import { tempDir } from '../helpers.js'
import { capturingLogger, putAll } from './flow-helpers.js'

const LIMITS = { maxFrameBytes: 1024 * 1024, maxBuffersPerFrame: DEFAULT_MAX_BUFFERS_PER_FRAME }
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const BASE = ['a1.sources = r1', 'a1.channels = c1', 'a1.sinks = k1',
  'a1.channels.c1.type = memory', 'a1.sources.r1.type = avro', 'a1.sources.r1.channels = c1',
  'a1.sources.r1.bind = 0.0.0.0', 'a1.sources.r1.port = 4141', 'a1.sinks.k1.type = avro',
  'a1.sinks.k1.channel = c1', 'a1.sinks.k1.hostname = collector', 'a1.sinks.k1.port = 4545']

function load(extra: string[]) {
  const logger = capturingLogger()
  const graph = loadAgentText([...BASE, ...extra].join('\n'), 'agent.conf',
    { agentName: 'a1', strict: true, logger })
  return { graph, logger }
}

function refusal(extra: string[]): string {
  try {
    load(extra)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('the configuration was accepted')
}

describe('keys', () => {
  it('builds both with Flume\'s defaults, and the FQCNs too', () => {
    const { graph } = load([])
    const sink = graph.sinks.get('k1') as AvroSink
    expect(sink.type).toBe('avro')
    expect(sink.batchSize).toBe(100)
    expect(graph.sources.get('r1')!.type).toBe('avro')
    const fqcn = loadAgentText([...BASE, 'a1.sources.r1.type = org.apache.flume.source.AvroSource',
      'a1.sinks.k1.type = org.apache.flume.sink.AvroSink'].join('\n'), 'agent.conf',
    { agentName: 'a1', strict: true, logger: capturingLogger() })
    expect([...fqcn.sinks.values()].map((s) => s.type)).toEqual(['avro'])
  })

  it('names the bad key and what would be right', () => {
    expect(refusal(['a1.sinks.k1.compression-type = gzip']))
      .toMatch(/a1\.sinks\.k1\.compression-type.*must be none or deflate, got "gzip"/)
    expect(refusal(['a1.sinks.k1.compression-level = 11']))
      .toMatch(/compression-level.*between 0 and 9/)
    expect(refusal(['a1.sinks.k1.batch-size = 0'])).toMatch(/batch-size/)
    expect(refusal(['a1.sources.r1.ssl = true'])).toMatch(/keystore.*must be specified when SSL/)
    expect(refusal(['a1.sources.r1.ssl = true', 'a1.sources.r1.keystore = /k.p12',
      'a1.sources.r1.keystore-type = PKCS12'])).toMatch(/keystore-password.*must be specified/)
    expect(refusal(['a1.sources.r1.ssl = true', 'a1.sources.r1.keystore = /k',
      'a1.sources.r1.keystore-password = x', 'a1.sources.r1.keystore-type = BKS']))
      .toMatch(/keystore-type.*JKS, PKCS12 or PEM/)
    expect(refusal(['a1.sources.r1.ssl = true', 'a1.sources.r1.keystore = /k',
      'a1.sources.r1.keystore-password = x', 'a1.sources.r1.exclude-protocols = TLSv1.2 TLSv1.3']))
      .toMatch(/exclude-protocols.*leaves no protocol enabled/)
    expect(refusal(['a1.sinks.k1.ssl = true', 'a1.sinks.k1.exclude-protocols = TLS9']))
      .toMatch(/unknown protocol "TLS9"/)
    expect(refusal(['a1.sources.r1.ipFilter = true']))
      .toMatch(/ipFilterRules.*ipFilter is configured with true but ipFilterRules is not defined/)
    expect(refusal(['a1.sources.r1.ipFilter = true', 'a1.sources.r1.ipFilterRules = permit:ip:*']))
      .toMatch(/Invalid ipFilter patternRule 'permit:ip:\*'/)
    const noBind = BASE.filter((line) => !line.includes('r1.bind'))
    expect(() => loadAgentText(noBind.join('\n'), 'agent.conf', { agentName: 'a1',
      strict: true, logger: capturingLogger() })).toThrow(/a1\.sources\.r1\.bind.*is required/)
  })

  it('replaces timeouts under 1000 ms with the default, warning, as Flume does', () => {
    const { logger } = load(['a1.sinks.k1.connect-timeout = 500',
      'a1.sinks.k1.request-timeout = 999'])
    expect(logger.warnings.filter((w) => /below 1000 ms; using the default 20000 ms/.test(w)))
      .toHaveLength(2)
  })

  // Building only checks that the store files exist and are readable; it does not parse them
  // (that is start()'s), so --validate needs the files in place but not their passwords right.
  it('builds with store files that exist but are not parsed yet (--validate)', () => {
    const { dir, remove } = tempDir()
    cleanups.push(remove)
    const keystore = path.join(dir, 'keystore.p12')
    const truststore = path.join(dir, 'ca.pem')
    fs.writeFileSync(keystore, 'not a PKCS12 store')
    fs.writeFileSync(truststore, 'not a PEM certificate')
    const { graph } = load(['a1.sources.r1.ssl = true',
      `a1.sources.r1.keystore = ${keystore}`, 'a1.sources.r1.keystore-password = x',
      'a1.sources.r1.keystore-type = PKCS12', 'a1.sinks.k1.ssl = true',
      `a1.sinks.k1.truststore = ${truststore}`, 'a1.sinks.k1.truststore-type = PEM',
      'a1.sources.r1.threads = 8', 'a1.sinks.k1.maxIoWorkers = 4'])
    expect(graph.sources.size).toBe(1)
  })

  it('refuses a keystore or truststore that is missing or not a file, naming key and path', () => {
    const { dir, remove } = tempDir()
    cleanups.push(remove)
    const missing = path.join(dir, 'nowhere', 'keystore.p12')
    expect(refusal(['a1.sources.r1.ssl = true', `a1.sources.r1.keystore = ${missing}`,
      'a1.sources.r1.keystore-password = x', 'a1.sources.r1.keystore-type = PKCS12']))
      .toMatch(/a1\.sources\.r1\.keystore: .*cannot read .*keystore\.p12 \(ENOENT\): must name an/)
    expect(refusal(['a1.sinks.k1.ssl = true', `a1.sinks.k1.truststore = ${missing}`,
      'a1.sinks.k1.truststore-type = PEM']))
      .toMatch(/a1\.sinks\.k1\.truststore: .*cannot read .*keystore\.p12 \(ENOENT\)/)
    expect(refusal(['a1.sinks.k1.ssl = true', `a1.sinks.k1.truststore = ${dir}`,
      'a1.sinks.k1.truststore-type = PEM']))
      .toContain(`${dir} is not a file: must name a truststore file`)
  })
})

function only(channel: Channel): ChannelSelector {
  return { type: 'replicating', channels: [channel], required: () => [channel],
    optional: () => [] }
}

describe('ipFilterRules', () => {
  it('decides by the first matching rule, and accepts when none matches', async () => {
    const rules = parseIpFilterRules('allow:ip:10.0.*, deny:ip:10.*,allow:name:localhost')
    expect((await ipFilterAccepts(rules, '10.0.3.4')).accepted).toBe(true)
    expect(await ipFilterAccepts(rules, '10.1.3.4'))
      .toEqual({ accepted: false, rule: 'deny:ip:10.*' })
    expect((await ipFilterAccepts(rules, '::ffff:10.9.9.9')).accepted).toBe(false)
    expect(await ipFilterAccepts(rules, '192.168.1.1')).toEqual({ accepted: true, rule: null })
    expect((await ipFilterAccepts(parseIpFilterRules('deny:ip:1?.0.0.1'), '12.0.0.1')).accepted)
      .toBe(false)
  })

  it('closes a refused connection before reading a byte, and serves an allowed one', async () => {
    const logger = capturingLogger()
    const channel = new MemoryChannel('c1', { capacity: 10, transactionCapacity: 10,
      keepAliveSeconds: 0 })
    await channel.start()
    const start = async (rules: string) => {
      const source = new AvroSource('r1', new ChannelProcessor(only(channel), [], logger), {
        bind: '127.0.0.1', port: 0, compression: false, tls: null,
        ipFilterRules: parseIpFilterRules(rules), limits: LIMITS }, logger)
      await source.start()
      cleanups.push(() => source.stop())
      return source
    }
    const connect = (port: number) => AvroRpcClient.connect({ host: '127.0.0.1', port,
      connectTimeoutMs: 5000, requestTimeoutMs: 5000, compressionLevel: null, tls: null,
      limits: LIMITS })
    const denying = await start('allow:ip:10.*,deny:ip:127.*')
    await expect(connect(denying.port)).rejects.toThrow(/cannot connect to the avro source/)
    expect(logger.warnings.join('\n')).toMatch(/refused the connection .*deny:ip:127\.\*/)
    const allowing = await start('allow:name:localhost,deny:ip:*')
    const client = await connect(allowing.port)
    cleanups.push(() => client.close())
    await client.appendBatch([{ headers: {}, body: Buffer.from('in') }])
    expect(channel.size()).toBe(1)
  })
})

/** A server that answers the handshake ping (as the capture does) and never a call. */
async function silentServer(): Promise<number> {
  const reply = Buffer.from('00000000000000020000000400000000000000020000', 'hex')
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('data', () => socket.write(reply))
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  }))
  return (server.address() as net.AddressInfo).port
}

describe('the sink\'s connection', () => {
  it('rolls a batch back when request-timeout passes, and closes the connection', async () => {
    const port = await silentServer()
    const channel = new MemoryChannel('c1', { capacity: 10, transactionCapacity: 10,
      keepAliveSeconds: 0 })
    await channel.start()
    await putAll(channel, ['a', 'b'])
    const sink = new AvroSink('k1', channel, { hostname: '127.0.0.1', port, batchSize: 10,
      connectTimeoutMs: 5000, requestTimeoutMs: 200, resetConnectionIntervalMs: 0,
      compressionLevel: null, tls: null, limits: LIMITS }, capturingLogger())
    await sink.start()
    cleanups.push(() => sink.stop())
    await expect(sink.process()).rejects.toThrow(/no answer .* within 200 ms \(request-timeout\)/)
    expect(channel.size()).toBe(2)
    expect(sink.counter.get('EventWriteFail')).toBe(1)
    expect(sink.counter.get('ConnectionClosedCount')).toBe(1)
  })

  it('replaces the connection once reset-connection-interval has passed', async () => {
    const logger = capturingLogger()
    const bChannel = new MemoryChannel('b', { capacity: 10, transactionCapacity: 10,
      keepAliveSeconds: 0 })
    await bChannel.start()
    const source = new AvroSource('r1', new ChannelProcessor(only(bChannel), [], logger), {
      bind: '127.0.0.1', port: 0, compression: false, tls: null, ipFilterRules: null,
      limits: LIMITS }, logger)
    await source.start()
    cleanups.push(() => source.stop())
    const channel = new MemoryChannel('a', { capacity: 10, transactionCapacity: 10,
      keepAliveSeconds: 0 })
    await channel.start()
    let nowMs = 1_000_000
    const sink = new AvroSink('k1', channel, { hostname: '127.0.0.1', port: source.port,
      batchSize: 10, connectTimeoutMs: 5000, requestTimeoutMs: 5000,
      resetConnectionIntervalMs: 60_000, compressionLevel: null, tls: null, limits: LIMITS },
    logger, () => nowMs)
    await sink.start()
    cleanups.push(() => sink.stop())
    const send = async (body: string) => {
      await putAll(channel, [body])
      expect(await sink.process()).toBe('READY')
    }
    await send('one')
    nowMs += 59_999
    await send('two')
    expect(sink.counter.get('ConnectionCreatedCount')).toBe(1)
    nowMs += 1
    await send('three')
    expect(sink.counter.get('ConnectionCreatedCount')).toBe(2)
    expect(sink.counter.get('ConnectionClosedCount')).toBe(1)
    const bodies = await inTransaction(bChannel, async (tx) =>
      [await tx.take(), await tx.take(), await tx.take()].map((e) => e?.body.toString()))
    expect(bodies).toEqual(['one', 'two', 'three'])
  })
})
