// Proves a round trip sluice avro sink → sluice avro source, both built from Flume config keys:
// headers and binary bodies arrive unchanged and in order, plain, with compression-type =
// deflate, with TLS (a self-signed PKCS12 keystore made here with openssl, the CA as a PEM
// truststore), and with both; the deflate wire is one zlib stream that a plain zlib client can
// speak; a sink that does not trust the certificate delivers nothing and counts the failures;
// a JKS keystore is refused with the keytool command that converts it; a plaintext client on a
// TLS source is dropped while TLS clients are served.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Agent } from '../../src/flow/agent.js'
import type { FlowEvent } from '../../src/flow/event.js'
import type { AvroSource } from '../../src/flow/sources/avro-source.js'
import { inTransaction, type Channel } from '../../src/flow/transaction.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'

const TIMINGS = { backoffSleepIncrementMs: 10, maxBackoffSleepMs: 50, errorSleepMs: 100 }
let certs: { dir: string; remove: () => void }
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(() => {
  certs = tempDir('sluice-avro-tls-')
  const file = (name: string) => path.join(certs.dir, name)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-keyout', file('key.pem'), '-out', file('cert.pem'), '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' })
  execFileSync('openssl', ['pkcs12', '-export', '-inkey', file('key.pem'), '-in',
    file('cert.pem'), '-out', file('keystore.p12'), '-passout', 'pass:changeit'],
  { stdio: 'ignore' })
  // A PEM keystore (sluice's extension) holds the private key and the certificate chain.
  writeFileSync(file('keystore.pem'), Buffer.concat([readFileSync(file('key.pem')),
    readFileSync(file('cert.pem'))]))
  writeFileSync(file('keystore.jks'), Buffer.concat([Buffer.from('feedfeed00000002', 'hex'),
    Buffer.alloc(64)]))
})
afterAll(() => certs.remove())
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startAgent(lines: string[], name: string): Promise<Agent> {
  const logger = capturingLogger()
  const agent = Agent.fromText(lines.join('\n'), `${name}.conf`, { agentName: name, logger,
    runnerTimings: TIMINGS, strict: true })
  await agent.start()
  cleanups.push(() => agent.stop())
  return agent
}

/** B: avro source → memory channel, no sink (the test takes from the channel). */
async function downstream(extra: string[]): Promise<{ agent: Agent; port: number }> {
  const agent = await startAgent(['b.sources = r1', 'b.channels = c1',
    'b.channels.c1.type = memory', 'b.channels.c1.capacity = 1000',
    'b.channels.c1.transactionCapacity = 1000', 'b.sources.r1.type = avro',
    'b.sources.r1.channels = c1', 'b.sources.r1.bind = 127.0.0.1', 'b.sources.r1.port = 0',
    ...extra.map((line) => `b.sources.r1.${line}`)], 'b')
  return { agent, port: (agent.graph.sources.get('r1') as AvroSource).port }
}

/** A: memory channel → avro sink to B (the test puts into the channel). */
async function upstream(port: number, extra: string[]): Promise<Agent> {
  return startAgent(['a.channels = c1', 'a.sinks = k1', 'a.channels.c1.type = memory',
    'a.channels.c1.capacity = 1000', 'a.channels.c1.transactionCapacity = 100',
    'a.sinks.k1.type = avro', 'a.sinks.k1.channel = c1', 'a.sinks.k1.hostname = 127.0.0.1',
    `a.sinks.k1.port = ${port}`, ...extra.map((line) => `a.sinks.k1.${line}`)], 'a')
}

function sampleEvents(count: number): FlowEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    headers: { seq: String(i), host: 'ünïcode-ホスト' },
    body: Buffer.from([i % 256, 0, 255, ...Buffer.from(`event-${i}`)]),
  }))
}

async function putEvents(channel: Channel, events: FlowEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    await inTransaction(channel, (tx) => events.slice(i, i + 100).forEach((e) => tx.put(e)))
  }
}

async function takeEvents(channel: Channel, count: number): Promise<FlowEvent[]> {
  await until(`${count} events downstream`, () => channel.size() >= count, 20_000)
  const taken: FlowEvent[] = []
  while (taken.length < count) {
    taken.push(...await inTransaction(channel, async (tx) => {
      const batch: FlowEvent[] = []
      for (let i = 0; i < 100 && taken.length + batch.length < count; i++) {
        const event = await tx.take()
        if (event !== null) batch.push(event)
      }
      return batch
    }))
  }
  return taken
}

const keystore = (type: string, file: string) => ['ssl = true', `keystore = ${file}`,
  'keystore-password = changeit', `keystore-type = ${type}`]

