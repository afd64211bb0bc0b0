/**
 * Syslog messages → events, as Flume's SyslogUtils does it (reference §2.1), in two steps:
 *
 *   framing   SyslogTcpFramer cuts a TCP byte stream into messages: a message starts at `<`
 *             and ends at `\n` (stray `\n` between messages are skipped). A message that reaches
 *             eventSize bytes (the `<pri>` counted) is cut there and marked incomplete; its rest
 *             becomes the next message, which does not start with `<` and so is Invalid — Flume's
 *             behaviour, which loses no byte. Flume's syslogtcp has no octet-counting framing
 *             (RFC 6587 §3.4.1), so neither has sluice. A UDP datagram is one message, cut at
 *             its first `\n` (syslogMessageOfDatagram). When the sender closes the stream,
 *             the bytes after the last `\n` are one more message (flush).
 *   parsing   parseSyslog turns one message into headers and a body:
 *               `<pri>` must be 1–3 digits, else the event is `flume.syslog.status = Invalid`,
 *                 Facility = Severity = 0, and the body is the message bytes unchanged;
 *               Facility = pri / 8, Severity = pri % 8, `priority` (and `version` when given);
 *               the message is matched against RFC 5424, then RFC 3164; on a match `timestamp`
 *                 (epoch ms, when the stamp parses) and `host` are set and the body is what
 *                 follows the host name, with the keepFields fields put back in front of it
 *                 (keepFields = all: the whole message); with no match the body is the message;
 *               an incomplete message gets `flume.syslog.status = Incomplete`.
 *
 * Timestamps where sluice and Flume differ, on purpose: Flume reads an RFC 5424 stamp with
 * fractional seconds through SimpleDateFormat's `.S`, which ignores the UTC offset and takes
 * `.5` as 5 ms; sluice honours the offset and reads the fraction as a fraction (to the ms). A
 * stamp without offset, and every RFC 3164 stamp, is local time, as in Flume. RFC 3164 has no
 * year: the clock's year is used, then moved back a year if that puts the stamp more than a month
 * ahead, or forward one if it puts it more than eleven months behind (Flume's window). Flume's
 * SyslogUtils also never clears `priority` and `version` between messages, so an Invalid
 * message can carry the previous one's; sluice gives each message only its own headers.
 */
export const SYSLOG_STATUS_HEADER = 'flume.syslog.status'
/** Flume's eventSize default and floor (SyslogUtils.DEFAULT_SIZE, MIN_SIZE). */
export const DEFAULT_SYSLOG_EVENT_SIZE_BYTES = 2500
export const MIN_SYSLOG_EVENT_SIZE_BYTES = 10
/** RFC 5426: a syslog UDP datagram carries at most 64 KiB (Flume's SyslogUDPSource maxsize). */
export const MAX_SYSLOG_DATAGRAM_BYTES = 1 << 16

export type KeepField = 'priority' | 'version' | 'timestamp' | 'hostname'
/** 'all' keeps the whole message as the body; a set puts those fields back before the body. */
export type KeepFields = 'all' | ReadonlySet<KeepField>
const KEEP_FIELD_NAMES: readonly KeepField[] = ['priority', 'version', 'timestamp', 'hostname']

/**
 * Flume's SyslogUtils.chooseFieldsToKeep: none/false → nothing, all/true → everything,
 * otherwise every field name that appears in the text.
 */
export function parseKeepFields(text: string): KeepFields {
  const lower = text.trim().toLowerCase()
  if (lower === 'all' || lower === 'true') return 'all'
  if (lower === 'none' || lower === 'false') return new Set()
  return new Set(KEEP_FIELD_NAMES.filter((field) => lower.includes(field)))
}

export interface SyslogMessage {
  bytes: Buffer
  /** Cut at eventSize before its `\n` arrived. */
  incomplete: boolean
}

export interface ParseOptions {
  keepFields: KeepFields
  /** The clock RFC 3164's missing year comes from. */
  nowMs: () => number
}

