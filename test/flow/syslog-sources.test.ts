// Proves the syslogtcp and syslogudp sources over loopback: parsed headers, the client IP and
// host name headers, a last TCP message ended by the close rather than a newline, a TCP sender
// held back (not dropped) while the channel is full, a UDP datagram refused by a full channel
// counted as lost, Flume's keys read through an agent config, and bad values refused with the
// key named.
import * as dgram from 'node:dgram'
import { promises as dns } from 'node:dns'
import * as net from 'node:net'
import { expect, it } from 'vitest'
import { MemoryChannel } from '../../src/flow/channels/memory-channel.js'
import { loadAgentText } from '../../src/flow/config/load.js'
import {
  SyslogTcpSource, SyslogUdpSource, type SyslogOptions,
} from '../../src/flow/sources/syslog-sources.js'
import { until } from '../helpers.js'
import { capturingLogger, processorFor, takeEvents } from './flow-helpers.js'

const OPTIONS: SyslogOptions = { host: '127.0.0.1', port: 0, eventSizeBytes: 2500,
  keepFields: new Set(), clientIPHeader: null, clientHostnameHeader: null, batchSize: 1 }

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
    socket.once('error', reject)
  })
}

it('syslogtcp parses each line, split however it arrives, with the client headers', async () => {
  const channel = new MemoryChannel('c', { capacity: 100, transactionCapacity: 100 })
  const source = new SyslogTcpSource('r', processorFor(channel), { ...OPTIONS,
    clientIPHeader: 'clientIp', clientHostnameHeader: 'clientHost' }, capturingLogger())
  source.counter.start()
  await source.start()
  try {
    const socket = await connect(source.port)
    socket.write('<34>1 2003-10-11T22:14:15.003Z web1 su - ID47 - failed\n<13>Feb  5 17:')
    socket.write('32:18 db2 disk full\nnot syslog\n')
    await until('three events', () => channel.size() === 3)
    socket.destroy()
    const events = await takeEvents(channel, 10)
    const expectedHost = (await dns.lookupService('127.0.0.1', 0)).hostname
    expect(events.map((e) => [e.headers.host, e.body.toString(), e.headers.Severity]))
      .toEqual([['web1', 'su - ID47 - failed', '2'], ['db2', 'disk full', '5'],
        [undefined, 'not syslog', '0']])
    expect(events[2]!.headers['flume.syslog.status']).toBe('Invalid')
    for (const e of events) {
      expect(e.headers.clientIp).toBe('127.0.0.1')
      expect(e.headers.clientHost).toBe(expectedHost)
    }
    expect(source.counter.get('EventAcceptedCount')).toBe(3)
  } finally {
    await source.stop()
  }
})

it('syslogtcp holds a sender back while the channel is full and loses nothing', async () => {
  const channel = new MemoryChannel('c', { capacity: 2, transactionCapacity: 2,
    keepAliveSeconds: 0 })
  const source = new SyslogTcpSource('r', processorFor(channel), OPTIONS, capturingLogger())
  source.counter.start()
  await source.start()
  try {
    const socket = await connect(source.port)
    const sent = Array.from({ length: 6 }, (_, i) => `<13>Feb  5 17:32:18 h message-${i}`)
    socket.write(sent.map((line) => `${line}\n`).join(''))
    await until('the channel to refuse a commit', () =>
      source.counter.get('ChannelWriteFail') > 0)
    const received: string[] = []
    await until('every message', async () => {
      received.push(...(await takeEvents(channel, 2)).map((e) => e.body.toString()))
      return received.length === sent.length
    }, 20_000)
    socket.destroy()
    expect(received).toEqual(sent.map((_, i) => `message-${i}`))
    expect(source.counter.get('EventLostCount')).toBe(0)
  } finally {
    await source.stop()
  }
})

it('syslogtcp delivers a last message that ends with the connection instead of a newline',
  async () => {
    const channel = new MemoryChannel('c', { capacity: 10, transactionCapacity: 10 })
    const source = new SyslogTcpSource('r', processorFor(channel), OPTIONS, capturingLogger())
    source.counter.start()
    await source.start()
    try {
      const socket = await connect(source.port)
      socket.write('<13>Feb  5 17:32:18 h first\n')
      socket.end('<13>last message without newline')
      await until('both messages', () => channel.size() === 2)
      const events = await takeEvents(channel, 10)
      expect(events.map((e) => e.body.toString()))
        .toEqual(['first', '<13>last message without newline'])
      expect(events[1]!.headers.Severity).toBe('5')
      expect(events[1]!.headers['flume.syslog.status']).toBeUndefined()
      expect(source.counter.get('EventAcceptedCount')).toBe(2)
      expect(source.counter.get('EventLostCount')).toBe(0)
    } finally {
      await source.stop()
    }
  })

