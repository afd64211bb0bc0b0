// Proves syslog parsing gives Flume's headers and bodies: an RFC 5424 / RFC 3164 table (stamps
// with offsets, nil values, RFC 3164's missing year rolled as Flume rolls it), invalid and
// incomplete messages, keepFields, TCP framing under any chunking (property tests), and that a
// UDP datagram is one message.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  parseKeepFields, parseSyslog, syslogMessageOfDatagram, SyslogTcpFramer, type KeepFields,
} from '../../src/flow/sources/syslog-parser.js'

const JUNE_2026 = new Date(2026, 5, 1, 12, 0, 0).getTime()

function parse(text: string, keep: KeepFields = new Set(), nowMs = JUNE_2026,
  incomplete = false) {
  const { headers, body } = parseSyslog({ bytes: Buffer.from(text), incomplete },
    { keepFields: keep, nowMs: () => nowMs })
  return { headers, body: body.toString() }
}

describe('parseSyslog', () => {
  const rows: { name: string; text: string; headers: Record<string, string>; body: string;
    nowMs?: number }[] = [
    { name: 'RFC 5424, UTC with milliseconds',
      text: '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - su root failed',
      headers: { Facility: '4', Severity: '2', priority: '34', version: '1',
        timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)), host: 'mymachine.example.com' },
      body: 'su - ID47 - su root failed' },
    { name: 'RFC 5424, negative offset and microseconds (to the ms)',
      text: '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It is time',
      headers: { Facility: '20', Severity: '5', priority: '165', version: '1',
        timestamp: String(Date.UTC(2003, 7, 24, 12, 14, 15, 0)), host: '192.0.2.1' },
      body: 'myproc 8710 - - %% It is time' },
    { name: 'RFC 5424, a tenth of a second is 100 ms, +05:30 offset',
      text: '<14>1 2020-01-01T10:00:00.1+05:30 h app - - - x',
      headers: { Facility: '1', Severity: '6', priority: '14', version: '1',
        timestamp: String(Date.UTC(2020, 0, 1, 4, 30, 0, 100)), host: 'h' },
      body: 'app - - - x' },
    { name: 'RFC 5424, nil stamp and nil host',
      text: '<165>1 - - app - - - message',
      headers: { Facility: '20', Severity: '5', priority: '165', version: '1' },
      body: 'app - - - message' },
    { name: 'RFC 5424, stamp without offset is local time',
      text: '<13>1 2021-03-04T05:06:07 host1 body text',
      headers: { Facility: '1', Severity: '5', priority: '13', version: '1',
        timestamp: String(new Date(2021, 2, 4, 5, 6, 7).getTime()), host: 'host1' },
      body: 'body text' },
    { name: 'RFC 3164, single-digit day, the clock\'s year',
      text: '<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!',
      headers: { Facility: '1', Severity: '5', priority: '13',
        timestamp: String(new Date(2026, 1, 5, 17, 32, 18).getTime()), host: '10.0.0.99' },
      body: 'Use the BFG!' },
    { name: 'RFC 3164 in early January: a December stamp is last year',
      text: '<0>Dec 31 23:59:00 box kernel: panic',
      nowMs: new Date(2026, 0, 2).getTime(),
      headers: { Facility: '0', Severity: '0', priority: '0',
        timestamp: String(new Date(2025, 11, 31, 23, 59, 0).getTime()), host: 'box' },
      body: 'kernel: panic' },
    { name: 'RFC 3164 in late December: a January stamp is next year',
      text: '<191>Jan  1 00:00:01 box cron: tick',
      nowMs: new Date(2026, 11, 31, 23, 0).getTime(),
      headers: { Facility: '23', Severity: '7', priority: '191',
        timestamp: String(new Date(2027, 0, 1, 0, 0, 1).getTime()), host: 'box' },
      body: 'cron: tick' },
    { name: 'a valid priority with neither format: the whole message is the body',
      text: '<13>just some text', headers: { Facility: '1', Severity: '5' },
      body: '<13>just some text' },
    { name: 'no priority at all: Invalid',
      text: 'hello world', headers: { Facility: '0', Severity: '0',
        'flume.syslog.status': 'Invalid' }, body: 'hello world' },
    { name: 'a priority of four digits: Invalid',
      text: '<1234>1 - - x', headers: { Facility: '0', Severity: '0',
        'flume.syslog.status': 'Invalid' }, body: '<1234>1 - - x' },
    { name: 'a non-digit priority: Invalid',
      text: '<1a>x', headers: { Facility: '0', Severity: '0', 'flume.syslog.status': 'Invalid' },
      body: '<1a>x' },
    { name: 'an empty priority: Invalid',
      text: '<>x', headers: { Facility: '0', Severity: '0', 'flume.syslog.status': 'Invalid' },
      body: '<>x' },
  ]
  for (const row of rows) {
    it(row.name, () => {
      expect(parse(row.text, new Set(), row.nowMs ?? JUNE_2026))
        .toEqual({ headers: row.headers, body: row.body })
    })
  }

  it('marks an incomplete message Incomplete and still parses what arrived', () => {
    const { headers, body } = parse('<13>Feb  5 17:32:18 host trunc', new Set(), JUNE_2026, true)
    expect(headers['flume.syslog.status']).toBe('Incomplete')
    expect(headers.host).toBe('host')
    expect(body).toBe('trunc')
  })

  it('keeps the fields keepFields names in front of the body, or the whole message', () => {
    const text = '<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - msg'
    expect(parse(text, parseKeepFields('all')).body).toBe(text)
    expect(parse(text, parseKeepFields('true')).body).toBe(text)
    expect(parse(text, parseKeepFields('none')).body).toBe('su - ID47 - msg')
    expect(parse(text, parseKeepFields('false')).body).toBe('su - ID47 - msg')
    expect(parse(text, parseKeepFields('timestamp hostname')).body)
      .toBe('2003-10-11T22:14:15.003Z mymachine su - ID47 - msg')
    expect(parse(text, parseKeepFields('priority version')).body).toBe('<34>1 su - ID47 - msg')
    expect(parse('<165>1 - - app x', parseKeepFields('hostname')).body).toBe('- app x')
  })

  it('reads any RFC 5424 message it is given back into its parts (property)', () => {
    const hostChars = 'abcdefghijklmnopqrstuvwxyz0123456789.-'.split('')
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 7 }),
      fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2090, 0, 1) }),
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => `h${[...s].map((c) =>
        hostChars[c.charCodeAt(0) % hostChars.length]).join('')}`),
      fc.string({ maxLength: 60 }).filter((s) => !/[\n\r\u2028\u2029]/.test(s)),
      (facility, severity, epochMs, host, message) => {
        const stamp = new Date(epochMs).toISOString()
        const pri = facility * 8 + severity
        const { headers, body } = parse(`<${pri}>1 ${stamp} ${host} ${message}`)
        expect(headers).toEqual({ Facility: String(facility), Severity: String(severity),
          priority: String(pri), version: '1', timestamp: String(epochMs), host })
        expect(body).toBe(message)
      }))
  })
})

