/**
 * Flume's BucketPath escapes, used for `hdfs.path` and `hdfs.filePrefix` (reference §2.3):
 * Flume's pattern `%(\w|%)|%\{([\w.-]+)\}|%\[(\w+)\]`, and
 *
 *   %{name}        the event header `name`; empty when absent
 *   %[localhost]   the agent's host name; %[IP] its address; %[FQDN] its canonical name
 *   %t             the `timestamp` header as written (ms; never rounded); %s seconds
 *   %%             a percent sign
 *   %a %A %b %B %c %d %D %e %H %I %j %k %l %m %M %n %p %S %y %Y %z  SimpleDateFormat fields
 *                  (EEE EEEE MMM MMMM `EEE MMM d HH:mm:ss yyyy` dd MM/dd/yy d HH hh DDD H h MM
 *                  mm M a ss yy yyyy ZZZ) in `hdfs.timeZone`, English names
 *   any other %x   empty
 *
 * As in Flume, every %x escape (even %% and an unknown one) reads the event's `timestamp`
 * header unless `hdfs.useLocalTimeStamp` is set; a missing or non-numeric header is an error,
 * so the sink rolls the batch back (Flume: "Expected timestamp in the Flume event headers, but
 * it was null"). Rounding (`hdfs.round`) floors the timestamp, in the zone's calendar, to a
 * multiple of roundValue seconds, minutes or hours of the field, before any field is formatted
 * (TimestampRoundDownUtil). Templates are parsed once; escaping an event walks the tokens.
 */
import { SluiceError } from '../../../errors.js'
import { timeZoneOf, wallClock, wallClockMinus, type TimeZone, type WallClock } from
  './zoned-time.js'

export type RoundUnit = 'second' | 'minute' | 'hour'

export interface EscapeOptions {
  zone: TimeZone
  round: { unit: RoundUnit; value: number } | null
  /** Set when hdfs.useLocalTimeStamp is true: the clock that stands in for the header. */
  localClockMs: (() => number) | null
}

export interface HostNames {
  localhost: string
  ip: string
  fqdn: string
}

type Token =
  | { kind: 'text'; text: string }
  | { kind: 'header'; name: string }
  | { kind: 'host'; which: keyof HostNames }
  | { kind: 'time'; letter: string }

export interface BucketTemplate {
  readonly source: string
  readonly tokens: readonly Token[]
  readonly usesTime: boolean
  readonly usesHost: boolean
}

const ESCAPE = /%(\w|%)|%\{([\w.-]+)\}|%\[(\w+)\]/g
const HOST_KEYS: Record<string, keyof HostNames> = { localhost: 'localhost', ip: 'ip',
  fqdn: 'fqdn' }
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December']
const ROUND_LIMITS: Record<RoundUnit, number> = { second: 60, minute: 60, hour: 24 }

/** Parses a template; throws (naming the escape) for a %[...] that is not a host escape. */
export function parseTemplate(source: string): BucketTemplate {
  const tokens: Token[] = []
  let last = 0
  for (const match of source.matchAll(ESCAPE)) {
    if (match.index > last) tokens.push({ kind: 'text', text: source.slice(last, match.index) })
    last = match.index + match[0].length
    if (match[2] !== undefined) {
      tokens.push({ kind: 'header', name: match[2] })
    } else if (match[3] !== undefined) {
      const which = HOST_KEYS[match[3].toLowerCase()]
      if (which === undefined) {
        throw new RangeError(`the escape %[${match[3]}] is none of %[localhost], %[IP], %[FQDN]`)
      }
      tokens.push({ kind: 'host', which })
    } else {
      tokens.push({ kind: 'time', letter: match[1]! })
    }
  }
  if (last < source.length) tokens.push({ kind: 'text', text: source.slice(last) })
  return { source, tokens, usesTime: tokens.some((t) => t.kind === 'time'),
    usesHost: tokens.some((t) => t.kind === 'host') }
}

/** The text of a template before its first escape (the part every bucket shares). */
export function staticPrefix(template: BucketTemplate): string {
  const first = template.tokens[0]
  return first?.kind === 'text' ? first.text : ''
}

export function checkRound(unit: RoundUnit, value: number): void {
  if (value < 1 || value > ROUND_LIMITS[unit]) {
    throw new RangeError(`Round value must be > 0 and <= ${ROUND_LIMITS[unit]} for ${unit}s`)
  }
}