function sendDatagram(port: number, text: string): Promise<void> {
  const client = dgram.createSocket('udp4')
  return new Promise((resolve, reject) => client.send(text, port, '127.0.0.1', (error) => {
    client.close()
    if (error) reject(error)
    else resolve()
  }))
}

it('syslogudp makes each datagram one event; a full channel drops and counts it', async () => {
  const channel = new MemoryChannel('c', { capacity: 1, transactionCapacity: 1,
    keepAliveSeconds: 0 })
  const source = new SyslogUdpSource('r', processorFor(channel), { ...OPTIONS,
    clientIPHeader: 'ip' }, capturingLogger())
  source.counter.start()
  await source.start()
  try {
    await sendDatagram(source.port, '<165>1 2003-08-24T05:14:15.000003-07:00 h app - - - hi\n')
    await until('the first event', () => channel.size() === 1)
    await sendDatagram(source.port, '<13>Feb  5 17:32:18 h refused')
    await until('the refused datagram counted', () =>
      source.counter.get('EventLostCount') === 1)
    const [event] = await takeEvents(channel, 5)
    expect(event!.body.toString()).toBe('app - - - hi')
    expect(event!.headers).toMatchObject({ Facility: '20', Severity: '5', host: 'h',
      ip: '127.0.0.1', timestamp: String(Date.UTC(2003, 7, 24, 12, 14, 15)) })
    await sendDatagram(source.port, '<13>Feb  5 17:32:18 h after')
    await until('the next event', () => channel.size() === 1)
    expect((await takeEvents(channel, 5)).map((e) => e.body.toString())).toEqual(['after'])
  } finally {
    await source.stop()
  }
})

function agent(lines: string[]) {
  return loadAgentText(['a1.sources = r1', 'a1.channels = c1', 'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory', ...lines].join('\n'), 'syslog.conf',
  { agentName: 'a1', strict: true, logger: capturingLogger() })
}

it('reads Flume\'s keys from an agent config, by alias or by class name', () => {
  const tcp = agent(['a1.sources.r1.type = org.apache.flume.source.SyslogTcpSource',
    'a1.sources.r1.host = 127.0.0.1', 'a1.sources.r1.port = 5140',
    'a1.sources.r1.eventSize = 4096', 'a1.sources.r1.keepFields = timestamp hostname',
    'a1.sources.r1.clientIPHeader = ip'])
  expect(tcp.sources.get('r1')!.type).toBe('syslogtcp')
  expect(tcp.problems).toEqual([])
  const udp = agent(['a1.sources.r1.type = SYSLOGUDP', 'a1.sources.r1.port = 5140'])
  expect(udp.sources.get('r1')!.type).toBe('syslogudp')
})

it('refuses bad values, naming the key', () => {
  const refusal = (lines: string[]) => {
    try {
      agent(lines)
    } catch (error) {
      return (error as Error).message
    }
    return 'accepted'
  }
  expect(refusal(['a1.sources.r1.type = syslogtcp']))
    .toMatch(/a1\.sources\.r1\.port: .*is required/)
  expect(refusal(['a1.sources.r1.type = syslogtcp', 'a1.sources.r1.port = 5140',
    'a1.sources.r1.eventSize = big'])).toMatch(/eventSize: .*expected an integer, got "big"/)
  expect(refusal(['a1.sources.r1.type = syslogudp', 'a1.sources.r1.port = 70000']))
    .toMatch(/port: .*must be between 0 and 65535/)
  expect(refusal(['a1.sources.r1.type = syslogtcp', 'a1.sources.r1.port = 5140',
    'a1.sources.r1.ssl = true'])).toMatch(/ssl: .*TLS syslog is not supported/)
  expect(refusal(['a1.sources.r1.type = syslogtcp', 'a1.sources.r1.port = 5140',
    'a1.sources.r1.format.regex = x'])).toMatch(/format\.regex: .*custom syslog formats/)
  expect(refusal(['a1.sources.r1.type = syslogudp', 'a1.sources.r1.port = 5140',
    'a1.sources.r1.eventSize = 10'])).toMatch(/eventSize: .*unknown property/)
})