describe('SyslogTcpFramer', () => {
  const framed = (size: number, ...chunks: string[]) => {
    const framer = new SyslogTcpFramer(size)
    return chunks.flatMap((chunk) => framer.push(Buffer.from(chunk)))
      .map((m) => ({ text: m.bytes.toString(), incomplete: m.incomplete }))
  }

  it('splits at newlines and skips blank lines between messages', () => {
    expect(framed(2500, '<13>a\n\n\n<14>b', 'c\n<15>d')).toEqual([
      { text: '<13>a', incomplete: false }, { text: '<14>bc', incomplete: false }])
  })

  it('cuts a message at eventSize: Incomplete, and the rest becomes an Invalid message', () => {
    const messages = framed(10, '<13>abcdefghij\n<14>ok\n')
    expect(messages).toEqual([{ text: '<13>abcdef', incomplete: true },
      { text: 'ghij', incomplete: false }, { text: '<14>ok', incomplete: false }])
    const rest = parseSyslog({ bytes: Buffer.from(messages[1]!.text), incomplete: false },
      { keepFields: new Set(), nowMs: Date.now })
    expect(rest.headers['flume.syslog.status']).toBe('Invalid')
  })

  it('a message of exactly eventSize is Incomplete and its newline is skipped (Flume)', () => {
    expect(framed(10, '<13>abcdef\n<14>x\n')).toEqual([
      { text: '<13>abcdef', incomplete: true }, { text: '<14>x', incomplete: false }])
  })

  it('gives the same messages however the stream is chunked (property)', () => {
    const message = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\n'))
      .map((s) => `<${s.length % 192}>${s}`)
    fc.assert(fc.property(fc.array(message, { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 10, max: 30 }), (messages, cuts, eventSize) => {
        const stream = Buffer.from(messages.map((m) => `${m}\n`).join(''))
        const whole = new SyslogTcpFramer(eventSize).push(stream)
        const framer = new SyslogTcpFramer(eventSize)
        const pieces = []
        for (let at = 0, i = 0; at < stream.byteLength; i++) {
          const next = Math.min(stream.byteLength, at + cuts[i % cuts.length]!)
          pieces.push(...framer.push(stream.subarray(at, next)))
          at = next
        }
        expect(pieces).toEqual(whole)
        // Only the newlines between messages are dropped: no other byte is lost or added.
        expect(Buffer.concat(whole.map((m) => m.bytes)).toString())
          .toBe(stream.toString().replaceAll('\n', ''))
        expect(whole.every((m) => m.bytes.byteLength <= eventSize)).toBe(true)
      }))
  })
})

it('a UDP datagram is one message, up to its first newline', () => {
  expect(syslogMessageOfDatagram(Buffer.from('<13>one\ntwo')).bytes.toString()).toBe('<13>one')
  expect(syslogMessageOfDatagram(Buffer.from('<13>whole')).bytes.toString()).toBe('<13>whole')
})