describe('round trip', () => {
  const cases: [string, () => string[], () => string[]][] = [
    ['plain', () => [], () => []],
    ['deflate', () => ['compression-type = deflate'],
      () => ['compression-type = deflate', 'compression-level = 9']],
    ['TLS', () => keystore('PKCS12', path.join(certs.dir, 'keystore.p12')),
      () => ['ssl = true', `truststore = ${path.join(certs.dir, 'cert.pem')}`,
        'truststore-type = PEM']],
    ['TLS and deflate', () => [...keystore('PKCS12', path.join(certs.dir, 'keystore.p12')),
      'compression-type = deflate'],
    () => ['ssl = true', 'trust-all-certs = true', 'compression-type = deflate']],
    ['TLS with a PEM keystore', () => keystore('PEM', path.join(certs.dir, 'keystore.pem')),
      () => ['ssl = true', `truststore = ${path.join(certs.dir, 'cert.pem')}`,
        'truststore-type = PEM']],
  ]
  for (const [name, source, sink] of cases) {
    it(`delivers headers and binary bodies in order: ${name}`, async () => {
      const b = await downstream(source())
      const a = await upstream(b.port, ['batch-size = 100', ...sink()])
      const events = sampleEvents(250)
      await putEvents(a.graph.channels.get('c1')!, events)
      const got = await takeEvents(b.agent.graph.channels.get('c1')!, 250)
      expect(got.map((e) => [{ ...e.headers }, e.body.toString('hex')]))
        .toEqual(events.map((e) => [e.headers, e.body.toString('hex')]))
      const sinkCounter = a.graph.sinks.get('k1')!.counter
      await until('the last take committed', () =>
        sinkCounter.get('EventDrainSuccessCount') === 250)
      expect(sinkCounter.get('ConnectionCreatedCount')).toBe(1)
      expect(b.agent.graph.sources.get('r1')!.counter.get('AppendBatchAcceptedCount')).toBe(3)
    })
  }
})

it('speaks one zlib stream per direction, sync-flushed per frame', async () => {
  const b = await downstream(['compression-type = deflate'])
  const socket = net.connect(b.port, '127.0.0.1')
  cleanups.push(() => { socket.destroy() })
  const deflate = zlib.createDeflate()
  deflate.pipe(socket)
  const inflate = zlib.createInflate()
  socket.pipe(inflate)
  let received = Buffer.alloc(0)
  inflate.on('data', (chunk: Buffer) => { received = Buffer.concat([received, chunk]) })
  const hash = '35b2a3c603776e92b8abbd7f01859296'
  const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex')
  deflate.write(hex(`00000000 00000002 00000022 ${hash} 00 ${hash} 00 00000002 0000`))
  deflate.flush(zlib.constants.Z_SYNC_FLUSH)
  await until('the ping reply', () => received.byteLength >= 22)
  deflate.write(hex(`00000001 00000001 00000025 00 16 617070656e644261746368 04
    02 08 686f7374 02 61 00 0a 68656c6c6f  00 0a 776f726c64  00`))
  deflate.flush(zlib.constants.Z_SYNC_FLUSH)
  await until('the call reply', () => received.byteLength >= 37)
  expect(received.toString('hex')).toBe(hex(`00000000 00000002 00000004 00000000 00000002 0000
    00000001 00000001 00000003 000000`).toString('hex'))
})

it('delivers nothing to a source whose certificate it does not trust', async () => {
  const b = await downstream(keystore('PKCS12', path.join(certs.dir, 'keystore.p12')))
  const a = await upstream(b.port, ['ssl = true'])
  await putEvents(a.graph.channels.get('c1')!, sampleEvents(5))
  const counter = a.graph.sinks.get('k1')!.counter
  await until('two refused connections', () => counter.get('ConnectionFailedCount') >= 2)
  expect(counter.get('EventDrainSuccessCount')).toBe(0)
  expect(a.graph.channels.get('c1')!.size()).toBe(5)
  expect(b.agent.graph.channels.get('c1')!.size()).toBe(0)
})

it('refuses a JKS keystore at start, saying how to convert it', async () => {
  const logger = capturingLogger()
  const agent = Agent.fromText(['b.sources = r1', 'b.channels = c1',
    'b.channels.c1.type = memory', 'b.sources.r1.type = avro', 'b.sources.r1.channels = c1',
    'b.sources.r1.bind = 127.0.0.1', 'b.sources.r1.port = 0',
    ...keystore('JKS', path.join(certs.dir, 'keystore.jks')).map((l) => `b.sources.r1.${l}`)]
    .join('\n'), 'b.conf', { agentName: 'b', logger })
  await expect(agent.start()).rejects.toThrow(/is a JKS keystore.*keytool -importkeystore.*PKCS12/)
})

it('drops a plaintext client on a TLS source and keeps serving TLS clients', async () => {
  const b = await downstream(keystore('PKCS12', path.join(certs.dir, 'keystore.p12')))
  const socket = net.connect(b.port, '127.0.0.1')
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(Buffer.from('00000000000000020000002235b2a3c603776e92b8abbd7f01859296', 'hex'))
  await closed
  const a = await upstream(b.port, ['ssl = true', 'trust-all-certs = true'])
  await putEvents(a.graph.channels.get('c1')!, sampleEvents(3))
  expect(await takeEvents(b.agent.graph.channels.get('c1')!, 3)).toHaveLength(3)
})
