/**
 * Wall-clock time in a named time zone, for the hdfs sink's date escapes and rounding (Flume
 * formats with java.text.SimpleDateFormat and rounds with a java.util.Calendar, both in
 * `hdfs.timeZone`, or the JVM's default zone when it is unset).
 *
 * Zones are what Java's TimeZone.getTimeZone accepts in practice: IANA names (through Intl,
 * which knows the same tz database) and Java's custom ids `GMT+h`, `GMT+hh`, `GMT+hh:mm`,
 * `GMT+hhmm` (fixed offsets). Java silently turns an unknown id into GMT; here it is an error,
 * so a typo in `hdfs.timeZone` cannot scatter files into the wrong hours.
 *
 * The offset of an IANA zone is asked of Intl once per minute of time (the last
 * OFFSET_CACHE_MINUTES minutes asked are remembered), and every field is then plain UTC
 * arithmetic on `ms + offset`: a batch of events from the same minute costs one Intl call, and
 * so does one rounded by hdfs.round (which also asks for the minute it rounds down to).
 */

export interface WallClock {
  year: number
  /** 1..12 */
  month: number
  day: number
  hour: number
  minute: number
  second: number
  millisecond: number
  /** 0 = Sunday … 6 = Saturday */
  weekday: number
  /** 1..366 */
  dayOfYear: number
  /** Minutes east of UTC. */
  offsetMinutes: number
}

export interface TimeZone {
  readonly id: string
  offsetMinutesAt(epochMs: number): number
}

const MS_PER_MINUTE = 60_000
/** Enough for the minutes a batch spans and those rounding takes them to; emptied when full. */
const OFFSET_CACHE_MINUTES = 64
const CUSTOM_ID = /^GMT([+-])(\d{1,2})(?::?(\d{2}))?$/

class FixedZone implements TimeZone {
  constructor(readonly id: string, private readonly offsetMinutes: number) {}

  offsetMinutesAt(): number {
    return this.offsetMinutes
  }
}

class IanaZone implements TimeZone {
  private readonly format: Intl.DateTimeFormat
  /** Offset in minutes east of UTC, by minute since the epoch. */
  private readonly offsets = new Map<number, number>()

  constructor(readonly id: string) {
    // Throws RangeError for a name the tz database does not know.
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: id, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    })
  }

  offsetMinutesAt(epochMs: number): number {
    const minute = Math.floor(epochMs / MS_PER_MINUTE)
    const cached = this.offsets.get(minute)
    if (cached !== undefined) return cached
    const fields: Record<string, number> = {}
    let bc = false
    for (const part of this.format.formatToParts(minute * MS_PER_MINUTE)) {
      if (part.type === 'era') bc = part.value.startsWith('B')
      else if (part.type !== 'literal') fields[part.type] = Number(part.value)
    }
    const year = bc ? 1 - fields.year! : fields.year!
    const asUtc = Date.UTC(year, fields.month! - 1, fields.day!, fields.hour!, fields.minute!,
      fields.second!)
    const offset = Math.round((asUtc - minute * MS_PER_MINUTE) / MS_PER_MINUTE)
    if (this.offsets.size >= OFFSET_CACHE_MINUTES) this.offsets.clear()
    this.offsets.set(minute, offset)
    return offset
  }
}

/** The zone for `hdfs.timeZone`; undefined means the process's own zone. Throws if unknown. */
export function timeZoneOf(id: string | undefined): TimeZone {
  if (id === undefined) return new IanaZone(Intl.DateTimeFormat().resolvedOptions().timeZone)
  const custom = CUSTOM_ID.exec(id)
  if (custom !== null) {
    const hours = Number(custom[2])
    const minutes = custom[3] === undefined ? 0 : Number(custom[3])
    if (hours > 23 || minutes > 59) throw new RangeError(`offset out of range in ${id}`)
    const sign = custom[1] === '-' ? -1 : 1
    return new FixedZone(id, sign * (hours * 60 + minutes))
  }
  if (id === 'GMT' || id === 'UTC') return new FixedZone(id, 0)
  return new IanaZone(id)
}

export function wallClock(epochMs: number, zone: TimeZone): WallClock {
  const offsetMinutes = zone.offsetMinutesAt(epochMs)
  const shifted = new Date(epochMs + offsetMinutes * MS_PER_MINUTE)
  const year = shifted.getUTCFullYear()
  const startOfYear = Date.UTC(year, 0, 1)
  const startOfDay = Date.UTC(year, shifted.getUTCMonth(), shifted.getUTCDate())
  return {
    year, month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(), minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(), millisecond: shifted.getUTCMilliseconds(),
    weekday: shifted.getUTCDay(),
    dayOfYear: Math.round((startOfDay - startOfYear) / 86_400_000) + 1,
    offsetMinutes,
  }
}

/**
 * The instant whose wall clock reads `wallDeltaMs` earlier than `epochMs`'s, as a lenient
 * java.util.Calendar resolves it: one correction step when a DST change lies in between.
 */
export function wallClockMinus(epochMs: number, wallDeltaMs: number, zone: TimeZone): number {
  const guess = epochMs - wallDeltaMs
  const drift = zone.offsetMinutesAt(guess) - zone.offsetMinutesAt(epochMs)
  return guess - drift * MS_PER_MINUTE
}