/** Floors `epochMs` to a multiple of `value` units of the field, in the zone's calendar. */
export function roundDown(epochMs: number, unit: RoundUnit, value: number, zone: TimeZone)
  : number {
  const wall = wallClock(epochMs, zone)
  const belowSecondMs = wall.millisecond
  let wallDeltaMs: number
  if (unit === 'second') {
    wallDeltaMs = (wall.second % value) * 1000 + belowSecondMs
  } else if (unit === 'minute') {
    wallDeltaMs = ((wall.minute % value) * 60 + wall.second) * 1000 + belowSecondMs
  } else {
    wallDeltaMs = (((wall.hour % value) * 60 + wall.minute) * 60 + wall.second) * 1000 +
      belowSecondMs
  }
  return wallClockMinus(epochMs, wallDeltaMs, zone)
}

/** The event's time for the escapes: the header as written, and as a number. */
function eventTime(headers: Record<string, string>, options: EscapeOptions, template: string)
  : { text: string; ms: number } {
  if (options.localClockMs !== null) {
    const ms = options.localClockMs()
    return { text: String(ms), ms }
  }
  const text = headers.timestamp
  if (text === undefined) {
    throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `Expected timestamp in the Flume event ` +
      `headers, but it was null: ${JSON.stringify(template)} needs the event's time (add a ` +
      'timestamp interceptor to the source, or set hdfs.useLocalTimeStamp = true)')
  }
  if (!/^-?\d+$/.test(text.trim())) {
    throw new SluiceError('SLUICE_ERR_EVENT_DELIVERY', `Flume wasn't able to parse timestamp ` +
      `header ${JSON.stringify(text)} to resolve time based bucketing in ` +
      `${JSON.stringify(template)}: it must be epoch milliseconds (e.g. from the timestamp ` +
      'interceptor)')
  }
  return { text, ms: Number(text.trim()) }
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0')

function hour12(hour: number): number {
  return hour % 12 === 0 ? 12 : hour % 12
}

function zoneText(offsetMinutes: number): string {
  const sign = offsetMinutes < 0 ? '-' : '+'
  const abs = Math.abs(offsetMinutes)
  return `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`
}

/** One SimpleDateFormat field, as BucketPath.replaceShorthand maps the letter. */
function formatField(letter: string, wall: WallClock): string {
  switch (letter) {
    case 'a': return WEEKDAYS[wall.weekday]!.slice(0, 3)
    case 'A': return WEEKDAYS[wall.weekday]!
    case 'b': return MONTHS[wall.month - 1]!.slice(0, 3)
    case 'B': return MONTHS[wall.month - 1]!
    case 'c': return `${formatField('a', wall)} ${formatField('b', wall)} ${wall.day} ` +
      `${pad(wall.hour, 2)}:${pad(wall.minute, 2)}:${pad(wall.second, 2)} ${pad(wall.year, 4)}`
    case 'd': return pad(wall.day, 2)
    case 'D': return `${pad(wall.month, 2)}/${pad(wall.day, 2)}/${pad(wall.year % 100, 2)}`
    case 'e': return String(wall.day)
    case 'H': return pad(wall.hour, 2)
    case 'I': return pad(hour12(wall.hour), 2)
    case 'j': return pad(wall.dayOfYear, 3)
    case 'k': return String(wall.hour)
    case 'l': return String(hour12(wall.hour))
    case 'm': return pad(wall.month, 2)
    case 'M': return pad(wall.minute, 2)
    case 'n': return String(wall.month)
    case 'p': return wall.hour < 12 ? 'AM' : 'PM'
    case 'S': return pad(wall.second, 2)
    case 'y': return pad(wall.year % 100, 2)
    case 'Y': return pad(wall.year, 4)
    case 'z': return zoneText(wall.offsetMinutes)
    default: return ''
  }
}

/** Resolves a template for one event; throws SLUICE_ERR_EVENT_DELIVERY when it needs a time
 *  the event does not carry. */
export function escapeTemplate(template: BucketTemplate, headers: Record<string, string>,
  options: EscapeOptions, hosts: HostNames): string {
  if (template.tokens.every((token) => token.kind === 'text')) return template.source
  let time: { text: string; ms: number; wall: WallClock } | null = null
  let out = ''
  for (const token of template.tokens) {
    if (token.kind === 'text') out += token.text
    else if (token.kind === 'header') out += headers[token.name] ?? ''
    else if (token.kind === 'host') out += hosts[token.which]
    else {
      if (time === null) {
        const read = eventTime(headers, options, template.source)
        const ms = options.round === null ? read.ms
          : roundDown(read.ms, options.round.unit, options.round.value, options.zone)
        time = { text: read.text, ms, wall: wallClock(ms, options.zone) }
      }
      if (token.letter === '%') out += '%'
      else if (token.letter === 't') out += time.text
      else if (token.letter === 's') out += String(Math.trunc(time.ms / 1000))
      else out += formatField(token.letter, time.wall)
    }
  }
  return out
}

export { timeZoneOf }