const RFC5424 = new RegExp('^<(\\d{1,3})>(?:(\\d?)\\s?)' +
  '(?:(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?(?:[+-]\\d{2}:\\d{2}|Z)?)|-)' +
  '\\s(?:([\\w][\\w\\d.@-]*)|-)\\s(.*)$')
const RFC3164 = new RegExp('^<(\\d{1,3})>(?:(\\d)?\\s?)' +
  '([A-Z][a-z][a-z]\\s{1,2}\\d{1,2}\\s\\d{2}:\\d{2}:\\d{2})\\s([\\w][\\w\\d.@-]*)\\s(.*)$')
const RFC5424_STAMP = new RegExp('^(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})' +
  '(?:\\.(\\d{1,6}))?(Z|[+-]\\d{2}:\\d{2})?$')
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov',
  'dec']

/** True when the message starts with `<`, 1–3 digits and `>` (Flume's PRIO state). */
function priorityOf(bytes: Buffer): number | null {
  if (bytes[0] !== 0x3c) return null
  let digits = 0
  let value = 0
  for (let i = 1; i < bytes.byteLength; i++) {
    const byte = bytes[i]!
    if (byte === 0x3e) return digits === 0 ? null : value
    if (byte < 0x30 || byte > 0x39 || ++digits > 3) return null
    value = value * 10 + (byte - 0x30)
  }
  return null
}

export function parseSyslog(message: SyslogMessage, options: ParseOptions)
  : { headers: Record<string, string>; body: Buffer } {
  const { bytes } = message
  const priority = priorityOf(bytes)
  if (priority === null) {
    return { headers: { Facility: '0', Severity: '0', [SYSLOG_STATUS_HEADER]: 'Invalid' },
      body: bytes }
  }
  const headers: Record<string, string> = {
    Facility: String(Math.floor(priority / 8)), Severity: String(priority % 8),
  }
  if (message.incomplete) headers[SYSLOG_STATUS_HEADER] = 'Incomplete'
  const text = bytes.toString('utf8')
  const rfc5424 = RFC5424.exec(text)
  const match = rfc5424 ?? RFC3164.exec(text)
  if (match === null) return { headers, body: bytes }
  const [, pri, version, stamp, host, rest] = match
  headers.priority = pri!
  if (version !== undefined && version !== '') headers.version = version
  if (stamp !== undefined) {
    const epochMs = rfc5424 !== null ? rfc5424Millis(stamp) : rfc3164Millis(stamp, options.nowMs())
    if (epochMs !== null) headers.timestamp = String(epochMs)
  }
  if (host !== undefined) headers.host = host
  if (options.keepFields === 'all') return { headers, body: bytes }
  return { headers, body: Buffer.from(withKeptFields(options.keepFields, rest!, pri!, version,
    stamp, host), 'utf8') }
}

/** Flume's addFieldsToBody: priority, version, timestamp, hostname, then the body. */
function withKeptFields(keep: ReadonlySet<KeepField>, body: string, priority: string,
  version: string | undefined, stamp: string | undefined, host: string | undefined): string {
  const parts: string[] = []
  if (keep.has('priority')) parts.push(`<${priority}>`)
  if (keep.has('version') && version !== undefined && version !== '') parts.push(`${version} `)
  // RFC 5424's nil value stands in for a stamp or host the message did not carry.
  if (keep.has('timestamp')) parts.push(`${stamp ?? '-'} `)
  if (keep.has('hostname')) parts.push(`${host ?? '-'} `)
  return parts.join('') + body
}

function rfc5424Millis(stamp: string): number | null {
  const parts = RFC5424_STAMP.exec(stamp)
  if (parts === null) return null
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as number[]
  const millis = parts[7] === undefined ? 0 : Math.floor(Number(`0.${parts[7]}`) * 1000)
  const zone = parts[8]
  if (zone === undefined) {
    return new Date(year!, month! - 1, day, hour, minute, second, millis).getTime()
  }
  const utc = Date.UTC(year!, month! - 1, day, hour, minute, second, millis)
  if (zone === 'Z') return utc
  const sign = zone.startsWith('-') ? -1 : 1
  const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))
  return utc - sign * offsetMinutes * 60_000
}

function rfc3164Millis(stamp: string, nowMs: number): number | null {
  const parts = /^([A-Z][a-z][a-z])\s{1,2}(\d{1,2})\s(\d{2}):(\d{2}):(\d{2})$/.exec(stamp)
  if (parts === null) return null
  const month = MONTHS.indexOf(parts[1]!.toLowerCase())
  if (month < 0) return null
  const [day, hour, minute, second] = parts.slice(2, 6).map(Number) as number[]
  const at = (year: number): Date => new Date(year, month, day, hour, minute, second)
  const year = new Date(nowMs).getUTCFullYear()
  const parsed = at(year)
  const monthEarlier = new Date(parsed)
  monthEarlier.setMonth(monthEarlier.getMonth() - 1)
  const elevenMonthsLater = new Date(parsed)
  elevenMonthsLater.setMonth(elevenMonthsLater.getMonth() + 11)
  if (parsed.getTime() > nowMs && monthEarlier.getTime() > nowMs) return at(year - 1).getTime()
  if (parsed.getTime() < nowMs && elevenMonthsLater.getTime() < nowMs) {
    return at(year + 1).getTime()
  }
  return parsed.getTime()
}

/** A UDP datagram is one message, up to its first `\n` (SyslogUtils with isUdp). */
export function syslogMessageOfDatagram(datagram: Buffer): SyslogMessage {
  const newline = datagram.indexOf(0x0a)
  return { bytes: newline < 0 ? datagram : datagram.subarray(0, newline), incomplete: false }
}

/**
 * Cuts a TCP stream into syslog messages (see the module comment). Holds at most
 * eventSizeBytes of an unfinished message.
 */
export class SyslogTcpFramer {
  private parts: Buffer[] = []
  private partsBytes = 0

  constructor(readonly eventSizeBytes: number) {}

  /** Messages completed by `chunk`, in order. */
  push(chunk: Buffer): SyslogMessage[] {
    const messages: SyslogMessage[] = []
    let start = 0
    while (start < chunk.byteLength) {
      if (this.partsBytes === 0) {
        // Between messages a `\n` is a no-op (a message cut exactly at eventSize, or blank lines).
        while (start < chunk.byteLength && chunk[start] === 0x0a) start++
        if (start === chunk.byteLength) break
      }
      const room = this.eventSizeBytes - this.partsBytes
      const newline = chunk.indexOf(0x0a, start)
      const end = newline < 0 ? chunk.byteLength : newline
      if (end - start >= room) {
        this.keep(chunk.subarray(start, start + room))
        messages.push(this.take(true))
        start += room
        continue
      }
      this.keep(chunk.subarray(start, end))
      if (newline < 0) break
      messages.push(this.take(false))
      start = newline + 1
    }
    return messages
  }

  /**
   * The bytes after the last `\n`, as one message, when the stream ends (the sender closed
   * without a final newline); null when nothing is pending. Fewer than eventSize bytes are ever
   * pending (push cuts at eventSize), so this never splits a message.
   */
  flush(): SyslogMessage | null {
    return this.partsBytes === 0 ? null : this.take(false)
  }

  private keep(piece: Buffer): void {
    if (piece.byteLength === 0) return
    this.parts.push(piece)
    this.partsBytes += piece.byteLength
  }

  private take(incomplete: boolean): SyslogMessage {
    // Copied, so an event never pins the socket chunk it came from.
    const bytes = Buffer.concat(this.parts, this.partsBytes)
    this.parts = []
    this.partsBytes = 0
    return { bytes, incomplete }
  }
}
